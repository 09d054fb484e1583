"""MNIST: the four original gzip'd IDX files, found locally or downloaded, checked, read and preprocessed.

Where the files are looked for: an explicit `data_dir` (or `data_dir/mnist`) is the only place searched, and
nothing is downloaded into it; without one, `$MINIDI_DATA/mnist`, then `~/.cache/minidi/mnist`, and if neither
has all four files the missing ones are downloaded into the cache folder. A file that is missing everywhere is
named, with the folders searched.
"""
import gzip
import os
import struct

import numpy as np

from ..errors import MinidiError
from ..files import home_cache
from .download import check_md5, download, explicit_dir, search_report

TRAIN_SIZE, TEST_SIZE = 60000, 10000     # images in the training and test files
FILES = {  # name: md5 of the .gz file, as distributed
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
MEAN, STD = 0.1307, 0.3081


def read_idx(path, magic):
    """Read a gzip'd IDX file: big-endian header (magic, dims...), then uint8 data. Checks everything."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise MinidiError(f"missing data file {path}") from None
    except (OSError, EOFError) as exc:
        raise MinidiError(f"{path} is not a readable gzip file ({exc})") from None
    ndim = {2049: 1, 2051: 3}[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MinidiError(f"{path} is truncated: {len(raw)} bytes, shorter than its IDX header")
    got_magic = struct.unpack(">i", raw[:4])[0]
    if got_magic != magic:
        raise MinidiError(f"{path} has IDX magic {got_magic}, expected {magic}")
    dims = struct.unpack(f">{ndim}i", raw[4:header])
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise MinidiError(f"{path} holds {len(raw) - header} data bytes, its header {dims} says {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def candidate_dirs(data_dir=None):
    """The folders searched, in order (only `data_dir` and `data_dir/mnist` when it is given)."""
    if data_dir:
        return [data_dir, os.path.join(data_dir, "mnist")]
    dirs = []
    if os.environ.get("MINIDI_DATA"):
        dirs.append(os.path.join(os.environ["MINIDI_DATA"], "mnist"))
    dirs.append(home_cache("mnist"))
    return dirs


def find_mnist(data_dir=None, download_ok=True):
    """The folder holding all four files; without an explicit `data_dir`, missing files are downloaded into the
    cache folder (the last searched)."""
    dirs = candidate_dirs(explicit_dir(data_dir))
    for d in dirs:
        if all(os.path.isfile(os.path.join(d, name)) for name in FILES):
            return d
    searched = search_report(dirs, FILES)
    if data_dir or not download_ok:
        raise MinidiError(f"MNIST not found: searched {searched}"
                          + ("" if data_dir else " (set MINIDI_DATA or --data-dir)"))
    target = dirs[-1]
    try:
        for name, md5 in FILES.items():
            path = os.path.join(target, name)
            if not os.path.isfile(path):
                download([m + name for m in MIRRORS], path, md5)
    except MinidiError as exc:
        raise MinidiError(f"MNIST not found: searched {searched}; then downloading into {target} failed: {exc}") from None
    return target


def load_raw(data_dir=None, download_ok=True):
    """{'train': (images uint8 (60000, 28, 28), labels), 'test': (...)}, every file MD5- and header-checked."""
    folder = find_mnist(data_dir, download_ok)
    for name, md5 in FILES.items():
        check_md5(os.path.join(folder, name), md5, downloadable=folder == home_cache("mnist") and download_ok)
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), 2051)
        labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), 2049)
        if len(images) != len(labels):
            raise MinidiError(f"MNIST {split}: {len(images)} images but {len(labels)} labels")
        out[split] = (images, labels)
    return out


def bilinear_matrix(n_in, n_out):
    """R (n_out, n_in) with (R v) = bilinear resampling of v, half-pixel centres, edges clamped.

    Output pixel i samples the input at c = (i + 0.5)·n_in/n_out − 0.5, mixing floor(c) and floor(c)+1
    with weights 1 − frac and frac. This is PIL's/torchvision's bilinear resize when enlarging.
    """
    r = np.zeros((n_out, n_in))
    for i in range(n_out):                       # n_out ≤ a few dozen rows: building R, not touching pixels
        c = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1)
        lo = int(np.floor(c))
        hi = min(lo + 1, n_in - 1)
        r[i, lo] += 1 - (c - lo)
        r[i, hi] += c - lo
    return r


def resize(images, size):
    """Bilinear resize of uint8 images (N, h, w) to (N, size, size), rounded back to uint8 as PIL does.

    Separable: Y = R X Rᵀ, done as two large matrix products over the whole stack.
    """
    n, h, w = images.shape
    rh, rw = bilinear_matrix(h, size).astype(np.float32), bilinear_matrix(w, size).astype(np.float32)
    x = images.astype(np.float32)
    x = (x.reshape(n * h, w) @ rw.T).reshape(n, h, size)               # resize rows: X Rwᵀ
    x = (x.transpose(0, 2, 1).reshape(n * size, h) @ rh.T)             # resize columns: (R_h X)ᵀ
    x = x.reshape(n, size, size).transpose(0, 2, 1)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def preprocess(images, resize_to=32, flatten=True, dtype=np.float32):
    """uint8 (N, 28, 28) → resize (optional) → /255 → (x − 0.1307)/0.3081 → (N, D) or (N, 1, H, W)."""
    if resize_to is not None and resize_to != images.shape[1]:
        images = resize(images, resize_to)
    x = (images.astype(dtype) / dtype(255) - dtype(MEAN)) / dtype(STD)
    return x.reshape(len(x), -1) if flatten else x[:, None, :, :]


def load(data_dir=None, resize_to=32, flatten=True, dtype=np.float32, download_ok=True):
    """Preprocessed MNIST as host arrays: {'train': (x, y), 'test': (x, y)}, labels int64."""
    raw = load_raw(data_dir, download_ok)
    return {split: (preprocess(images, resize_to, flatten, dtype), labels.astype(np.int64))
            for split, (images, labels) in raw.items()}
