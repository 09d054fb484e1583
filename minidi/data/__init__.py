"""Datasets: MNIST readers and download, batching, synthetic data; `load_dataset` picks by name."""
import numpy as np

from ..errors import MinidiError
from . import mnist
from .batches import batches, epoch_order, synthetic

DATASETS = ("mnist", "synthetic")


def load_dataset(name, data_dir=None, resize_to=32, flatten=True, dtype=np.float32, download_ok=True, seed=0):
    """{'train': (x, y), 'test': (x, y)} as host arrays, by dataset name."""
    if name == "mnist":
        return mnist.load(data_dir, resize_to, flatten, dtype, download_ok)
    if name == "synthetic":
        side = resize_to or 28
        shape = None if flatten else (1, side, side)
        x, y = synthetic(n=2400, dim=side * side, classes=10, seed=seed, image_shape=shape, dtype=dtype)
        return {"train": (x[:2000], y[:2000]), "test": (x[2000:], y[2000:])}
    raise MinidiError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")


__all__ = ["load_dataset", "batches", "epoch_order", "synthetic", "mnist", "DATASETS"]
