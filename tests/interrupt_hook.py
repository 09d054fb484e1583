"""Stop a study in the middle of a cell, as Ctrl-C or `kill -9` would, at a point chosen by the test (not by a timer).

`install(kind, how)`: the first cell of `kind` (its folder prefix: "dense", "train", "finetune", ...) that runs is
stopped during its second training epoch (its first epoch's checkpoint is on disk), or, for a cell that trains
nothing, once its work is done but before its result.json is written. how="sigint" raises KeyboardInterrupt (what
the command line turns Ctrl-C and SIGTERM into); how="sigkill" kills the process with SIGKILL (no handler runs,
the lock and half-written state stay behind).

Run as a script (`python interrupt_hook.py KIND HOW minidi-arguments...`) it installs the hook and runs the
command line: the subprocess form that a real SIGKILL needs.
"""
import functools
import os
import signal
import sys

from minidi.lab import grid
from minidi.train import loop


def _stop(how):
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise KeyboardInterrupt


def install(kind, how, patch=None):
    """Arm the hook; `patch(module, name, value)` sets an attribute (pytest's monkeypatch.setattr in tests)."""
    patch = patch or setattr
    state = {"fired": False, "armed": False, "epochs": 0}
    run_cell, train_epoch = grid.execute, loop.train_epoch

    def counting_epoch(*args, **kwargs):
        if state["armed"]:
            state["epochs"] += 1
            if state["epochs"] == 2:
                state["fired"] = True
                _stop(how)
        return train_epoch(*args, **kwargs)

    def execute(fn, config, folder, dep_folders, context):
        name = grid.kind_of(fn).rsplit(":", 1)[-1].replace("_cell", "")
        if state["fired"] or name != kind or grid.is_done(folder):
            return run_cell(fn, config, folder, dep_folders, context)

        @functools.wraps(fn)
        def stopped(*args):
            state["armed"] = True
            out = fn(*args)
            state["fired"] = True                      # trained nothing (or one epoch): stop before the result
            _stop(how)
            return out
        return run_cell(stopped, config, folder, dep_folders, context)

    patch(grid, "execute", execute)
    patch(loop, "train_epoch", counting_epoch)
    return state


if __name__ == "__main__":
    install(sys.argv[1], sys.argv[2])
    from minidi.cli import main
    main(sys.argv[3:], prog_name="minidi")
