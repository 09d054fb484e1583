"""Mini-batches with seeded shuffling, and the synthetic datasets of the tests and offline demos."""
import numpy as np

from ..backend import get_array_module, rng


def epoch_order(n, seed, epoch):
    """The sample order of one epoch: a permutation drawn from the generator seeded by (seed, epoch).

    Seeding per epoch (not one running generator) makes the order of epoch e independent of how the run got
    there, so a resumed run sees exactly the batches an uninterrupted one would.
    """
    return rng([seed, epoch]).permutation(n)


def batches(x, y, batch_size, order=None):
    """Yield (x_batch, y_batch) in `order` (host index array) or in storage order; the last batch may be short.

    x and y may live on the device; `order` is moved there once per epoch, so each batch is one gather.
    """
    n = len(x)
    if order is not None:
        order = get_array_module(x).asarray(order)
    for start in range(0, n, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]


def synthetic(n=1000, dim=64, classes=10, seed=0, noise=1.0, image_shape=None, dtype=np.float32):
    """A learnable toy classification set: class c is a Gaussian cloud around a random centre μ_c.

    Returns (x, y) on the host: x (n, dim) or (n, *image_shape) when given (dim is then its product).
    """
    gen = rng(seed)
    if image_shape is not None:
        dim = int(np.prod(image_shape))
    centres = gen.standard_normal((classes, dim)) / np.sqrt(2.0)          # centre coordinates ~ N(0, 1/2)
    y = gen.integers(0, classes, size=n)
    x = centres[y] + noise * gen.standard_normal((n, dim))
    x = x.astype(dtype)
    return (x.reshape((n, *image_shape)) if image_shape is not None else x), y.astype(np.int64)
