"""One exception type for every mistake a user can make, one warning type, and the interruption.

The CLI turns a `MinidiError` into one line on stderr and exit status 1, a `MinidiWarning` into one line
"Warning: ..." on stderr (held until the run's first write, `minidi.lab.rundir.write_config`), and Ctrl-C or SIGTERM into one line and exit status 130 or 143. Anything else is a
bug in minidi.
"""
import math
import numbers
import warnings


class MinidiError(ValueError):
    """Bad input: an unknown name, a malformed spec, a missing or corrupt file, a mismatched state_dict."""


class MinidiWarning(UserWarning):
    """A value that is legal but is very likely a mistake (the run goes on)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM; its message says what was kept on disk."""


def warn(message):
    """Emit a MinidiWarning (the CLI prints it as one line, once every value of the command has been checked)."""
    warnings.warn(message, MinidiWarning, stacklevel=2)


def check_number(value, name, low=None, high=None, low_open=False, high_open=False, integer=False):
    """`value` as a float (or int) if it is a finite real number in the given range; else a MinidiError naming
    `name`. Booleans and strings are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (integer and not isinstance(value, numbers.Integral)):
        kind = "an integer" if integer else "a number"
        raise MinidiError(f"{name} must be {kind}, got {value!r}")
    if not math.isfinite(value):
        raise MinidiError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        where = f"in {left or '(-inf'}, {right or 'inf)'}"
        raise MinidiError(f"{name} must be {where}, got {value:g}")
    return int(value) if integer else float(value)


def environ_number(name, default, low=None, high=None, low_open=False):
    """The environment variable `name` as a finite number in range (`default` when unset or empty); anything
    else is a MinidiError that names the variable."""
    import os
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise MinidiError(f"the environment variable {name}={text!r} is not a number") from None
    return check_number(value, f"the environment variable {name}", low=low, high=high, low_open=low_open)


def read_list(text, convert, option):
    """ "a,b,c" → [convert(a), ...], one clear error for an empty list, a bad value or a value given twice."""
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        raise MinidiError(f"{option} is empty")
    if not all(items):
        raise MinidiError(f"{option} has an empty entry: {text!r}")
    try:
        values = [convert(t) for t in items]
    except ValueError:
        raise MinidiError(f"{option}: cannot read {text!r} as a comma-separated list") from None
    if len(set(values)) < len(values):
        raise MinidiError(f"{option} names a value twice: {text!r}")
    return values


def check_choices(values, allowed, what):
    """Every value one of `allowed`, else one MinidiError naming the first that is not ("unknown init 'x': choose
    from a, b"); returns the values, each once, in their order."""
    for v in values:
        if v not in allowed:
            raise MinidiError(f"unknown {what} {v!r}: choose from {', '.join(allowed)}")
    return list(dict.fromkeys(values))


def check_seed(seed, name="seed"):
    """A seed is an integer ≥ 0 (NumPy's generators refuse negative ones)."""
    return check_number(seed, name, low=0, integer=True)
