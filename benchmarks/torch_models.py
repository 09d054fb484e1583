"""PyTorch twins of minidi's CNN presets, with the same attribute names, for the side-by-side benchmarks.

`twin(torch, model)` builds the PyTorch model of the same architecture and copies minidi's weights into it
through `state_dict` — which also checks that the names and layouts really are PyTorch's.
"""
import numpy as np

from minidi.backend import to_numpy


def twin(torch, model):
    nn = torch.nn
    F = torch.nn.functional

    class Block(nn.Module):
        def __init__(self, block):
            super().__init__()
            c1, c2 = block.conv1, block.conv2
            self.conv1 = nn.Conv2d(c1.in_channels, c1.out_channels, 3, c1.stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c1.out_channels)
            self.conv2 = nn.Conv2d(c2.in_channels, c2.out_channels, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c2.out_channels)
            kind = type(block.shortcut).__name__
            if kind == "ZeroPadShortcut":
                s, lo, hi = block.shortcut.stride, block.shortcut.lo, block.shortcut.planes - block.shortcut.in_planes - block.shortcut.lo
                self.pad = lambda x: F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, lo, hi))
                self.shortcut = nn.Sequential()
            elif kind == "Sequential":
                conv = block.shortcut[0]
                self.pad = None
                self.shortcut = nn.Sequential(nn.Conv2d(conv.in_channels, conv.out_channels, 1, conv.stride, bias=False),
                                              nn.BatchNorm2d(conv.out_channels))
            else:
                self.pad, self.shortcut = None, nn.Sequential()

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + (self.pad(x) if self.pad else self.shortcut(x)))

    class ResNet(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            for k, stage in enumerate(m.stages, start=1):
                setattr(self, f"layer{k}", nn.Sequential(*[Block(b) for b in stage.layers]))
            self.linear = nn.Linear(64, m.linear.out_features)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer3(self.layer2(self.layer1(out)))
            return self.linear(out.mean(dim=(2, 3)))

    def layer(m):
        kind = type(m).__name__
        if kind == "Conv2d":
            return nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=m.bias is not None)
        if kind == "Linear":
            return nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        if kind == "BatchNorm2d":
            return nn.BatchNorm2d(m.num_features)
        if kind == "MaxPool2d":
            return nn.MaxPool2d(m.k, m.stride, m.padding)
        return {"ReLU": nn.ReLU, "Identity": nn.Identity, "Tanh": nn.Tanh}[kind]()

    class ConvNet(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.features = nn.Sequential(*[layer(x) for x in m.features.layers])
            cls = m.classifier
            self.classifier = nn.Sequential(*[layer(x) for x in cls.layers]) if hasattr(cls, "layers") else layer(cls)

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    net = ResNet(model) if type(model).__name__ == "ResNet" else ConvNet(model)
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(to_numpy(v))) for k, v in model.state_dict().items()})
    return net
