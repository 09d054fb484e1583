"""CIFAR-10 and CIFAR-100 from their *binary* distributions (no pickle is ever loaded).

Each record is the label byte(s) and then 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each 32×32 in
row order. CIFAR-10 has one label byte; CIFAR-100 two (coarse, fine; minidi uses the fine label).
Search order for the folder: an explicit `data_dir` (or `data_dir/<name>`) alone, and nothing is downloaded into
it; without one, `$MINIDI_DATA/<name>`, then `~/.cache/minidi/<name>`.
A folder may hold the extracted `.bin` files (in the archive's subfolder) or only the `.tar.gz` archive, whose
`.bin` members are then extracted (only those, to fixed names, atomically). With neither, the archive is
downloaded (MD5-verified). Corrupt or truncated files are errors that name the file.
"""
import os
import tarfile

import numpy as np

from ..errors import MinidiError
from ..files import atomic_write_bytes, home_cache
from .download import check_md5, download, explicit_dir

URL = "https://www.cs.toronto.edu/~kriz/"
SPECS = {
    "cifar10": dict(archive="cifar-10-binary.tar.gz", md5="c32a1d4ab5d03f1284b67883e8d87530",
                    folder="cifar-10-batches-bin", train=[f"data_batch_{i}.bin" for i in range(1, 6)],
                    test=["test_batch.bin"], label_bytes=1, classes=10,
                    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616)),
    "cifar100": dict(archive="cifar-100-binary.tar.gz", md5="03b5dce01913d631647c71ecec9e9cb8",
                     folder="cifar-100-binary", train=["train.bin"], test=["test.bin"], label_bytes=2, classes=100,
                     mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762)),
}
EXPECTED = {"cifar10": (50000, 10000), "cifar100": (50000, 10000)}   # images per split of the real datasets
RECORD = 3 * 32 * 32


def read_bin(path, label_bytes, classes):
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) from one binary file; every byte accounted for."""
    try:
        with open(path, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8)
    except FileNotFoundError:
        raise MinidiError(f"missing data file {path}") from None
    size = RECORD + label_bytes
    if raw.size == 0 or raw.size % size:
        raise MinidiError(f"{path} is corrupt or truncated: {raw.size} bytes is not a whole number of "
                          f"{size}-byte records")
    records = raw.reshape(-1, size)
    labels = records[:, label_bytes - 1].astype(np.int64)          # the fine label for CIFAR-100
    if labels.max() >= classes:
        raise MinidiError(f"{path} is corrupt: label {labels.max()} in a {classes}-class dataset")
    return records[:, label_bytes:].reshape(-1, 3, 32, 32), labels


def candidate_dirs(name, data_dir=None):
    """The folders searched, in order (only `data_dir` and `data_dir/<name>` when it is given)."""
    if data_dir:
        return [data_dir, os.path.join(data_dir, name)]
    dirs = []
    if os.environ.get("MINIDI_DATA"):
        dirs.append(os.path.join(os.environ["MINIDI_DATA"], name))
    return dirs + [home_cache(name)]


def _has_bins(folder, spec):
    return all(os.path.isfile(os.path.join(folder, spec["folder"], f)) for f in spec["train"] + spec["test"])


def extract(archive, folder, spec):
    """Write the archive's .bin members to folder/<spec folder>/ (atomic writes; other members ignored)."""
    wanted = {f"{spec['folder']}/{f}" for f in spec["train"] + spec["test"]}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            found = set()
            for member in tar:
                if member.name in wanted and member.isfile():
                    atomic_write_bytes(os.path.join(folder, member.name), tar.extractfile(member).read())
                    found.add(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise MinidiError(f"{archive} is not a readable .tar.gz archive ({exc})") from None
    if found != wanted:
        raise MinidiError(f"{archive} lacks {', '.join(sorted(wanted - found))}")


def find(name, data_dir=None, download_ok=True):
    """The folder whose <spec folder>/ holds every .bin file, extracting or downloading when needed."""
    spec = SPECS[name]
    dirs = candidate_dirs(name, explicit_dir(data_dir))
    for d in dirs:
        if _has_bins(d, spec):
            return d
    for d in dirs:
        archive = os.path.join(d, spec["archive"])
        if os.path.isfile(archive):
            check_md5(archive, spec["md5"], downloadable=d == dirs[-1] and not data_dir and download_ok)
            extract(archive, d, spec)
            return d
    missing = f"{name} not found: neither {spec['archive']} nor all of {spec['folder']}/*.bin in " + ", ".join(dirs)
    if data_dir or not download_ok:
        raise MinidiError(missing + ("" if data_dir else " (set MINIDI_DATA or --data-dir)"))
    target = dirs[-1]
    try:
        archive = download([URL + spec["archive"]], os.path.join(target, spec["archive"]), spec["md5"])
    except MinidiError as exc:
        raise MinidiError(f"{missing}; then downloading into {target} failed: {exc}") from None
    extract(archive, target, spec)
    return target


def load_raw(name, data_dir=None, download_ok=True):
    """{'train': (uint8 images (n, 3, 32, 32), labels), 'test': (...)}; real datasets must be complete."""
    spec = SPECS[name]
    folder = os.path.join(find(name, data_dir, download_ok), spec["folder"])
    out = {}
    for split, expected in zip(("train", "test"), EXPECTED[name]):
        parts = [read_bin(os.path.join(folder, f), spec["label_bytes"], spec["classes"]) for f in spec[split]]
        images, labels = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        if expected is not None and len(labels) != expected:
            raise MinidiError(f"{name} {split} split in {folder} has {len(labels)} images, expected {expected}")
        out[split] = (images, labels)
    return out


def preprocess(images, name, dtype=np.float32):
    """uint8 (N, 3, 32, 32) → /255 → per-channel (x − mean)/std."""
    spec = SPECS[name]
    mean = np.asarray(spec["mean"], dtype=dtype)[None, :, None, None]
    std = np.asarray(spec["std"], dtype=dtype)[None, :, None, None]
    return (images.astype(dtype) / dtype(255) - mean) / std


def load(name, data_dir=None, dtype=np.float32, download_ok=True):
    return {split: (preprocess(x, name, dtype), y) for split, (x, y) in load_raw(name, data_dir, download_ok).items()}
