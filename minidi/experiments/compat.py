"""Everything that exists only so that result folders made by an older minidi keep their names and resume.

A cell's folder is named by a hash of its kind ("module:function"), its configuration and its dependencies
(`minidi.lab.grid`). When code moves or a study gains an option, the old folders must still be found:
    KINDS          the kind each cell function's results were first stored under (modules since renamed)
    ADDED          the options each study gained after results were made: a saved configuration lacking them
                   is read with them at their defaults (so an old folder resumes and runs only the new cells)
    cell_extras    fields that exist only to change a hash (GraSP's cells since its Hessian product is exact)
The science never needs this file: read the specs and cells without it.
"""
KINDS = {
    "minidi.experiments.dense:pretrain_cell": "minidi.experiments.common:pretrain_cell",
    "minidi.experiments.dense:recipe_cell": "minidi.experiments.pai:dense_cell",
    "minidi.experiments.dense:stepped_cell": "minidi.experiments.retrain:dense_cell",
    "minidi.experiments.isometry.cells:sweep_cell": "minidi.experiments.isometry:sweep_cell",
    "minidi.experiments.isometry.cells:finetune_cell": "minidi.experiments.isometry:finetune_cell",
    "minidi.experiments.isometry.cells:layers_cell": "minidi.experiments.isometry:layers_cell",
    "minidi.experiments.isometry.cells:curvature_cell": "minidi.experiments.isometry:curvature_cell",
    "minidi.experiments.pai.cells:mask_cell": "minidi.experiments.pai:mask_cell",
    "minidi.experiments.pai.cells:collapse_cell": "minidi.experiments.pai:collapse_cell",
    "minidi.experiments.pai.cells:train_cell": "minidi.experiments.pai:train_cell",
    "minidi.experiments.pai.cells:curvature_cell": "minidi.experiments.pai:curvature_cell",
    "minidi.experiments.retrain.cells:retrain_cell": "minidi.experiments.retrain:retrain_cell",
    "minidi.experiments.shedding.cells:cascade_cell": "minidi.experiments.shedding:cascade_cell",
    "minidi.experiments.shedding.cells:map_cell": "minidi.experiments.shedding:map_cell",
    "minidi.experiments.shedding.cells:route_cell": "minidi.experiments.shedding:route_steps_cell",
}

ADDED = {   # study: the options it gained after results were made (their defaults come from `configure()`)
    "isometry": ("curvature", "arms", "scratch_b_cap", "tpp_epochs", "dataset", "recipe", "augment", "pretrain_epochs",
                 "train_samples", "test_samples", "synthetic_samples"),
    "pai": ("curvature",),
    "shedding": ("shed_lr", "shed_wd", "round_epochs", "map", "map_lrs", "map_wds", "map_fractions", "map_epochs",
                 "train_samples", "test_samples", "batch_size", "dense_epochs"),
}

# GraSP's H g is exact since the R-operator (minidi.measure.hessian); the finite difference it replaced was wrong at
# ReLU kinks. This field, which GraSP cells computed before lack, gives them new hashes, so old GraSP results are
# never reused (every other method's cells keep theirs).
EXTRAS = {"grasp": dict(grasp_hvp="r-operator")}


def keep_kinds(*functions):
    """Store each cell function's results under the kind of `KINDS` (its name when the results were made)."""
    for fn in functions:
        fn.cell_kind = KINDS[f"{fn.__module__}:{fn.__name__}"]
    return functions


def added(study):
    """{option: default} of the options `study` gained since its first results (defaults of its `configure()`)."""
    names = ADDED.get(study.NAME, ())
    if not names:
        return {}
    defaults = study.configure()
    return {k: defaults[k] for k in names}


def upgraded(study, saved):
    """A saved configuration with the options the study added since filled in at their defaults: a folder
    written by an older minidi is resumed, not refused (a sweep's points too)."""
    extra = added(study)
    if "points" in saved and isinstance(saved["points"], list):
        return {**saved, "points": [{**extra, **p} if isinstance(p, dict) else p for p in saved["points"]]}
    return {**extra, **saved}


def cell_extras(method):
    """The hash-only fields of a pai cell of `method` ({} for every method but GraSP)."""
    return dict(EXTRAS.get(method, {}))
