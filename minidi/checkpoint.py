"""Saving and loading: `.npz` files written atomically.

A weights file (`model.npz`) holds exactly `model.state_dict()` with PyTorch's names, so in PyTorch
`model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(f).items()})` reads it.
A checkpoint adds the optimizer state under `optim/`, the masks under `mask/` and a JSON string `meta`
(epoch, history, configuration) — everything `--resume` needs.
"""
import csv
import io
import json
import math
import os

import numpy as np

from .backend import to_numpy
from .data.download import atomic_write_bytes
from .errors import MinidiError


def save_npz(path, arrays):
    """np.savez of {name: array} (device arrays are copied to the host), written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: to_numpy(v) for k, v in arrays.items()})
    atomic_write_bytes(path, buffer.getvalue())


def load_npz(path):
    """{name: numpy array} from an .npz file; a missing or unreadable file is a clear error."""
    if not os.path.isfile(path):
        raise MinidiError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as exc:
        raise MinidiError(f"{path} is not a readable .npz file ({exc})") from None


def save_weights(path, model):
    save_npz(path, model.state_dict())


def load_weights(path, model):
    return model.load_state_dict(load_npz(path))


def save_checkpoint(path, model, optimizer, meta):
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"mask/{k}": v for k, v in model.masks().items()})
    arrays.update({f"optim/{k}": v for k, v in optimizer.state_dict().items()})
    arrays["meta"] = np.array(json_text(meta))
    save_npz(path, arrays)


def load_checkpoint(path, model, optimizer=None):
    """Restore model weights, masks and optimizer state; return the `meta` dict."""
    arrays = load_npz(path)
    if "meta" not in arrays:
        raise MinidiError(f"{path} is not a minidi checkpoint (no 'meta' entry)")
    model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")})
    params = dict(model.named_parameters())
    for key, value in arrays.items():
        if key.startswith("mask/"):
            name = key[len("mask/"):]
            if name not in params:
                raise MinidiError(f"{path}: mask for unknown parameter {name}")
            params[name].set_mask(value)
    if optimizer is not None:
        optimizer.load_state_dict({k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
    try:
        return json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise MinidiError(f"{path}: its 'meta' entry is not JSON ({exc})") from None


def finite_or_none(obj):
    """`obj` with every NaN or infinite float (also inside dicts, lists, NumPy scalars) replaced by None."""
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def json_text(obj, indent=None):
    """Standard JSON (no bare NaN or Infinity, which most JSON readers refuse): non-finite numbers become null."""
    return json.dumps(finite_or_none(obj), indent=indent, allow_nan=False)


def checkpoint_epoch(path):
    """How many epochs the checkpoint at `path` holds (0 if there is none); reads only its `meta` entry."""
    if not os.path.isfile(path):
        return 0
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
        return int(meta["epoch"]) + 1
    except Exception as exc:                 # truncated, not an .npz, no meta: name the file, no traceback
        raise MinidiError(f"{path} is not a readable minidi checkpoint ({exc})") from None


def write_json(path, obj):
    atomic_write_bytes(path, (json_text(obj, indent=2) + "\n").encode())


def read_json(path, kind=dict):
    """The JSON object in `path`; a missing, unreadable or malformed file is one clear MinidiError."""
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except FileNotFoundError:
        raise MinidiError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MinidiError(f"{path} is not a readable JSON file ({exc})") from None
    if not isinstance(obj, kind):
        raise MinidiError(f"{path} does not hold a JSON {'object' if kind is dict else kind.__name__}")
    return obj


def write_csv(path, rows, columns=None):
    """rows: list of flat dicts → CSV (columns: the given ones, else the union of the rows' keys in order of
    appearance; quoted where a value holds a comma; lists and dicts as JSON), atomically."""
    if not rows:
        return
    keys = columns or list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    writer.writerows([_csv_value(r.get(k)) for k in keys] for r in rows)
    atomic_write_bytes(path, buffer.getvalue().encode())


def _csv_value(v):
    if isinstance(v, float):
        return repr(v) if np.isfinite(v) else str(v)
    if isinstance(v, (list, tuple, dict)):
        return json_text(v)
    return "" if v is None else str(v)
