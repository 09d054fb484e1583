"""What a run adds to the plain epoch loop of `fit`: the divergence check, the progress lines, and the run folder
(log.jsonl and checkpoint.npz after every epoch, resume, and the line an interruption prints).

Each is an object with the hooks `fit` calls: `on_epoch_end(model, row)` before the row joins the history, and
`after_epoch(model, history)` once it has. Skip this file when reading the loop: nothing here changes a number.
"""
import contextlib
import math
import os
import sys
import time

import click

from ..backend import get_array_module, to_numpy
from ..errors import Interrupted, MinidiError
from ..files import atomic_write_bytes, json_text
from .checkpoint import checkpoint_meta, load_checkpoint, save_checkpoint


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


_reporting = {"label": None}          # set around a grid cell by `reporting`: every fit inside reports as it goes


@contextlib.contextmanager
def reporting(label):
    """Inside, every `fit` reports its progress on stderr as lines prefixed with `label` (None: as asked), even
    when quiet: the grid runner wraps each cell in it, so a long cell shows where it is."""
    before, _reporting["label"] = _reporting["label"], label
    try:
        yield
    finally:
        _reporting["label"] = before


def duration(seconds):
    """12 s, 3 min 20 s, 2 h 05 min."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Where a run is, on stderr: for `minidi train` (not quiet) a bar over each epoch's batches and a line per
    epoch; inside a grid cell (`reporting`) a line at least every `every` seconds on a terminal (within a long
    epoch too) and a line per epoch when stderr is a file: epoch k/E, the last loss and accuracy, the time spent
    and an estimate of what remains."""

    def __init__(self, epochs, quiet=True, every=10.0):
        self.epochs, self.quiet, self.every, self.label = epochs, quiet, every, _reporting["label"]
        self.t0 = self.last = time.monotonic()
        self.first, self.latest = None, None             # the epoch this run started at; the last row

    def batches(self, iterable, n_batches, epoch):
        self.first = epoch if self.first is None else self.first
        if self.label is None:
            return click.progressbar(iterable, length=n_batches, file=sys.stderr,
                                     label=f"epoch {epoch + 1}/{self.epochs}", hidden=self.quiet)
        return contextlib.nullcontext(self._heartbeat(iterable, n_batches, epoch))

    def _heartbeat(self, iterable, n_batches, epoch):
        for i, item in enumerate(iterable):
            if time.monotonic() - self.last >= self.every:
                self._say(epoch + i / n_batches, f"epoch {epoch + 1}/{self.epochs}, batch {i}/{n_batches}")
            yield item

    def _say(self, done, where):
        """One line: where, the last epoch's loss and accuracy, time spent and left (from the pace so far)."""
        spent = time.monotonic() - self.t0
        pace = spent / max(done - self.first, 1e-9)
        last = (f"  loss {self.latest['train_loss']:.4f}  test acc {self.latest['test_acc']:.4f}"
                if self.latest else "")
        click.echo(f"  {self.label}: {where}{last}  {duration(spent)} spent, ~{duration(pace * (self.epochs - done))} "
                   "left", err=True)
        self.last = time.monotonic()

    def after_epoch(self, model, history):
        row = self.latest = history[-1]
        self.first = row["epoch"] if self.first is None else self.first
        due = not sys.stderr.isatty() or time.monotonic() - self.last >= self.every   # a file gets every epoch
        if self.label is not None and due:
            self._say(row["epoch"] + 1, f"epoch {row['epoch'] + 1}/{self.epochs}")
        elif not self.quiet:
            click.echo(f"epoch {row['epoch'] + 1}/{self.epochs}  lr {row['lr']:.4g}  loss {row['train_loss']:.4f}  "
                       f"train {row['train_acc']:.4f}  test {row['test_acc']:.4f}  ({row['seconds']:.1f}s)", err=True)


class RunFolder:
    """A run's folder: `log.jsonl` (a line per epoch) and `checkpoint.npz` (weights, masks, optimizer state,
    history, `meta` and the state of the callbacks that keep one), both replaced atomically after every epoch;
    `restore` continues from the checkpoint.

    A callback that gathers something before or during training that the run needs at its end (the JSV at
    "epoch 0", a trace of σ) states it with `state_dict()` (plain JSON) and takes it back with
    `load_state_dict(state)`: a resumed run then ends exactly as an uninterrupted one."""

    def __init__(self, out_dir, optimizer, epochs, meta=None, quiet=True, callbacks=()):
        self.out_dir, self.optimizer, self.epochs, self.meta, self.quiet = out_dir, optimizer, epochs, meta, quiet
        self.callbacks = list(callbacks)
        self.checkpoint = os.path.join(out_dir, "checkpoint.npz")
        self.saved = 0                                    # epochs that checkpoint.npz holds (for the messages)
        os.makedirs(out_dir, exist_ok=True)

    def restore(self, model, resume):
        """The history so far: [] for a new run, the checkpoint's (weights and optimizer restored) on resume."""
        if not (resume and os.path.isfile(self.checkpoint)):
            return []
        states = checkpoint_meta(self.checkpoint).get("callbacks") or [None] * len(self.callbacks)
        if len(states) != len(self.callbacks) or any(hasattr(cb, "load_state_dict") and s is None
                                                     for cb, s in zip(self.callbacks, states)):
            return []                 # a checkpoint that lacks what the run needs at its end (older minidi): start again
        saved = load_checkpoint(self.checkpoint, model, self.optimizer)
        for cb, state in zip(self.callbacks, states):
            if hasattr(cb, "load_state_dict"):
                cb.load_state_dict(state)
        if not self.quiet:
            click.echo(f"resuming from {self.checkpoint} after epoch {saved['epoch'] + 1}/{self.epochs}", err=True)
        self.saved = len(saved["history"])
        return saved["history"]

    def on_disk(self):
        """The epochs checkpoint.npz holds now (read from the file: an interruption may fall between the write of
        a checkpoint and the counter that follows it)."""
        try:
            meta = checkpoint_meta(self.checkpoint)
        except MinidiError:
            return self.saved
        return self.saved if meta is None else int(meta["epoch"]) + 1

    def after_epoch(self, model, history):
        atomic_write_bytes(os.path.join(self.out_dir, "log.jsonl"),     # whole, so a resume never repeats lines
                           "".join(json_text(row) + "\n" for row in history).encode())
        states = [cb.state_dict() if hasattr(cb, "state_dict") else None for cb in self.callbacks]
        save_checkpoint(self.checkpoint, model, self.optimizer,
                        {"epoch": history[-1]["epoch"], "history": history, **(self.meta or {}),
                         **({"callbacks": states} if any(s is not None for s in states) else {})})
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
        saved = folder.on_disk() if folder else 0
        where = f"in epoch {saved + 1}/{epochs}" if saved < epochs else "after the last epoch"
        if saved:
            raise Interrupted(f"interrupted {where}; {folder.checkpoint} holds epoch {saved}/{epochs}: "
                              "rerun with --resume to continue") from None
        raise Interrupted(f"interrupted {where}, before any checkpoint was written: rerun to start again") from None
