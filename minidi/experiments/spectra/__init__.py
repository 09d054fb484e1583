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
# run it with `minidi spectra` or `minidi.experiments.driver.run(spectra, spectra.configure(...), out_dir)`


__all__ = ["NAME", "NEEDS_DATA", "configure", "grid", "point_name", "write_report", "cells", "report", "spec"]
