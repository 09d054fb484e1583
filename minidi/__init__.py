"""minidi: see how neural-network pruning works.

A from-scratch MLP/CNN engine with hand-written backprop that runs on NumPy (CPU) and CuPy (NVIDIA GPU)
with the same code, plus the tools of the pruning studies built on it. The reading order:

    the science, in pipeline order (read these; each is short, and its docstring states the equations)
     1. backend.py errors.py  NumPy or CuPy from the inputs; one error type and the argument checks
        files.py limits.py    atomic files, JSON and .npz; the bounds of every count a user gives
     2. nn/                   the engine: layers with forward and backward side by side (start at nn/linear.py)
     3. data/                 MNIST and CIFAR readers, batches, augmentation, synthetic data
     4. models/               MLPs, LeNet-5, VGG, conv4, ResNets; plan.py: the topology later stages ask for
     5. optim.py schedules/   SGD and Adam; learning-rate schedules and their text form
        train/                the epoch loop (loop.py), what a run adds to it (callbacks.py), checkpoints
     6. prune/                one mask rule (masks.py), L1 neuron removal (structured.py), scores at init, GMP
     7. measure/              the exact Jacobian and its spectrum, per-layer spectra, Hessian-vector products,
                              curvature, weight shedding
     8. recover/              OrthP, approximate isometry, the TPP regularizer
     9. theory/               what the theory predicts beside the measurement (the decay law)
    the studies
    10. experiments/          four studies, each spec.py + cells.py + report.py, and what they share
                              (dense.py, studydata.py, stats.py, plots.py; compat.py: old result folders)
    the machinery (skip it when reading the science: nothing above imports it)
        lab/                  the grid runner, executors, result files, run-folder rules
        cli/                  the command line
        testing/              the gradient checker users can call, and the strict CuPy stand-in of the tests

Arrows point from the studies and the machinery to the science, never back (tests/test_structure.py).
"""

__version__ = "0.1.0"


def __getattr__(name):
    """`minidi.hvp(model, x, y, v)` and `minidi.measure.curvature`, imported when first asked for."""
    import importlib
    if name == "hvp":
        return importlib.import_module("minidi.measure.hessian").hvp
    if name == "curvature":
        return importlib.import_module("minidi.measure.curvature")
    raise AttributeError(f"module 'minidi' has no attribute {name!r}")
