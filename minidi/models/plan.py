"""A model's topology, asked of the model by everything downstream (pruning, the Jacobian, the studies):

    model.pruning_plan()   for each weight layer, in forward order, what its output units feed (below)
    weight_layers(model)   the Linear and Conv2d layers in forward order
    model.sample_shape     the shape of one input sample, (D,) or (C, H, W), asked of the model itself: an MLP
                           from its first layer, a CNN from its first convolution's input channels and the image
                           side it was built for (the builders: 32; None for a hand-built one that states none)
    model.chain            True when the k-th activation follows the k-th weight layer (MLPs, LeNet, VGG);
                           False for residual networks
    model.cut_points()     (CNNs) [(name, [modules])] whose composition is the forward pass: where the partial
                           products of `minidi.measure.partialproducts` end

The pruning plan: for each weight layer, what its output units feed.

Physical removal of unit j of a layer touches three places: row j of the layer itself (weight and bias),
channel j of a BatchNorm right after it, and the inputs of the next weight layer that read unit j (one column
of a Linear, one input channel of a Conv2d, or H·W columns of a Linear after a Flatten). A model lists these
as `PruneEntry` rows, one per weight layer in forward order, from `model.pruning_plan()`.
"""
from dataclasses import dataclass

from ..nn import BatchNorm1d, BatchNorm2d, Conv2d, Linear
from ..nn.checks import plan_of

OUTPUT_LAYER = "it is the output layer, whose neurons (the classes) are never pruned"


@dataclass
class PruneEntry:
    name: str                 # module path, e.g. "layers.0", "features.3", "layer1.0.conv1"
    layer: object             # the Linear or Conv2d whose output units (rows / filters) are scored and removed
    bn: object = None         # a BatchNorm over those units, or None
    next: object = None       # the weight layer reading them (its input columns / channels), or None
    group: int = 1            # inputs of `next` per unit: H·W when a Flatten sits between a conv and a Linear
    prunable: bool = True
    why: str = ""             # why not, when prunable is False


def weight_layers(model):
    """Every weight layer (Linear or Conv2d) of a model, in forward order."""
    return [entry.layer for entry in plan_of(model)]


def is_weight_layer(module):
    return isinstance(module, (Linear, Conv2d))


def chain_plan(named):
    """The plan of a plain chain of modules [(name, module), ...] (MLPs, LeNet, VGG): every weight layer feeds
    the next one; the last is the output layer and is never pruned."""
    idx = [i for i, (_, m) in enumerate(named) if is_weight_layer(m)]
    plan = []
    for k, i in enumerate(idx):
        name, layer = named[i]
        if k + 1 == len(idx):
            plan.append(PruneEntry(name, layer, prunable=False, why=OUTPUT_LAYER))
            break
        nxt = named[idx[k + 1]][1]
        bn = next((m for _, m in named[i + 1:idx[k + 1]] if isinstance(m, (BatchNorm1d, BatchNorm2d))), None)
        group = nxt.in_features // layer.out_channels if isinstance(layer, Conv2d) and isinstance(nxt, Linear) else 1
        plan.append(PruneEntry(name, layer, bn, nxt, group))
    return plan
