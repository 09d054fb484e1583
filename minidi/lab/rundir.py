"""Run folders: where a command may write, so that no result is ever overwritten.

The rule (README, "Run folders"): a command writes only into a folder that
  - does not exist yet (it is created), or is empty (temporary files of an interrupted atomic write aside), or
  - holds *its own* run: a `config.json` equal to the command's configuration (keys in `may_change`, such as
    "epochs", aside). Without --resume that folder may hold nothing else (a run that was stopped before its
    first checkpoint restarts); with --resume it continues, and if `resume_from` is named (a run's
    `checkpoint.npz`) that file must be there, unless the folder holds nothing but config.json.
Anything else is one MinidiError that names what is there. `--resume` with nothing to resume from (no folder,
an empty one) is an error, never a fresh start. Every check only reads: it runs before the first byte is
written, and `write_config` is the first write.
"""
import contextlib
import os
import socket
import time

from ..errors import MinidiError, warn
from ..files import TMP_PREFIX, finite_or_none, read_json, write_json


def check_folder_path(path, option="--out"):
    """`path` can be a folder of ours: it is not a file, and its nearest existing ancestor is a writable folder."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise MinidiError(f"{option} {path} is a file, not a folder")
    parent = os.path.abspath(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise MinidiError(f"{option} {path}: {parent} is a file, so no folder can be made there")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MinidiError(f"{option} {path}: {parent} is not writable")
    return path


LOCK = ".minidi-lock"


def contents(folder):
    """The names in `folder` (sorted), without the temporary files of atomic writes and the lock; [] if it does
    not exist."""
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder) if not name.startswith(TMP_PREFIX) and name != LOCK)


@contextlib.contextmanager
def locked(folder):
    """Hold `folder`/.minidi-lock while a study runs in it: a second command on the same folder stops with one
    line while the first is alive (its process on this host, or any lock from another host younger than a day),
    and takes over a stale lock (its process gone) with a warning. The lock goes when the command ends."""
    path = os.path.join(folder, LOCK)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    if os.path.exists(path):
        try:
            other = read_json(path)
        except MinidiError:
            other = {}
        if _alive(other):
            raise MinidiError(f"{folder} is in use by another minidi command (pid {other.get('pid')} on "
                              f"{other.get('host')}): wait for it to end (or, if it is gone, delete {path})")
        warn(f"{path}: the command that held it (pid {other.get('pid')} on {other.get('host')}) is gone; taking over")
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    write_json(path, me)
    try:
        yield
    finally:
        try:
            if read_json(path).get("pid") == me["pid"]:
                os.remove(path)
            if created and not os.listdir(folder):        # a command that failed before writing leaves nothing
                os.rmdir(folder)
        except (MinidiError, OSError):
            pass


def _alive(lock):
    pid, host = lock.get("pid"), lock.get("host")
    if not isinstance(pid, int):
        return False
    if host != socket.gethostname():
        return time.time() - float(lock.get("started") or 0) < 86400
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listing(names, limit=6):
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def config_differences(saved, config, may_change=()):
    """Keys of `config` whose values differ in a saved configuration (compared as JSON stores them: NaN as null).

    Keys that only the saved file has (the device, the minidi version) are records, not configuration."""
    saved, config = finite_or_none(saved), finite_or_none(config)
    return sorted(k for k in config if k not in may_change and (k not in saved or saved[k] != config[k]))


def check_run_dir(out_dir, config, resume, may_change=(), resume_from=None, option="--out", upgrade=None):
    """Raise MinidiError unless the command with `config` may write into `out_dir` (see the module docstring).

    upgrade: a function that gives a saved configuration the options added since it was written, at their
    defaults, so that a folder made by an older minidi is still its own run."""
    check_folder_path(out_dir, option)
    names = contents(out_dir)
    if not names:
        if resume:
            state = "does not exist" if not os.path.isdir(out_dir) else "is empty"
            raise MinidiError(f"nothing to resume: {out_dir} {state} (run without --resume to start)")
        return
    if "config.json" not in names:
        raise MinidiError(f"{out_dir} holds {_listing(names)} but no config.json of a minidi run: "
                          "choose another folder, or move those files away")
    path = os.path.join(out_dir, "config.json")
    saved = read_json(path)
    diff = config_differences(upgrade(saved) if upgrade else saved, config, may_change)
    if diff:
        if resume:
            raise MinidiError(f"--resume with a different configuration than {path}: {', '.join(diff)}")
        raise MinidiError(f"{out_dir} already holds a run with another configuration ({', '.join(diff)}): "
                          "choose another folder")
    others = [n for n in names if n not in ("config.json", "provenance.json")]     # how it was made: a record
    if not resume:
        if others:
            raise MinidiError(f"{out_dir} already holds a run ({_listing(others)}): pass --resume to continue it, "
                              "or choose another folder")
        return                                   # its own configuration and nothing else: stopped before epoch 1
    if resume_from and others and resume_from not in names:
        raise MinidiError(f"nothing to resume from: {out_dir} has no {resume_from} (it holds {_listing(others)}, "
                          "which a fresh start would replace); choose another folder")


first_write_hooks = []     # called once every value is checked, before the first byte: the CLI releases warnings


def write_config(out_dir, config):
    """Create the folder and write `config.json`: the first write of a run, after every check has passed
    (each of `first_write_hooks` is called first: the CLI holds warnings until then, so that a bad input prints
    its error alone)."""
    for hook in list(first_write_hooks):
        hook()
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "config.json"), config)
