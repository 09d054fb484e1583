"""The core study's CNN targets (issue 32), minidi vs PyTorch in one run:
  (1) one ResNet-56 training step at batch 128 on CIFAR-sized images: forward, loss, backward, SGD update
      (momentum 0.9, weight decay 5e-4, the CIFAR recipe), float32, train mode;      target: within 2.5×
  (2) the JSV of 1000 CIFAR-sized images through ResNet-20 in eval mode: one forward, ten one-hot backward passes,
      the singular values of each 10 × 3072 Jacobian (PyTorch: autograd.grad per logit and a batched
      `torch.linalg.svdvals`);                                                          target: no slower

    python benchmarks/bench_core_cnn.py [--device cpu|gpu] [--rounds 3] [--repeats 2] [--samples 1000]

Inputs are random arrays of CIFAR's shape; the weights are the same in both libraries (copied by state_dict)
and the logits are compared before timing. The two libraries are timed in alternating rounds
(`common.paired`), so both see the same state of a shared machine.
"""
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_jsv import torch_jsv  # noqa: E402  (rows flattened: images give (N, 10, 3072) Jacobians)
from common import paired, report, torch_or_none  # noqa: E402
from torch_models import twin  # noqa: E402

from minidi import models, optim  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, to_numpy, xp_for  # noqa: E402
from minidi.measure.spectrum import jsv  # noqa: E402
from minidi.nn import SoftmaxCrossEntropy  # noqa: E402


def minidi_train_step(model, opt, x, y):
    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(model.forward(x), y)
    opt.zero_grad()
    model.backward(loss_fn.backward(), input_grad=False)
    opt.step()


def torch_train_step(torch, net, opt, x, y):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()


def torch_jsv_chunked(torch, net, x, chunk):
    """PyTorch's JSV, `chunk` images at a time (minidi's `input_jacobian` chunk: the same memory bound)."""
    return torch.cat([torch_jsv(torch, net, x[i:i + chunk]) for i in range(0, len(x), chunk)])


def step_row(device, torch, tdev, rounds, repeats, batch):
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y_host = rng.integers(0, 10, batch)
    model = to_device(models.build("resnet56"), device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x, y = to_device(x_host, device), to_device(y_host, device)
    theirs, tsync = None, None
    if torch is not None:
        net = twin(torch, models.build("resnet56")).to(tdev)
        topt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        tx, ty = torch.from_numpy(x_host).to(tdev), torch.from_numpy(y_host).to(tdev)
        diff = np.abs(to_numpy(to_device(models.build("resnet56"), device).forward(x)) - net(tx).detach().cpu().numpy()).max()
        print(f"ResNet-56 logits, minidi vs PyTorch (train mode, same weights): max abs difference {diff:.2e}")
        theirs = lambda: torch_train_step(torch, net, topt, tx, ty)  # noqa: E731
        tsync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
    xp = xp_for(device)
    return (f"ResNet-56 training step, batch {batch}",
            *paired(lambda: minidi_train_step(model, opt, x, y), theirs, rounds, repeats, lambda: synchronize(xp), tsync))


def jsv_row(device, torch, tdev, rounds, repeats, samples):
    x_host = np.random.default_rng(1).standard_normal((samples, 3, 32, 32)).astype(np.float32)
    model = to_device(models.build("resnet20"), device)
    model.eval()
    x = to_device(x_host, device)
    theirs, tsync = None, None
    if torch is not None:
        net = twin(torch, models.build("resnet20")).to(tdev).eval()
        tx = torch.from_numpy(x_host).to(tdev)
        s_t = np.sort(torch_jsv_chunked(torch, net, tx[:50], 1000).detach().cpu().numpy(), axis=1)
        s_m = np.sort(to_numpy(jsv(model, x[:50])), axis=1)
        print(f"ResNet-20 JSV of 50 images, minidi vs PyTorch: max relative difference "
              f"{np.abs(s_m / s_t - 1).max():.2e}")
        theirs = lambda: torch_jsv_chunked(torch, net, tx, 1000).mean().item()  # noqa: E731
        tsync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
    xp = xp_for(device)
    return (f"ResNet-20 JSV of {samples} images (eval)",
            *paired(lambda: float(jsv(model, x).mean()), theirs, rounds, repeats, lambda: synchronize(xp), tsync))


@click.command()
@click.option("--device", default="cpu")
@click.option("--rounds", default=3, help="Alternating minidi/PyTorch timing blocks (see common.paired).")
@click.option("--repeats", default=2, help="Runs per block; the best one counts.")
@click.option("--batch", default=128, help="ResNet-56 batch.")
@click.option("--samples", default=1000, help="Images in the ResNet-20 JSV.")
def main(device, rounds, repeats, batch, samples):
    device = resolve_device(device)
    torch = torch_or_none()
    tdev = "cuda" if device == "gpu" else "cpu"
    if torch is None:
        print("PyTorch not installed: minidi timings only")
    else:
        print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = [step_row(device, torch, tdev, rounds, repeats, batch), jsv_row(device, torch, tdev, rounds, repeats, samples)]
    print(f"device {device}, numpy {np.__version__}; best of {rounds} alternating rounds")
    report(rows)


if __name__ == "__main__":
    main()
