"""The study commands of the command line, declared once per study: `minidi isometry|pai|retrain|shedding` run
one configuration, and `minidi sweep STUDY` runs the same study with comma-separated lists in place of the
values marked sweepable (every combination, one grid). Each command only parses its options into the study's
`configure` arguments and calls `minidi.experiments.driver`."""
import importlib
import os

import click

from .tools import Group, data_dir_option, device_option, friendly, grid_options, runner_args, split_list
from ..errors import MinidiError


class Sweepable:
    """An option that takes one value in the study's own command and a comma-separated list in its sweep."""

    def __init__(self, flag, param, convert, default, **single):
        self.flag, self.param, self.convert, self.default, self.single = flag, param, convert, default, single

    def option(self, sweep):
        if not sweep:
            return click.option(self.flag, self.param, default=self.default, **self.single)
        return click.option(self.flag, self.param, default=None if self.default is None else str(self.default),
                            show_default=self.default is not None,
                            help=f"Comma-separated values of {self.flag} (every combination is run).")

    def values(self, text):
        return [None] if text is None else split_list(text, self.convert, self.flag)


def _ratios(text):
    from ..prune import parse_ratios
    return parse_ratios(text, "--prs")


def model(default, help):
    return Sweepable("--model", "model_name", str, default, show_default=True, help=help)


def epochs(default, low, help):
    return Sweepable("--epochs", "epochs", int, default, show_default=default is not None, type=click.IntRange(min=low),
                     help=help)


def probe(default, help="Training images for the JSV."):
    return click.option("--probe", default=default, show_default=default is not None, type=click.IntRange(min=1),
                        help=help)


def synthetic(low):
    return click.option("--synthetic-samples", default=2400, show_default=True, type=click.IntRange(min=low),
                        help="Training images of --dataset synthetic.")


CURVATURE = click.option("--curvature", default=20, show_default=True, type=click.IntRange(min=0),
                         help="The curvature lens: Lanczos steps and Hutchinson probes of the loss Hessian (0: off; else at least 2, "
                              "for the trace's standard error, and at most the steps whose Lanczos basis, steps × "
                              "weights float64 numbers, fits in 4 GiB: about 3500 for MLP-7).")
SEEDS = click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1),
                     help="Independent replicates: seed s sets the dense init, the data orders and the study's draws. "
                          "A claim is judged on its replicates' interval: one replicate leaves every comparative "
                          "claim undecided; use 3 or more (an undecided line says how many would decide it; "
                          "docs/claims.md).")

