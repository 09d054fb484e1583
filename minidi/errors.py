"""One exception type for every mistake a user can make.

The CLI turns a `MinidiError` into one line on stderr and exit status 1; anything else is a bug in minidi.
"""


class MinidiError(ValueError):
    """Bad input: an unknown name, a malformed spec, a missing or corrupt file, a mismatched state_dict."""
