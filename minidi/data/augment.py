"""Training augmentation of the CIFAR recipe, vectorized over the batch: random crop with padding, flip."""
from ..backend import get_array_module


def random_crop_flip(x, rng, padding=4):
    """Each image of x (N, C, H, W) is zero-padded by `padding`, cropped back to H×W at a random offset,
    and mirrored left–right with probability 1/2. Offsets and flips come from the host generator `rng`
    (seeded by the caller), so CPU and GPU runs see the same augmentation.

    All crops at once: the padded batch's windows form a strided view (N, 2p+1, 2p+1, C, H, W); indexing it
    with each image's offset gathers the crops in one copy.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    size = 2 * padding + 1
    oy, ox = (xp.asarray(rng.integers(0, size, n)) for _ in range(2))
    flip = xp.asarray(rng.random(n) < 0.5)
    padded = xp.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    padded[:, :, padding:padding + h, padding:padding + w] = x
    sn, sc, sh, sw = padded.strides
    views = xp.lib.stride_tricks.as_strided(padded, shape=(n, size, size, c, h, w), strides=(sn, sh, sw, sc, sh, sw))
    crops = views[xp.arange(n), oy, ox]                                       # (N, C, H, W)
    return xp.where(flip[:, None, None, None], crops[..., ::-1], crops)
