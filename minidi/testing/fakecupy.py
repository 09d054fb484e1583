"""A strict stand-in for CuPy, so that minidi's GPU code path runs in tests on machines without a GPU.

It is **for tests only**: `minidi.backend` uses it as `cupy` only when the environment variable
`MINIDI_GPU_STANDIN=1` is set (the test suite sets it) and no real CuPy with a GPU is present. A user never
gets it by accident; `minidi info` names it when it is in use.

It computes with NumPy underneath, but fails where real CuPy fails and NumPy code would silently work:
- Its arrays (`cupy.ndarray`, not a subclass of numpy.ndarray, which NumPy would convert silently) refuse
  implicit conversion: `np.asarray(a)`, `np.array(a)`, any NumPy or SciPy function given one, and any
  operation mixing one with a host `numpy.ndarray` (arithmetic, indexing, assignment, a CuPy function's
  argument) raise TypeError. `float(a)`, `int(a)` work on 0-d arrays only. Reductions return 0-d arrays.
  Transfers are explicit: `cupy.asarray(host)`, `cupy.asnumpy(a)`, `a.get()`.
- Only the names of a real CuPy release are reachable (`cupy_api.json`, written by `make_cupy_api.py` from
  CuPy 14.2.0), in `cupy`, `cupy.linalg`, `cupy.random`, `cupy.lib.stride_tricks`, `cupy.cuda` and
  `cupyx`. A keyword argument that CuPy's signature of the same function lacks is a TypeError (e.g.
  `as_strided(writeable=)`, `svd(hermitian=)`, `asarray(like=)`); `sort`/`argsort` take only kind=None or
  "stable", as CuPy's do. A CuPy name that the stand-in does not model is an AttributeError saying so.
- `STATS` counts device-to-host transfers (`get`, `asnumpy`, `item`, `float`, `bool`, printing), host-to-device
  transfers (`asarray`/`array` of host data: from pageable memory CUDA synchronizes the stream first) and
  explicit synchronizations, so a test can show that a loop does not synchronize once per step.
"""
import json
import os
import types

import numpy as np

from .fakecuda import STATS, Device as _Device, Event as _Event, MemoryPool as _MemoryPool, Stream as _Stream

API = json.load(open(os.path.join(os.path.dirname(__file__), "cupy_api.json"), encoding="utf-8"))
VERSION = API["cupy_version"]
_SCALARS = (bool, int, float, complex, np.generic)


def _host_array_error(where):
    return TypeError(f"{where}: a host numpy.ndarray cannot be mixed with a cupy.ndarray; move it with "
                     "cupy.asarray() first (Unsupported type <class 'numpy.ndarray'>)")


def _unwrap(x, where):
    """The NumPy array inside a device array; scalars and containers of device arrays pass; host arrays fail."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise _host_array_error(where)
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(x):
    """NumPy results as device arrays: arrays, and NumPy scalars as 0-d arrays (CuPy's reductions do that)."""
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _check_call(name, params, args, kwargs):
    """CuPy's signature of `name` (params from cupy_api.json): no extra positional or keyword arguments."""
    if params is None:
        return
    named = [p for p in params if not p.startswith("*")]
    if len(args) > len(named) and not any(p.startswith("*") and not p.startswith("**") for p in params):
        raise TypeError(f"{name}() takes at most {len(named)} positional arguments in CuPy {VERSION}, got {len(args)}")
    if not any(p.startswith("**") for p in params):
        for key in kwargs:
            if key not in named:
                raise TypeError(f"{name}() got an unexpected keyword argument '{key}' "
                                f"(CuPy {VERSION}: {name}({', '.join(params)}))")
    if name.rsplit(".", 1)[-1] in ("sort", "argsort") and kwargs.get("kind") not in (None, "stable"):
        raise NotImplementedError(f"{name}: CuPy sorts with a stable radix sort only (kind={kwargs['kind']!r})")


def _device_function(name, fn, params):
    def call(*args, **kwargs):
        _check_call(name, params, args, kwargs)
        return _wrap(fn(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()}))
    call.__name__ = call.__qualname__ = name.rsplit(".", 1)[-1]
    return call


def _to_host(a):
    STATS["device_to_host"] += 1
    return a._a.copy()


