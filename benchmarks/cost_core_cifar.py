"""What one epoch of the core study's CIFAR protocol costs on this machine, from measured parts:

    python benchmarks/cost_core_cifar.py [--model resnet56] [--device cpu|gpu] [--steps 10]

measured: one SGD step at the recipe's batch (forward, loss, backward, update, with crop + flip), the mean of
`--steps` steps after one warm-up; the test-set forward of 1000 images in eval mode; the JSV of 1000 probe images
(ten backward passes and the singular values). Derived, and printed as derived: an epoch of the protocol =
⌈50000 / batch⌉ steps + 10 × the 1000-image evaluation + one JSV of the probe set (what every finetuning epoch
of every arm does), and the whole protocol per replicate in dense-epoch equivalents (see docs/gpu.md).
"""
import math
import time

import click
import numpy as np

from minidi import models, optim
from minidi.backend import resolve_device, synchronize, to_device, xp_for
from minidi.data import CropFlip
from minidi.experiments.isometry.protocol import BATCH, RECIPES
from minidi.measure.spectrum import jsv
from minidi.nn import SoftmaxCrossEntropy


def timed(fn, sync, repeats=1, warmup=True):
    if warmup:
        fn()
        sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return (time.perf_counter() - t0) / repeats


@click.command()
@click.option("--model", "name", default="resnet56")
@click.option("--device", default="cpu")
@click.option("--steps", default=10, help="Training steps timed (after one warm-up).")
def main(name, device, steps):
    device = resolve_device(device)
    xp = xp_for(device)
    sync = lambda: synchronize(xp)  # noqa: E731
    r = RECIPES["cifar"]
    batch = BATCH.get(name, r["batch_size"])
    rng = np.random.default_rng(0)
    model = to_device(models.build(name), device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=r["weight_decay"])
    x = to_device(rng.standard_normal((1000, 3, 32, 32)).astype(np.float32), device)
    y = to_device(rng.integers(0, 10, 1000), device)
    augment, loss = CropFlip(), SoftmaxCrossEntropy()
    draws = augment.draw(batch, np.random.default_rng(1), xp)

    def step():
        xb = augment(x[:batch], draws)
        loss.forward(model.forward(xb), y[:batch])
        opt.zero_grad()
        model.backward(loss.backward(), input_grad=False)
        opt.step()

    model.train()
    t_step = timed(step, sync, steps)
    model.eval()
    t_eval = timed(lambda: model.forward(x), sync)
    t_jsv = timed(lambda: float(jsv(model, x).mean()), sync, warmup=False)
    n_steps = math.ceil(50000 / batch)
    epoch = n_steps * t_step + 10 * t_eval + t_jsv
    print(f"{name} on {device}, batch {batch}: step {t_step:.3f} s (measured, mean of {steps}); eval of 1000 images "
          f"{t_eval:.2f} s; JSV of 1000 images {t_jsv:.2f} s (measured)")
    print(f"derived: one epoch of the protocol = {n_steps} steps + 10 × eval + JSV = {epoch:.0f} s "
          f"({epoch / 60:.1f} min)")


if __name__ == "__main__":
    main()
