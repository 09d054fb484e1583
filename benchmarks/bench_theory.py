"""How long one predicted spectrum takes (minidi.theory): the density on a 2000-point grid, and the whole
`spectrum` (moments, edges, atom, mean singular value, density), for MLPs of depth L = 5, 10, 20.

No baseline exists to compare with (no library computes this), so the times are absolute; run it on an idle
machine: `python benchmarks/bench_theory.py`."""
import time

import numpy as np

from minidi import theory
from minidi.theory import density as D


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    for L in (5, 10, 20):
        for act in ("linear", "relu"):
            widths = [1024] + [100] * (L - 1) + [10]
            s = theory.s_transform(widths, act, "uniform")
            m1, _ = D.moments(s)
            grid = np.linspace(D.upper_edge(s, m1), 1e-6 * m1, 2000)
            t_density = best_of(lambda: D.density(s, grid, m1))
            t_spectrum = best_of(lambda: theory.spectrum(widths, act, "uniform"), 3)
            print(f"L={L:2d} {act:6s}  density on 2000 points {t_density:.3f} s   whole spectrum {t_spectrum:.3f} s")


if __name__ == "__main__":
    main()
