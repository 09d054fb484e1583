"""The weight-shedding study (Azarian & Porikli 2021): after a small random prune, does fine-tuning shed a
large share of the remaining weights, and can random pruning with shedding approach global magnitude pruning?
Specification: ../shared/research/weight_shedding.md; our operational definitions: minidi/measure/shedding.py.

The grid (`minidi.lab.grid`), per replicate s:
    dense    the dense model (`experiments.dense.recipe_cell` with the MNIST recipe the pai study uses too: SGD
             lr 0.1, batch 128, 16 epochs; shared);
    cascade  random global prune of `fraction` of the weights, then F epochs of fine-tuning at a large (0.1) or
             small (0.001) constant LR, SGD momentum 0.9, weight decay 5e-4 or 0: σ(t) for every τ (ten times per
             epoch in the first two epochs, then every epoch), dead units, JSV, the implicit-sparsity check;
    route    one pruning route to a final sparsity in `steps` prune steps on the cubic schedule, `round_epochs`
             at (shed_lr, shed_wd) after each step but the last: one-shot GMP (all at step 1); gradual GMP (and
             the share of each step's removed weights already shed); random pruning that first hard-prunes the
             shed weights at each step (random-shed), or the same with weight decay 0 (random-noshed). Every
             route ends with the same F epochs of fine-tuning, cosine from 0.1 to 0, weight decay 5e-4.
    map      (with `map=True`, instead of cascade and route) the phase map: one constant-LR fine-tuning run
             per LR × weight decay × pruned fraction, σ per layer, dead units and BN-dead channels every epoch.
The parts: spec.py (arms, routes, defaults, validation, the grids), cells.py, report.py, mapreport.py.
"""
from . import cells, report, spec
from .report import write_report
from .spec import configure, point_name
from .spec import grid_of as grid

NAME = "shedding"


def warnings(summary):
    return summary.get("disconnections", [])


def run(out_dir="results/shedding", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `configure`. Returns the report's summary."""
    from .. import driver, shedding
    return driver.run(shedding, configure(**study), out_dir, device=device, data_dir=data_dir, resume=resume,
                      quiet=quiet, cache=cache, workers=workers, scheduler=scheduler, worker_threads=worker_threads,
                      rerun=rerun)


__all__ = ["NAME", "configure", "grid", "point_name", "write_report", "warnings", "run", "cells", "report", "spec"]
