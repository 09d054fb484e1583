"""The residual BasicBlock of CIFAR ResNets (He et al. 2016) and its shortcuts."""
from ..backend import get_array_module
from .activations import ReLU
from .module import FixedBackward, Module


class ZeroPadShortcut(FixedBackward):
    """Option A: subsample by the stride and zero-pad the new channels (no parameters).

    x: (N, C_in, H, W) -> (N, C_out, H/s, W/s) with x[:, :, ::s, ::s] in channels lo .. lo+C_in,
    lo = (C_out − C_in) // 2, as the CIFAR ResNets of the original paper. The output is channel-major in
    memory, like a convolution's (see `minidi.nn.im2col`), so adding it to the main path stays contiguous.
    """

    def __init__(self, in_planes, planes, stride):
        self.in_planes, self.planes, self.stride = in_planes, planes, stride
        self.lo = (planes - in_planes) // 2

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        sub = x[:, :, ::self.stride, ::self.stride]
        out = xp.zeros((self.planes, x.shape[0]) + sub.shape[2:], dtype=x.dtype).transpose(1, 0, 2, 3)
        out[:, self.lo:self.lo + self.in_planes] = sub
        return out

    def backward(self, dy, input_grad=True):
        dx = get_array_module(dy).zeros(self.x_shape, dtype=dy.dtype)
        dx[:, :, ::self.stride, ::self.stride] = dy[:, self.lo:self.lo + self.in_planes]
        return dx

    def r_forward(self, rx):                              # linear in x
        return self.forward(rx)

    def __repr__(self):
        return f"ZeroPadShortcut({self.in_planes}->{self.planes}, stride={self.stride})"


class BasicBlock(Module):
    """out = relu( bn2(conv2( relu(bn1(conv1(x))) )) + shortcut(x) ).

    The shortcut is Identity, ZeroPadShortcut (option A) or Sequential(1×1 Conv2d, BatchNorm2d) (option B).
    Backward: the gradient after the final ReLU goes both ways; dx = d(main path) + d(shortcut).
    """

    def __init__(self, conv1, bn1, conv2, bn2, shortcut):
        self.conv1, self.bn1, self.relu1 = conv1, bn1, ReLU()
        self.conv2, self.bn2 = conv2, bn2
        self.shortcut, self.relu2 = shortcut, ReLU()

    def forward(self, x):
        out = self.relu1.forward(self.bn1.forward(self.conv1.forward(x)))
        out = self.bn2.forward(self.conv2.forward(out))
        return self.relu2.forward(out + self.shortcut.forward(x))

    def backward(self, dy, input_grad=True):
        d = self.relu2.backward(dy)
        main = self.conv1.backward(self.bn1.backward(self.relu1.backward(
            self.conv2.backward(self.bn2.backward(d)))), input_grad)
        short = self.shortcut.backward(d)
        return main + short if input_grad else None

    def r_forward(self, rx):                              # the same graph, carrying R{·} (minidi.hvp)
        out = self.relu1.r_forward(self.bn1.r_forward(self.conv1.r_forward(rx)))
        out = self.bn2.r_forward(self.conv2.r_forward(out))
        return self.relu2.r_forward(out + self.shortcut.r_forward(rx))

    def r_backward(self, dy, rdy, input_grad=True):
        d = self.relu2.r_backward(dy, rdy)
        main = self.conv1.r_backward(*self.bn1.r_backward(*self.relu1.r_backward(
            *self.conv2.r_backward(*self.bn2.r_backward(*d)))), input_grad)
        if not input_grad:
            self.shortcut.r_backward(*d)                  # a 1×1-conv shortcut has weights of its own
            return None, None
        short = self.shortcut.r_backward(*d)
        return main[0] + short[0], main[1] + short[1]

    def __repr__(self):
        return f"BasicBlock({self.conv1.in_channels}->{self.conv2.out_channels}, stride={self.conv1.stride})"
