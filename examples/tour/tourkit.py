"""What every step of the tour shares, so that each step shows only its idea: the --device, --data-dir and --out
options, MNIST on the device, a quickly trained MLP-7-Linear, and saving one figure."""
import os

import click
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minidi import models, optim  # noqa: E402
from minidi.backend import resolve_device, to_device  # noqa: E402
from minidi.data import load_dataset  # noqa: E402
from minidi.schedules import Constant  # noqa: E402
from minidi.train import fit  # noqa: E402


def step(figure):
    """Decorator of a tour step's `main`: a click command with --device, --data-dir and --out (its figure), whose
    errors are one line (`minidi.cli.tools.friendly`)."""
    from minidi.cli.tools import Command, friendly

    def wrap(fn):
        return click.command(cls=Command)(options(figure)(friendly(fn)))
    return wrap


def options(figure):
    """--device, --data-dir and --out (the figure's path, default tour/<figure>) of a tour step."""
    def wrap(fn):
        fn = click.option("--out", default=os.path.join("tour", figure), show_default=True,
                          help="Where the step's figure is saved (.png).")(fn)
        fn = click.option("--data-dir", default=None, help="Folder of the MNIST files (default: $MINIDI_DATA/mnist, "
                          "then ~/.cache/minidi).")(fn)
        return click.option("--device", default=None, help="cpu or gpu (default: $MINIDI_DEVICE, else cpu).")(fn)
    return wrap


def mnist(model_name, device, data_dir=None, train=None):
    """MNIST shaped for the preset, on the device; `train`: only the first that many training images."""
    data = load_dataset("mnist", data_dir, models.input_of(model_name))
    if train:
        data["train"] = tuple(a[:train] for a in data["train"])
    return {k: (to_device(x, resolve_device(device)), to_device(y, resolve_device(device))) for k, (x, y) in data.items()}


def sgd(model, lr, data, epochs, callbacks=(), seed=0):
    """`fit` with the core study's optimizer (SGD momentum 0.9, weight decay 1e-4, batch 100) at a constant LR."""
    return fit(model, optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4), Constant(lr), data, epochs,
               batch_size=100, seed=seed, callbacks=list(callbacks))


def trained(model_name, data, device, epochs=4, lr=0.01, seed=0):
    """The preset trained briefly (`sgd` at a constant LR): a stand-in for a pretrained net."""
    model = to_device(models.build(model_name, seed=seed), resolve_device(device))
    sgd(model, lr, data, epochs, seed=seed)
    return model


def figure(path, draw, title):
    """One figure: draw(ax) on a fresh axis, saved to path (its folder made)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    draw(ax)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    click.echo(f"figure: {path}")


def as_numpy(a):
    return np.asarray(a.get() if hasattr(a, "get") else a)
