"""Saving and loading: `.npz` files written atomically.

A weights file (`model.npz`) holds exactly `model.state_dict()` with PyTorch's names, so in PyTorch
`model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(f).items()})` reads it.
(`minidi.files` writes them.) A checkpoint adds the optimizer state under `optim/`, the masks under `mask/` and a JSON string `meta`
(epoch, history, configuration) — everything `--resume` needs.
"""
import json
import math
import os

import numpy as np

from ..files import REMEDY as REMEDY_NPZ
from ..files import json_text, load_npz, save_npz
from ..errors import MinidiError


def save_weights(path, model):
    save_npz(path, model.state_dict())


def load_weights(path, model):
    """Read `path` (a weights .npz) into `model`; a file that does not fit the model is one MinidiError naming it."""
    arrays = load_npz(path)
    try:
        return model.load_state_dict(arrays)
    except MinidiError as exc:
        raise MinidiError(f"{path}: {exc}: it holds the weights of another model (another preset, widths or input "
                          "size): give the model it was saved from (e.g. --model), or delete it") from None


def save_checkpoint(path, model, optimizer, meta):
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"mask/{k}": v for k, v in model.masks().items()})
    arrays.update({f"optim/{k}": v for k, v in optimizer.state_dict().items()})
    arrays["meta"] = np.array(json_text(meta))
    save_npz(path, arrays)


RESTART = "delete it to start that run again from epoch 0 (in a grid: the cell restarts), then run again"


def load_checkpoint(path, model, optimizer=None, remedy=RESTART):
    """Restore model weights, masks and optimizer state; return the `meta` dict. The checkpoint passes the same
    checks as one about to be written: readable, every number finite, its meta an epoch and that many history
    rows with finite losses; anything else is one MinidiError naming the file (never resumed from)."""
    if not os.path.isfile(path):
        raise MinidiError(f"no such file: {path}: {remedy}")
    try:
        arrays = load_npz(path)
    except MinidiError as exc:
        raise MinidiError(str(exc).replace(REMEDY_NPZ, remedy)) from None
    if "meta" not in arrays:
        raise MinidiError(f"{path} is not a minidi checkpoint (no 'meta' entry): {remedy}")
    meta = _meta(path, arrays, remedy)
    try:
        model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")})
    except MinidiError as exc:
        raise MinidiError(f"{path}: {exc}: the checkpoint is of another model; {remedy}") from None
    params = dict(model.named_parameters())
    for key, value in arrays.items():
        if key.startswith("mask/"):
            name = key[len("mask/"):]
            if name not in params:
                raise MinidiError(f"{path}: mask for unknown parameter {name}")
            params[name].set_mask(value)
    if optimizer is not None:
        optimizer.load_state_dict({k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
    return meta


def _meta(path, arrays, remedy=RESTART):
    """The checkpoint's meta, checked: {"epoch": e ≥ 0, "history": e + 1 rows with finite losses, ...}."""
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise MinidiError(f"{path}: its 'meta' entry is not JSON ({exc}): {remedy}") from None
    meta = meta if isinstance(meta, dict) else {}
    epoch, history = meta.get("epoch"), meta.get("history")
    ok = isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0 and isinstance(history, list) \
        and len(history) == epoch + 1
    if ok:
        for row in history:
            values = [row.get(k) for k in ("train_loss", "test_loss", "test_acc")] if isinstance(row, dict) else [None]
            ok &= all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    if not ok:
        raise MinidiError(f"{path}: its meta is not the epoch and the finite history of a minidi run: {remedy}")
    return meta


def checkpoint_meta(path):
    """The `meta` dict of the checkpoint at `path` (None if there is none); reads only that entry."""
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
        int(meta["epoch"])
        return meta
    except Exception as exc:                 # truncated, not an .npz, no meta: name the file, no traceback
        raise MinidiError(f"{path} is not a readable minidi checkpoint ({exc}): {RESTART}") from None


def checkpoint_epoch(path):
    """How many epochs the checkpoint at `path` holds (0 if there is none)."""
    meta = checkpoint_meta(path)
    return 0 if meta is None else int(meta["epoch"]) + 1
