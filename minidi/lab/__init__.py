"""The machinery wing: how cells of work are run, stored and found again. A student may skip it whole.

    grid.py       cells, their hashes and folders, and the runner that computes the ones not done
    executors.py  where cells run: this process, a local process pool, a Dask cluster
    results.py    result.json read back and checked
    rundir.py     a results folder's rules: its config.json, resume, the lock
    provenance.py how a folder was made: provenance.json and the report's line
Nothing in the science (nn, models, data, train, prune, measure, recover, theory) imports from here.
"""
