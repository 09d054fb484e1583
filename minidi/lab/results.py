"""What a finished cell leaves, and how it is read back: `result.json` checked against the fields its cell
function declares (`returns`) and against the ranges its values must lie in, so that a file that parses but lacks
its fields, holds the wrong types or impossible values (NaN, an accuracy of 7.5, a negative JSV, a configuration
that is not the cell's) is one MinidiError naming the file and what to delete, never a KeyError in a report,
never a row of a CSV and never reused.

The ranges, by field name, wherever the field stands (the result, its epoch rows, the dicts inside them):
    every number finite; *acc* and last<k>_mean (accuracies) in [0, 1]; anything under a *jsv* name, *_std, *_se,
    seconds ≥ 0; text only in a field declared "text", or in one the configuration holds with the same text (a
    cell echoing its arm, method or route).
"""
import json
import math
import os
import re

from ..errors import MinidiError
from ..files import read_json, write_csv

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


ACCURACY = re.compile(r"(^|_)acc($|_)|^last\d+_mean$")
NONNEGATIVE = re.compile(r"jsv|_std$|_se$|^seconds$|_seconds$")


def _bad_value(name, value):
    """Why `value` cannot stand in a field called `name` (None when it can), looking inside lists and dicts."""
    if isinstance(value, dict):
        return next(filter(None, (_bad_value(f"{name}.{k}" if name else k, v) for k, v in value.items())), None)
    if isinstance(value, list):
        return next(filter(None, (_bad_value(name, v) for v in value)), None)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    leaf = name.rsplit(".", 1)[-1]
    if not math.isfinite(value):
        return f"{name} is {value}"
    if ACCURACY.search(leaf) and not 0 <= value <= 1:
        return f"{name} = {value:g} is an accuracy outside [0, 1]"
    if (NONNEGATIVE.search(leaf) or "jsv" in name) and value < 0:
        return f"{name} = {value:g} is negative"
    return None


def check_values(path, result, config, fields, fix):
    """The ranges above, for a result read from `path`; one MinidiError naming the first value out of place."""
    for name, value in result.items():
        bad = _bad_value(name, value)
        if bad:
            raise MinidiError(f"{path}: {bad}: {fix}")
        if isinstance(value, str) and (fields or {}).get(name) != TEXT:
            if name not in config:
                raise MinidiError(f"{path}: its result's {name} holds text where the cell writes none: {fix}")
            if value != config[name]:
                raise MinidiError(f"{path}: its result's {name} = {json.dumps(value)[:40]} is not its "
                                  f"configuration's {json.dumps(config[name])[:40]}: {fix}")


def result_of(cell, folders):
    """The checked result of `cell` in its folder: fields, ranges, and the configuration its folder is named by."""
    folder = folders[cell.key]
    fields = getattr(cell.fn, "result_fields", None)
    result = read_result(folder, fields)
    path, fix = os.path.join(folder, RESULT), f"delete {folder} (the cell is computed again) and run again"
    stored = read_json(path)["config"]
    if json.dumps(stored, sort_keys=True) != json.dumps(cell.config, sort_keys=True):
        raise MinidiError(f"{path}: its configuration is not the one its folder's name is the hash of: {fix}")
    check_values(path, result, cell.config, fields, fix)
    return result


def is_timing(name):
    """Result fields that are wall times ("seconds", "score_seconds", ...): they differ from run to run."""
    return name == "seconds" or name.endswith("_seconds")


def write_cells_csv(path, cells, folders, out, cache):
    """The merged table of a grid: one row per cell, its kind, label and folder (relative to the study folder,
    or "cache:" + relative to the cache), its configuration and the scalar values of its result. Every column
    is deterministic (the same grid run anywhere, twice, gives the same file): wall times go to timings.csv
    beside it (kind, label, folder, the cell's seconds and every *_seconds field of its result)."""
    rows, times = [], []
    for c in ordered_cells(cells):
        folder = folders[c.key]
        where = f"cache:{os.path.relpath(folder, cache)}" if c.shared else os.path.relpath(folder, out)
        doc = read_json(os.path.join(folder, RESULT))
        result = result_of(c, folders)
        metrics = {k: v for k, v in result.items() if not is_timing(k) and isinstance(v, (int, float, str, bool))}
        who = {"kind": c.kind.rsplit(":", 1)[-1].replace("_cell", ""), "label": c.label, "folder": where}
        rows.append({**who, **{f"config.{k}": v for k, v in c.config.items()}, **metrics})
        times.append({**who, "seconds": doc["seconds"], **{k: v for k, v in result.items() if is_timing(k) and k != "seconds"}})
    keys = list(dict.fromkeys(k for r in rows for k in r))
    columns = keys[:3] + [k for k in keys if k.startswith("config.")] + [k for k in keys[3:] if not k.startswith("config.")]
    write_csv(path, rows, columns)
    write_csv(os.path.join(os.path.dirname(path), "timings.csv"), times)


def ordered_cells(cells):
    """The cells and all their dependencies, each once, every dependency before the cells that need it."""
    seen, out = {}, []

    def visit(cell):
        if cell.key in seen:
            return
        seen[cell.key] = cell
        for dep in cell.deps.values():
            visit(dep)
        out.append(cell)
    for cell in cells:
        visit(cell)
    return out
