"""CNN models: names and sizes, whole-model gradients, filter pruning through BN and flatten, ResNet rules,
Jacobians, OrthP and masks on conv layers, and the FLOPs report."""
import numpy as np
import pytest
from minidi.testing.gradcheck import check_gradients, numerical_grad, rel_error

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.errors import MinidiError
from minidi.recover import orthp
from minidi.measure.jacobian import input_jacobian
from minidi.models.convnets import ConvNet, Init
from minidi.models.resnet import ResNet
from minidi.nn import BasicBlock, Identity, MaxPool2d, ReLU, Sequential, ZeroPadShortcut
from minidi.prune import layer_report, magnitude_masks, n_to_prune, prune_neurons
from minidi.measure.spectrum import jsv_stats, singular_values


def tiny_convnet(seed=0):
    i = Init(seed, dtype=np.float64)
    features = Sequential(i.conv(1, 3, 3, padding=1, bias=False), i.bn(3), ReLU(), MaxPool2d(2),
                          i.conv(3, 4, 3), ReLU())
    return ConvNet(features, i.linear(4 * 2 * 2, 3))


def tiny_resnet(seed=0):
    i = Init(seed, dtype=np.float64)
    block = lambda c, p, s, short: BasicBlock(i.conv(c, p, 3, s, 1, False), i.bn(p), i.conv(p, p, 3, 1, 1, False),  # noqa: E731
                                             i.bn(p), short)
    stages = [Sequential(block(4, 4, 1, Identity())), Sequential(block(4, 8, 2, ZeroPadShortcut(4, 8, 2)))]
    return ResNet(i.conv(2, 4, 3, 1, 1, False), i.bn(4), stages, i.linear(8, 3))


def test_preset_sizes_and_pytorch_names():
    assert models.build("lenet5-relu").num_parameters() == 61706
    r20 = models.build("resnet20")
    assert r20.num_parameters() == 269722 and models.build("resnet56").num_parameters() == 853018
    keys = list(r20.state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                        "bn1.num_batches_tracked"]
    assert "layer2.0.conv1.weight" in keys and keys[-2:] == ["linear.weight", "linear.bias"]
    b = models.build("resnet20", shortcut="B").state_dict()
    assert b["layer2.0.shortcut.0.weight"].shape == (32, 16, 1, 1) and "layer2.0.shortcut.1.running_var" in b
    v = models.build("vgg11").state_dict()
    assert v["features.0.weight"].shape == (64, 3, 3, 3) and v["classifier.weight"].shape == (10, 512)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("make, shape", [(tiny_convnet, (2, 1, 8, 8)), (tiny_resnet, (2, 2, 6, 6))],
                         ids=["convnet", "resnet"])
def test_whole_cnn_gradients(device, make, shape, train):
    model = to_device(make(), device)
    check_gradients(model, to_device(np.random.default_rng(3).standard_normal(shape), device), train=train)


def _zero_units(model, spec_ratios):
    """Zero the weights (and bias, BN scale and shift) of n_to_prune units of each layer; return their indices."""
    rng = np.random.default_rng(0)
    plan, dead = model.pruning_plan(), {}
    for i, ratio in spec_ratios.items():
        e = plan[i]
        n_out = e.layer.weight.shape[0]
        units = rng.choice(n_out, n_to_prune(ratio, n_out), replace=False)
        e.layer.weight.data[units] = 0
        if e.layer.bias is not None:
            e.layer.bias.data[units] = 0
        if e.bn is not None:
            e.bn.weight.data[units] = 0
            e.bn.bias.data[units] = 0
        dead[i] = units
    return dead


@pytest.mark.parametrize("name, ratios", [("lenet5-relu", {0: 0.5, 1: 0.5, 2: 0.9}), ("lenet5-linear", {0: 0.5, 2: 0.3}),
                                          ("conv4", {0: 0.5, 1: 0.25, 2: 0.5, 3: 0.5}),
                                          ("resnet20", {1: 0.5, 5: 0.5, 9: 0.75, 17: 0.5})])
def test_removing_zero_filters_leaves_cnn_outputs_unchanged(device, name, ratios):
    model = models.build(name, dtype=np.float64)
    model.train()
    x = np.random.default_rng(1).standard_normal((3, models.input_of(name)[0], 32, 32))
    model.forward(x)                                            # give BN running statistics some values
    _zero_units(model, ratios)
    model = to_device(model, device).eval()
    xd = to_device(x, device)
    pruned = prune_neurons(model, ratios)
    for i, ratio in ratios.items():
        e = pruned.pruning_plan()[i]
        n_out = model.pruning_plan()[i].layer.weight.shape[0]
        assert e.layer.weight.shape[0] == n_out - n_to_prune(ratio, n_out)
        if e.bn is not None:
            assert e.bn.running_mean.shape[0] == e.layer.weight.shape[0]
    np.testing.assert_allclose(to_numpy(pruned.forward(xd)), to_numpy(model.forward(xd)), rtol=1e-10, atol=1e-10)


def test_flatten_group_of_conv4_removes_whole_channel_blocks():
    model = models.build("conv4")
    plan = model.pruning_plan()
    assert plan[3].group == 64 and plan[3].next is model.classifier
    pruned = prune_neurons(model, {3: 0.5})
    assert pruned.classifier.weight.shape == (10, 32 * 64)


