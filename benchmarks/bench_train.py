"""One MNIST-sized training epoch of MLP-7-Linear (batch 100, SGD momentum 0.9, wd 1e-4), minidi vs PyTorch.

    python benchmarks/bench_train.py [--device cpu|gpu] [--samples 60000] [--repeats 3]

The data are random arrays of MNIST's size (60000 × 1024), so the timing is of the training step alone
(shuffle-gather, forward, loss, backward, update), the same work in both libraries, measured in one run.
"""
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import best_of, report, torch_mlp, torch_or_none  # noqa: E402

from minidi import models, optim  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, xp_for  # noqa: E402
from minidi.data import batches, epoch_order  # noqa: E402
from minidi.nn import SoftmaxCrossEntropy  # noqa: E402


def minidi_epoch(model, opt, x, y, batch):
    loss_fn = SoftmaxCrossEntropy()
    for xb, yb in batches(x, y, batch, epoch_order(len(x), 0, 0)):
        logits = model.forward(xb)
        loss_fn.forward(logits, yb)
        opt.zero_grad()
        model.backward(loss_fn.backward(), input_grad=False)
        opt.step()


def torch_epoch(torch, net, opt, x, y, batch):
    order = torch.from_numpy(epoch_order(len(x), 0, 0)).to(x.device)
    for start in range(0, len(x), batch):
        idx = order[start:start + batch]
        loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


@click.command()
@click.option("--device", default="cpu")
@click.option("--samples", default=60000)
@click.option("--batch", default=100)
@click.option("--repeats", default=3)
def main(device, samples, batch, repeats):
    device = resolve_device(device)
    xp = xp_for(device)
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal((samples, 1024)).astype(np.float32)
    y_host = rng.integers(0, 10, samples)
    model = to_device(models.build("mlp7-linear"), device)
    x, y = to_device(x_host, device), to_device(y_host, device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    ours = best_of(lambda: minidi_epoch(model, opt, x, y, batch), repeats, lambda: synchronize(xp))
    theirs = None
    torch = torch_or_none()
    if torch is not None:
        tdev = "cuda" if device == "gpu" else "cpu"
        net = torch_mlp(torch, models.build("mlp7-linear")).to(tdev)
        topt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        tx, ty = torch.from_numpy(x_host).to(tdev), torch.from_numpy(y_host).to(tdev)
        sync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
        theirs = best_of(lambda: torch_epoch(torch, net, topt, tx, ty, batch), repeats, sync)
        print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        print("PyTorch not installed: minidi timing only")
    print(f"device {device}, numpy {np.__version__}, {samples} samples, batch {batch}")
    report([("MLP-7-Linear, one epoch", ours, theirs)])


if __name__ == "__main__":
    from minidi.backend import keep_freed_memory
    keep_freed_memory()                   # as the minidi command does
    main()
