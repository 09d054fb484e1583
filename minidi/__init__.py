"""minidi: see how neural-network pruning works.

A from-scratch MLP/CNN engine with hand-written backprop that runs on NumPy (CPU) and CuPy (NVIDIA GPU)
with the same code, plus the tools of the pruning studies built on it. Read the package in pipeline order:
backend -> nn -> models -> optim/schedules -> data -> train -> jacobian/spectrum/hessian -> prune -> isometry
-> experiments.
"""

__version__ = "0.1.0"


def __getattr__(name):
    """`minidi.hvp(model, x, y, v)` and `minidi.curvature`, imported when first asked for."""
    import importlib
    if name == "hvp":
        return importlib.import_module("minidi.hessian").hvp
    if name == "curvature":
        return importlib.import_module("minidi.curvature")
    raise AttributeError(f"module 'minidi' has no attribute {name!r}")
