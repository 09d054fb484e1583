"""The pruning-at-initialization study (Frankle et al. 2021; Singh & Liu 2021): SNIP, GraSP, SynFlow,
magnitude and random masks at init, and whether shuffling the mask inside each layer, re-drawing the kept
weights or inverting the scores hurts them. Specification: ../shared/research/pruning_at_init.md.

The study is a grid of cells (`minidi.lab.grid`), per replicate s = 0 .. seeds−1:
    dense      the dense model trained with the recipe from init seed s (shared, in the cache): the dense
               reference and the trained weights of the lottery-ticket control;
    mask       one method at one sparsity (and invert or not): scores at init (SNIP/GraSP on 10 training
               examples per class drawn by s), the masks (masks.npz), layer collapse, statistics at init;
               method "lth" is the control: global magnitude of the *trained* dense weights;
    collapse   per method, the per-layer density and collapse over a fine sparsity sweep (cheap: no training);
    train      one (method, sparsity, variant): the init weights of seed s, the mask, the variant (original,
               shuffle, reinit, invert), then training with the recipe; the JSV statistics at init and after
               every epoch, layer statistics at init and after training, the trained weights (model.npz).
`report.write_report` turns the results into the CSV, report.md (claims computed from the run), figures.
The three parts: spec.py (recipes, defaults, validation, the grid), cells.py, report.py.

Seeds: s sets the init, the data order, the SNIP/GraSP batch, the random scores and the shuffle; reinit draws
from the builder with seed 10000 + s (a fresh draw of the same distribution).
"""
from . import cells, report, spec
from .report import write_report
from .spec import SPARSITIES, configure, point_name
from .spec import grid_of as grid

NAME = "pai"


def warnings(summary):
    return summary["collapse_warnings"]


def run(out_dir="results/pai", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `configure`. Returns the report's summary."""
    from .. import driver, pai
    return driver.run(pai, configure(**study), out_dir, device=device, data_dir=data_dir, resume=resume, quiet=quiet,
                      cache=cache, workers=workers, scheduler=scheduler, worker_threads=worker_threads, rerun=rerun)


__all__ = ["NAME", "configure", "grid", "point_name", "write_report", "warnings", "run", "cells", "report", "spec",
           "SPARSITIES"]
