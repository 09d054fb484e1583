"""CIFAR ResNets (He et al. 2016): ResNet-20/32/56 = 6n + 2 layers, three stages of n BasicBlocks.

conv1 3→16 (3×3) → BN → ReLU → layer1 (16 ch) → layer2 (32 ch, stride 2) → layer3 (64 ch, stride 2) →
global average pool → linear 64→classes. Names follow the common PyTorch CIFAR implementation:
`conv1.weight`, `bn1.weight`, `layer2.0.conv1.weight`, `layer2.0.shortcut.0.weight` (option B), `linear.weight`.
"""
import numpy as np

from ..errors import MinidiError
from ..nn import BasicBlock, GlobalAvgPool2d, Identity, Module, ReLU, Sequential, ZeroPadShortcut
from .plan import OUTPUT_LAYER, PruneEntry
from .convnets import Init

NOT_PRUNED = "on ResNets only the first conv of each residual block is pruned (the block's output width is kept)"


class ResNet(Module):
    chain = False             # residual blocks: the activations do not follow the weight layers one to one
    act = "relu"              # a ReLU network (OrthP's gain √2, `minidi.recover.gain_for`)

    def __init__(self, conv1, bn1, stages, linear, side=None):
        self.side = side          # the image side it is built for (the builder: CIFAR's 32; global pooling takes any)
        self.conv1, self.bn1, self.relu = conv1, bn1, ReLU()
        for k, stage in enumerate(stages, start=1):
            setattr(self, f"layer{k}", stage)
        self.stages = stages
        self.pool = GlobalAvgPool2d()
        self.linear = linear

    @property
    def sample_shape(self):
        """(C, H, W) of one input image: C from the first convolution itself, H = W = `side` (None if unstated)."""
        return None if self.side is None else (self.conv1.in_channels, self.side, self.side)

    def forward(self, x):
        out = self.relu.forward(self.bn1.forward(self.conv1.forward(x)))
        for stage in self.stages:
            out = stage.forward(out)
        return self.linear.forward(self.pool.forward(out))

    def backward(self, dy, input_grad=True):
        d = self.pool.backward(self.linear.backward(dy))
        for stage in reversed(self.stages):
            d = stage.backward(d)
        return self.conv1.backward(self.bn1.backward(self.relu.backward(d)), input_grad)

    def r_forward(self, rx):
        out = self.relu.r_forward(self.bn1.r_forward(self.conv1.r_forward(rx)))
        for stage in self.stages:
            out = stage.r_forward(out)
        return self.linear.r_forward(self.pool.r_forward(out))

    def r_backward(self, dy, rdy, input_grad=True):
        d = self.pool.r_backward(*self.linear.r_backward(dy, rdy))
        for stage in reversed(self.stages):
            d = stage.r_backward(*d)
        return self.conv1.r_backward(*self.bn1.r_backward(*self.relu.r_backward(*d)), input_grad)

    def cut_points(self):
        """[(name, [modules])] whose composition is `forward`: the stem (conv1, bn1, ReLU), each residual block,
        then pooling and the linear layer: the cut points of the partial products (`minidi.measure.partialproducts`)."""
        blocks = [(f"layer{k}.{b}", [block]) for k, stage in enumerate(self.stages, start=1)
                  for b, block in enumerate(stage.layers)]
        return [("conv1", [self.conv1, self.bn1, self.relu])] + blocks + [("linear", [self.pool, self.linear])]

    @property
    def widths(self):
        """Output units of each weight layer of the pruning plan (filters, then the classes)."""
        return [e.layer.weight.shape[0] for e in self.pruning_plan()]

    def architecture(self):
        """The builder's option that gives this network's own widths: `widths`, the output channels of each
        block's first conv (the only ones filter pruning changes), in forward order."""
        return {"widths": [block.conv1.out_channels for stage in self.stages for block in stage.layers]}

    def pruning_plan(self):
        plan = [PruneEntry("conv1", self.conv1, prunable=False, why=NOT_PRUNED)]
        for k, stage in enumerate(self.stages, start=1):
            for b, block in enumerate(stage.layers):
                name = f"layer{k}.{b}"
                plan.append(PruneEntry(f"{name}.conv1", block.conv1, block.bn1, block.conv2))
                plan.append(PruneEntry(f"{name}.conv2", block.conv2, prunable=False, why=NOT_PRUNED))
                if isinstance(block.shortcut, Sequential):
                    plan.append(PruneEntry(f"{name}.shortcut.0", block.shortcut[0], prunable=False, why=NOT_PRUNED))
        plan.append(PruneEntry("linear", self.linear, prunable=False,
                               why=OUTPUT_LAYER))
        return plan

    def __repr__(self):
        return f"ResNet({sum(len(s) for s in self.stages)} blocks)"


def resnet(depth=20, n_classes=10, in_channels=3, shortcut="A", seed=0, dtype=np.float32, init="kaiming-normal",
           widths=None):
    """ResNet-{depth} for CIFAR; shortcut "A" (zero-padded identity) or "B" (1×1 conv + BN projection).
    widths: the output channels of each block's first conv (3n values; default the stage's width: a filter-pruned
    ResNet at its own widths, e.g. for training the pruned widths from scratch)."""
    if (depth - 2) % 6:
        raise MinidiError(f"a CIFAR ResNet has 6n + 2 layers (20, 32, 56, ...), got {depth}")
    if shortcut not in ("A", "B"):
        raise MinidiError(f"shortcut must be 'A' or 'B', got {shortcut!r}")
    n = (depth - 2) // 6
    if widths is not None and (len(widths) != 3 * n or any(int(w) < 1 for w in widths)):
        raise MinidiError(f"ResNet-{depth} has {3 * n} blocks: widths must be {3 * n} positive channel counts, got "
                          f"{list(widths)}")
    inner = iter(int(w) for w in widths) if widths is not None else None
    i = Init(seed, "relu", dtype, init)
    stages, c = [], 16
    for planes, stride in ((16, 1), (32, 2), (64, 2)):
        blocks = []
        for b in range(n):
            mid = next(inner) if inner is not None else planes
            s = stride if b == 0 else 1
            if s == 1 and c == planes:
                short = Identity()
            elif shortcut == "A":
                short = ZeroPadShortcut(c, planes, s)
            else:
                short = Sequential(i.conv(c, planes, 1, stride=s, bias=False), i.bn(planes))
            blocks.append(BasicBlock(i.conv(c, mid, 3, s, 1, bias=False), i.bn(mid),
                                     i.conv(mid, planes, 3, 1, 1, bias=False), i.bn(planes), short))
            c = planes
        stages.append(Sequential(*blocks))
    return ResNet(i.conv(in_channels, 16, 3, 1, 1, bias=False), i.bn(16), stages, i.linear(64, n_classes), side=32)
