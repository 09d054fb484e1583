"""What the cells of every study read: the dataset on the device (loaded once per process), the cache folder of
the shared cells, and the check that a study's model and dataset fit together."""
import functools
import os

from .. import models
from ..backend import to_device
from ..data import cifar, load_dataset
from ..errors import MinidiError, check_number
from ..files import home_cache

_DATA = {}


def load_data(model_name, device, data_dir=None, dataset="mnist"):
    """The dataset shaped for the model, on the device; kept per process, so the cells one process runs load it
    once (a pool or Dask worker loads it when it runs its first cell)."""
    key = (models.input_of(model_name), device, data_dir, dataset)
    if key not in _DATA:
        data = load_dataset(dataset, data_dir, models.input_of(model_name))
        _DATA.clear()                                       # one dataset at a time: MNIST is 250 MB as float32
        _DATA[key] = {k: (to_device(x, device), to_device(y, device)) for k, (x, y) in data.items()}
    return _DATA[key]


def study_data(c, context):
    """The data of a cell or study configuration `c` on the context's device: the shared per-process copy for
    real datasets, a fresh draw for --dataset synthetic (seed 0, `synthetic_samples` training images)."""
    device = context.get("device", "cpu")
    if c.get("dataset", "mnist") != "synthetic":
        return load_data(c["model"], device, context.get("data_dir"), c.get("dataset", "mnist"))
    raw = load_dataset("synthetic", None, models.input_of(c["model"]), synthetic_samples=c["synthetic_samples"])
    return {k: (to_device(x, device), to_device(y, device)) for k, (x, y) in raw.items()}


def subset(data, train_samples=None, test_samples=None):
    """The first `train_samples` training and `test_samples` test images (None: all): a cheaper study on a
    fixed part of the dataset, the same part on every run (no copy: views of the arrays on the device)."""
    out = dict(data)
    for split, n in (("train", train_samples), ("test", test_samples)):
        if n is not None:
            x, y = data[split]
            if n > len(y):
                raise MinidiError(f"{split} subset of {n} images is larger than the {split} set ({len(y)})")
            out[split] = (x[:n], y[:n])
    return out


def classes(dataset):
    """{"n_classes": k} for a dataset of k ≠ 10 classes (CIFAR-100), else {} (every preset is built for 10)."""
    k = cifar.SPECS[dataset]["classes"] if dataset in cifar.SPECS else 10
    return {"n_classes": k} if k != 10 else {}


def build_model(c, context, seed=None):
    """The preset `c["model"]` drawn with `seed` (default: `c["seed"]`), its output sized for the dataset's
    classes, on the context's device."""
    model = models.build(c["model"], seed=c["seed"] if seed is None else seed, **classes(c.get("dataset")))
    return to_device(model, context.get("device", "cpu"))


def cache_root(cache=None):
    """--cache, else $MINIDI_CACHE, else ~/.cache/minidi: where the cells that many studies share live."""
    if cache == "":
        raise MinidiError("--cache is empty: give a folder")
    return cache or os.environ.get("MINIDI_CACHE", "").strip() or home_cache()


def model_and_dataset(study, model_name, dataset, families, datasets):
    """(family, dataset) of a study's model preset: `families` {model: family}, `datasets` {family: names, the
    default first}; a MinidiError names a model outside the study or a dataset that does not fit it."""
    if model_name not in families:
        raise MinidiError(f"the {study} study runs on {', '.join(families)}, not {model_name!r}")
    family = families[model_name]
    dataset = dataset or datasets[family][0]
    if dataset not in datasets[family]:
        raise MinidiError(f"{model_name} takes --dataset {' or '.join(datasets[family])}, not {dataset!r}")
    return family, dataset


@functools.lru_cache(maxsize=None)
def weight_count(model_name):
    """The prunable weights of preset `model_name` (asked of a model built from it, once per name)."""
    from ..nn.checks import prunable
    return sum(p.size for p in prunable(models.build(model_name)).values())


def check_curvature(curvature, model_name):
    """--curvature k: 0 (the lens off) or k ≥ 2 Lanczos steps and Hutchinson probes (one probe gives no standard
    error of the trace), at most `curvature.max_lanczos_steps` of the model's weights (the basis in memory)."""
    from ..measure.curvature import BASIS_BYTES, max_lanczos_steps
    k = check_number(curvature, "curvature", low=0, integer=True)
    if k == 1:
        raise MinidiError("--curvature 1: the trace's standard error needs at least 2 Hutchinson probes: give 0 (off) "
                          "or at least 2")
    n = weight_count(model_name)
    top = max_lanczos_steps(n)
    if k > top:
        raise MinidiError(f"--curvature {k} is more than the lens can use on {model_name}'s {n} weights: at most {top} "
                          f"(the Krylov space's dimension, and a Lanczos basis of at most {BASIS_BYTES // 2 ** 30} GiB)")
    return k
