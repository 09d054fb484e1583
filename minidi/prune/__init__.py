"""Pruning: L1 neuron/filter removal, unstructured masks, pruning-at-init scores and ablations, reports."""
from .ablations import reinit_kept, shuffle_masks
from .at_init import collapse_report, connected_weights, keep_top, layer_collapse, prune_at_init
from .gmp import gmp, gradual_sparsities
from .layerstats import layer_stats, wd_ratios
from .report import format_report, layer_report
from .scores import METHODS, per_class_batch, scores
from .spec import parse_ratios, parse_spec, uniform_spec
from .structured import kept_units, l1_keep, l1_scores, n_to_prune, prune_neurons, random_keep, random_neurons, remove_units
from .unstructured import (apply_masks, load_masks, magnitude_masks, masks_from_scores, random_masks, save_masks,
                           sparsity_of)

__all__ = ["prune_neurons", "l1_scores", "kept_units", "n_to_prune", "parse_spec", "parse_ratios", "uniform_spec",
           "magnitude_masks", "random_masks", "masks_from_scores", "apply_masks", "save_masks", "load_masks",
           "sparsity_of", "layer_report", "format_report", "scores", "METHODS", "per_class_batch", "prune_at_init",
           "keep_top", "layer_collapse", "collapse_report", "connected_weights", "shuffle_masks", "reinit_kept",
           "layer_stats", "wd_ratios", "random_neurons", "l1_keep", "random_keep", "remove_units", "gmp", "gradual_sparsities"]
