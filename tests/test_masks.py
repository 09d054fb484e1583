"""One mask rule for the whole library: one count, one tie rule, one scope vocabulary, for every method."""
import numpy as np
import pytest

from minidi import models, prune
from minidi.backend import to_device, to_numpy
from minidi.errors import MinidiError


def test_every_entry_point_breaks_ties_the_same_way(device):
    """Scores [1, 1, 1, 1] at 50 %: the earlier positions are kept, whoever chooses the mask (the two old rules
    disagreed: [0, 0, 1, 1] against [1, 1, 0, 0])."""
    scores = {"a": to_device(np.ones(4), device)}
    np.testing.assert_array_equal(prune.keep_top(scores, 0.5)["a"], [1, 1, 0, 0])
    np.testing.assert_array_equal(prune.masks_from_scores(scores, 0.5)["a"], [1, 1, 0, 0])
    np.testing.assert_array_equal(prune.masks_from_scores(scores, 0.5, scope="local")["a"], [1, 1, 0, 0])


def test_one_count_rule_round_density_times_n(device):
    model = to_device(models.build("lenet300-100"), device)
    n = {k: p.size for k, p in prune.prunable(model).items()}
    prune.magnitude_masks(model, 0.37, scope="local")
    assert {k: int(to_numpy(p.mask).sum()) for k, p in prune.prunable(model).items()} == \
        {k: round((1 - 0.37) * v) for k, v in n.items()}
    fresh = to_device(models.build("lenet300-100"), device)
    prune.random_masks(fresh, 0.37, seed=1, scope="global")
    assert prune.kept_count(fresh) == round((1 - 0.37) * sum(n.values()))
    gmp_model = to_device(models.build("lenet300-100"), device)
    prune.gmp(gmp_model, 0.37)
    assert prune.kept_count(gmp_model) == prune.kept_count(fresh)


@pytest.mark.parametrize("call", [
    lambda m: prune.magnitude_masks(m, 0.5, scope="layer"),
    lambda m: prune.random_masks(m, 0.5, scope="layer"),
    lambda m: prune.keep_top({"w": np.ones(3)}, 0.5, scope="layer"),
    lambda m: prune.prune_at_init(m, "magnitude", 0.5, scope="layer"),
])
def test_the_scope_vocabulary_is_global_or_local(call):
    with pytest.raises(MinidiError, match="scope must be 'global' or 'local'"):
        call(models.build("lenet300-100"))


def test_magnitude_masks_equal_the_magnitude_scores_through_apply_scores(device):
    a, b = (to_device(models.build("lenet300-100", seed=3), device) for _ in range(2))
    prune.magnitude_masks(a, 0.9)
    prune.apply_scores(b, "magnitude", prune.scores(b, "magnitude"), 0.1)
    for (k, pa), pb in zip(prune.prunable(a).items(), prune.prunable(b).values()):
        np.testing.assert_array_equal(to_numpy(pa.mask), to_numpy(pb.mask), err_msg=k)


def test_masked_priority_keeps_pruned_weights_out(device):
    model = to_device(models.build("lenet300-100"), device)
    prune.gmp(model, 0.5)
    before = {k: to_numpy(p.mask).copy() for k, p in prune.prunable(model).items()}
    prune.gmp(model, 0.8)                                   # nested: nothing pruned comes back
    for k, p in prune.prunable(model).items():
        assert not np.any(to_numpy(p.mask)[before[k] == 0])
