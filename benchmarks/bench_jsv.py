"""Mean-JSV measurement of 1000 MNIST-sized samples through MLP-7-ReLU: minidi vs PyTorch, in one run.

    python benchmarks/bench_jsv.py [--device cpu|gpu] [--samples 1000] [--repeats 5]

minidi: one forward pass, 10 one-hot backward passes without parameter gradients, singular values from the
float64 10×10 Gram matrices. PyTorch: the same 10 backward passes (autograd.grad w.r.t. the input) and a
batched `torch.linalg.svdvals` — the straightforward way to do it there. Also prints minidi with a batched
SVD (method="svd"), to separate the two effects. Inputs are random arrays of MNIST's size; the weights are
the same in both libraries (copied by state_dict).
"""
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import best_of, report, torch_mlp, torch_or_none  # noqa: E402

from minidi import models  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, to_numpy, xp_for  # noqa: E402
from minidi.measure.spectrum import jsv, jsv_stats  # noqa: E402


def torch_jsv(torch, net, x):
    x = x.clone().requires_grad_(True)
    out = net(x)
    rows = []
    for k in range(out.shape[1]):
        onehot = torch.zeros_like(out)
        onehot[:, k] = 1
        rows.append(torch.autograd.grad(out, x, onehot, retain_graph=k < out.shape[1] - 1)[0].reshape(len(x), -1))
    J = torch.stack(rows, dim=1)
    return torch.linalg.svdvals(J)


@click.command()
@click.option("--device", default="cpu")
@click.option("--samples", default=1000)
@click.option("--repeats", default=5)
def main(device, samples, repeats):
    device = resolve_device(device)
    xp = xp_for(device)
    x_host = np.random.default_rng(0).standard_normal((samples, 1024)).astype(np.float32)
    model = to_device(models.build("mlp7-relu"), device)
    x = to_device(x_host, device)
    sync = lambda: synchronize(xp)  # noqa: E731
    ours = best_of(lambda: jsv_stats(jsv(model, x)), repeats, sync)
    ours_svd = best_of(lambda: jsv_stats(jsv(model, x, method="svd")), repeats, sync)
    theirs = None
    torch = torch_or_none()
    if torch is not None:
        tdev = "cuda" if device == "gpu" else "cpu"
        net = torch_mlp(torch, models.build("mlp7-relu")).to(tdev).eval()
        tx = torch.from_numpy(x_host).to(tdev)
        tsync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
        theirs = best_of(lambda: torch_jsv(torch, net, tx).mean().item(), repeats, tsync)
        s_t = torch_jsv(torch, net, tx).cpu().numpy()
        s_m = to_numpy(jsv(model, x))
        print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads; "
              f"max |s_minidi − s_torch| / max s = {np.abs(s_t - s_m).max() / s_t.max():.2e}")
    else:
        print("PyTorch not installed: minidi timings only")
    print(f"device {device}, {samples} samples, MLP-7-ReLU")
    report([("JSV (gram, the default)", ours, theirs), ("JSV (batched SVD)", ours_svd, theirs)])


if __name__ == "__main__":
    from minidi.backend import keep_freed_memory
    keep_freed_memory()                   # as the minidi command does
    main()
