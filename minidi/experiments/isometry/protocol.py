"""The core study's two protocols, as ../shared/research/dynamical_isometry.md states them, and the layers L1
pruning touches on each network.

    mnist   Wang et al. (2021) on MLPs, LeNet-5 and the small CNNs at 32×32: SGD momentum 0.9, weight decay 1e-4,
            batch 100, no augmentation; pretraining `0:0.01,30:0.001,60:0.0001` over 90 epochs; finetuning 90
            epochs, LR 0.01 at that table or LR 0.001 at `0:0.001,45:0.0001`.
    cifar   the authors' public CIFAR scripts (ResNet-56 on CIFAR-10, VGG-19 on CIFAR-100): SGD momentum 0.9,
            weight decay 5e-4, batch 128 (VGG-19: 256), random crop + flip; pretraining LR 0.1, ×0.1 at epochs
            100 and 150 of 200; finetuning 120 epochs, `0:0.01,60:0.001,90:0.0001` ("1e-2") or
            `0:0.001,80:0.0001` ("1e-3").
A shorter run (`--epochs E`) scales each table's milestones to its length (`dense.scale_table`); on CIFAR the
pretraining keeps the recipe's 200 : 120 ratio to the finetuning unless `--pretrain-epochs` says otherwise.

Which layers are pruned, asked of the model's pruning plan (`study_spec`): every layer but the output layer on
MLPs; conv1–conv3 on LeNet-5 (the note's `0-2`); on the chains with BatchNorm (VGG, conv4) every conv but the
first (the authors' VGG scheme); on ResNets the prunable layers of the plan, the first conv of each residual block
(the block's output width is tied to the shortcut).
"""
import math

from ...data import cifar, mnist
from ...models import STUDY_LAYERS, build
from ...nn import Conv2d
from ..studydata import classes

RECIPES = {
    "mnist": dict(pretrain_table="0:0.01,30:0.001,60:0.0001", pretrain_base=90, epochs=90, base=90,
                  tables={"lr0.01": "0:0.01,30:0.001,60:0.0001", "lr0.001": "0:0.001,45:0.0001"},
                  batch_size=100, weight_decay=1e-4, augment=False),
    "cifar": dict(pretrain_table="0:0.1,100:0.01,150:0.001", pretrain_base=200, epochs=120, base=120,
                  tables={"lr0.01": "0:0.01,60:0.001,90:0.0001", "lr0.001": "0:0.001,80:0.0001"},
                  batch_size=128, weight_decay=5e-4, augment=True),
}
BATCH = {"vgg19": 256}            # VGG-19 (the authors' CIFAR-100 script): batch 256

MODELS = {"mlp7-linear": "mnist", "mlp7-relu": "mnist", "lenet300-100": "mnist", "lenet5-linear": "mnist",
          "lenet5-relu": "mnist", "conv4-mnist": "mnist", "resnet20-mnist": "mnist",
          "conv4": "cifar", "resnet20": "cifar", "resnet56": "cifar", "vgg19": "cifar"}
DATASETS = {"mnist": ("mnist", "synthetic"), "cifar": ("cifar10", "cifar100", "synthetic")}


def pretrain_epochs(recipe, epochs):
    """The pretraining length that goes with `epochs` of finetuning: equal on MNIST, 200 : 120 on CIFAR."""
    r = RECIPES[recipe]
    return max(1, round(epochs * r["pretrain_base"] / r["base"]))


def train_size(c):
    """Training images a cell of configuration `c` sees (the subset, the synthetic draw, or the whole set)."""
    name = c.get("dataset", "mnist")
    if name == "synthetic":
        full = c["synthetic_samples"]
    else:
        full = mnist.TRAIN_SIZE if name == "mnist" else cifar.EXPECTED[name][0]
    return min(full, c.get("train_samples") or full)


def steps_per_epoch(c):
    return math.ceil(train_size(c) / c["batch_size"])


def build_preset(c, seed=0):
    """The dense preset of configuration `c`, its output layer sized for the dataset's classes."""
    return build(c["model"], seed=seed, **classes(c.get("dataset")))


def study_spec(model, pr):
    """{weight-layer index: ratio}: `pr` on the layers the study prunes (see the module's docstring), 0 elsewhere."""
    plan = model.pruning_plan()
    if getattr(model, "name", None) in STUDY_LAYERS:
        first, last = STUDY_LAYERS[model.name]
        pruned = set(range(first, last + 1))
    else:
        prunable = [i for i, e in enumerate(plan) if e.prunable]
        convs = [i for i in prunable if isinstance(plan[i].layer, Conv2d)]
        pruned = set(convs[1:] if convs and getattr(model, "chain", False) else prunable)
    return {i: (float(pr) if i in pruned else 0.0) for i in range(len(plan))}