STUDIES = {
    "isometry": dict(
        doc="The core study: pruning breaks dynamical isometry, a larger LR repairs it, OrthP restores it.",
        swept=[model("mlp7-linear", "mlp7-linear, mlp7-relu, lenet300-100, lenet5-linear, lenet5-relu, conv4-mnist, "
                                    "resnet20-mnist (MNIST); conv4, resnet20, resnet56, vgg19 (CIFAR protocol)."),
               epochs(None, 1, "Finetuning epochs (default: 90 MNIST, 120 CIFAR); the LR tables are scaled to it, and "
                               "so is pretraining (equal on MNIST, 200:120 on CIFAR) unless --pretrain-epochs."),
               Sweepable("--pr", "pr", float, None, type=click.FloatRange(0, 1, max_open=True),
                         help="Pruning ratio of the finetuning arms, in [0, 1) (default 0.8 mlp7-linear, else 0.9).")],
        options=[
            click.option("--dataset", default=None,
                         help="mnist for the MNIST models; cifar10 (default) or cifar100 for the CIFAR ones; or synthetic."),
            click.option("--pretrain-epochs", default=None, type=click.IntRange(min=1),
                         help="Pretraining epochs (default: the recipe's ratio to --epochs)."),
            click.option("--train-samples", default=None, type=click.IntRange(min=1),
                         help="Train on the first N training images only (a CPU-sized run)."),
            click.option("--test-samples", default=None, type=click.IntRange(min=1),
                         help="Test on the first N test images only."),
            synthetic(1),
            click.option("--long", is_flag=True, help="Finetune 900 epochs with the long schedules."),
            SEEDS,
            click.option("--finetune-seeds", default=1, show_default=True, type=click.IntRange(min=1),
                         help="Finetuning data orders per pretrained model (varies only the finetuning order)."),
            click.option("--prs", default=None,
                         help="Ratios of the JSV-vs-PR sweep (default 0,0.1,0.3,0.5,0.7,0.9; CIFAR 0,0.3,0.5,0.7,0.9,0.95)."),
            probe(1000),
            click.option("--sweep-only", is_flag=True,
                         help="Only pretrain and measure mean JSV against PR (no finetuning arms)."), CURVATURE,
            click.option("--arms", default="all", show_default=True,
                         help="Finetuning arms: names (lr0.01, lr0.001+orthp, lr0.01+ai, lr0.001+tpp, lr0.01+scratch-e, "
                              "...), a route alone for both LRs (orthp, ai, tpp, scratch-e, scratch-b), or all."),
            click.option("--scratch-b-cap", default=2.0, show_default=True, type=click.FloatRange(min=1),
                         help="Scratch-B trains at most this many times the finetuning epochs (Liu et al.: 2)."),
            click.option("--tpp-epochs", default=None, type=click.IntRange(min=1),
                         help="Epochs of the TPP regularization phase (default: a ninth of the finetuning epochs).")],
        configure=lambda o: dict(o, prs=None if o["prs"] is None else _ratios(o["prs"]))),
    "pai": dict(
        doc="Pruning at init (SNIP, GraSP, SynFlow, magnitude, random) and its sanity checks (shuffle, reinit, invert).",
        swept=[model("lenet300-100", "lenet300-100 (MNIST), or conv4, resnet20, vgg16 (CIFAR recipe)."),
               epochs(None, 1, "Training epochs (default: 16 MNIST, 160 CIFAR)."),
               Sweepable("--scope", "scope", str, "global", show_default=True, type=click.Choice(["global", "local"])),
               Sweepable("--rounds", "rounds", int, 100, show_default=True, type=click.IntRange(min=1),
                         help="SynFlow's pruning rounds.")],
        options=[
            click.option("--dataset", default=None,
                         help="mnist for lenet300-100; cifar10 or cifar100 for the CNNs; or synthetic."),
            click.option("--sparsities", default="0.75,0.9,0.968", show_default=True, help="Comma-separated, each in [0, 1)."),
            click.option("--methods", default="random,magnitude,snip,grasp,synflow", show_default=True),
            click.option("--variants", default="original,shuffle,reinit,invert", show_default=True),
            click.option("--no-control", is_flag=True, help="Leave out the lottery-ticket control (magnitude after training)."),
            SEEDS,
            probe(None, "Training images for the JSV (default 1000 MNIST, 200 CIFAR)."), synthetic(128), CURVATURE],
        configure=lambda o: dict(o, sparsities=split_list(o["sparsities"], float, "--sparsities"),
                                 methods=split_list(o["methods"], str, "--methods"),
                                 variants=split_list(o["variants"], str, "--variants"),
                                 control=not o.pop("no_control"))),
    "retrain": dict(
        doc="Retraining after pruning: FT, LR rewinding, weight rewinding, scaled restarts, 1-cycle; L1 vs random.",
        swept=[model("lenet300-100", "lenet300-100, lenet5-relu (MNIST), or resnet20, resnet56, vgg16 (CIFAR recipe)."),
               epochs(None, 4, "Dense epochs E (default: 40 MNIST, 160 CIFAR)."),
               Sweepable("--structure", "structure", str, "structured", show_default=True,
                         type=click.Choice(["structured", "unstructured"]),
                         help="structured: L1 vs random neurons/filters; unstructured: global magnitude vs random weights."),
               Sweepable("--ratio", "ratio", float, 0.9, show_default=True,
                         type=click.FloatRange(0, 1, min_open=True, max_open=True),
                         help="Pruning ratio (structured: of each pruned layer's units; unstructured: global sparsity).")],
        options=[
            click.option("--dataset", default=None, help="mnist for the LeNets; cifar10 or cifar100 for the CNNs; or synthetic."),
            click.option("--budgets", default=None, help="Comma-separated retraining budgets T ≤ E (default: E/4, E/2, E)."),
            click.option("--schedules", "kinds", default="ft,lrw,wr,slr,clr", show_default=True),
            SEEDS,
            probe(None), synthetic(128)],
        configure=lambda o: dict(o, budgets=None if o["budgets"] is None else split_list(o["budgets"], int, "--budgets"),
                                 schedules=split_list(o.pop("kinds"), str, "--schedules"))),
    "shedding": dict(
        doc="Cascade weight shedding: σ(t), dead units, implicit sparsity; random+shedding vs GMP vs gradual GMP.",
        swept=[model("lenet300-100", "lenet300-100, mlp7-relu, lenet5-relu or conv4-mnist (BatchNorm)."),
               Sweepable("--fraction", "fraction", float, 0.2, show_default=True, type=float,
                         help="The small random prune of the cascade, in (0, 0.5]."),
               epochs(10, 1, "Fine-tuning epochs."),
               Sweepable("--steps", "steps", int, 5, show_default=True, type=click.IntRange(min=1),
                         help="Prune steps of every pruning route (the cubic schedule of gradual GMP)."),
               Sweepable("--shed-lr", "shed_lr", float, 0.1, show_default=True, type=float,
                         help="LR of the shedding arm (the small-LR arms use a hundredth) and of the routes' rounds."),
               Sweepable("--shed-wd", "shed_wd", float, 5e-4, show_default=True, type=float,
                         help="Weight decay of the shedding arm and of the routes' rounds.")],
        options=[
            click.option("--dataset", default="mnist", show_default=True, help="mnist or synthetic."),
            click.option("--sparsities", default="0.8,0.9,0.95", show_default=True, help="Final sparsities of the pruning routes."),
            click.option("--round-epochs", default=1, show_default=True, type=int,
                         help="Epochs after each prune step of the routes (all but the last)."),
            click.option("--map", is_flag=True, help="Run the phase map (LR × weight decay × fraction × epochs) instead."),
            click.option("--map-lrs", default=None, help="The map's LRs, comma-separated (default: the model's, see docs)."),
            click.option("--map-wds", default=None, help="The map's weight decays, comma-separated."),
            click.option("--map-fractions", default=None, help="The map's pruned fractions, comma-separated."),
            click.option("--map-epochs", default=None, type=int, help="The map's fine-tuning epochs (σ read after each)."),
            SEEDS,
            probe(1000, "Images for JSV and dead units."), synthetic(200)],
        configure=lambda o: dict(o, sparsities=split_list(o["sparsities"], float, "--sparsities"),
                                 **{k: None if o[k] is None else split_list(o[k], float, "--" + k.replace("_", "-"))
                                    for k in ("map_lrs", "map_wds", "map_fractions")})),
    "spectra": dict(
        doc="The theory against the measurement: Jacobian spectra of random networks at init, predicted by free "
            "probability (minidi.theory) and measured exactly, over depth, init and activation, and the presets.",
        swept=[Sweepable("--width", "width", int, 200, show_default=True, type=click.IntRange(min=2),
                         help="Width of the square networks (input, hidden and output).")],
        options=[
            click.option("--depths", default="1,2,3,4,5,6,7,8,9,10", show_default=True,
                         help="Depths L (weight layers), comma-separated."),
            click.option("--inits", default="gaussian,orthogonal,uniform", show_default=True,
                         help="gaussian (Kaiming normal), orthogonal, uniform (PyTorch's default Linear init)."),
            click.option("--activations", default="linear,relu", show_default=True),
            click.option("--draws", default=4, show_default=True, type=click.IntRange(min=2),
                         help="Random networks per point: the replicates of the claims."),
            click.option("--samples", default=8, show_default=True, type=click.IntRange(min=1),
                         help="Gaussian inputs per network (a ReLU network's Jacobian depends on its input)."),
            click.option("--no-presets", is_flag=True, help="Leave out MLP-7-Linear/ReLU and their pruned widths.")],
        configure=lambda o: dict(o, depths=split_list(o["depths"], int, "--depths"),
                                 inits=split_list(o["inits"], str, "--inits"),
                                 activations=split_list(o["activations"], str, "--activations"),
                                 presets=not o.pop("no_presets"))),
}


