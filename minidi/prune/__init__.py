"""Pruning: L1 neuron/filter removal, unstructured masks, ratio specs and per-layer reports."""
from .report import format_report, layer_report
from .spec import parse_ratios, parse_spec, uniform_spec
from .structured import kept_units, l1_scores, n_to_prune, prune_neurons
from .unstructured import (apply_masks, load_masks, magnitude_masks, masks_from_scores, random_masks, save_masks,
                           sparsity_of)

__all__ = ["prune_neurons", "l1_scores", "kept_units", "n_to_prune", "parse_spec", "parse_ratios", "uniform_spec",
           "magnitude_masks", "random_masks", "masks_from_scores", "apply_masks", "save_masks", "load_masks",
           "sparsity_of", "layer_report", "format_report"]
