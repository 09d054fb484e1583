"""Every cell resumes from every interruption: each study is stopped in the middle of each kind of cell in turn
(Ctrl-C: a KeyboardInterrupt where the command line would raise it; `kill -9`: a real SIGKILL of a subprocess),
resumed with --resume after each stop, and must end with CSVs byte-identical to an uninterrupted run's.

The stops are placed by `interrupt_hook` (during a cell's second epoch, its first checkpoint on disk; or, for a
cell that trains nothing, after its work and before its result is written), not by a timer, so the test is exact
and quick. The uninterrupted run of each study is the oracle; timings.csv, the one file that differs from run to
run by design, is left out."""
import glob
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import interrupt_hook
from minidi.cli import main

SYN = ["--dataset", "synthetic", "--synthetic-samples", "300", "--quiet"]
STUDIES = {   # study: (its arguments, the kinds of its cells in the order they are stopped)
    "pai": (["pai", *SYN, "--epochs", "3", "--methods", "random,snip", "--variants", "original,shuffle",
             "--sparsities", "0.5", "--probe", "10", "--curvature", "2", "--no-control"],
            ["dense", "collapse", "mask", "train", "curvature"]),
    "retrain": (["retrain", *SYN, "--epochs", "4", "--budgets", "2", "--schedules", "ft,wr", "--probe", "10"],
                ["dense", "retrain"]),
    "shedding": (["shedding", *SYN, "--epochs", "2", "--sparsities", "0.9", "--steps", "2", "--round-epochs", "2",
                  "--probe", "10"], ["dense", "cascade", "route_steps"]),
    "map": (["shedding", *SYN, "--map", "--map-lrs", "0.1", "--map-wds", "0.005", "--map-fractions", "0.1",
             "--map-epochs", "3", "--probe", "10"], ["dense", "map"]),
}
KILLED = {"pai": ["dense", "train"], "retrain": ["retrain"], "shedding": ["dense", "route_steps"], "map": ["map"]}
# the core study runs on MNIST only: 2 epochs, two arms, a small probe (the pretraining is the costly cell)
ISOMETRY = (["isometry", "--epochs", "2", "--arms", "lr0.01,lr0.001+tpp", "--prs", "0,0.5", "--probe", "50",
             "--curvature", "2", "--quiet"], ["pretrain", "sweep", "layers", "finetune", "curvature"])


def _csvs(out):
    return {os.path.relpath(p, out): open(p, "rb").read() for p in glob.glob(os.path.join(out, "**", "*.csv"),
                                                                            recursive=True)
            if os.path.basename(p) != "timings.csv"}


def _run(args, out, cache, resume=False):
    r = CliRunner().invoke(main, [*args, "--out", out, "--cache", cache] + (["--resume"] if resume else []))
    return r


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Each study run once, uninterrupted: the CSVs every interrupted-and-resumed run must reproduce."""
    root = tmp_path_factory.mktemp("reference")
    out = {}
    for study, (args, _) in STUDIES.items():
        r = _run(args, str(root / study), str(root / "cache"))
        assert r.exit_code == 0, r.output
        out[study] = _csvs(str(root / study))
    return out


@pytest.mark.parametrize("study", list(STUDIES))
def test_ctrl_c_in_every_kind_of_cell_then_resume_gives_the_same_csvs(study, reference, tmp_path, monkeypatch):
    args, kinds = STUDIES[study]
    out, cache = str(tmp_path / "out"), str(tmp_path / "cache")
    _interrupt_in_turn(args, kinds, out, cache, monkeypatch)
    assert _csvs(out) == reference[study]


def _interrupt_in_turn(args, kinds, out, cache, monkeypatch):
    """Stop the study in the first cell of each kind in turn (Ctrl-C), resuming after each stop; then finish."""
    for i, kind in enumerate(kinds):
        with monkeypatch.context() as m:
            state = interrupt_hook.install(kind, "sigint", m.setattr)
            r = _run(args, out, cache, resume=i > 0)
        assert state["fired"], f"no {kind} cell ran"
        assert r.exit_code == 130 and "Interrupted" in r.output, (kind, r.output)
        assert not os.path.isfile(os.path.join(out, "report.md")), "a stopped run wrote a report"
    r = _run(args, out, cache, resume=True)
    assert r.exit_code == 0, r.output


def test_the_core_study_resumes_from_a_stop_in_every_kind_of_cell(tmp_path, monkeypatch, mnist_dir):
    args, kinds = ISOMETRY
    args = [*args, "--data-dir", mnist_dir]
    ref, out = str(tmp_path / "ref"), str(tmp_path / "out")
    r = _run(args, ref, str(tmp_path / "ref-cache"))
    assert r.exit_code == 0, r.output
    _interrupt_in_turn(args, kinds, out, str(tmp_path / "cache"), monkeypatch)
    assert _csvs(out) == _csvs(ref)


@pytest.mark.parametrize("study, kind", [(s, k) for s, kinds in KILLED.items() for k in kinds])
def test_kill_9_in_a_training_cell_then_resume_gives_the_same_csvs(study, kind, reference, tmp_path):
    args, _ = STUDIES[study]
    out, cache = str(tmp_path / "out"), str(tmp_path / "cache")
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run([sys.executable, os.path.join(here, "interrupt_hook.py"), kind, "sigkill", *args,
                        "--out", out, "--cache", cache], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])})
    assert p.returncode == -9, p.stderr
    assert glob.glob(os.path.join(cache, "cells", "*", "checkpoint.npz")) + \
        glob.glob(os.path.join(out, "cells", "*", "checkpoint.npz")), "killed before any checkpoint: the test is void"
    r = _run(args, out, cache, resume=True)                # the dead command's lock is stale: it is taken over
    assert r.exit_code == 0, r.output
    assert _csvs(out) == reference[study]