def run_options(name, sweep):
    """--out, --cache, --resume, --quiet, --device, --data-dir and the runner's options of a study command."""
    out_help = f"Results folder (default: results/sweep-{name})." if sweep else f"Results folder (default: results/{name}-<model>)."
    return [click.option("--out", "out_dir", default=None, help=out_help),
            click.option("--cache", default=None,
                         help="Folder of the shared cells, e.g. dense models (default: $MINIDI_CACHE, else ~/.cache/minidi)."),
            click.option("--resume", is_flag=True, help="Continue in --out: the cells that are done are not computed again."),
            click.option("--quiet", is_flag=True), device_option, data_dir_option]


def study_command(name, sweep):
    """The click callback of `minidi NAME` (sweep=False) or `minidi sweep NAME` (sweep=True)."""
    spec = STUDIES[name]

    def command(out_dir, cache, resume, quiet, device, data_dir, workers, worker_threads, scheduler, rerun, **given):
        from ..experiments import driver
        study = importlib.import_module(f"minidi.experiments.{name}")
        if out_dir == "":
            raise MinidiError("--out is empty: give a folder (or leave --out out for the default)")
        runner = dict(device=device, data_dir=data_dir, resume=resume, quiet=quiet, cache=cache,
                      **runner_args(workers, worker_threads, scheduler, rerun))
        if sweep:
            lists = {s.param: s.values(given.pop(s.param)) for s in spec["swept"]}
            out_dir = out_dir or os.path.join("results", f"sweep-{name}")
            driver.sweep(study, lists, spec["configure"](given), out_dir, **runner)
        else:
            suffix = f"-{given['model_name']}" if "model_name" in given else ""
            out_dir = out_dir or os.path.join("results", f"{name}{suffix}")
            driver.run(study, study.configure(**spec["configure"](given)), out_dir, **runner)
        click.echo(os.path.join(out_dir, "report.md"))
    command.__doc__ = spec["doc"] + (" A sweep: comma-separated lists of " + ", ".join(s.flag for s in spec["swept"])
                                     + "; one merged cells.csv and report.md at the top of --out, each point's own "
                                     "report in its folder." if sweep else "")
    fn = friendly(command)
    for option in reversed([s.option(sweep) for s in spec["swept"]] + spec["options"] + run_options(name, sweep)):
        fn = option(fn)
    return grid_options(fn)


def register(main):
    """Add the four study commands and the `sweep` group to the `minidi` group."""
    sweep = Group("sweep", help="Run a study's grid with comma-separated lists in place of single values, e.g. "
                  "minidi sweep isometry --model mlp7-linear,mlp7-relu --pr 0.5,0.8,0.9 --seeds 3 --workers 2")
    for name in STUDIES:
        main.command(name=name)(study_command(name, sweep=False))
        sweep.command(name=name)(study_command(name, sweep=True))
    main.add_command(sweep)