def test_resnet_prunes_only_the_first_conv_of_each_block():
    model = models.build("resnet20")
    names = [e.name for e in model.pruning_plan()]
    assert names[:4] == ["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1"] and names[-1] == "linear"
    pruned = prune_neurons(model, "layer*.conv1:0.5")
    for stage, width in zip(pruned.stages, (16, 32, 64)):
        for block in stage.layers:
            assert block.conv1.out_channels == width // 2 and block.conv2.in_channels == width // 2
            assert block.conv2.out_channels == width                          # the block's output width is kept
    assert pruned.conv1.out_channels == 16
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    assert pruned.eval().forward(x).shape == (2, 10)
    with pytest.raises(MinidiError, match=r"layer 0 \(conv1\) cannot be pruned: on ResNets only the first conv"):
        prune_neurons(model, "0:0.5")
    with pytest.raises(MinidiError, match="layer2.0.conv2"):
        prune_neurons(model, "layer2.0.conv2:0.5")
    with pytest.raises(MinidiError, match="matches no weight layer"):
        prune_neurons(model, "layer9.*:0.5")


def test_lenet5_study_spec():
    pruned = prune_neurons(models.build("lenet5-relu"), "0-2:0.9,3-4:0")
    shapes = [e.layer.weight.shape for e in pruned.pruning_plan()]
    assert shapes == [(1, 1, 5, 5), (1, 1, 5, 5), (12, 1, 5, 5), (84, 12), (10, 84)]   # 6→1, 16→1, 120→12


def test_cnn_jacobian_matches_central_differences(device, xp):
    model = to_device(tiny_convnet(), device)
    model.train()
    model.forward(xp.asarray(np.random.default_rng(5).standard_normal((4, 1, 8, 8))))   # BN statistics
    x = xp.asarray(np.random.default_rng(6).standard_normal((2, 1, 8, 8)))
    J = input_jacobian(model, x)
    assert J.shape == (2, 3, 64) and model.training                          # eval inside, restored after
    model.eval()
    for n in range(2):
        xn = x[n:n + 1].copy()
        for k in range(3):
            numeric = numerical_grad(lambda: model.forward(xn)[0, k], xn)
            assert rel_error(J[n, k], numeric.reshape(-1)) < 1e-6
    s = singular_values(J)
    assert s.shape == (2, 3) and jsv_stats(s)["mean"] > 0


def test_orthp_on_conv_kernels(device):
    model = to_device(models.build("lenet5-linear", dtype=np.float64), device)
    orthp(model)
    for e in model.pruning_plan():
        w = to_numpy(e.layer.weight.data).reshape(e.layer.weight.shape[0], -1)
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-12)


def test_unstructured_masks_cover_conv_weights(device):
    model = to_device(models.build("conv4"), device)
    masks = magnitude_masks(model, 0.8, scope="local")
    assert "features.0.weight" in masks and "features.1.weight" not in masks          # BN scales are not pruned
    assert all(int(m.sum()) == round((1 - 0.8) * m.size) for m in masks.values())   # the one mask rule
    assert all(int((to_numpy(p.data) == 0).sum()) >= p.size - round((1 - 0.8) * p.size)
               for n, p in model.named_parameters() if n in masks)


def test_conv_flops_report(device):
    rows = layer_report(to_device(models.build("lenet5-relu"), device), input_shape=(1, 32, 32))
    assert [r["flops_dense"] for r in rows] == [6 * 25 * 28 * 28, 16 * 6 * 25 * 10 * 10, 120 * 16 * 25, 120 * 84, 84 * 10]
    assert rows[0]["params"] == 6 * 25 + 6
    with pytest.raises(ValueError, match="input_shape"):
        layer_report(models.build("conv4"))


@pytest.mark.parametrize("name", ["conv4", "resnet20"])
def test_a_conv_net_built_with_overrides_is_asked_its_own_input_shape(device, name):
    """`build(name, in_channels=1)` takes 1×32×32 images, and every tool that checks a batch against the model
    (hvp, SNIP, GraSP, SynFlow's all-ones input, the Jacobian) accepts them: the shape is asked of the model, not
    looked up by the preset's name (it once said (3, 32, 32) and they refused valid batches). The same preset
    at its default 3 channels still refuses a 1-channel batch, with one MinidiError."""
    import minidi
    from minidi.backend import xp_for
    from minidi.nn.checks import prunable
    from minidi.prune import scores
    xp, rng = xp_for(device), np.random.default_rng(0)
    model = to_device(models.build(name, in_channels=1, dtype=np.float64), device)
    assert model.sample_shape == (1, 32, 32) and models.data_shape(model) == (1, 32)
    x = xp.asarray(rng.standard_normal((3, 1, 32, 32)))
    y = xp.asarray(np.array([0, 4, 9]))
    assert model.forward(x).shape == (3, 10)             # the network itself takes these images
    v = {k: rng.standard_normal(p.shape) for k, p in prunable(model).items()}
    hv = minidi.hvp(model, x, y, v)
    assert set(hv) == set(v) and all(np.isfinite(to_numpy(a)).all() for a in hv.values())
    for method in ("snip", "grasp", "synflow"):
        s = scores(model, method, x, y)
        assert {k: a.shape for k, a in s.items()} == {k: p.shape for k, p in prunable(model).items()}
    model.eval()
    assert input_jacobian(model, x[:1]).shape == (1, 10, 1024)
    three = to_device(models.build(name, dtype=np.float64), device)
    with pytest.raises(MinidiError, match=r"the model takes \(3, 32, 32\)"):
        minidi.hvp(three, x, y, {k: rng.standard_normal(p.shape) for k, p in prunable(three).items()})
