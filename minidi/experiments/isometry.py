"""The core study (Wang et al., 2021): pruning breaks dynamical isometry, a larger finetuning LR repairs it,
and OrthP restores it exactly. Protocol: ../shared/research/dynamical_isometry.md.

    1. pretrain the dense model with the paper's recipe (cached, reused when the configuration matches);
    2. (a) mean JSV against the pruning ratio: every layer but the output pruned by L1 at PR ∈ `prs`
       (also measured after OrthP);
    3. (b) at PR = `pr`, finetune four arms {LR 0.01, LR 0.001} × {L1, L1 + OrthP} with a fresh SGD, over
       `seeds` seeds (the seed sets the data order; pruning is deterministic), measuring the JSV statistics
       right after pruning/OrthP ("epoch 0") and after every epoch;
    4. write history (JSON, CSV), a markdown report and the figures.

Choices where the note is silent (also in docs/theory_to_code.md): the probe set is the first 1000 training
images in file order (the first 10 batches of an unshuffled loader); `epochs` sets pretraining and finetuning
length together and scales the epoch tables proportionally (a quick version); `long` finetunes 900 epochs
with the long tables; each arm is an ordinary `fit` run folder, so an interrupted experiment resumes.
"""
import copy
import os
import time

import click

from .. import optim
from ..checkpoint import read_json
from ..errors import MinidiError, check_number
from ..backend import resolve_device, to_numpy
from ..isometry import gain_for, orthp
from ..models import STUDY_LAYERS
from ..prune import parse_ratios, prune_neurons, uniform_spec
from ..prune.structured import weight_layers
from ..rundir import check_folder_path, check_run_dir, write_config
from ..schedules import parse_schedule
from ..spectrum import JSVMonitor, jsv, jsv_stats
from ..train import evaluate, fit, summarize, write_json
from .common import PAPER_TABLE, echo, load_data, pretrained, scale_table
from .isometry_report import write_outputs

DEFAULT_PR = {"mlp7-linear": 0.8, "mlp7-relu": 0.9, "lenet300-100": 0.9, "lenet5-linear": 0.9, "lenet5-relu": 0.9}
DEFAULT_PRS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
ARM_TABLES = {"lr0.01": PAPER_TABLE, "lr0.001": "0:0.001,45:0.0001"}   # written for 90 epochs
ARMS = ("lr0.01", "lr0.001", "lr0.01+orthp", "lr0.001+orthp")
LONG_EPOCHS = 900


