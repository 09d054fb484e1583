"""Write `cupy_api.json`: the names and keyword arguments that a real CuPy release offers.

The strict CuPy stand-in (`fakecupy.py`) reaches only these names, and refuses keyword arguments that CuPy's
signature of the same function does not have. Run it where CuPy imports (no GPU needed):

    python -m venv /tmp/cupy && /tmp/cupy/bin/pip install cupy-cuda12x==14.2.0
    /tmp/cupy/bin/python minidi/testing/make_cupy_api.py > minidi/testing/cupy_api.json

For each name: its kind (function, ufunc, class, module, constant) and, where CuPy's signature can be read
(`inspect.signature`, else the first line of the docstring, which Cython methods and ufuncs carry), the
names of its parameters. Functions declared `**kwargs` list the keys their source pops. `null` means the
signature could not be read, and the stand-in then accepts any keyword.
"""
import inspect
import json
import re
import sys

MODULES = ("cupy", "cupy.linalg", "cupy.random", "cupy.lib.stride_tricks", "cupy.cuda", "cupy.cuda.runtime", "cupyx")
UFUNC_METHODS = ("reduce", "accumulate", "outer", "at", "reduceat")


def _doc_params(obj):
    """Parameter names from a docstring whose first line reads name(a, b=None, *, c='x') -> ..."""
    first = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    match = re.match(r"^[\w.]+\((.*)\)", first[0].strip()) if first else None
    if not match:
        return None
    names, depth, token = [], 0, ""
    for ch in match.group(1) + ",":
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            token = token.strip().replace("\\", "")
            if token and token not in ("*", "/"):
                name = token.split("=")[0].strip().split()[-1].lstrip("*")
                if name != "self":
                    names.append(("**" if token.startswith("**") else "*" if token.startswith("*") else "") + name)
            token = ""
        else:
            token += ch
    return names


def params(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return _doc_params(obj)
    names = []
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_KEYWORD:
            try:
                popped = re.findall(r"kwargs\.(?:pop|get)\(\s*['\"](\w+)['\"]", inspect.getsource(obj))
            except (OSError, TypeError):
                popped = []
            names += popped if popped else ["**" + p.name]
        else:
            names.append(("*" if p.kind is p.VAR_POSITIONAL else "") + p.name)
    return names


def describe(obj, cupy):
    if inspect.ismodule(obj):
        return {"kind": "module"}
    if isinstance(obj, (cupy.ufunc,)):
        return {"kind": "ufunc", "params": _doc_params(obj), "nin": obj.nin, "nout": obj.nout}
    if inspect.isclass(obj):
        return {"kind": "class"}
    if callable(obj):
        return {"kind": "function", "params": params(obj)}
    return {"kind": "constant"}


def main():
    import importlib

    import cupy
    api = {"cupy_version": cupy.__version__, "modules": {}, "ndarray": {}, "ufunc_methods": {}}
    for name in MODULES:
        module = importlib.import_module(name)
        api["modules"][name] = {n: describe(getattr(module, n), cupy) for n in sorted(dir(module))
                                if not n.startswith("__")}
    for n in sorted(dir(cupy.ndarray)):
        if n.startswith("__") and n not in ("__array__", "__array_ufunc__", "__array_function__"):
            continue
        attr = getattr(cupy.ndarray, n)
        api["ndarray"][n] = {"params": _doc_params(attr) if callable(attr) and not inspect.isclass(attr) else None}
    for n in UFUNC_METHODS:
        api["ufunc_methods"][n] = _doc_params(getattr(cupy.add, n))
    json.dump(api, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
