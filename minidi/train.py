"""Training: `fit` runs epochs of SGD over mini-batches, `evaluate` measures loss and accuracy.

One epoch of `fit`:
    lr ← schedule(epoch)                       (or per iteration for 1-cycle)
    for each shuffled batch:  logits = model.forward(x);  L = CE(logits, y)
                              model.zero_grad();  model.backward(dL/dlogits);  optimizer.step()
    evaluate on the test set, append a row to `history`, call the callbacks, write log and checkpoint.

Losses and correct counts are summed on the device and read once per epoch, so the GPU never waits for
the host inside an epoch. Before an epoch's checkpoint replaces the previous one, every number it would save
is checked (train and test loss, every weight, buffer and optimizer state): a NaN or infinity stops the run
with `TrainingDiverged`, and the previous checkpoint, the last good state, stays on disk. NumPy's overflow
warnings are silenced inside `fit`, since this check reports the problem in one line.
"""
import contextlib
import math
import os
import sys
import time

import click
import numpy as np

from .backend import get_array_module, rng, synchronize, to_numpy
from .checkpoint import load_checkpoint, save_checkpoint
from .data import batches, epoch_order
from .files import atomic_write_bytes, json_text, write_json
from .errors import Interrupted, MinidiError, check_seed
from .nn import SoftmaxCrossEntropy


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


def evaluate(model, x, y, batch_size=1000):
    """(mean loss, accuracy) of `model` in eval mode over (x, y); the mode is restored afterwards."""
    was_training = model.training
    model.eval()
    loss_fn = SoftmaxCrossEntropy()
    xp = get_array_module(x)
    total_loss, correct = xp.zeros((), dtype=np.float64), xp.zeros((), dtype=np.int64)
    for xb, yb in batches(x, y, batch_size):
        logits = model.forward(xb)
        total_loss += loss_fn.forward(logits, yb) * len(yb)
        correct += (logits.argmax(axis=1) == yb).sum()
    model.train(was_training)
    return float(total_loss) / len(y), int(correct) / len(y)


def summarize(history, last=5):
    """Best test accuracy and mean ± std (population std) of the last `last` epochs' test accuracy."""
    accs = [row["test_acc"] for row in history]
    if not accs:
        return {}
    tail = accs[-last:]
    return {"best_test_acc": max(accs), f"last{last}_mean": float(np.mean(tail)), f"last{last}_std": float(np.std(tail))}


