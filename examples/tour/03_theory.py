"""Step 3: what the theory predicts at init — and the exact Jacobian agrees.

Free probability gives the whole spectrum of J Jᵀ of a wide random net from its widths, init and nonlinearity
(`minidi.theory.spectrum`). Depth alone breaks isometry in a Gaussian linear net (Var λ/m₁² = L); orthogonal
weights make every singular value 1; a ReLU gate adds 1 per layer, so a ReLU net is never isometric.

Uses: minidi.theory.spectrum, spectrum_of; minidi.measure.spectrum.jsv. Read: docs/theory_to_code.md §11.

    python examples/tour/03_theory.py
"""
import click
import numpy as np

from minidi import models, theory
from minidi.backend import resolve_device, to_device, xp_for
from minidi.measure.spectrum import jsv
from tourkit import as_numpy, figure, step

INIT = {"gaussian": "kaiming-normal", "orthogonal": "orthogonal"}


@step("03_theory.png")
@click.option("--width", default=128, show_default=True, type=click.IntRange(min=4), help="Width of the square nets.")
def main(device, data_dir, out, width, depth=4):
    """Measured against predicted singular values of square random nets at init."""
    device = resolve_device(device)
    x = xp_for(device).asarray(np.random.default_rng(0).standard_normal((4, width)))
    for act, init in (("linear", "gaussian"), ("linear", "orthogonal"), ("relu", "gaussian")):
        nets = [to_device(models.mlp(depth, width, act, width, width, INIT[init], seed=s, dtype=np.float64), device)
                for s in range(3)]
        s = np.concatenate([as_numpy(jsv(n, x)).ravel() for n in nets])
        lam = s ** 2
        p = theory.spectrum_of(nets[0])
        click.echo(f"{act:6s} {init:10s} L={depth}: Var λ/m₁² measured {np.mean(lam ** 2) / np.mean(lam) ** 2 - 1:.2f}, "
                   f"predicted {p.normalized_variance:.2f}; mean s {s.mean():.3f} vs {p.mean_singular_value:.3f}")
    figure(out, lambda ax: (ax.hist(s, bins=50, density=True, alpha=0.5, label="measured (ReLU, Gaussian)"),
                            ax.plot(p.grid, p.density, "k-", label="predicted"), ax.legend(fontsize=8),
                            ax.set(xlabel="singular value s", xlim=(0, np.percentile(s, 99)))),
           f"Jacobian singular values at init, depth {depth}, width {width}")


if __name__ == "__main__":
    main()
