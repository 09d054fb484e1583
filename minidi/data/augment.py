"""Training augmentation of the CIFAR recipe, vectorized over the batch: random crop with padding, flip.

`CropFlip` draws every random number of an epoch at once on the host, from the generator seeded by
(seed, epoch), and moves them to the device in one transfer; each batch then takes its slice. So CPU and GPU
runs see the same augmentation, a resumed run sees the same as an uninterrupted one, and the GPU never
waits for a host-to-device copy inside an epoch.
"""
import numpy as np

from ..backend import get_array_module


class CropFlip:
    """Each image is zero-padded by `padding`, cropped back to H×W at a random offset (oy, ox) ∈ [0, 2p]², and
    mirrored left–right with probability 1/2."""

    def __init__(self, padding=4):
        self.padding = padding

    def draw(self, n, rng, xp=np):
        """(3, n) int array [oy, ox, flip] for the n images of an epoch, in epoch order, on xp's device."""
        size = 2 * self.padding + 1
        return xp.asarray(np.stack([rng.integers(0, size, n), rng.integers(0, size, n), rng.random(n) < 0.5]))

    def __call__(self, x, draws):
        """x (N, C, H, W) and its draws (3, N) → the augmented batch (N, C, H, W).

        All crops at once: the padded batch's windows form a strided view (N, 2p+1, 2p+1, C, H, W); indexing
        it with each image's offset gathers the crops in one copy.
        """
        xp = get_array_module(x)
        p = self.padding
        n, c, h, w = x.shape
        size = 2 * p + 1
        oy, ox, flip = draws
        padded = xp.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
        padded[:, :, p:p + h, p:p + w] = x
        sn, sc, sh, sw = padded.strides
        views = xp.lib.stride_tricks.as_strided(padded, shape=(n, size, size, c, h, w),
                                                strides=(sn, sh, sw, sc, sh, sw))
        crops = views[xp.arange(n), oy, ox]                                   # (N, C, H, W)
        return xp.where(flip.astype(bool)[:, None, None, None], crops[..., ::-1], crops)


def random_crop_flip(x, rng, padding=4):
    """One batch of x (N, C, H, W), its random numbers drawn now from the host generator `rng`."""
    crop_flip = CropFlip(padding)
    return crop_flip(x, crop_flip.draw(len(x), rng, get_array_module(x)))
