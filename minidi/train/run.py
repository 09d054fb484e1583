"""A whole training run with SGD into a folder: the optimizer, `fit` (checkpointed every epoch, resumable) and the
final weights. `minidi train` and every study's training cell call it."""
import os

from ..data import CropFlip
from ..optim import SGD
from .checkpoint import save_weights
from .loop import fit


def train_sgd(model, schedule, data, epochs, batch_size, momentum, weight_decay, seed, folder, augment=False,
                nesterov=False, callbacks=(), resume=True, quiet=True, meta=None, weights="model.npz"):
    """Train `model` with SGD over `schedule` for `epochs` epochs into the run folder `folder` (checkpoint every
    epoch, resumable); writes the final weights to folder/`weights` (None: not); returns the history."""
    opt = SGD(model.parameters(), lr=schedule(0), momentum=momentum, weight_decay=weight_decay,
                    nesterov=nesterov)
    history = fit(model, opt, schedule, data, epochs, batch_size, seed=seed, out_dir=folder, resume=resume,
                  quiet=quiet, callbacks=list(callbacks), meta=meta, augment=CropFlip() if augment else None)
    if weights:
        save_weights(os.path.join(folder, weights), model)
    return history