class ndarray:
    """A device array: a NumPy array that NumPy may not see (see the module docstring)."""

    __slots__ = ("_a",)
    __array_ufunc__ = None                     # NumPy ufuncs and host-array operators refuse it
    __hash__ = None

    def __init__(self, a):
        if not isinstance(a, np.ndarray):
            raise TypeError("cupy.ndarray(...) here wraps results only: use cupy.asarray to move data")
        self._a = a

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
                        "a NumPy array explicitly.")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was given a cupy.ndarray: call cupy.{func.__name__} (or move the "
                        "array to the host with .get()) instead")

    # --- attributes and methods: those of cupy.ndarray, computed by NumPy ---------------------------
    def __getattr__(self, name):
        if name not in API["ndarray"] or name.startswith("__"):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        if name in ("data", "scatter_add", "scatter_max", "scatter_min", "toDlpack", "cstruct", "reduced_view",
                    "mdspan", "dump", "dumps", "tofile", "tobytes"):
            raise AttributeError(f"the CuPy stand-in does not model cupy.ndarray.{name}")
        value = getattr(self._a, name)
        if not callable(value):
            return _wrap(value) if isinstance(value, np.ndarray) else value
        return _device_function(f"cupy.ndarray.{name}", value, API["ndarray"][name]["params"])

    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            raise TypeError("the stand-in's get() takes no out=")
        return _to_host(self)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray) or arr.shape != self._a.shape:
            raise ValueError("set() needs a host numpy.ndarray of the same shape")
        self._a[...] = arr

    def item(self):
        STATS["device_to_host"] += 1
        return self._a.item()

    def tolist(self):
        STATS["device_to_host"] += 1
        return self._a.tolist()

    @property
    def device(self):
        return _Device(0)

    # --- conversions: explicit only ---------------------------------------------------------------
    def _scalar(self, kind):
        if self._a.ndim != 0:
            raise TypeError(f"only 0-d cupy arrays can be converted to Python {kind.__name__}s "
                            f"(this one has shape {self._a.shape})")
        STATS["device_to_host"] += 1
        return kind(self._a)

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __complex__(self):
        return self._scalar(complex)

    def __bool__(self):
        STATS["device_to_host"] += 1
        return bool(self._a)

    def __format__(self, spec):
        STATS["device_to_host"] += 1
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __repr__(self):
        STATS["device_to_host"] += 1
        return repr(self._a) + " (stand-in device array)"

    __str__ = __repr__

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (ndarray(np.asarray(row)) for row in self._a)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        return (_from_pickle, (self._a,))

    # --- indexing: device or Python indices only -------------------------------------------------
    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "cupy.ndarray.__getitem__")])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, "cupy.ndarray.__setitem__")] = _unwrap(value, "cupy.ndarray.__setitem__")


def _from_pickle(a):
    return ndarray(a)


def _binary(op, reflected=False, inplace=False):
    def method(self, other):
        if not isinstance(other, (ndarray, *_SCALARS)):
            if isinstance(other, np.ndarray):
                raise _host_array_error(f"cupy.ndarray.{op.__name__}")
            return NotImplemented
        b = other._a if isinstance(other, ndarray) else other
        if inplace:
            op(self._a, b)
            return self
        return _wrap(op(b, self._a) if reflected else op(self._a, b))
    return method


for _name, _op in {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
                   "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "matmul": np.matmul,
                   "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor, "lshift": np.left_shift,
                   "rshift": np.right_shift}.items():
    setattr(ndarray, f"__{_name}__", _binary(_op))
    setattr(ndarray, f"__r{_name}__", _binary(_op, reflected=True))
    inplace_op = (lambda f: lambda a, b: f(a, b, out=a))(_op)
    inplace_op.__name__ = _op.__name__
    setattr(ndarray, f"__i{_name}__", _binary(inplace_op, inplace=True))
for _name, _op in {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
                   "ge": np.greater_equal}.items():
    setattr(ndarray, f"__{_name}__", _binary(_op))
for _name, _op in {"neg": np.negative, "pos": np.positive, "abs": np.absolute, "invert": np.invert}.items():
    setattr(ndarray, f"__{_name}__", (lambda f: lambda self: _wrap(f(self._a)))(_op))


class ufunc:
    """A NumPy ufunc behind CuPy's ufunc signature; operands must be device arrays or scalars."""

    def __init__(self, name, np_ufunc, params):
        self.__name__, self._np, self._params = name, np_ufunc, params
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def _operands(self, args, where):
        for a in args:
            if not isinstance(a, (ndarray, *_SCALARS)) and a is not None:
                raise TypeError(f"{where}: Unsupported type {type(a)}")
        return _unwrap(args, where)

    def __call__(self, *args, **kwargs):
        where = f"cupy.{self.__name__}"
        _check_call(where, self._params, args, kwargs)
        return _wrap(self._np(*self._operands(args, where), **{k: _unwrap(v, where) for k, v in kwargs.items()}))

    def _method(self, name, *args, **kwargs):
        where = f"cupy.{self.__name__}.{name}"
        _check_call(where, API["ufunc_methods"][name], args, kwargs)
        return _wrap(getattr(self._np, name)(*_unwrap(args, where), **{k: _unwrap(v, where) for k, v in kwargs.items()}))

    def reduce(self, *args, **kwargs):
        return self._method("reduce", *args, **kwargs)

    def accumulate(self, *args, **kwargs):
        return self._method("accumulate", *args, **kwargs)

    def outer(self, *args, **kwargs):
        return self._method("outer", *args, **kwargs)

    def at(self, a, indices, b=None):
        if not isinstance(a, ndarray):
            raise TypeError(f"cupy.{self.__name__}.at needs a cupy.ndarray, got {type(a)}")
        self._method("at", a, indices, b)

    def reduceat(self, *args, **kwargs):
        return self._method("reduceat", *args, **kwargs)


