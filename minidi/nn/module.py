"""Module: the base of every layer and model; Sequential: a chain of modules.

A module has `forward(x)` (keeping what backward needs) and `backward(dy)`, which returns dL/dx and adds
dL/dparameter into each parameter's `.grad`. backward never modifies `dy`.

Names follow PyTorch: a parameter's name is the path of attribute names to it (`layers.0.weight`), found by
walking the module's attributes in the order they were set. So a minidi model and the PyTorch model written
with the same attributes have identical `state_dict` keys, and weights move between them through `.npz`.
"""
from collections.abc import Mapping

import numpy as np

from ..backend import get_array_module
from ..errors import MinidiError
from .parameter import Parameter


class Module:
    training = True
    buffer_names = ()  # names of non-trainable arrays saved in state_dict (e.g. BatchNorm running stats)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dy, input_grad=True):
        """dL/dx from dL/dy. With input_grad=False a layer may skip dL/dx and return None (first layer)."""
        raise NotImplementedError

    def r_forward(self, rx):
        """R{y} from R{x} (Pearlmutter's R-operator along the parameters' directions), after forward(x)."""
        raise NotImplementedError(f"{type(self).__name__} has no R-operator rule (see minidi.hvp)")

    def r_backward(self, dy, rdy, input_grad=True):
        """(δ_in, R{δ_in}) from (δ, R{δ}), accumulating R{∇W} into the weights' `r_grad`, after r_forward."""
        raise NotImplementedError(f"{type(self).__name__} has no R-operator rule (see minidi.hvp)")

    def __call__(self, x):
        return self.forward(x)

    # --- the tree of modules and parameters -------------------------------------------------------------
    def named_children(self):
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}{name}.")

    def named_parameters(self, prefix=""):
        """Yield (name, Parameter) in layer order, with PyTorch's dotted names."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(f"{prefix}{name}.")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for name in self.buffer_names:
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}{name}.")

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode=True):
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self):
        return self.train(False)

    # --- arrays: device, dtype, state_dict ---------------------------------------------------------------
    def apply_arrays(self, fn):
        """Replace every parameter's data/grad/mask and every buffer by fn(array); returns self."""
        for _, m in self.named_modules():
            for name in m.buffer_names:
                setattr(m, name, fn(getattr(m, name)))
            for value in vars(m).values():
                if isinstance(value, Parameter):
                    value.data = fn(value.data)
                    if value.grad is not None:
                        value.grad = fn(value.grad)
                    if value.mask is not None:
                        value.mask = fn(value.mask)
        return self

    def astype(self, dtype):
        """Cast every floating parameter and buffer (e.g. to float64 for gradient checks); returns self."""
        return self.apply_arrays(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)

    def state_dict(self):
        """{name: array} of parameters then buffers, PyTorch names and layouts, in layer order (device arrays)."""
        state = {}
        for name, m in self.named_modules():
            for pname, value in vars(m).items():
                if isinstance(value, Parameter):
                    state[name + pname] = value.data
            for bname in m.buffer_names:
                state[name + bname] = getattr(m, bname)
        return state

    def load_state_dict(self, state):
        """Copy arrays into this model; keys and shapes must match exactly (a clear error otherwise).

        `state`: a mapping {name: numeric array} (NumPy or CuPy); lists, None or string arrays are refused.
        """
        if not isinstance(state, Mapping):
            raise MinidiError(f"load_state_dict needs a mapping {{name: array}}, got {type(state).__name__}")
        state = {key: _numeric_array(key, value) for key, value in state.items()}
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        extra = [k for k in state if k not in own]
        if missing or extra:
            raise MinidiError(f"state_dict does not fit the model: missing keys {missing[:5]}, unexpected keys {extra[:5]}")
        for key, target in own.items():
            if tuple(state[key].shape) != tuple(target.shape):
                raise MinidiError(f"state_dict: {key} has shape {tuple(state[key].shape)}, the model needs {tuple(target.shape)}")
        _check_values(state)
        xp = get_array_module(next(iter(own.values())))
        params = dict(self.named_parameters())
        for name, m in self.named_modules():
            for bname in m.buffer_names:
                setattr(m, bname, xp.asarray(state[name + bname], dtype=getattr(m, bname).dtype).copy())
        for key, p in params.items():
            p.data = xp.asarray(state[key], dtype=p.data.dtype).copy()
            p.apply_mask()
        return self

    def masks(self):
        """{parameter name: mask} of the masked parameters."""
        return {n: p.mask for n, p in self.named_parameters() if p.mask is not None}

    def num_parameters(self):
        return sum(int(p.size) for p in self.parameters())

    def __repr__(self):
        lines = [type(self).__name__ + "("]
        for name, child in self.named_children():
            lines += [f"  ({name}): " + line for line in repr(child).splitlines()[:1]] + \
                     ["  " + line for line in repr(child).splitlines()[1:]]
        return "\n".join(lines) + ")" if len(lines) > 1 else type(self).__name__ + "()"


def _check_values(state):
    """Every float array finite, and no negative running variance (BatchNorm divides by its square root)."""
    nonfinite = [k for k, v in state.items() if v.dtype.kind == "f" and not bool(get_array_module(v).isfinite(v).all())]
    if nonfinite:
        raise MinidiError(f"state_dict: {', '.join(nonfinite[:3])} holds NaN or infinite values")
    negative = [k for k, v in state.items() if k.endswith("running_var") and bool((v < 0).any())]
    if negative:
        raise MinidiError(f"state_dict: {', '.join(negative[:3])} holds a negative variance")


def _numeric_array(key, value):
    """`value` if it is an array of numbers (NumPy or device); a MinidiError naming `key` otherwise."""
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        raise MinidiError(f"state_dict[{key!r}] must be an array, got {type(value).__name__}")
    if np.dtype(value.dtype).kind not in "biuf":
        raise MinidiError(f"state_dict[{key!r}] must hold numbers, got an array of dtype {value.dtype}")
    return value



class FixedBackward(Module):
    """A layer whose backward, once its forward pass has run, is a fixed linear map of dy: pooling (the routing
    or the averaging is fixed), ReLU/LeakyReLU (the slope is held), dropout (the mask), flatten, a shortcut.
    Its R-operator backward is that same map applied to δ and to R{δ}:
        (δ_in, R{δ_in}) = (backward(δ), backward(R{δ})).
    Each such layer still states its own `r_forward`."""

    def r_backward(self, dy, rdy, input_grad=True):
        return self.backward(dy), self.backward(rdy)


class Sequential(Module):
    """y = f_L(... f_2(f_1(x))); backward runs the chain in reverse. Children are named "0", "1", ..."""

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)
        self.layers = list(layers)  # the same objects, for iteration (a list is not a Module: not walked twice)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy, input_grad=True):
        for i in range(len(self.layers) - 1, -1, -1):
            dy = self.layers[i].backward(dy, input_grad=input_grad or i > 0)
        return dy

    def r_forward(self, rx):                              # R{x} through the chain (minidi.hvp)
        for layer in self.layers:
            rx = layer.r_forward(rx)
        return rx

    def r_backward(self, dy, rdy, input_grad=True):
        for i in range(len(self.layers) - 1, -1, -1):
            dy, rdy = self.layers[i].r_backward(dy, rdy, input_grad=input_grad or i > 0)
        return dy, rdy

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]
