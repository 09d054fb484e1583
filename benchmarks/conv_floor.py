"""A lower bound for minidi's CNN step: the time of its convolution matrix products alone.

For every Conv2d of a model (after one forward pass, which records the input), time each product that a
training step makes, with the engine's own chunk shapes and the operands already in cache, and add them up:
forward Y = Wm·cols, and in backward either dx = W̃m·cols(dy) and dW̃ = X·cols(dy)ᵀ ("same" stride-1 layers)
or dWm = dY·colsᵀ and dcols = Wmᵀ·dY. No im2col, col2im, BatchNorm or ReLU time is included, so a whole
step can never be faster than this with the same products; the gap to it is what the memory passes cost.
"""
import numpy as np

from common import best_of

from minidi.nn import Conv2d
from minidi.nn.conv import _widened


def conv_products_time(model, repeats=3):
    """Seconds of the conv products of one fwd+bwd step (first conv: no dx, as in training)."""
    total = 0.0
    rng = np.random.default_rng(0)
    convs = [m for _, m in model.named_modules() if isinstance(m, Conv2d)]
    for i, conv in enumerate(convs):
        xc, s, p = conv.xc, conv.stride, conv.padding
        (ho, wo), width, per_image = conv._geometry(xc, s, p)
        parts = conv._chunks(xc, per_image)
        cols, wm = conv._cols(xc[:, parts[0]], s, p, width, wo), conv._wm()
        total += best_of(lambda: wm @ cols, repeats) * len(parts)
        o, c, k, _ = conv.weight.shape
        if i > 0 and conv._by_convolution():
            dyc = rng.standard_normal((o, xc.shape[1], ho, wo)).astype(xc.dtype)
            (h, w), dwidth, dper = conv._geometry(dyc, 1, k - 1 - p)
            dparts = conv._chunks(dyc, dper)
            dcols = conv._cols(dyc[:, dparts[0]], 1, k - 1 - p, dwidth, w)
            wt, x_mat = conv._flipped_wm(), _widened(xc[:, dparts[0]], dwidth).reshape(c, -1)
            total += (best_of(lambda: wt @ dcols, repeats) + best_of(lambda: x_mat @ dcols.T, repeats)) * len(dparts)
        else:
            dy = rng.standard_normal((o, cols.shape[1])).astype(xc.dtype)
            total += best_of(lambda: dy @ cols.T, repeats) * len(parts)
            if i > 0:
                total += best_of(lambda: wm.T @ dy, repeats) * len(parts)
    return total
