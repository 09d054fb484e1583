"""NumPy on the CPU, CuPy on an NVIDIA GPU: the same array code runs on both.

The rule of the engine: a layer never asks which device it is on; it takes the array module from its inputs,
``xp = get_array_module(x)``, and calls ``xp.exp``, ``xp.maximum`` and so on. Only three places talk about
devices explicitly: `resolve_device` (the user's choice), `to_device` (moving a model or array) and `to_numpy`.

Randomness always comes from a NumPy generator on the host (`rng`), and arrays are moved to the device after
they are drawn, so one seed gives bit-identical initial weights and data order on the CPU and the GPU.
"""
import ctypes
import os
import sys

import numpy as np

from .errors import MinidiError, check_seed

DEVICES = ("cpu", "gpu")

def _device_count(cupy):
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:                   # no driver, no device: CuPy imports but cannot run
        return 0


def _load_cupy():
    """Real CuPy if it imports and sees a GPU; else, only when MINIDI_GPU_STANDIN=1 (set by minidi's test suite,
    never by default), the strict stand-in `minidi.testing.fakecupy`; else the real module or None."""
    try:  # CuPy is an optional extra: `pip install "minidi[gpu]"`.
        import cupy
    except Exception:  # ImportError, or a broken CUDA install that fails at import
        cupy = None
    if cupy is not None and _device_count(cupy) > 0:
        return cupy, False
    if os.environ.get("MINIDI_GPU_STANDIN") == "1":
        from .testing.fakecupy import cupy as standin
        return standin, True
    return cupy, False


_cupy, STANDIN = _load_cupy()


def keep_freed_memory():
    """Ask glibc to keep freed blocks of up to 32 MiB for reuse instead of returning them to the OS.

    Array code allocates the same large temporaries every step. By default glibc serves blocks above
    128 KiB with fresh mmap'd pages and unmaps them when freed, so every step pays page faults on first
    touch: in the conv layers this made a matrix product 6x slower than the same product on warm memory.
    With mmap threshold 32 MiB (glibc's maximum) and a 1 GiB trim threshold the memory is reused.
    Linux/glibc only; elsewhere, or with MINIDI_NO_MALLOPT=1 set, nothing is changed. Returns True if set.
    Importing minidi changes nothing: the command line, the example scripts (through `cli.tools.friendly`),
    the benchmarks and the test suite call this.
    """
    if os.environ.get("MINIDI_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):                   # not glibc (e.g. musl): leave the allocator alone
        return False



def cupy_or_none():
    """The cupy module if it imported (the test stand-in when STANDIN is True), else None."""
    return _cupy


def gpu_available():
    """True when CuPy imported and sees at least one CUDA device."""
    return _cupy is not None and _device_count(_cupy) > 0


def resolve_device(device=None):
    """The device to use: the argument, else $MINIDI_DEVICE, else "cpu". Errors are one clear line."""
    device = (device or os.environ.get("MINIDI_DEVICE") or "cpu").strip().lower()
    if device not in DEVICES:
        raise MinidiError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    if device == "gpu":
        if _cupy is None:
            raise MinidiError('device "gpu" needs CuPy: pip install "minidi[gpu]" (CuPy for CUDA 12)')
        if not gpu_available():
            raise MinidiError('device "gpu" asked for, but CuPy finds no CUDA GPU on this machine')
    return device


def xp_for(device):
    """The array module of a device name: numpy for "cpu", cupy for "gpu"."""
    return _cupy if resolve_device(device) == "gpu" else np


def get_array_module(*arrays):
    """numpy or cupy, whichever the arrays live in (the `cupy.get_array_module` pattern)."""
    if _cupy is not None:
        return _cupy.get_array_module(*arrays)
    return np


def device_of(array):
    """ "gpu" for a CuPy array, "cpu" otherwise."""
    return "gpu" if (_cupy is not None and isinstance(array, _cupy.ndarray)) else "cpu"


def to_numpy(array):
    """A NumPy copy-or-view of any array (device -> host transfer for CuPy)."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return np.asarray(array)


def to_device(obj, device):
    """Move an array, or every parameter and buffer of a model, to "cpu" or "gpu".

    Arrays are returned moved (a no-op when already there); a model is moved in place and returned.
    """
    device = resolve_device(device)
    if hasattr(obj, "apply_arrays"):  # a Module
        return obj.apply_arrays(lambda a: to_device(a, device))
    if device == "gpu":
        return _cupy.asarray(obj)
    return to_numpy(obj)


def rng(seed):
    """A NumPy generator on the host; every random draw in minidi goes through one of these.

    `seed` is an integer ≥ 0 or a list of them (e.g. [seed, epoch]); anything else is a MinidiError.
    """
    if isinstance(seed, (list, tuple)):
        return np.random.default_rng([check_seed(s) for s in seed])
    return np.random.default_rng(check_seed(seed))


def synchronize(xp):
    """Wait for the GPU to finish (for honest timings); nothing on the CPU."""
    if xp is not np:
        xp.cuda.get_current_stream().synchronize()
