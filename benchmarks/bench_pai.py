"""Pruning-at-init scoring, minidi vs the same algorithm in PyTorch, measured in one run.

    python benchmarks/bench_pai.py [--device cpu|gpu] [--rounds 100] [--batch 100] [--repeats 2]

Rows: SynFlow's 100 rounds (rescore the masked float64 |θ| network on an all-ones input, keep the global top
d^(k/100), pruned weights never return) on LeNet-300-100 and ResNet-20 to sparsity 0.9; SNIP |θ ⊙ g| and GraSP
−θ ⊙ Hg (Hg exact: minidi's R-operator, PyTorch's double backward; logits / 200) on a batch
of `--batch` random CIFAR-sized images for ResNet-20, and on 100 MNIST-sized vectors for LeNet-300-100. The
PyTorch side is written here, only for the benchmark (PyTorch is never a dependency of minidi): the same
float64 copy, the same steps, autograd for the gradients; weights are copied through state_dict. One difference
of implementation: the PyTorch side selects each round's kept weights with a stable torch.argsort, minidi with
one partition (the same mask, O(n)); before that change minidi sorted too (ratios 1.00 and 1.13 on 2 cores).
Goal (issue 12): no slower than PyTorch for the MLP, within 2.0× for ResNet-20.
"""
import copy
import os
import sys

import click
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import paired, report, torch_chain, torch_or_none  # noqa: E402
from torch_models import twin  # noqa: E402

from minidi import models, prune  # noqa: E402
from minidi.prune.scores import sample_shape  # noqa: E402
from minidi.backend import resolve_device, synchronize, to_device, to_numpy, xp_for  # noqa: E402


def torch_weights(net):
    return {k: p for k, p in net.named_parameters() if k.endswith("weight") and p.dim() >= 2}


def torch_synflow(torch, net, input_shape, sparsity, rounds):
    """SynFlow's rounds in PyTorch: the same algorithm as minidi's prune_at_init(..., "synflow")."""
    net = copy.deepcopy(net).double().eval()
    with torch.no_grad():
        for p in net.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    weights = torch_weights(net)
    masks = {k: torch.ones_like(p) for k, p in weights.items()}
    ones = torch.ones((1,) + input_shape, dtype=torch.float64, device=next(net.parameters()).device)
    n = sum(p.numel() for p in weights.values())
    for k in range(1, rounds + 1):
        net.zero_grad()
        net(ones).sum().backward()
        pri = torch.cat([torch.where(masks[name] > 0, (p.grad * p).abs(), -torch.inf).flatten()
                         for name, p in weights.items()])
        keep = int(round((1 - sparsity) ** (k / rounds) * n))
        flat = torch.zeros(n, dtype=torch.float64, device=pri.device)
        flat[torch.argsort(-pri, stable=True)[:keep]] = 1
        start = 0
        with torch.no_grad():
            for name, p in weights.items():
                masks[name] = flat[start:start + p.numel()].view_as(p)
                p.mul_(masks[name])
                start += p.numel()
    return masks


def torch_grads(torch, net, weights, x, y, T=1.0):
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(x) / T, y).backward()
    return {k: p.grad.clone() for k, p in weights.items()}


def torch_snip(torch, net, x, y):
    net = copy.deepcopy(net).double().train()
    weights = torch_weights(net)
    g = torch_grads(torch, net, weights, x.double(), y)
    return {k: (p.detach() * g[k]).abs() for k, p in weights.items()}


def torch_grasp(torch, net, x, y, T=200.0):
    """−θ ⊙ Hg with Hg by double backward (exact, as minidi's R-operator), logits / T."""
    net = copy.deepcopy(net).double().train()
    weights, x = torch_weights(net), x.double()
    names = list(weights)
    grads = torch.autograd.grad(torch.nn.functional.cross_entropy(net(x) / T, y), list(weights.values()),
                                create_graph=True)
    hg = torch.autograd.grad(grads, list(weights.values()), grad_outputs=[g.detach() for g in grads])
    return {k: -weights[k].detach() * h for k, h in zip(names, hg)}


@click.command()
@click.option("--device", default=None)
@click.option("--rounds", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=100, show_default=True, type=click.IntRange(min=10))
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--baseline/--no-baseline", default=True, show_default=True, help="Time PyTorch too (when installed).")
def main(device, rounds, batch, repeats, baseline):
    device = resolve_device(device)
    xp = xp_for(device)
    torch = torch_or_none() if baseline else None
    if torch is not None:
        torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1)))
    tdev = "cuda" if device == "gpu" else "cpu"
    if torch is not None and tdev == "cuda" and not torch.cuda.is_available():
        print("this PyTorch has no CUDA: minidi times only")
        torch = None
    if torch is None and baseline:
        print("PyTorch not installed: minidi times only (pip install torch==2.13.0 for the baseline)")
    rng = np.random.default_rng(0)
    rows = []
    for name in ("lenet300-100", "resnet20"):
        model = to_device(models.build(name, seed=0), device)
        shape = sample_shape(model)
        net = None
        if torch is not None:
            net = (torch_chain(torch, model) if name == "lenet300-100" else twin(torch, model)).to(tdev)
        sync, tsync = (lambda: synchronize(xp)), (lambda: torch.cuda.synchronize() if tdev == "cuda" else None)
        ours = lambda: prune.prune_at_init(copy.deepcopy(model), "synflow", 0.9, rounds=rounds)  # noqa: E731
        theirs = (lambda: torch_synflow(torch, net, shape, 0.9, rounds)) if net is not None else None
        a, b, r = paired(ours, theirs, rounds=2, repeats=1, sync=sync, tsync=tsync)
        rows.append((f"{name} SynFlow {rounds} rounds", a, b, r))
        xh = rng.standard_normal((batch,) + shape).astype(np.float32)
        yh = np.arange(batch) % 10
        x, y = to_device(xh, device), to_device(yh, device)
        if net is not None:
            tx, ty = torch.from_numpy(xh).to(tdev), torch.from_numpy(yh).to(tdev)
        for method, tfn in (("snip", torch_snip), ("grasp", torch_grasp)):
            ours = lambda: prune.scores(model, method, x, y)  # noqa: E731
            theirs = (lambda: tfn(torch, net, tx, ty)) if net is not None else None
            a, b, r = paired(ours, theirs, rounds=3, repeats=repeats, sync=sync, tsync=tsync)
            rows.append((f"{name} {method} scores, batch {batch}", a, b, r))
        if net is not None:                       # the two implementations agree (the same algorithm)
            mine = prune.scores(model, "snip", x, y)
            other = torch_snip(torch, net, tx, ty)
            err = max(float(np.abs(np.asarray(mine[k].get() if hasattr(mine[k], "get") else mine[k])
                                   - other[k].cpu().numpy()).max()) for k in mine)
            print(f"{name}: max |SNIP minidi − SNIP PyTorch| = {err:.2e}")
            mine, other = prune.scores(model, "grasp", x, y), torch_grasp(torch, net, tx, ty)
            err = max(float(np.abs(to_numpy(mine[k]) - other[k].cpu().numpy()).max()) for k in mine)
            print(f"{name}: max |GraSP minidi − GraSP PyTorch| = {err:.2e} "
                  f"(largest |score| {max(float(np.abs(to_numpy(v)).max()) for v in mine.values()):.2e})")
    report(rows)


if __name__ == "__main__":
    from minidi.backend import keep_freed_memory
    keep_freed_memory()                   # as the minidi command does
    main()
