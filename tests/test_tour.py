"""The tour (examples/tour/): every step runs with its defaults, writes its figure and prints its key number; and
every command the README and the tour's docstrings show is accepted by the command line (parsed by click, options
and values checked, not run), so the docs cannot drift from the code."""
import glob
import importlib.util
import os
import re
import shlex
import subprocess
import sys

import click
import pytest

from minidi.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOUR = os.path.join(ROOT, "examples", "tour")
STEPS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(TOUR, "[0-9][0-9]_*.py")))
KEY = {   # what each step must print: the number that shows its idea
    "01_layer.py": r"worst relative error .*: (\S+)",
    "02_jacobian.py": r"largest \|backprop − finite difference\| (\S+)",
    "03_theory.py": r"linear orthogonal L=4: Var λ/m₁² measured (\S+)",
    "04_pruning_breaks_isometry.py": r"has (\d+)× less mean JSV",
    "05_orthp.py": r"after OrthP min (\S+), max",
    "06_finetune_lr.py": r"LR 0.01: mean JSV .* → (\S+); test accuracy",
    "07_value_of_pruning.py": r"LR 0.01: inherited (\S+), scratch",
    "08_pruning_at_init.py": r"magnitude per-layer density (\S+),",
    "09_sanity_checks.py": r"shuffle  test accuracy (\S+)",
    "10_retraining_schedules.py": r"CLR  after \d+ epochs: test accuracy (\S+)",
    "11_decay_law.py": r"LR 0.1 .* falls to 1 % in (\S+) epochs",
    "12_curvature.py": r"\+ OrthP +top eigenvalue (\S+),",
}


def test_the_tour_has_ten_numbered_steps_or_more_each_described():
    assert len(STEPS) >= 10 and set(STEPS) == set(KEY)
    for step in STEPS:
        text = open(os.path.join(TOUR, step), encoding="utf-8").read()
        assert text.startswith('"""Step ') and "Uses:" in text and "Read:" in text, step


@pytest.mark.parametrize("step", STEPS)
def test_every_step_runs_with_its_defaults(step, tmp_path, mnist_dir):
    out = str(tmp_path / "figure.png")
    env = {**os.environ, "MINIDI_DATA": os.path.dirname(mnist_dir), "MPLCONFIGDIR": str(tmp_path)}
    p = subprocess.run([sys.executable, os.path.join(TOUR, step), "--out", out], capture_output=True, text=True,
                       timeout=300, env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr[-2000:]
    assert os.path.getsize(out) > 1000
    found = re.search(KEY[step], p.stdout)
    assert found, p.stdout
    float(found.group(1).rstrip(".,;"))                       # a number, not a placeholder


def test_a_step_runs_on_the_gpu_too(tmp_path, device):
    out = str(tmp_path / "figure.png")
    p = subprocess.run([sys.executable, os.path.join(TOUR, "02_jacobian.py"), "--device", device, "--out", out],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "MPLCONFIGDIR": str(tmp_path)})
    assert p.returncode == 0 and "largest |backprop" in p.stdout, p.stderr[-2000:]


def _commands(text, prefix):
    """The command lines of a text that start with `prefix` (comments and line continuations handled)."""
    lines, out = text.replace("\\\n", " ").splitlines(), []
    for line in lines:
        line = line.strip().lstrip("$ ")
        if line.startswith(prefix):
            out.append(shlex.split(line.split(" #")[0]))
    return out


def _parse(command, args):
    """Parse args the way click would (options, values, types), without running anything: a group takes its
    subcommand's name first (the commands shown give no group options)."""
    if isinstance(command, click.Group):
        name, *rest = args
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"no command {name!r}"
        return _parse(sub, rest)
    command.make_context(command.name or "step", list(args), resilient_parsing=False)


def test_every_command_the_readme_shows_is_accepted_by_the_cli():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    commands = [c for c in _commands(readme, "minidi ") if c[0] == "minidi"]
    assert len(commands) >= 5
    for words in commands:
        try:
            _parse(main, words[1:])
        except click.exceptions.Exit:                     # --help, --version
            pass
        except click.ClickException as exc:
            pytest.fail(f"README: `{' '.join(words)}`: {exc.format_message()}")


def _step_command(path):
    spec = importlib.util.spec_from_file_location("tour_step", path)
    sys.path.insert(0, TOUR)
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(TOUR)
    return module.main


@pytest.mark.parametrize("step", STEPS)
def test_every_command_a_tour_docstring_shows_is_accepted(step):
    path = os.path.join(TOUR, step)
    commands = _commands(open(path, encoding="utf-8").read(), "python examples/tour/")
    assert commands, f"{step} shows no command line"
    command = _step_command(path)
    assert command.help and len(command.help) > 20                     # --help has a description
    for words in commands:
        try:
            _parse(command, words[2:])
        except click.ClickException as exc:
            pytest.fail(f"{step}: `{' '.join(words)}`: {exc.format_message()}")
