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
import math
import time

import numpy as np

from ..backend import get_array_module, rng, synchronize
from ..data import batches, epoch_order
from ..errors import check_seed
from ..nn import SoftmaxCrossEntropy
from .callbacks import DivergenceCheck, Progress, RunFolder, TrainingDiverged, interruption


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
    out_dir: when given, writes `log.jsonl` and `checkpoint.npz` after every epoch (`callbacks.RunFolder`);
             with resume=True continues from `checkpoint.npz` if present.
    augment: None, or an augmentation such as `minidi.data.CropFlip()` (see `train_epoch`).
    """
    check_seed(seed)
    folder = RunFolder(out_dir, optimizer, epochs, meta, quiet, callbacks) if out_dir else None
    history = folder.restore(model, resume) if folder else []
    for cb in callbacks:                       # on_start before epoch 0; on_resume when continuing a run
        hook = getattr(cb, "on_resume" if history else "on_start", None)
        if hook:
            hook(model, history)
    progress = Progress(epochs, quiet)
    checks = [DivergenceCheck(optimizer, epochs, folder), *callbacks]      # each sees the row before it is kept
    keepers = [progress] + ([folder] if folder else [])                     # each sees the history after
    xp = get_array_module(data["train"][0])
    model.train()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), interruption(epochs, folder):
        for epoch in range(len(history), epochs):
            t0 = time.perf_counter()
            train_loss, train_acc = train_epoch(model, optimizer, schedule, data["train"], epoch, batch_size, seed,
                                                callbacks, augment, progress)
            test_loss, test_acc = evaluate(model, *data["test"], eval_batch_size)
            synchronize(xp)
            row = {"epoch": epoch, "lr": optimizer.lr, "train_loss": train_loss, "train_acc": train_acc,
                   "test_loss": test_loss, "test_acc": test_acc, "seconds": time.perf_counter() - t0}
            for cb in checks:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(model, row)
            history.append(row)
            for keeper in keepers:
                keeper.after_epoch(model, history)
    return history


def train_epoch(model, optimizer, schedule, train, epoch, batch_size, seed, callbacks=(), augment=None,
                progress=None):
    """One epoch of SGD over the shuffled batches of `train` = (x, y); returns (mean train loss, accuracy).

    The order is `epoch_order(n, seed, epoch)`; an augmentation draws the random numbers of the whole epoch
    at once (`augment.draw(n, rng, xp)`, seeded by (seed, epoch), one transfer) and is applied per batch.
    Losses and correct counts are summed on the device and read once, at the end."""
    x_train, y_train = train
    xp = get_array_module(x_train)
    loss_fn = SoftmaxCrossEntropy()
    n_batches = math.ceil(len(x_train) / batch_size)
    step_hooks = [cb.before_step for cb in callbacks if hasattr(cb, "before_step")]
    if not schedule.per_iteration:
        optimizer.lr = schedule(epoch)
    draws = augment.draw(len(x_train), rng([seed, epoch, 1]), xp) if augment else None
    total_loss, correct = xp.zeros((), dtype=np.float64), xp.zeros((), dtype=np.int64)
    with (progress or Progress(0)).batches(batches(x_train, y_train, batch_size, epoch_order(len(x_train), seed, epoch)),
                                           n_batches, epoch) as bar:
        for i, (xb, yb) in enumerate(bar):
            if schedule.per_iteration:
                set_iteration_lr(optimizer, schedule, epoch + i / n_batches)
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
    return float(total_loss) / len(y_train), int(correct) / len(y_train)


def set_iteration_lr(optimizer, schedule, t):
    """A per-iteration schedule (1-cycle) at fractional epoch t: the LR, and the momentum where it sets one."""
    optimizer.lr = schedule(t)
    momentum = schedule.momentum(t)
    if momentum is not None:
        optimizer.momentum = momentum


__all__ = ["fit", "train_epoch", "evaluate", "summarize", "TrainingDiverged"]
