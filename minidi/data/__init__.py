"""Datasets: MNIST and CIFAR readers and download, batching, augmentation, synthetic data.

`load_dataset(name, input_shape)` returns host arrays shaped for a model: input_shape is (channels, side)
for image models, or (None, side) for MLPs, which get flat vectors of side² values.
"""
import numpy as np

from ..errors import MinidiError
from . import cifar, mnist
from .augment import CropFlip, random_crop_flip
from .batches import batches, epoch_order, synthetic

DATASETS = ("mnist", "cifar10", "cifar100", "synthetic")


def load_dataset(name, data_dir=None, input_shape=(None, 32), dtype=np.float32, download_ok=True, seed=0,
                 synthetic_samples=2400):
    """{'train': (x, y), 'test': (x, y)} as host arrays, by dataset name, shaped for `input_shape`."""
    channels, side = input_shape
    if name == "mnist":
        if channels not in (None, 1):
            raise MinidiError(f"MNIST images have 1 channel; this model takes {channels}")
        return mnist.load(data_dir, side, flatten=channels is None, dtype=dtype, download_ok=download_ok)
    if name in cifar.SPECS:
        if channels != 3 or side != 32:
            raise MinidiError(f"{name} images are 3×32×32; this model takes "
                              + (f"{channels}×{side}×{side}" if channels else f"flat vectors of {side * side}"))
        return cifar.load(name, data_dir, dtype, download_ok)
    if name == "synthetic":
        shape = None if channels is None else (channels, side, side)
        n_test = max(synthetic_samples // 6, 1)
        x, y = synthetic(n=synthetic_samples + n_test, dim=side * side, classes=10, seed=seed, image_shape=shape,
                         dtype=dtype)
        return {"train": (x[:synthetic_samples], y[:synthetic_samples]), "test": (x[synthetic_samples:], y[synthetic_samples:])}
    raise MinidiError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")


__all__ = ["load_dataset", "batches", "epoch_order", "synthetic", "random_crop_flip", "CropFlip", "mnist", "cifar", "DATASETS"]
