"""Recovering trainability after pruning: OrthP (exact, by QR), approximate isometry (by gradient descent on
‖W Wᵀ − I‖²), and the TPP regularizer (before removal). Read orthogonal.py first."""
from .approximate import approximate_isometry, isometry_loss
from .orthogonal import as_matrix, gain_for, orthogonal_init, orthp
from .tpp import TPPRegularizer

__all__ = ["orthp", "orthogonal_init", "gain_for", "as_matrix", "approximate_isometry", "isometry_loss",
           "TPPRegularizer"]
