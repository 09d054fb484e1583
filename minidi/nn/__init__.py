"""The engine: parameters, modules and layers with forward and backward side by side."""
from .activations import LeakyReLU, ReLU, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d
from .dropout import Dropout
from .linear import Identity, Linear
from .loss import SoftmaxCrossEntropy
from .module import Module, Sequential
from .parameter import Parameter
from .pooling import AvgPool2d, Flatten, GlobalAvgPool2d, MaxPool2d
from .residual import BasicBlock, ZeroPadShortcut

ACTIVATIONS = {"linear": Identity, "identity": Identity, "relu": ReLU, "tanh": Tanh, "leaky_relu": LeakyReLU}

__all__ = ["Parameter", "Module", "Sequential", "Linear", "Identity", "ReLU", "LeakyReLU", "Tanh", "Conv2d",
           "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "Flatten", "BatchNorm1d", "BatchNorm2d", "Dropout",
           "BasicBlock", "ZeroPadShortcut", "SoftmaxCrossEntropy", "ACTIVATIONS"]
