"""The click scripts in examples/ run as a user would run them (small settings), and fail cleanly."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_prune_report_prints_both_reports_and_spectra():
    p = run("examples/prune_report.py", "--model", "resnet20", "--spec", "layer1.*.conv1:0.5", "--probe", "4")
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("| total |") == 2 and p.stdout.count("JSV: mean") == 2
    assert "| 1 | layer1.0.conv1 | 8×16×3×3 |" in p.stdout                  # 16 filters → 8 after pruning


def test_prune_report_bad_spec_is_one_line():
    p = run("examples/prune_report.py", "--model", "lenet5-relu", "--spec", "4:0.5")
    assert p.returncode == 1 and p.stderr.strip().startswith("Error: layer 4") and "Traceback" not in p.stderr


def test_isometry_example_has_a_working_cli():
    p = run("examples/isometry_mlp.py", "--help")
    assert p.returncode == 0 and "--epochs" in p.stdout


def test_example_usage_errors_are_one_line():
    for args, needle in ((["examples/isometry_mlp.py", "--epochs", "0"], "Invalid value for '--epochs'"),
                         (["examples/prune_report.py", "--probe", "x"], "Invalid value for '--probe'"),
                         (["examples/isometry_mlp.py", "--model", "resnet32", "--out", "/nonexistent-dir/x"],
                          "the isometry study runs on")):
        p = run(*args)
        assert p.returncode != 0 and p.stderr.strip().splitlines() == [p.stderr.strip()], p.stderr
        assert p.stderr.startswith("Error: ") and needle in p.stderr, p.stderr


def test_pai_masks_example_prints_every_method_and_keeps_shuffled_counts():
    p = run("examples/pai_masks.py", "--model", "conv4", "--dataset", "synthetic", "--sparsity", "0.9", "--rounds", "3")
    assert p.returncode == 0, p.stderr
    for method in ("random", "magnitude", "snip", "grasp", "synflow"):
        assert f"  {method} " in p.stdout and p.stdout.count("shuffle keeps the counts: True") == 5


def test_pai_masks_example_bad_input_is_one_line():
    p = run("examples/pai_masks.py", "--model", "mlp7-linear")
    assert p.returncode == 1 and p.stderr.strip() == "Error: the pai study runs on lenet300-100, conv4, resnet20, vgg16, not 'mlp7-linear'"


def test_retrain_example_prints_the_schedules_and_draws_them(tmp_path):
    p = run("examples/retrain_schedules.py", "--plot", str(tmp_path / "s.png"), "--train", "--dataset", "synthetic",
            "--epochs", "4", "--budget", "2", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"))
    assert p.returncode == 0, p.stderr
    assert [line.split()[0] for line in p.stdout.splitlines()[:5]] == ["FT", "LRW", "WR", "SLR", "CLR"]
    assert os.path.getsize(tmp_path / "s.png") > 1000 and "4. The advantage" in p.stdout
    bad = run("examples/retrain_schedules.py", "--budget", "50")
    assert bad.returncode == 1 and bad.stderr.strip().startswith("Error: budget 50 is longer")


def test_shedding_mechanism_example_matches_the_decay_law():
    p = run("examples/shedding_mechanism.py", "--steps", "50")
    assert p.returncode == 0, p.stderr
    ratio = float(p.stdout.split("(ratio ")[1].split(";")[0])
    predicted = float(p.stdout.split(" = ")[1].split(")")[0])
    assert abs(ratio - predicted) < 1e-4 and "[0]" in p.stdout
