"""Module plumbing: names, state_dict round trips and errors, modes, devices, masks through training."""
import numpy as np
import pytest

from minidi import models, optim
from minidi.backend import to_device, to_numpy
from minidi.train.checkpoint import load_weights, save_weights
from minidi.errors import MinidiError
from minidi.nn import SoftmaxCrossEntropy


def test_state_dict_uses_pytorch_names_and_layouts():
    model = models.build("mlp7-linear")
    state = model.state_dict()
    assert list(state) == [f"layers.{2 * k}.{p}" for k in range(7) for p in ("weight", "bias")]
    assert state["layers.0.weight"].shape == (100, 1024)
    assert state["layers.12.weight"].shape == (10, 100)
    assert model.num_parameters() == 1024 * 100 + 100 + 5 * (100 * 100 + 100) + 100 * 10 + 10


def test_named_parameters_are_the_parameter_objects():
    model = models.build("lenet300-100")
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                     "layers.4.weight", "layers.4.bias"]
    assert all(p is q for (_, p), q in zip(model.named_parameters(), model.parameters()))


def test_default_init_is_pytorch_uniform():
    model = models.build("mlp7-relu", seed=3)
    w = model.state_dict()["layers.0.weight"]
    bound = 1 / np.sqrt(1024)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound          # the std of U(−b, b)


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (models.build("mlp7-relu", seed=s).state_dict() for s in (1, 1, 2))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layers.0.weight"], c["layers.0.weight"])


def test_same_seed_same_weights_on_every_device(device):
    host = models.build("mlp7-relu", seed=5).state_dict()
    moved = to_device(models.build("mlp7-relu", seed=5), device).state_dict()
    assert all(np.array_equal(host[k], to_numpy(moved[k])) for k in host)


def test_state_dict_round_trip_through_npz(tmp_path, device):
    a = to_device(models.build("mlp7-relu", seed=1), device)
    b = to_device(models.build("mlp7-relu", seed=2), device)
    save_weights(tmp_path / "w.npz", a)
    load_weights(tmp_path / "w.npz", b)
    x = to_device(np.random.default_rng(0).standard_normal((3, 1024)).astype(np.float32), device)
    assert np.array_equal(to_numpy(a.forward(x)), to_numpy(b.forward(x)))


def test_load_state_dict_rejects_wrong_keys_and_shapes():
    model = models.build("mlp7-linear")
    state = model.state_dict()
    with pytest.raises(MinidiError, match="missing keys.*layers.0.bias"):
        model.load_state_dict({k: v for k, v in state.items() if k != "layers.0.bias"})
    with pytest.raises(MinidiError, match="unexpected keys.*extra"):
        model.load_state_dict({**state, "extra": np.zeros(1)})
    with pytest.raises(MinidiError, match=r"layers.2.weight has shape \(100, 99\)"):
        model.load_state_dict({**state, "layers.2.weight": np.zeros((100, 99))})


def test_train_eval_modes_reach_every_module():
    model = models.build("mlp7-relu")
    model.eval()
    assert not any(m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())


def test_masked_weights_stay_exactly_zero_through_training(device):
    xp_model = to_device(models.mlp(3, 32, "relu", in_dim=20, n_classes=5), device)
    rng = np.random.default_rng(0)
    masks = {}
    for name, p in xp_model.named_parameters():
        if name.endswith("weight"):
            mask = (rng.random(p.shape) > 0.7).astype(np.float32)
            p.set_mask(to_device(mask, device))
            masks[name] = mask
    opt = optim.SGD(xp_model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)
    loss_fn = SoftmaxCrossEntropy()
    x = to_device(rng.standard_normal((64, 20)).astype(np.float32), device)
    y = to_device(rng.integers(0, 5, 64), device)
    first = None
    for _ in range(30):
        loss = loss_fn.forward(xp_model.forward(x), y)
        first = float(loss) if first is None else first
        opt.zero_grad()
        xp_model.backward(loss_fn.backward())
        for name, p in xp_model.named_parameters():
            if name in masks:
                assert not to_numpy(p.grad)[masks[name] == 0].any(), "a masked weight got a gradient"
        opt.step()
    assert float(loss) < first                                   # it did train
    for name, p in xp_model.named_parameters():
        if name in masks:
            w = to_numpy(p.data)
            assert not w[masks[name] == 0].any()                 # exactly 0, not just small
            assert (w[masks[name] == 1] != 0).all()


def test_bad_mask_shape_is_an_error():
    p = models.build("mlp7-linear").parameters()[0]
    with pytest.raises(MinidiError, match="mask of shape"):
        p.set_mask(np.ones((3, 3)))
