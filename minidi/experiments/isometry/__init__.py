"""The core study (Wang et al., 2021): pruning breaks dynamical isometry, a larger finetuning LR repairs it,
and OrthP restores it exactly. Protocol: ../shared/research/dynamical_isometry.md.

The study is a grid of cells (`minidi.lab.grid`), per replicate s = 0 .. seeds−1:
    pretrain   the dense model with the paper's recipe, seed s (shared: in the cache, reused by every study);
    sweep      (a) mean JSV against the pruning ratio: every layer but the output pruned by L1 at PR ∈ `prs`
               (also after OrthP), and the singular values at PR `pr`;
    layers     (MLPs) the per-layer spectra of the dense network and right after pruning (`minidi.measure.layerspectra`);
    finetune   (b) at PR = `pr`, the arms (`arms.py`): {LR 0.01, LR 0.001} × {L1, + OrthP, + AI, the TPP route,
               Scratch-E, Scratch-B}, each with a fresh SGD, with the JSV statistics (and, for MLPs, the per-layer
               spectra) at the start ("epoch 0") and after every epoch;
then `report.write_report` turns the cells' results into history (JSON, CSV), a markdown report and the figures.
The parts: spec.py (defaults, validation, the grid), arms.py (each arm's start), cells.py, claims.py (every
claim line, pure functions), report.py (files, tables, figures).

Replicates: seed s sets the dense initialization, the pretraining data order and the finetuning data order
(`--seeds N`: N independent pipelines). `finetune_seeds` M > 1 adds, for each pretraining, M finetuning data
orders (seed s + 1000·f for f = 0 .. M−1): the spread that data order alone makes.

Choices where the note is silent (also in docs/theory_to_code.md): the probe set is the first 1000 training
images in file order (the first 10 batches of an unshuffled loader); `epochs` sets pretraining and finetuning
length together and scales the epoch tables proportionally (a quick version); `long` finetunes 900 epochs
with the long tables; each cell is an ordinary `fit` run folder, so an interrupted experiment resumes.
"""
from . import cells, report, spec
from .report import sweep_table, write_report
from .spec import ARMS, DEFAULT_PR, DEFAULT_PRS, LONG_EPOCHS, SCRATCH_B_CAP, configure, point_name
from .spec import grid_of as grid

NAME = "isometry"


def run(model_name="mlp7-linear", out_dir="results/isometry", epochs=None, long=False, seeds=1, pr=None,
        prs=None, device=None, data_dir=None, probe=1000, resume=False, quiet=False, cache=None,
        sweep_only=False, finetune_seeds=1, workers=None, scheduler=None, worker_threads=1, rerun=False, curvature=20,
        arms="all", scratch_b_cap=SCRATCH_B_CAP, tpp_epochs=None, **data):
    """Run the whole study into `out_dir` (cells under out_dir/cells, pretraining in the cache); returns the
    summary dict that report.md is written from. sweep_only: pretrain and measure JSV against PR only; data:
    dataset, pretrain_epochs, train_samples, test_samples, synthetic_samples (as `configure` takes them)."""
    from .. import driver, isometry
    config = configure(model_name, epochs, long, seeds, pr, prs, probe, sweep_only, finetune_seeds, curvature, arms,
                       scratch_b_cap, tpp_epochs, **data)
    return driver.run(isometry, config, out_dir, device=device, data_dir=data_dir, resume=resume, quiet=quiet,
                      cache=cache, workers=workers, scheduler=scheduler, worker_threads=worker_threads, rerun=rerun)


__all__ = ["NAME", "configure", "grid", "point_name", "write_report", "sweep_table", "run", "cells", "report",
           "spec", "ARMS", "DEFAULT_PR", "DEFAULT_PRS", "LONG_EPOCHS"]