def fit(model, optimizer, schedule, data, epochs, batch_size=100, seed=0, callbacks=(), out_dir=None,
        resume=False, quiet=True, meta=None, eval_batch_size=1000, augment=None):
    """Train `model` for `epochs` epochs; return the history (one dict per epoch).

    data: {'train': (x, y), 'test': (x, y)} already on the model's device.
    callbacks: objects with optional `on_start(model, history)` (before epoch 0, e.g. to measure "epoch 0"),
               `on_resume(model, history)` (instead, when a run continues from its checkpoint),
               `before_step(model)` (after each backward, before the optimizer step: regularizers add to the
               gradients here) and `on_epoch_end(model, row)` (may add entries to the epoch's row).
    out_dir: when given, writes `log.jsonl` (a line per epoch) and `checkpoint.npz` (weights, masks, optimizer
             state, history) after every epoch, both atomically; with resume=True continues from
             `checkpoint.npz` if present.
    augment: None, or an augmentation such as `minidi.data.CropFlip()`: `augment.draw(n, rng, xp)` gives the
             random numbers of a whole epoch (from a generator seeded by (seed, epoch), as the shuffling is;
             one transfer), and `augment(x_batch, draws[:, i:j])` is applied to every training batch.
    """
    check_seed(seed)
    x_train, y_train = data["train"]
    x_test, y_test = data["test"]
    xp = get_array_module(x_train)
    loss_fn = SoftmaxCrossEntropy()
    history, start_epoch = [], 0
    ckpt = os.path.join(out_dir, "checkpoint.npz") if out_dir else None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        if resume and os.path.isfile(ckpt):
            saved = load_checkpoint(ckpt, model, optimizer)
            history, start_epoch = saved["history"], saved["epoch"] + 1
            if not quiet:
                click.echo(f"resuming from {ckpt} after epoch {saved['epoch'] + 1}/{epochs}", err=True)
    for cb in callbacks:                       # on_start before epoch 0; on_resume when continuing a run
        hook = getattr(cb, "on_start" if start_epoch == 0 else "on_resume", None)
        if hook:
            hook(model, history)
    n_batches = math.ceil(len(x_train) / batch_size)
    step_hooks = [cb.before_step for cb in callbacks if hasattr(cb, "before_step")]
    model.train()
    saved = {"epochs": len(history) if ckpt else 0}          # what checkpoint.npz holds (for the messages)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), _interruption(epochs, ckpt, saved):
        for epoch in range(start_epoch, epochs):
            t0 = time.perf_counter()
            if not schedule.per_iteration:
                optimizer.lr = schedule(epoch)
            order = epoch_order(len(x_train), seed, epoch)
            draws = augment.draw(len(x_train), rng([seed, epoch, 1]), xp) if augment else None
            total_loss, correct = xp.zeros((), dtype=np.float64), xp.zeros((), dtype=np.int64)
            with click.progressbar(batches(x_train, y_train, batch_size, order), length=n_batches, file=sys.stderr,
                                   label=f"epoch {epoch + 1}/{epochs}", hidden=quiet) as bar:
                for i, (xb, yb) in enumerate(bar):
                    if schedule.per_iteration:
                        t = epoch + i / n_batches
                        optimizer.lr = schedule(t)
                        momentum = schedule.momentum(t)
                        if momentum is not None:
                            optimizer.momentum = momentum
                    if augment:
                        xb = augment(xb, draws[:, i * batch_size:i * batch_size + len(xb)])
                    logits = model.forward(xb)
                    loss = loss_fn.forward(logits, yb)
                    optimizer.zero_grad()
                    model.backward(loss_fn.backward(), input_grad=False)
                    for hook in step_hooks:
                        hook(model)
                    optimizer.step()
                    total_loss += loss * len(yb)
                    correct += (logits.argmax(axis=1) == yb).sum()
            train_loss = float(total_loss) / len(y_train)
            test_loss, test_acc = evaluate(model, x_test, y_test, eval_batch_size)
            synchronize(xp)
            row = {"epoch": epoch, "lr": optimizer.lr, "train_loss": train_loss, "train_acc": int(correct) / len(y_train),
                   "test_loss": test_loss, "test_acc": test_acc, "seconds": time.perf_counter() - t0}
            bad = nonfinite(model, optimizer, row)
            if bad:
                kept = (f"{ckpt} still holds epoch {saved['epochs']}/{epochs}, the last good state"
                        if saved["epochs"] else "no checkpoint was written")
                raise TrainingDiverged(f"training diverged in epoch {epoch + 1}/{epochs} (not finite: "
                                       f"{', '.join(bad[:4])}{' ...' if len(bad) > 4 else ''}); {kept}")
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(model, row)
            history.append(row)
            if not quiet:
                click.echo(f"epoch {epoch + 1}/{epochs}  lr {row['lr']:.4g}  loss {train_loss:.4f}  "
                           f"train {row['train_acc']:.4f}  test {test_acc:.4f}  ({row['seconds']:.1f}s)", err=True)
            if out_dir:
                _write_log(out_dir, history)
                save_checkpoint(ckpt, model, optimizer, {"epoch": epoch, "history": history, **(meta or {})})
                saved["epochs"] = len(history)
    return history


@contextlib.contextmanager
def _interruption(epochs, ckpt, saved):
    """Turn Ctrl-C (or the CLI's SIGTERM) into `Interrupted`, saying which epoch the checkpoint holds (a stop
    while a checkpoint is being written leaves the previous one, which is the one named)."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        where = f"in epoch {saved['epochs'] + 1}/{epochs}" if saved["epochs"] < epochs else "after the last epoch"
        if saved["epochs"]:
            raise Interrupted(f"interrupted {where}; {ckpt} holds epoch {saved['epochs']}/{epochs}: "
                              "rerun with --resume to continue") from None
        raise Interrupted(f"interrupted {where}, before any checkpoint was written: rerun to start again") from None


def _write_log(out_dir, history):
    """log.jsonl: one JSON object per epoch; rewritten whole (atomically), so a resumed run never repeats lines."""
    atomic_write_bytes(os.path.join(out_dir, "log.jsonl"),
                       "".join(json_text(row) + "\n" for row in history).encode())


__all__ = ["fit", "evaluate", "summarize", "TrainingDiverged"]
