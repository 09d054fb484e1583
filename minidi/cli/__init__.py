"""The command line (`minidi ...`): machinery, not science; skip it when reading the theory.
main.py the group and the plain commands (info, train, eval, schedules); studies.py the study commands and
their sweeps; tools.py what every command shares (one-line errors, warnings, signals)."""
from .main import main

__all__ = ["main"]
