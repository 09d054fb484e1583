"""CNN speed, minidi vs PyTorch in one run:
  (1) forward + backward of ResNet-20 on a batch of 128 CIFAR-sized images (train mode);
  (2) one MNIST-sized epoch (60000 images, batch 100) of LeNet-5-ReLU training with SGD momentum.

    python benchmarks/bench_conv.py [--device cpu|gpu] [--rounds 3] [--repeats 2] [--samples 60000]

Inputs are random arrays of the datasets' sizes. Before timing, the PyTorch twin (weights copied through
state_dict) is run on the same batch and the largest logit difference is printed, as a correctness check.
minidi and PyTorch are timed in alternating rounds (`common.paired`) so that both see the same state of a
shared machine; the best times are compared and the range of the per-round ratios is printed too.
On the CPU it also prints the time of ResNet-20's convolution products alone (`conv_floor.py`), a lower
bound for the step, against the same PyTorch time.
"""
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_train import minidi_epoch, torch_epoch  # noqa: E402
from common import paired, report, torch_or_none  # noqa: E402
from conv_floor import conv_products_time  # noqa: E402
from torch_models import twin  # noqa: E402

from minidi import models, optim  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, to_numpy, xp_for  # noqa: E402
from minidi.nn import SoftmaxCrossEntropy  # noqa: E402


def minidi_step(model, x, y):
    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(model.forward(x), y)
    model.zero_grad()
    model.backward(loss_fn.backward(), input_grad=False)


def torch_step(torch, net, x, y):
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()


@click.command()
@click.option("--device", default="cpu")
@click.option("--rounds", default=3, help="Alternating minidi/PyTorch timing blocks (see common.paired).")
@click.option("--repeats", default=2, help="Runs per block; the best one counts.")
@click.option("--samples", default=60000, help="Images in the LeNet-5 epoch.")
@click.option("--batch", default=128, help="ResNet-20 batch.")
def main(device, rounds, repeats, samples, batch):
    device = resolve_device(device)
    xp = xp_for(device)
    sync = lambda: synchronize(xp)  # noqa: E731
    torch = torch_or_none()
    tdev = "cuda" if device == "gpu" else "cpu"
    tsync = (torch.cuda.synchronize if tdev == "cuda" else (lambda: None)) if torch else None
    rng = np.random.default_rng(0)
    rows = []

    x_host = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y_host = rng.integers(0, 10, batch)
    model = to_device(models.build("resnet20"), device)
    x, y = to_device(x_host, device), to_device(y_host, device)
    theirs = None
    if torch is not None:
        net = twin(torch, models.build("resnet20")).to(tdev)
        tx, ty = torch.from_numpy(x_host).to(tdev), torch.from_numpy(y_host).to(tdev)
        check = to_device(models.build("resnet20"), device)
        diff = np.abs(to_numpy(check.forward(x)) - net(tx).detach().cpu().numpy()).max()
        print(f"ResNet-20 logits, minidi vs PyTorch (train mode, same weights): max abs difference {diff:.2e}")
        theirs = lambda: torch_step(torch, net, tx, ty)  # noqa: E731
    rows.append((f"ResNet-20 fwd+bwd, batch {batch}",
                 *paired(lambda: minidi_step(model, x, y), theirs, rounds, repeats, sync, tsync)))
    if device == "cpu":
        floor = conv_products_time(model)
        rows.append(("  its conv products alone (lower bound)", floor, rows[-1][2]))

    xl_host = rng.standard_normal((samples, 1, 32, 32)).astype(np.float32)
    yl_host = rng.integers(0, 10, samples)
    lenet = to_device(models.build("lenet5-relu"), device)
    xl, yl = to_device(xl_host, device), to_device(yl_host, device)
    opt = optim.SGD(lenet.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    theirs = None
    if torch is not None:
        tnet = twin(torch, models.build("lenet5-relu")).to(tdev)
        check = models.build("lenet5-relu")
        diff = np.abs(check.forward(xl_host[:100]) - tnet(torch.from_numpy(xl_host[:100])).detach().numpy()).max() \
            if tdev == "cpu" else float("nan")
        print(f"LeNet-5 logits, minidi vs PyTorch (same weights): max abs difference {diff:.2e}")
        topt = torch.optim.SGD(tnet.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        txl, tyl = torch.from_numpy(xl_host).to(tdev), torch.from_numpy(yl_host).to(tdev)
        theirs = lambda: torch_epoch(torch, tnet, topt, txl, tyl, 100)  # noqa: E731
        print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        print("PyTorch not installed: minidi timings only")
    rows.append((f"LeNet-5 epoch, {samples} images",
                 *paired(lambda: minidi_epoch(lenet, opt, xl, yl, 100), theirs, rounds, 1, sync, tsync)))
    print(f"device {device}, numpy {np.__version__}; best of {rounds} alternating rounds")
    report(rows)


if __name__ == "__main__":
    from minidi.backend import keep_freed_memory
    keep_freed_memory()                   # as the minidi command does
    main()
