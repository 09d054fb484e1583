"""Step 5: OrthP restores isometry exactly.

Replace every weight matrix of the pruned linear net by the orthonormal factor of its QR decomposition:
then J Jᵀ = I and every singular value is exactly 1 (for linear nets whose widths do not grow). A ReLU net gets
no such guarantee.

Uses: minidi.recover.orthp; minidi.prune.prune_neurons. Read: docs/theory_to_code.md §4. Needs MNIST.

    python examples/tour/05_orthp.py
"""
import click
import numpy as np

from minidi.measure.spectrum import jsv
from minidi.models.plan import weight_layers
from minidi.prune import prune_neurons, uniform_spec
from minidi.recover import orthp
from tourkit import as_numpy, figure, mnist, step, trained


@step("05_orthp.png")
@click.option("--pr", default=0.8, show_default=True, type=click.FloatRange(0, 1, max_open=True))
def main(device, data_dir, out, pr):
    """Singular values of a pruned MLP-7-Linear before and after OrthP."""
    data = mnist("mlp7-linear", device, data_dir)
    model = trained("mlp7-linear", data, device, epochs=2)
    pruned = prune_neurons(model, uniform_spec(pr, len(weight_layers(model))))
    x = data["train"][0][:100]
    before = as_numpy(jsv(pruned, x)).ravel()
    after = as_numpy(jsv(orthp(pruned), x)).ravel()
    click.echo(f"PR {pr}: mean JSV {before.mean():.4g} → after OrthP min {after.min():.6f}, max {after.max():.6f}")
    bins = np.logspace(np.log10(before.min()) - 0.2, 0.2, 40)
    figure(out, lambda ax: (ax.hist(before, bins, label="L1 pruned"), ax.hist(after, bins, label="+ OrthP"),
                            ax.set(xscale="log", xlabel="singular value"), ax.legend()),
           "OrthP makes every singular value 1")


if __name__ == "__main__":
    main()
