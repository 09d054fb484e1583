"""One exact Hessian-vector product, minidi's R-operator against PyTorch's double backward, in one run.

    python benchmarks/bench_hvp.py [--device cpu|gpu] [--batch 100] [--repeats 2]

Rows, LeNet-300-100 (batch of MNIST-sized vectors) and ResNet-20 (batch of 32×32 images, BatchNorm in train
mode), float64, the loss CE(f(x), y), v a random direction on every weight:
    hvp            minidi.hvp(model, x, y, v): a float64 copy, forward, R-forward, R-backward (what a caller
                   pays for one product);      PyTorch: forward, ∇L with create_graph, autograd.grad(∇L, θ, v)
    H @ v, reused  minidi.measure.hessian.Hessian's operator with its forward kept (what the curvature lens pays per
                   product);                   PyTorch: one more autograd.grad through the kept graph
The two agree to rounding (the largest difference is printed). PyTorch is only the baseline here; it is never a
dependency of minidi. Goal (issue 19): ≤ 1.0× PyTorch for the MLP, ≤ 2.0× for ResNet-20.
"""
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import paired, report, torch_chain, torch_or_none  # noqa: E402
from torch_models import twin  # noqa: E402

from minidi import models  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, to_numpy, xp_for  # noqa: E402
from minidi.measure.hessian import Hessian, hvp, weight_parameters  # noqa: E402


def torch_net(torch, model, name):
    return torch_chain(torch, model) if name == "lenet300-100" else twin(torch, model)


def torch_hvp(torch, net, weights, x, y, v):
    loss = torch.nn.functional.cross_entropy(net(x), y)
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    return torch.autograd.grad(grads, weights, grad_outputs=v), grads


@click.command()
@click.option("--device", default=None)
@click.option("--batch", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--models", "names", default="lenet300-100,resnet20", show_default=True)
def main(device, batch, repeats, names):
    device = resolve_device(device)
    xp = xp_for(device)
    torch = torch_or_none()
    tdev = "cuda" if device == "gpu" else "cpu"
    if torch is not None:
        torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1)))
        if tdev == "cuda" and not torch.cuda.is_available():
            print("this PyTorch has no CUDA: minidi times only")
            torch = None
    else:
        print("PyTorch not installed: minidi times only (pip install torch==2.13.0 for the baseline)")
    rng = np.random.default_rng(0)
    rows = []
    for name in names.split(","):
        model = to_device(models.build(name, seed=0), device)
        xh = rng.standard_normal((batch,) + tuple(model.sample_shape))
        yh = np.arange(batch) % 10
        x, y = to_device(xh, device), to_device(yh, device)
        v = {k: rng.standard_normal(p.shape) for k, p in weight_parameters(model).items()}
        sync = lambda: synchronize(xp)  # noqa: E731
        theirs = reuse_theirs = tsync = None
        if torch is not None:
            net = torch_net(torch, model, name).double().train().to(tdev)
            weights = [p for k, p in net.named_parameters() if k in v]
            tv = [torch.from_numpy(v[k]).to(tdev) for k, p in net.named_parameters() if k in v]
            tx, ty = torch.from_numpy(xh).to(tdev), torch.from_numpy(yh).to(tdev)
            theirs = lambda: torch_hvp(torch, net, weights, tx, ty, tv)  # noqa: E731
            kept = torch.autograd.grad(torch.nn.functional.cross_entropy(net(tx), ty), weights, create_graph=True)
            reuse_theirs = lambda: torch.autograd.grad(kept, weights, grad_outputs=tv, retain_graph=True)  # noqa: E731
            tsync = (lambda: torch.cuda.synchronize()) if tdev == "cuda" else (lambda: None)
        ours = lambda: hvp(model, x, y, v, training=True)  # noqa: E731
        a, b, r = paired(ours, theirs, rounds=3, repeats=repeats, sync=sync, tsync=tsync or (lambda: None))
        rows.append((f"{name} hvp, batch {batch}", a, b, r))
        H = Hessian(model, x, y, training=True)
        a, b, r = paired(lambda: H @ v, reuse_theirs, rounds=3, repeats=repeats, sync=sync,
                         tsync=tsync or (lambda: None))
        rows.append((f"{name} H @ v reused, batch {batch}", a, b, r))
        if torch is not None:
            mine, other = H @ v, torch_hvp(torch, net, weights, tx, ty, tv)[0]
            names_ = [k for k, _ in net.named_parameters() if k in v]
            err = max(float(np.abs(to_numpy(mine[k]) - o.detach().cpu().numpy()).max()) for k, o in zip(names_, other))
            scale = max(float(np.abs(to_numpy(mine[k])).max()) for k in names_)
            print(f"{name}: max |Hv minidi − Hv PyTorch| = {err:.2e} (largest |Hv| {scale:.2e})")
    report(rows)


if __name__ == "__main__":
    from minidi.backend import keep_freed_memory
    keep_freed_memory()                   # as the minidi command does
    main()
