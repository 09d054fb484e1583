"""The ground floor of every file minidi writes: atomic writes, standard JSON, CSV and `.npz`.

    atomic_write_bytes   a temporary file in the same folder, then os.replace: a kill at any moment leaves the
                         previous version (never half a file); permissions follow the user's umask
    write_json/read_json standard JSON (a non-finite number is written as null); a bad file is one MinidiError
    write_csv            flat rows, quoted where needed, lists and dicts as JSON
    save_npz/load_npz    {name: array} (device arrays copied to the host); no pickle is ever loaded

`checkpoint` (weights and training state), `rundir` (the run-folder rules), `train` (log.jsonl), the grid
runner and every study's report write through these functions.
"""
import csv
import io
import json
import math
import os
import secrets

import numpy as np

from .backend import to_numpy
from .errors import MinidiError

TMP_PREFIX = ".tmp-"     # temporary files of atomic writes; a folder holding only these counts as empty


def atomic_write_bytes(path, data):
    """Write bytes to `path` through a temporary file in the same folder and os.replace (never half a file).

    The temporary file is created with mode 0o666 filtered by the user's umask, as open() would create
    `path` itself (tempfile.mkstemp would make every result file 0600).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{os.path.basename(path)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def home_cache(*parts):
    """~/.cache/minidi/<parts>: where downloads and shared cells go by default. An empty HOME is a MinidiError
    (it would silently mean /.cache); MINIDI_CACHE, --cache or --data-dir say where instead."""
    if "HOME" in os.environ and not os.environ["HOME"].strip():
        raise MinidiError("HOME is empty, so there is no ~/.cache: set MINIDI_CACHE (or pass --cache / --data-dir)")
    return os.path.join(os.path.expanduser("~"), ".cache", "minidi", *parts)


def write_text(path, text):
    """A text file (UTF-8), atomically: the reports' markdown."""
    atomic_write_bytes(path, text.encode())


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


def save_npz(path, arrays):
    """np.savez of {name: array} (device arrays are copied to the host), written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: to_numpy(v) for k, v in arrays.items()})
    atomic_write_bytes(path, buffer.getvalue())


REMEDY = "delete it (in a grid: its cell's folder, which is then computed again) and run again"


def load_npz(path, finite=True):
    """{name: numpy array} from an .npz file. A missing or unreadable (truncated) file, or one whose float arrays
    hold NaN or infinity (finite=True), is one MinidiError naming the file and saying what to delete."""
    if not os.path.isfile(path):
        raise MinidiError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:
        why = ("it holds Python objects (pickled data), which minidi never loads" if "pickle" in str(exc)
               else f"{type(exc).__name__}: {exc}")
        raise MinidiError(f"{path} is not a readable .npz file ({why}): {REMEDY}") from None
    if finite:
        bad = [k for k, v in arrays.items() if v.dtype.kind == "f" and not np.isfinite(v).all()]
        if bad:
            raise MinidiError(f"{path} holds NaN or infinite values ({', '.join(bad[:3])}): {REMEDY}")
    return arrays
