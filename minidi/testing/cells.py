"""Cell functions for the grid runner's own tests (importable by pool and Dask workers, which is why they live in
the package): each records every time it runs, so a test can count executions."""
import os
import time


def _record(folder, what):
    with open(os.path.join(os.path.dirname(os.path.dirname(folder)), "executions.log"), "a") as f:
        f.write(f"{what} {os.path.basename(folder)}\n")


def sum_cell(config, folder, deps, context):
    """value = config["value"] + the values of its dependencies; sleeps config.get("sleep", 0) seconds."""
    _record(folder, "run")
    time.sleep(config.get("sleep", 0))
    return {"value": config["value"] + sum(d["result"]["value"] for d in deps.values()), "pid": os.getpid()}


def crash_once_cell(config, folder, deps, context):
    """Kills its own worker process the first time it runs (no Python exception: the process just ends)."""
    marker = os.path.join(folder, "crashed-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        _record(folder, "crash")
        os._exit(3)
    return sum_cell(config, folder, deps, context)


def fail_cell(config, folder, deps, context):
    _record(folder, "fail")
    raise ValueError(f"this cell always fails (value {config['value']})")
