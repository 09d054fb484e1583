"""The retraining study (Le & Hua, ICLR 2021): after pruning, is it the schedule's large learning rate that
makes learning-rate rewinding beat fine-tuning? Specification: ../shared/research/retraining.md.

The grid (`minidi.lab.grid`), per replicate s = 0 .. seeds−1:
    dense    the dense model, E epochs (SGD momentum 0.9, wd 1e-4, LR 0.1 ×0.1 at E/2 and 3E/4), seed s; it keeps
             model.npz and the weights of every epoch E − T that a requested budget T needs for WR
             (rewind-<k>.npz), and no other epoch (shared: in the cache);
    retrain  one arm (L1 or random structured; magnitude or random unstructured) × schedule (ft, lrw, wr, slr,
             clr) × budget T: prune the final dense weights once, (WR: reset the surviving weights to their values
             at epoch E − T), retrain T epochs; test accuracy and JSV statistics right after pruning and every epoch.
`report.write_report` turns the results into the CSV, report.md (claims computed) and the figures.
The three parts: spec.py (recipe, defaults, validation, the grid), cells.py, report.py. The dense cell is
`experiments.dense.stepped_cell`.

Seeds: s sets the dense init and data order, the random arm's choice and the retraining data order.
"""
from . import cells, report, spec
from .report import write_report
from .spec import configure, point_name
from .spec import grid_of as grid

NAME = "retrain"


def run(out_dir="results/retrain", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `configure`. Returns the report's summary."""
    from .. import driver, retrain
    return driver.run(retrain, configure(**study), out_dir, device=device, data_dir=data_dir, resume=resume,
                      quiet=quiet, cache=cache, workers=workers, scheduler=scheduler, worker_threads=worker_threads,
                      rerun=rerun)


__all__ = ["NAME", "configure", "grid", "point_name", "write_report", "run", "cells", "report",
           "spec"]
