"""Step 4: pruning breaks dynamical isometry.

Train MLP-7-Linear briefly on MNIST, then remove the lowest-L1 neurons of every hidden layer at growing pruning
ratios (physically: a smaller dense net). The mean singular value of J falls by orders of magnitude: the signal a
gradient needs to travel through the network is squeezed out.

Uses: minidi.prune.prune_neurons, uniform_spec; minidi.measure.spectrum.jsv. Read: docs/theory_to_code.md §2–§3.
Needs MNIST ($MINIDI_DATA or --data-dir).

    python examples/tour/04_pruning_breaks_isometry.py
"""
import click

from minidi.measure.spectrum import jsv
from minidi.models.plan import weight_layers
from minidi.prune import prune_neurons, uniform_spec
from tourkit import as_numpy, figure, mnist, step, trained

PRS = (0.0, 0.3, 0.5, 0.7, 0.9)


@step("04_pruning_breaks_isometry.png")
@click.option("--epochs", default=3, show_default=True, type=click.IntRange(min=1), help="Training epochs.")
def main(device, data_dir, out, epochs):
    """Mean JSV of a trained MLP-7-Linear against the pruning ratio."""
    data = mnist("mlp7-linear", device, data_dir)
    model = trained("mlp7-linear", data, device, epochs)
    x = data["train"][0][:200]
    means = []
    for pr in PRS:
        pruned = prune_neurons(model, uniform_spec(pr, len(weight_layers(model))))
        means.append(float(as_numpy(jsv(pruned, x)).mean()))
        click.echo(f"PR {pr:.1f}: widths {pruned.widths}, mean JSV {means[-1]:.4g}")
    click.echo(f"PR {PRS[-1]} has {means[0] / means[-1]:.0f}× less mean JSV than the dense net")
    figure(out, lambda ax: (ax.semilogy(PRS, means, "o-"), ax.set(xlabel="pruning ratio", ylabel="mean JSV")),
           "L1 pruning of a trained MLP-7-Linear")


if __name__ == "__main__":
    main()
