"""minidi: see how neural-network pruning works.

A from-scratch MLP/CNN engine with hand-written backprop that runs on NumPy (CPU) and CuPy (NVIDIA GPU)
with the same code, plus the tools of the pruning studies built on it. Read the package in pipeline order:
backend -> nn -> models -> optim/schedules -> data -> train -> jacobian/spectrum -> prune -> isometry.
"""

__version__ = "0.1.0"
