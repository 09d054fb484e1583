"""Step 12: the curvature lens — the loss Hessian beside the Jacobian, by exact Hessian-vector products.

H v is computed exactly by Pearlmutter's R-operator (a forward and a backward pass more), never by forming H.
Lanczos on those products gives the top eigenvalue, Hutchinson's estimator the trace. Pruning changes the
curvature as well as the Jacobian; OrthP rescales both.

Uses: minidi.measure.hessian.Hessian, minidi.measure.curvature.summary. Read: docs/theory_to_code.md §8.
Needs MNIST.

    python examples/tour/12_curvature.py
"""
import click

from minidi.measure import curvature
from minidi.measure.hessian import Hessian
from minidi.measure.spectrum import jsv
from minidi.prune import prune_neurons, uniform_spec
from minidi.recover import orthp
from tourkit import as_numpy, figure, mnist, step, trained


@step("12_curvature.png")
@click.option("--steps", default=10, show_default=True, type=click.IntRange(min=2),
              help="Lanczos steps and Hutchinson probes.")
def main(device, data_dir, out, steps):
    """Top Hessian eigenvalue, trace and mean JSV of MLP-7-Linear: dense, L1-pruned at 0.8, and after OrthP."""
    data = mnist("mlp7-linear", device, data_dir)
    dense = trained("mlp7-linear", data, device, 2)
    pruned = prune_neurons(dense, uniform_spec(0.8, 7))
    x, y = data["train"][0][:500], data["train"][1][:500]
    rows = {}
    for name, net in (("dense", dense), ("pruned", pruned), ("+ OrthP", orthp(prune_neurons(dense, uniform_spec(0.8, 7))))):
        lens = curvature.summary(Hessian(net, x, y, training=False), steps, steps)
        rows[name] = (lens["top_eigenvalue"], lens["trace"], float(as_numpy(jsv(net, x[:100])).mean()))
        click.echo(f"{name:8s} top eigenvalue {rows[name][0]:.4g}, trace {rows[name][1]:.4g} (± {lens['trace_se']:.2g}), "
                   f"mean JSV {rows[name][2]:.4g}")
    figure(out, lambda ax: (ax.bar(list(rows), [r[0] for r in rows.values()]),
                            ax.set(yscale="log", ylabel="top Hessian eigenvalue")),
           "curvature of the loss: dense, pruned, OrthP")


if __name__ == "__main__":
    main()
