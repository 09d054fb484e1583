"""Shared fixtures: the array backends (CuPy on a GPU, else the strict CuPy stand-in), real MNIST, the gradient
checker (`minidi.testing.gradcheck`) and a file-tree snapshot."""
import os

os.environ.setdefault("MINIDI_GPU_STANDIN", "1")   # before minidi is imported: no GPU → the strict stand-in

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from minidi import backend  # noqa: E402

backend.keep_freed_memory()                        # as the minidi command does (importing minidi does not)

GPU_ID = "gpu-standin" if backend.STANDIN else "gpu"
BACKENDS = ["cpu", "gpu"]


@pytest.fixture(params=BACKENDS, ids=["cpu", GPU_ID])
def device(request):
    """Each test that takes `device` runs once per backend: "gpu" is real CuPy on a GPU when there is one, else
    the strict stand-in (test id gpu-standin); it is skipped only when MINIDI_GPU_STANDIN=0 and no GPU."""
    if request.param == "gpu" and not backend.gpu_available():
        pytest.skip("no CuPy or no CUDA GPU on this machine, and MINIDI_GPU_STANDIN is not 1")
    return request.param


@pytest.fixture
def xp(device):
    return backend.xp_for(device)


@pytest.fixture
def mnist_dir():
    """The folder of the four original MNIST files, from $MINIDI_DATA (or ../shared/data beside the checkout)."""
    here = os.path.dirname(os.path.abspath(__file__))
    roots = [os.environ.get("MINIDI_DATA"), os.path.join(here, "..", "..", "shared", "data")]
    for root in filter(None, roots):
        folder = os.path.join(root, "mnist")
        if os.path.isfile(os.path.join(folder, "train-images-idx3-ubyte.gz")):
            return os.path.abspath(folder)
    pytest.skip("MNIST files not found: set MINIDI_DATA to the folder that holds mnist/")


def snapshot(root):
    """{relative path: (bytes, mode)} of every file under `root`: to show a command changed nothing."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = (f.read(), os.stat(path).st_mode)
    return out
