"""The statistics every study's claims use, in one place.

    mean_std(values)     (mean, sample std) across replicates; the std of one replicate is 0
    tolerance(a, b)      "within the seed-to-seed spread": max(2·s, 0.005), s the larger sample std of the two
                         groups compared (half a point at least, so a one-seed run is not judged on a spread of 0)
    verdict(held)        the words a claim line ends with: **held** or **not held**
"""
import numpy as np

MIN_TOL = 0.005


def mean_std(values):
    """(mean, sample std) of the replicates' values (std 0 for one)."""
    return float(np.mean(values)), (float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)


def tolerance(a, b):
    return max(2 * max(mean_std(a)[1], mean_std(b)[1]), MIN_TOL)


def verdict(held):
    return "**held**" if held else "**not held**"
