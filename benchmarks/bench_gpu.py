"""The GPU checklist's timings: minidi on CuPy against PyTorch on CUDA, in one run, with device synchronization.

    python benchmarks/bench_gpu.py [--samples 60000] [--cifar-samples 50000] [--rounds 3] [--repeats 2]

Cases (random inputs of the datasets' sizes, the same weights in both libraries, copied by state_dict):
  1. one MNIST-sized epoch of MLP-7-Linear (60000 × 1024, batch 100, SGD momentum 0.9, weight decay 1e-4);
  2. the JSV of 1000 samples through MLP-7-ReLU (10 backward passes + singular values);
  3. ResNet-20 forward + backward on a batch of 128 CIFAR-sized images (train mode);
  4. one CIFAR-sized ResNet-20 epoch (50000 images, batch 128, SGD; no augmentation in either library).
Every timed block ends with a device synchronization (cupy: the current stream; torch: cuda.synchronize),
so the times are of finished work. minidi and PyTorch alternate (`common.paired`). Without PyTorch or without
CUDA for it, minidi's times alone are printed. Without a GPU it stops with one line (no stand-in here unless
MINIDI_GPU_STANDIN=1, which the test suite sets to smoke-test this script).
"""
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_conv import minidi_step, torch_step  # noqa: E402
from bench_jsv import torch_jsv  # noqa: E402
from bench_train import minidi_epoch, torch_epoch  # noqa: E402
from common import paired, report, torch_mlp, torch_or_none  # noqa: E402
from torch_models import twin  # noqa: E402

from minidi import backend, models, optim  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, xp_for  # noqa: E402
from minidi.cli.tools import Command, friendly  # noqa: E402
from minidi.measure.spectrum import jsv, jsv_stats  # noqa: E402


def _torch_cuda():
    torch = torch_or_none()
    if torch is None:
        print("PyTorch not installed: minidi timings only")
        return None
    if not torch.cuda.is_available():
        print(f"PyTorch {torch.__version__} has no CUDA here: minidi timings only")
        return None
    print(f"pytorch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
    return torch


@click.command(cls=Command)
@click.option("--samples", default=60000, show_default=True, type=click.IntRange(min=100), help="MNIST-sized epoch.")
@click.option("--cifar-samples", default=50000, show_default=True, type=click.IntRange(min=128))
@click.option("--jsv-samples", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(min=1))
@friendly
def main(samples, cifar_samples, jsv_samples, rounds, repeats):
    resolve_device("gpu")
    xp = xp_for("gpu")
    sync = lambda: synchronize(xp)  # noqa: E731
    print(f"minidi on CuPy {xp.__version__}{' (the test stand-in)' if backend.STANDIN else ''}, numpy {np.__version__}")
    torch = _torch_cuda()
    tsync = torch.cuda.synchronize if torch else None
    rng = np.random.default_rng(0)
    rows = []

    x_host = rng.standard_normal((samples, 1024)).astype(np.float32)
    y_host = rng.integers(0, 10, samples)
    mlp = to_device(models.build("mlp7-linear"), "gpu")
    x, y = to_device(x_host, "gpu"), to_device(y_host, "gpu")
    opt = optim.SGD(mlp.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    theirs = None
    if torch:
        net = torch_mlp(torch, models.build("mlp7-linear")).cuda()
        topt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        tx, ty = torch.from_numpy(x_host).cuda(), torch.from_numpy(y_host).cuda()
        theirs = lambda: torch_epoch(torch, net, topt, tx, ty, 100)  # noqa: E731
    rows.append((f"MLP-7-Linear epoch, {samples} samples",
                 *paired(lambda: minidi_epoch(mlp, opt, x, y, 100), theirs, rounds, repeats, sync, tsync)))

    xj_host = rng.standard_normal((jsv_samples, 1024)).astype(np.float32)
    relu = to_device(models.build("mlp7-relu"), "gpu")
    xj = to_device(xj_host, "gpu")
    theirs = None
    if torch:
        tnet = torch_mlp(torch, models.build("mlp7-relu")).cuda().eval()
        txj = torch.from_numpy(xj_host).cuda()
        theirs = lambda: torch_jsv(torch, tnet, txj).mean().item()  # noqa: E731
    rows.append((f"JSV of {jsv_samples} samples, MLP-7-ReLU",
                 *paired(lambda: jsv_stats(jsv(relu, xj)), theirs, rounds, repeats, sync, tsync)))

    xr_host = rng.standard_normal((128, 3, 32, 32)).astype(np.float32)
    yr_host = rng.integers(0, 10, 128)
    resnet = to_device(models.build("resnet20"), "gpu")
    xr, yr = to_device(xr_host, "gpu"), to_device(yr_host, "gpu")
    theirs = None
    if torch:
        rnet = twin(torch, models.build("resnet20")).cuda()
        txr, tyr = torch.from_numpy(xr_host).cuda(), torch.from_numpy(yr_host).cuda()
        theirs = lambda: torch_step(torch, rnet, txr, tyr)  # noqa: E731
    rows.append(("ResNet-20 fwd+bwd, batch 128",
                 *paired(lambda: minidi_step(resnet, xr, yr), theirs, rounds, repeats, sync, tsync)))

    xc_host = rng.standard_normal((cifar_samples, 3, 32, 32)).astype(np.float32)
    yc_host = rng.integers(0, 10, cifar_samples)
    xc, yc = to_device(xc_host, "gpu"), to_device(yc_host, "gpu")
    ropt = optim.SGD(resnet.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    theirs = None
    if torch:
        ropt_t = torch.optim.SGD(rnet.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        txc, tyc = torch.from_numpy(xc_host).cuda(), torch.from_numpy(yc_host).cuda()
        theirs = lambda: torch_epoch(torch, rnet, ropt_t, txc, tyc, 128)  # noqa: E731
    rows.append((f"ResNet-20 epoch, {cifar_samples} images",
                 *paired(lambda: minidi_epoch(resnet, ropt, xc, yc, 128), theirs, rounds, 1, sync, tsync)))
    report(rows)


if __name__ == "__main__":
    main()
