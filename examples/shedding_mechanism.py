"""The mechanism of weight shedding, in a few lines: prune a unit's inputs, train, watch its outgoing weights.

    python examples/shedding_mechanism.py                      # weight decay 5e-4, LR 0.1, 200 steps
    python examples/shedding_mechanism.py --weight-decay 0     # no decay: the weights stay put

A hidden unit of LeNet-300-100 whose 784 incoming weights are all masked outputs ReLU(bias); with its bias
set to 0 that is 0, so its outgoing weights get no loss gradient and decay like (1 − ηλ)^steps.
"""
import click
import numpy as np

from minidi import optim, prune
from minidi.measure import shedding
from minidi.backend import to_numpy
from minidi.cli.tools import Command, friendly
from minidi.data import load_dataset
from minidi.models import build, input_of
from minidi.nn import SoftmaxCrossEntropy


@click.command(cls=Command)
@click.option("--lr", default=0.1, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Fine-tuning learning rate.")
@click.option("--weight-decay", default=5e-4, show_default=True, type=click.FloatRange(min=0), help="Fine-tuning weight decay.")
@click.option("--steps", default=200, show_default=True, type=click.IntRange(min=1), help="SGD steps the decay law is iterated over.")
@click.option("--dataset", default="synthetic", show_default=True, help="synthetic or mnist.")
@click.option("--data-dir", default=None, help="Folder of the dataset files (default: $MINIDI_DATA, then ~/.cache/minidi).")
@friendly
def main(lr, weight_decay, steps, dataset, data_dir):
    """The decay law of a weight with zero loss gradient against the weights of a real LeNet-300-100 after a
    random prune: how fast weight decay makes them vanish at this LR."""
    data = load_dataset(dataset, data_dir, input_of("lenet300-100"), synthetic_samples=1200)
    x, y = data["train"]
    model = build("lenet300-100", seed=0)
    first, second = model.linear_layers()[:2]
    mask = np.ones(first.weight.shape, dtype=np.float32)
    mask[0] = 0                                          # unit 0 of the first hidden layer: no inputs left
    prune.apply_masks(model, {"layers.0.weight": mask})
    first.bias.data[0] = 0
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.0, weight_decay=weight_decay)
    loss = SoftmaxCrossEntropy()
    w0 = to_numpy(second.weight.data[:, 0]).copy()
    for step in range(steps):
        i = (step * 128) % (len(y) - 128)
        loss.forward(model.forward(x[i:i + 128]), y[i:i + 128])
        opt.zero_grad()
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    w = to_numpy(second.weight.data[:, 0])
    predicted = (1 - lr * weight_decay) ** steps
    click.echo(f"outgoing weights of the input-less unit: |w| {np.abs(w0).mean():.5f} → {np.abs(w).mean():.5f} "
               f"(ratio {np.abs(w).mean() / np.abs(w0).mean():.5f}; (1 − ηλ)^{steps} = {predicted:.5f})")
    tau = shedding.thresholds(model)["kappa=0.01"]
    click.echo(f"dead units of layer 0 by weights: {shedding.dead_units(model, tau=tau)['layers.0.weight']}")


if __name__ == "__main__":
    main()