def run(model_name="mlp7-linear", out_dir="results/isometry", epochs=90, long=False, seeds=1, pr=None,
        prs=DEFAULT_PRS, device=None, data_dir=None, probe=1000, resume=False, quiet=False, cache=None,
        sweep_only=False):
    """Run the whole study into `out_dir`; returns the summary dict that report.md is written from.

    sweep_only: pretrain and measure JSV against PR, without the finetuning arms.
    """
    device = resolve_device(device)
    if model_name not in DEFAULT_PR:
        raise MinidiError(f"the isometry study runs on {', '.join(DEFAULT_PR)}, not {model_name!r}")
    pr = DEFAULT_PR[model_name] if pr is None else check_number(pr, "pr", low=0, high=1, high_open=True)
    prs = parse_ratios(prs if isinstance(prs, str) else ",".join(map(str, prs)), "prs")
    epochs = check_number(epochs, "epochs", low=1, integer=True)
    seeds = check_number(seeds, "seeds", low=1, integer=True)
    probe = check_number(probe, "probe", low=1, integer=True)
    if cache is not None:
        check_folder_path(cache, "--cache")
    ft_epochs = LONG_EPOCHS if long else epochs
    config = dict(study="isometry", model=model_name, epochs=epochs, finetune_epochs=0 if sweep_only else ft_epochs,
                  seeds=seeds, pr=pr, prs=prs, probe=probe, batch_size=100, momentum=0.9,
                  weight_decay=1e-4)
    check_run_dir(out_dir, config, resume)
    log = echo(quiet)
    t_start = time.perf_counter()
    data = load_data(model_name, device, data_dir)
    n_train = len(data["train"][1])
    if probe > n_train:
        raise MinidiError(f"--probe {probe} is larger than the training set ({n_train} images)")
    write_config(out_dir, config)
    x_probe = data["train"][0][:probe]
    dense, pre = pretrained(model_name, data, device, epochs, cache=cache, quiet=True, log=log)
    gain = gain_for(dense)
    n_layers = len(weight_layers(dense))
    log(f"dense {model_name}: test acc {pre['final_test_acc']:.4f}; measuring mean JSV against the pruning ratio")

    layers = STUDY_LAYERS.get(model_name)                   # LeNet-5: conv1..conv3; MLPs: all but the output
    sweep = jsv_vs_pr(dense, x_probe, data["test"], prs, gain, n_layers, layers)
    spec = uniform_spec(pr, n_layers, layers)
    pruned = prune_neurons(dense, spec)
    spectra = {"dense": to_numpy(jsv(dense, x_probe)), f"L1 pruned (PR {pr})": to_numpy(jsv(pruned, x_probe)),
               "L1 pruned + OrthP": to_numpy(jsv(orthp(copy.deepcopy(pruned), gain), x_probe))}

    arms = {}
    with click.progressbar(length=len(ARMS) * seeds * ft_epochs, label="finetuning", file=None,
                           hidden=quiet or sweep_only) as bar:
        for arm in () if sweep_only else ARMS:
            for seed in range(seeds):
                arms.setdefault(arm, {})[seed] = finetune_arm(
                    dense, arm, spec, gain, data, x_probe, ft_epochs, seed, os.path.join(out_dir, "arms", f"{arm}-s{seed}"),
                    bar)
    summary = dict(config=config, device=device, pretrained=pre, dense_jsv=jsv_stats(spectra["dense"]),
                   linear=bool(getattr(dense, "is_linear", False)),
                   sweep=sweep, arms=arms, widths=pruned.widths, seconds=time.perf_counter() - t_start)
    write_outputs(out_dir, summary, spectra)
    log(f"done in {summary['seconds']:.1f} s: {os.path.join(out_dir, 'report.md')}")
    return summary


def jsv_vs_pr(dense, x_probe, test, prs, gain, n_layers, layers=None):
    """For each PR: widths, test accuracy right after pruning, JSV stats after pruning and after OrthP."""
    rows = []
    for p in prs:
        pruned = prune_neurons(dense, uniform_spec(p, n_layers, layers))
        s_orth = jsv(orthp(copy.deepcopy(pruned), gain), x_probe)
        rows.append({"pr": float(p), "widths": pruned.widths, "test_acc": evaluate(pruned, *test)[1],
                     "pruned": jsv_stats(jsv(pruned, x_probe)), "orthp": jsv_stats(s_orth),
                     "orthp_max_abs_dev": float(abs(to_numpy(s_orth) - 1).max())})
    return rows


def finetune_arm(dense, arm, spec, gain, data, x_probe, epochs, seed, folder, bar):
    """One arm and seed: prune (+ OrthP), measure epoch 0, finetune with JSV every epoch; resumable."""
    done = os.path.join(folder, "arm.json")
    if os.path.isfile(done):
        result = read_json(done)
        bar.update(epochs)
        return result
    model = prune_neurons(dense, spec)
    if arm.endswith("+orthp"):
        orthp(model, gain)
    start = os.path.join(folder, "jsv_epoch0.json")
    if not os.path.isfile(start):                      # the state right after pruning/OrthP
        os.makedirs(folder, exist_ok=True)
        write_json(start, {"jsv": jsv_stats(jsv(model, x_probe)), "test_acc": evaluate(model, *data["test"])[1]})
    epoch0 = read_json(start)
    table = scale_table(ARM_TABLES[arm.split("+")[0]], epochs)
    schedule = parse_schedule(table, epochs)
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=0.9, weight_decay=1e-4)   # fresh: no momentum
    progress = _Progress(bar)
    history = fit(model, opt, schedule, data, epochs, 100, seed=seed, out_dir=folder, resume=True, quiet=True,
                  callbacks=[JSVMonitor(x_probe, at_start=False), progress])
    result = {"arm": arm, "seed": seed, "schedule": table, "epoch0": epoch0, "history": history, **summarize(history)}
    write_json(done, result)
    return result


class _Progress:
    def __init__(self, bar):
        self.bar = bar

    def on_epoch_end(self, model, row):
        self.bar.update(1)