# --- explicit transfers and the array module ---------------------------------------------------------
def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """Host data → device (a copy, as a transfer is); a device array is returned as is (or cast)."""
    if isinstance(a, ndarray):
        return a if dtype is None or np.dtype(dtype) == a._a.dtype else ndarray(a._a.astype(dtype))
    STATS["host_to_device"] += 1
    return ndarray(np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    host = obj._a if isinstance(obj, ndarray) else obj
    STATS["host_to_device"] += not isinstance(obj, ndarray)
    return ndarray(np.array(host, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return _to_host(a)
    return np.asarray(a, order=order)


def get_array_module(*args):
    return cupy if any(isinstance(a, ndarray) for a in args) else np


_POOL = _MemoryPool()
_STREAM = _Stream()


class _Namespace(types.ModuleType):
    """A module that offers exactly the names CuPy's module of the same name has (cupy_api.json)."""

    def __getattr__(self, attr):
        names, make = _NAMESPACES[self.__name__]
        if attr not in names:
            raise AttributeError(f"module '{self.__name__}' has no attribute '{attr}' (CuPy {VERSION} has none)")
        value = make(attr)
        if value is None:
            raise AttributeError(f"the CuPy stand-in does not model {self.__name__}.{attr} (CuPy has it)")
        setattr(self, attr, value)
        return value

    def __dir__(self):
        return sorted(_NAMESPACES[self.__name__][0])


_NAMESPACES = {}


def _namespace(name, make, extra=()):
    _NAMESPACES[name] = (set(API["modules"][name]) | set(extra), make)
    return _Namespace(name)


def _numpy_member(module_name, numpy_module):
    """Build `module_name.attr` from NumPy's member of the same name (functions wrapped, types as they are)."""
    def make(attr):
        entry = API["modules"][module_name][attr]
        target = getattr(numpy_module, attr, None)
        if target is None or entry["kind"] == "module":
            return None
        if isinstance(target, np.ufunc):
            return ufunc(attr, target, entry.get("params"))
        if entry["kind"] == "function" and callable(target):
            return _device_function(f"{module_name}.{attr}", target, entry.get("params"))
        return target                                      # dtypes, constants, exception types
    return make


def _cupy_member(attr):
    own = {"ndarray": ndarray, "ufunc": ufunc, "asarray": asarray, "array": array, "asnumpy": asnumpy,
           "get_array_module": get_array_module, "get_default_memory_pool": lambda: _POOL, "cuda": cuda,
           "linalg": linalg, "random": random, "lib": lib, "__version__": VERSION + "+minidi-standin"}
    if attr in own:
        return own[attr]
    return _numpy_member("cupy", np)(attr)


def _cuda_member(attr):
    return {"runtime": runtime, "Device": _Device, "Stream": _Stream, "Event": _Event, "MemoryPool": _MemoryPool,
            "get_current_stream": lambda: _STREAM, "is_available": lambda: True,
            "get_elapsed_time": lambda a, b: (b.t - a.t) * 1000.0}.get(attr)


def _runtime_member(attr):
    return {"getDeviceCount": lambda: 1, "deviceSynchronize": _Device().synchronize}.get(attr)


def _stride_tricks_member(attr):
    return _numpy_member("cupy.lib.stride_tricks", np.lib.stride_tricks)(attr)


API["modules"]["cupy.lib"] = {"stride_tricks": {"kind": "module"}}      # dir(cupy.lib) lists only this of ours
runtime = _namespace("cupy.cuda.runtime", _runtime_member)
cuda = _namespace("cupy.cuda", _cuda_member)
linalg = _namespace("cupy.linalg", _numpy_member("cupy.linalg", np.linalg))
random = _namespace("cupy.random", lambda attr: None)
stride_tricks = _namespace("cupy.lib.stride_tricks", _stride_tricks_member)
lib = _namespace("cupy.lib", {"stride_tricks": stride_tricks}.get)
cupy = _namespace("cupy", _cupy_member, extra=("__version__",))
cupyx = _namespace("cupyx", lambda attr: None)
cupy.__version__ = VERSION + "+minidi-standin"
