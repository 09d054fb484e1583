"""What a finished cell leaves, and how it is read back: `result.json` checked against the fields its cell
function declares (`returns`), so that a file that parses but lacks its fields, or holds the wrong types, is one
MinidiError naming the file and what to delete, never a KeyError in a report and never reused."""
import json
import os

from ..errors import MinidiError
from ..files import read_json

RESULT, STATUS = "result.json", "status.json"


NUMBER, TEXT, LIST, DICT, OPTIONAL_NUMBER = "number", "text", "list", "dict", "number or null"


def returns(**fields):
    """Decorator: the fields of the cell function's result that the reports read, each "number", "text", "list",
    "dict" or "number or null" (a "history" list must hold epoch rows with a numeric test_acc). A result.json read
    back is checked against them (`read_result`)."""
    def mark(fn):
        fn.result_fields = dict(fields)
        return fn
    return mark


def is_done(folder):
    return os.path.isfile(os.path.join(folder, RESULT))


def _field_ok(value, kind):
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return {NUMBER: number, OPTIONAL_NUMBER: number or value is None, TEXT: isinstance(value, str),
            LIST: isinstance(value, list), DICT: isinstance(value, dict)}[kind]


def read_result(folder, fields=None):
    """The result of a finished cell, its result.json checked: a JSON object with the cell's kind, config,
    finite seconds and a result object holding `fields` (a `returns` declaration) with the right types. Anything
    else is one MinidiError naming the file and what to delete (the file is never used)."""
    path = os.path.join(folder, RESULT)
    doc = read_json(path)
    fix = f"delete {folder} (the cell is computed again) and run again"
    seconds = doc.get("seconds")
    if not (isinstance(doc.get("result"), dict) and isinstance(doc.get("config"), dict) and isinstance(doc.get("kind"), str)
            and isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0):
        raise MinidiError(f"{path} is not a finished cell's result (kind, config, seconds, result): {fix}")
    result = doc["result"]
    for name, kind in (fields or {}).items():
        if name not in result or not _field_ok(result[name], kind):
            got = "lacks it" if name not in result else f"holds {json.dumps(result[name])[:40]}"
            raise MinidiError(f"{path}: its result field {name!r} must be a {kind} but {got}: {fix}")
        if name == "history" and not all(isinstance(r, dict) and _field_ok(r.get("test_acc"), NUMBER)
                                         and _field_ok(r.get("epoch"), NUMBER) for r in result[name]):
            raise MinidiError(f"{path}: its history rows are not epochs with a test accuracy: {fix}")
    return result


def result_of(cell, folders):
    """The checked result of `cell` in its folder."""
    return read_result(folders[cell.key], getattr(cell.fn, "result_fields", None))
