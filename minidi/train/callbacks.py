"""What a run adds to the plain epoch loop of `fit`: the divergence check, the progress lines, and the run folder
(log.jsonl and checkpoint.npz after every epoch, resume, and the line an interruption prints).

Each is an object with the hooks `fit` calls: `on_epoch_end(model, row)` before the row joins the history, and
`after_epoch(model, history)` once it has. Skip this file when reading the loop: nothing here changes a number.
"""
import contextlib
import math
import os
import sys

import click

from ..backend import get_array_module, to_numpy
from ..errors import Interrupted, MinidiError
from ..files import atomic_write_bytes, json_text
from .checkpoint import load_checkpoint, save_checkpoint


class TrainingDiverged(MinidiError):
    """A loss, a weight or an optimizer state became NaN or infinite."""


def nonfinite(model, optimizer, row):
    """What about to be saved is not finite: ["test loss nan", "layers.0.weight", ...] ([] when all is well).

    One device reduction per array, read back together (one transfer, once per epoch)."""
    bad = [f"{k.replace('_', ' ')} {row[k]}" for k in ("train_loss", "test_loss") if not math.isfinite(row[k])]
    arrays = {**model.state_dict(), **{f"optimizer {k}": v for k, v in optimizer.state_dict().items()
                                       if hasattr(v, "dtype")}}
    arrays = {k: v for k, v in arrays.items() if v.dtype.kind == "f"}
    if arrays:
        xp = get_array_module(*arrays.values())
        finite = to_numpy(xp.stack([xp.isfinite(v).all() for v in arrays.values()]))
        bad += [k for k, ok in zip(arrays, finite) if not ok]
    return bad


class DivergenceCheck:
    """Before an epoch's row (and checkpoint) is kept, every number it would save must be finite; else
    `TrainingDiverged`, naming the epoch and what was not finite, and the previous checkpoint stays."""

    def __init__(self, optimizer, epochs, folder=None):
        self.optimizer, self.epochs, self.folder = optimizer, epochs, folder

    def on_epoch_end(self, model, row):
        bad = nonfinite(model, self.optimizer, row)
        if bad:
            saved = self.folder.saved if self.folder else 0
            kept = (f"{self.folder.checkpoint} still holds epoch {saved}/{self.epochs}, the last good state"
                    if saved else "no checkpoint was written")
            raise TrainingDiverged(f"training diverged in epoch {row['epoch'] + 1}/{self.epochs} (not finite: "
                                   f"{', '.join(bad[:4])}{' ...' if len(bad) > 4 else ''}); {kept}")


class Progress:
    """A progress bar over each epoch's batches and one line per finished epoch, on stderr (nothing when quiet)."""

    def __init__(self, epochs, quiet=True):
        self.epochs, self.quiet = epochs, quiet

    def batches(self, iterable, n_batches, epoch):
        return click.progressbar(iterable, length=n_batches, file=sys.stderr, label=f"epoch {epoch + 1}/{self.epochs}",
                                 hidden=self.quiet)

    def after_epoch(self, model, history):
        row = history[-1]
        if not self.quiet:
            click.echo(f"epoch {row['epoch'] + 1}/{self.epochs}  lr {row['lr']:.4g}  loss {row['train_loss']:.4f}  "
                       f"train {row['train_acc']:.4f}  test {row['test_acc']:.4f}  ({row['seconds']:.1f}s)", err=True)


class RunFolder:
    """A run's folder: `log.jsonl` (a line per epoch) and `checkpoint.npz` (weights, masks, optimizer state,
    history and `meta`), both replaced atomically after every epoch; `restore` continues from the checkpoint."""

    def __init__(self, out_dir, optimizer, epochs, meta=None, quiet=True):
        self.out_dir, self.optimizer, self.epochs, self.meta, self.quiet = out_dir, optimizer, epochs, meta, quiet
        self.checkpoint = os.path.join(out_dir, "checkpoint.npz")
        self.saved = 0                                    # epochs that checkpoint.npz holds (for the messages)
        os.makedirs(out_dir, exist_ok=True)

    def restore(self, model, resume):
        """The history so far: [] for a new run, the checkpoint's (weights and optimizer restored) on resume."""
        if not (resume and os.path.isfile(self.checkpoint)):
            return []
        saved = load_checkpoint(self.checkpoint, model, self.optimizer)
        if not self.quiet:
            click.echo(f"resuming from {self.checkpoint} after epoch {saved['epoch'] + 1}/{self.epochs}", err=True)
        self.saved = len(saved["history"])
        return saved["history"]

    def after_epoch(self, model, history):
        atomic_write_bytes(os.path.join(self.out_dir, "log.jsonl"),     # whole, so a resume never repeats lines
                           "".join(json_text(row) + "\n" for row in history).encode())
        save_checkpoint(self.checkpoint, model, self.optimizer,
                        {"epoch": history[-1]["epoch"], "history": history, **(self.meta or {})})
        self.saved = len(history)


@contextlib.contextmanager
def interruption(epochs, folder):
    """Turn Ctrl-C (or the CLI's SIGTERM) into `Interrupted`, saying which epoch the checkpoint holds (a stop
    while a checkpoint is being written leaves the previous one, which is the one named)."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        saved = folder.saved if folder else 0
        where = f"in epoch {saved + 1}/{epochs}" if saved < epochs else "after the last epoch"
        if saved:
            raise Interrupted(f"interrupted {where}; {folder.checkpoint} holds epoch {saved}/{epochs}: "
                              "rerun with --resume to continue") from None
        raise Interrupted(f"interrupted {where}, before any checkpoint was written: rerun to start again") from None
