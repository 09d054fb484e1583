"""What every minidi command line shares: one line per problem, never a traceback for a user's mistake.

- A `MinidiError` (bad input), a click usage error (unknown option, value out of a click range) and an OSError
  (a folder that cannot be written) print one line "Error: ..." on stderr; the exit status is 1 (2 for a
  usage error, as click has it).
- A `MinidiWarning` (a legal value that is surely a mistake) prints one line "Warning: ..." and the run goes on.
  Warnings are held until every value has been checked (`lab.rundir.write_config`, or the command's end), so a
  bad input prints its error alone.
- Ctrl-C and SIGTERM print the same one line, saying what the last checkpoint holds; exit status 130 or 143.
  Every result file is written atomically, so an interruption never leaves half a file.

Commands use `cls=Group` / `cls=Command`; `friendly` wraps a command's body (the group's commands and the
scripts in examples/).
"""
import contextlib
import os
import functools
import signal
import sys
import warnings

import click

from ..backend import keep_freed_memory
from ..errors import Interrupted, MinidiError, MinidiWarning, read_list
from ..lab import provenance
from ..lab.rundir import first_write_hooks

_received = {"signal": None}


def _one_line(text):
    return " ".join(str(text).split("\n"))


def _fail(message, status):
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(status)


_held = []
_live = {"on": False}                           # True once the checks have passed: warnings print at once


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, MinidiWarning):
        _held.append(f"Warning: {_one_line(message)}")
        if _live["on"]:
            _release_warnings()
    else:                                         # a library's warning (matplotlib, NumPy): one line too
        click.echo(f"Warning: {_one_line(message)} ({category.__name__})", err=True)


def _release_warnings():
    _live["on"] = True
    while _held:
        click.echo(_held.pop(0), err=True)



def _terminate(signum, frame):
    _received["signal"] = signum
    raise KeyboardInterrupt


@contextlib.contextmanager
def _user_facing():
    """One-line warnings, and SIGTERM treated as Ctrl-C, while a command runs."""
    _received["signal"] = None
    _live["on"] = False
    _held.clear()
    first_write_hooks.append(_release_warnings)
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:                        # not the main thread: leave signals alone
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("always", MinidiWarning)
        warnings.showwarning = _show_warning
        try:
            yield
            _release_warnings()
        finally:
            _held.clear()
            first_write_hooks.remove(_release_warnings)
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def friendly(fn):
    """Run a command body with one-line errors, warnings and interruptions (see the module docstring), with
    glibc asked to keep freed memory for reuse (`backend.keep_freed_memory`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        keep_freed_memory()
        try:
            with _user_facing():
                return fn(*args, **kwargs)
        except MinidiError as exc:
            _fail(exc, 1)
        except KeyboardInterrupt as exc:
            text = str(exc) if isinstance(exc, Interrupted) else \
                "interrupted; every file written so far is complete: rerun with --resume to continue"
            click.echo(_one_line(text[:1].upper() + text[1:]), err=True)
            sys.exit(143 if _received["signal"] == signal.SIGTERM else 130)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", 1)
    return wrapper


_HELP_FOR_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())    # click ≥ 8.2


class _OneLineUsage:
    """click's usage errors (normally three lines: usage, hint, error) as one line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        given = sys.argv[1:] if args is None else list(args)
        provenance.command_line[:] = [prog_name or os.path.basename(sys.argv[0]) or "minidi", *given]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _HELP_FOR_NO_ARGS as exc:       # plain `minidi`: the help text, as click prints it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(status if isinstance(status, int) else 0)


class Group(_OneLineUsage, click.Group):
    pass


class Command(_OneLineUsage, click.Command):
    pass


device_option = click.option("--device", default=None, help="cpu or gpu (default: $MINIDI_DEVICE, else cpu).")
data_dir_option = click.option("--data-dir", default=None, type=click.Path(file_okay=False),
                               help="Folder with the dataset files, the only one searched when given "
                                    "(default: $MINIDI_DATA/<dataset>, then ~/.cache/minidi).")


def grid_options(fn):
    """--workers, --worker-threads, --scheduler and --rerun: how a study's cells run (`minidi.lab.grid`)."""
    options = [
        click.option("--workers", default=None, type=click.IntRange(min=1),
                     help="Run the cells on K local worker processes (default: one after another in this process)."),
        click.option("--worker-threads", default=1, show_default=True, type=click.IntRange(min=1),
                     help="BLAS threads of each worker process."),
        click.option("--scheduler", default=None,
                     help="Run the cells on a Dask cluster: its scheduler's address, tcp://HOST:PORT "
                          "(default: $MINIDI_SCHEDULER); needs minidi[dist] and a folder every worker sees."),
        click.option("--rerun", is_flag=True,
                     help="Compute the grid's finished cells again (their old folders move under cells/.replaced/)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def runner_args(workers, worker_threads, scheduler, rerun):
    """The grid options as `minidi.lab.grid.run` arguments (a scheduler and --workers together are an error)."""
    from ..lab.executors import resolve_scheduler
    scheduler = resolve_scheduler(scheduler)
    if scheduler and workers:
        raise MinidiError("--workers and --scheduler exclude each other: the Dask cluster has its own workers")
    return dict(workers=workers, worker_threads=worker_threads, scheduler=scheduler, rerun=rerun)


split_list = read_list            # the command line's comma-separated options (minidi.errors.read_list)

