"""The theory held against the measurement (Saxe et al. 2014; Pennington, Schoenholz, Ganguli 2017, 2018;
../shared/research/spectral_theory.md): the Jacobian spectrum of random networks at initialization, measured by
minidi's exact Jacobian and predicted by `minidi.theory`, over depth, init and activation, and for the core
study's presets (and their pruned widths freshly drawn, the scratch arms' start).

The grid, one cell per (activation, init, depth) of square networks of `width`, each `draws` random draws at
`samples` Gaussian inputs, and one per preset; no data and no training. The parts: spec.py, cells.py, report.py.
"""
from . import cells, report, spec
from .report import write_report
from .spec import configure, point_name
from .spec import grid_of as grid

NAME = "spectra"
NEEDS_DATA = False           # random inputs: nothing is read from disk


def run(out_dir="results/spectra", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `configure`. Returns the report's summary."""
    from .. import driver, spectra
    return driver.run(spectra, configure(**study), out_dir, device=device, data_dir=data_dir, resume=resume,
                      quiet=quiet, cache=cache, workers=workers, scheduler=scheduler, worker_threads=worker_threads,
                      rerun=rerun)


__all__ = ["NAME", "NEEDS_DATA", "configure", "grid", "point_name", "write_report", "run", "cells", "report", "spec"]
