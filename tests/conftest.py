"""Shared fixtures: the array backends (CuPy on a GPU, else the strict CuPy stand-in), real MNIST, a gradient
checker and a file-tree snapshot."""
import os

os.environ.setdefault("MINIDI_GPU_STANDIN", "1")   # before minidi is imported: no GPU → the strict stand-in

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from minidi import backend  # noqa: E402

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


def rel_error(a, b):
    """‖a − b‖ / max(‖a‖ + ‖b‖, 1e-30): the norm-wise relative error used by every gradient check."""
    a, b = backend.to_numpy(a).ravel(), backend.to_numpy(b).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-30))


def numerical_grad(f, array, eps=1e-6):
    """Central differences of the scalar f() w.r.t. every entry of `array` (modified in place, then restored)."""
    xp = backend.get_array_module(array)
    grad = xp.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = float(flat[i])
        flat[i] = old + eps
        plus = float(f())
        flat[i] = old - eps
        minus = float(f())
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def check_module_gradients(module, x, seed=12345, tol=1e-6, train=True):
    """Compare backward's input and parameter gradients with central differences of L = Σ forward(x) ⊙ R.

    Returns the worst relative error (and asserts it is below tol). `module` and `x` must be float64. R has its
    own seed: an R proportional to x would make e.g. BatchNorm's input gradient vanish (it is scale-invariant).
    """
    xp = backend.get_array_module(x)
    module.train(train)
    out = module.forward(x)
    r = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    loss = lambda: (module.forward(x) * r).sum()  # noqa: E731
    module.zero_grad()
    module.forward(x)
    r_before = r.copy()
    dx = module.backward(r)
    assert bool((r == r_before).all()), "backward modified its upstream gradient"
    errors = {"input": rel_error(dx, numerical_grad(loss, x))}
    for name, p in module.named_parameters():
        errors[name] = rel_error(p.grad, numerical_grad(loss, p.data))
    worst = max(errors.values())
    assert worst < tol, errors
    return worst


def snapshot(root):
    """{relative path: (bytes, mode)} of every file under `root`: to show a command changed nothing."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = (f.read(), os.stat(path).st_mode)
    return out
