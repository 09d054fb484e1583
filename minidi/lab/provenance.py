"""How a folder was made: `provenance.json` beside the results of every run and study, and its one-line summary at
the head of each report.

One entry per invocation that wrote into the folder (a resumed run adds one): the exact command line, minidi's
version and, when run from a git checkout, its commit (and whether the checkout had uncommitted changes), the
versions of Python, NumPy, SciPy and CuPy, the BLAS NumPy uses, the device (and the GPU's name), the host, the
start and end times (UTC) and the wall time. Nothing here changes a result.
"""
import contextlib
import datetime
import os
import platform
import shlex
import socket
import subprocess
import sys
import time

from .. import __version__
from ..backend import STANDIN, cupy_or_none
from ..files import read_json, write_json

FILE = "provenance.json"
command_line = []             # the command line as the CLI received it (set by minidi.cli); else sys.argv


def _git(*args):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    try:
        out = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _blas():
    import numpy as np
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:                                          # an older NumPy: the build info is not a dict
        return None


def _gpu(device):
    cupy = cupy_or_none()
    if device != "gpu" or cupy is None:
        return None
    if STANDIN:
        return "the strict CuPy stand-in (no GPU)"
    try:
        return cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    except Exception:
        return "unknown"


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def collect(device, started, t0):
    """The entry of this invocation; `started` its start (UTC, ISO), `t0` its `time.monotonic()` at the start."""
    import numpy as np
    import scipy
    commit = _git("rev-parse", "--short=12", "HEAD")
    cupy = cupy_or_none()
    words = command_line or [os.path.basename(sys.argv[0])] + sys.argv[1:]
    return {"command": shlex.join(words), "cwd": os.getcwd(),
            "minidi": __version__, "git_commit": commit,
            "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")) if commit else None,
            "python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "cupy": getattr(cupy, "__version__", None) if cupy is not None and not STANDIN else None,
            "blas": _blas(), "device": device, "gpu": _gpu(device), "host": socket.gethostname(),
            "started": started, "ended": now(), "wall_seconds": round(time.monotonic() - t0, 3)}


def record(folder, entry):
    """Add this invocation's entry to folder/provenance.json (written atomically); returns the entry."""
    path = os.path.join(folder, FILE)
    try:
        earlier = read_json(path).get("invocations", []) if os.path.isfile(path) else []
    except Exception:                                          # an unreadable old file is replaced, not fatal
        earlier = []
    write_json(path, {"invocations": [*earlier, entry]})
    return entry


@contextlib.contextmanager
def recorded(folder, device):
    """Around a command's work: on the way out, whatever happened, its entry (with "outcome": done, failed or
    interrupted) is added to folder/provenance.json — if the command wrote its config.json there. Yields a dict
    that holds the entry afterwards (under "entry")."""
    started, t0, out = now(), time.monotonic(), {}
    outcome = "failed"
    try:
        yield out
        outcome = "done"
    except KeyboardInterrupt:
        outcome = "interrupted"
        raise
    finally:
        if os.path.isfile(os.path.join(folder, "config.json")):
            out["entry"] = record(folder, {**collect(device, started, t0), "outcome": outcome})


def line(entry):
    """The report header's line: what made it, where and when."""
    code = f"minidi {entry['minidi']}" + (f" (git {entry['git_commit']}{', with local changes' if entry['git_dirty'] else ''})"
                                          if entry["git_commit"] else "")
    versions = f"Python {entry['python']}, NumPy {entry['numpy']}, SciPy {entry['scipy']}" + (
        f", CuPy {entry['cupy']}" if entry["cupy"] else "") + (f", {entry['blas']}" if entry["blas"] else "")
    device = entry["device"] + (f" ({entry['gpu']})" if entry["gpu"] else "")
    return (f"_Made by `{entry['command']}` with {code}; {versions}; on {device} at {entry['host']}, "
            f"{entry['started']} → {entry['ended']} ({entry['wall_seconds']:.0f} s); see provenance.json._")
