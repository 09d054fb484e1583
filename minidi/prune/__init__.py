"""Pruning: the one mask rule (masks.py), L1 neuron/filter removal, unstructured masks, pruning-at-init scores
and ablations, GMP, reports."""
from .ablations import reinit_kept, shuffle_masks
from .at_init import apply_scores, collapse_report, connected_weights, layer_collapse, prune_at_init
from .gmp import gmp, gradual_sparsities
from .layerstats import layer_stats, wd_ratios
from .masks import (SCOPES, apply_masks, check_scope, check_sparsity, keep_top, kept_count, load_masks, masked_priority,
                    prunable, save_masks, sparsity_of)
from .report import format_report, layer_report
from .scores import METHODS, per_class_batch, scores
from .spec import parse_ratios, parse_spec, uniform_spec
from .structured import kept_units, l1_keep, l1_scores, n_to_prune, prune_neurons, random_keep, random_neurons, remove_units
from .unstructured import magnitude_masks, masks_from_scores, random_masks

__all__ = ["prune_neurons", "l1_scores", "kept_units", "n_to_prune", "parse_spec", "parse_ratios", "uniform_spec",
           "magnitude_masks", "random_masks", "masks_from_scores", "apply_masks", "save_masks", "load_masks",
           "sparsity_of", "layer_report", "format_report", "scores", "METHODS", "per_class_batch", "prune_at_init",
           "apply_scores", "keep_top", "kept_count", "masked_priority", "prunable", "SCOPES", "layer_collapse",
           "collapse_report", "connected_weights", "shuffle_masks", "reinit_kept", "layer_stats", "wd_ratios",
           "random_neurons", "l1_keep", "random_keep", "remove_units", "gmp", "gradual_sparsities", "check_scope",
           "check_sparsity"]
