"""Misusing the API raises MinidiError naming the argument, never a TypeError or NumPy's ValueError."""
import numpy as np
import pytest

from minidi import models, optim
from minidi.backend import rng, to_device
from minidi.data import synthetic
from minidi.errors import MinidiError
from minidi.prune import magnitude_masks, masks_from_scores, parse_ratios, random_masks
from minidi.schedules import parse_schedule
from minidi.schedules import Cosine, MultiStep, OneCycle


@pytest.fixture
def model(device):
    return to_device(models.build("lenet300-100", seed=0), device)


@pytest.mark.parametrize("sparsity, message", [("0.5", "sparsity must be a number, got '0.5'"),
                                               (None, "sparsity must be a number"),
                                               (True, "sparsity must be a number"),
                                               (1.0, r"sparsity must be in \[0, 1\), got 1"),
                                               (float("nan"), "sparsity must be finite")])
def test_sparsity_must_be_a_number_in_range(model, sparsity, message):
    with pytest.raises(MinidiError, match=message):
        magnitude_masks(model, sparsity)
    with pytest.raises(MinidiError, match=message):
        random_masks(model, sparsity, seed=0)
    assert all(p.mask is None for p in model.parameters())           # nothing was half-applied


def test_scores_sparsity_is_checked_too():
    with pytest.raises(MinidiError, match="sparsity must be a number"):
        masks_from_scores({"w": np.ones((2, 2))}, "0.1")


@pytest.mark.parametrize("seed, message", [(-1, r"seed must be in \[0, inf\), got -1"),
                                           ("1", "seed must be an integer, got '1'"),
                                           (1.5, "seed must be an integer"),
                                           (None, "seed must be an integer")])
def test_seeds_are_non_negative_integers(seed, message):
    with pytest.raises(MinidiError, match=message):
        models.build("mlp7-linear", seed=seed)
    with pytest.raises(MinidiError, match=message):
        models.build("resnet20", seed=seed)
    with pytest.raises(MinidiError, match=message):
        synthetic(10, 4, seed=seed)
    with pytest.raises(MinidiError, match=message):
        rng([seed, 0])


def test_random_masks_refuse_a_negative_seed(model):
    with pytest.raises(MinidiError, match="seed must be in"):
        random_masks(model, 0.5, seed=-3)


@pytest.mark.parametrize("state, message", [
    (None, "needs a mapping {name: array}, got NoneType"),
    ([("layers.0.weight", np.zeros((300, 784)))], "needs a mapping {name: array}, got list"),
    ("weights.npz", "needs a mapping {name: array}, got str"),
    ({"layers.0.weight": [[0.0] * 784] * 300}, r"state_dict\['layers.0.weight'\] must be an array, got list"),
    ({"layers.0.weight": None}, r"state_dict\['layers.0.weight'\] must be an array, got NoneType"),
    ({"layers.0.weight": np.full((300, 784), "a")}, r"state_dict\['layers.0.weight'\] must hold numbers, .*<U1"),
    ({"layers.0.weight": np.zeros((300, 784), dtype=object)}, "must hold numbers"),
])
def test_load_state_dict_refuses_what_is_not_a_dict_of_numeric_arrays(model, state, message):
    before = {k: np.array(v.get() if hasattr(v, "get") else v) for k, v in model.state_dict().items()}
    with pytest.raises(MinidiError, match=message):
        model.load_state_dict(state)
    after = model.state_dict()
    assert all(np.array_equal(before[k], np.asarray(after[k].get() if hasattr(after[k], "get") else after[k]))
               for k in before)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1), "learning rate must be in"), (dict(lr="0.1"), "learning rate must be a number"),
    (dict(lr=0.1, momentum=1.0), r"momentum must be in \[0, 1\)"), (dict(lr=0.1, momentum=-0.5), "momentum"),
    (dict(lr=0.1, weight_decay=-1e-4), "weight decay must be in"),
    (dict(lr=0.1, weight_decay=float("inf")), "weight decay must be finite"),
    (dict(lr=0.1, nesterov=True), "Nesterov momentum needs a momentum > 0"),
])
def test_sgd_checks_its_hyperparameters(model, kwargs, message):
    with pytest.raises(MinidiError, match=message):
        optim.SGD(model.parameters(), **kwargs)


def test_adam_checks_its_hyperparameters(model):
    with pytest.raises(MinidiError, match=r"betas\[1\] must be in"):
        optim.Adam(model.parameters(), betas=(0.9, 1.0))
    with pytest.raises(MinidiError, match="eps must be in"):
        optim.Adam(model.parameters(), eps=0)


def test_schedule_constructors_check_their_arguments():
    with pytest.raises(MinidiError, match="onecycle pct"):
        OneCycle(0.1, 10, pct=0)
    with pytest.raises(MinidiError, match="onecycle div"):
        OneCycle(0.1, 10, div=0)
    with pytest.raises(MinidiError, match="not shorter than the run"):
        Cosine(0.1, 5, warmup=5)
    with pytest.raises(MinidiError, match="multistep milestone must be an integer"):
        MultiStep(0.1, [1.5])
    with pytest.raises(MinidiError, match="multistep gamma"):
        MultiStep(0.1, [1], gamma=0)
    with pytest.raises(MinidiError, match=r"epochs must be in \[1, inf\)"):
        parse_schedule("0.1", 0)


def test_ratio_lists():
    assert parse_ratios("0, 0.5,0.9") == [0.0, 0.5, 0.9]
    for text, message in [("", "is empty"), ("0,,0.5", "has an empty entry"), ("0,x", "cannot read"),
                          ("0.5,0.5", "names a value twice"),
                          ("-0.1", "outside"), ("1", "outside")]:
        with pytest.raises(MinidiError, match=message):
            parse_ratios(text)
