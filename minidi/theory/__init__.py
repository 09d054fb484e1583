"""What the theory predicts, computed by hand beside what minidi measures.

    predict.py      `spectrum(widths, activation, init, weight_var)`: the Jacobian spectrum of a wide random MLP
                    at initialization (free probability), and `spectrum_of(model)`
    stransform.py   the S-transforms of its factors (weights, gates) and how they combine
    density.py      from an S-transform to moments, the support, the atom at 0 and the density
    closedforms.py  the closed forms the solver is tested against (Fuss–Catalan, ReLU variances, orthogonal)
    decay.py        the decay law of a weight with zero loss gradient under SGD with momentum and weight decay
Read ../shared/research/spectral_theory.md beside them.
"""
from . import closedforms, decay, density, stransform
from .predict import Spectrum, s_transform, spectrum, spectrum_of

__all__ = ["spectrum", "spectrum_of", "Spectrum", "s_transform", "stransform", "density", "closedforms", "decay"]
