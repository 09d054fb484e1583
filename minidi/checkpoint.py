"""Saving and loading: `.npz` files written atomically.

A weights file (`model.npz`) holds exactly `model.state_dict()` with PyTorch's names, so in PyTorch
`model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(f).items()})` reads it.
A checkpoint adds the optimizer state under `optim/`, the masks under `mask/` and a JSON string `meta`
(epoch, history, configuration) — everything `--resume` needs.
"""
import io
import json
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
    arrays["meta"] = np.array(json.dumps(meta))
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
    return json.loads(str(arrays["meta"]))


def write_json(path, obj):
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=float) + "\n").encode())


def check_run_dir(out_dir, config, resume, may_change=()):
    """Never mix two runs in one folder: a folder whose config.json exists is continued only with
    resume=True and the same configuration (keys in `may_change`, such as "epochs", excepted)."""
    path = os.path.join(out_dir, "config.json")
    if not os.path.isfile(path):
        return
    if not resume:
        raise MinidiError(f"{out_dir} already holds a run: pass --resume to continue it, or choose another --out")
    with open(path) as f:
        saved = json.load(f)
    diff = sorted(k for k in set(saved) | set(config) if k not in may_change and k in config and saved.get(k) != config[k])
    if diff:
        raise MinidiError(f"--resume with a different configuration than {path}: {', '.join(diff)}")
