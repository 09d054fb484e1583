"""Parameter: a weight array, its gradient, and an optional pruning mask."""
from ..backend import get_array_module
from ..errors import MinidiError


class Parameter:
    """A trainable array.

    data : the values, stored as PyTorch stores them (Linear weight (out, in), conv kernel (out, in, kh, kw)).
    grad : dL/d(data), same shape, or None when no gradient has been computed since `zero_grad` (as PyTorch's
           `zero_grad(set_to_none=True)`). Layers call `accumulate(g)`: the first backward assigns, later
           ones add, so gradients of several backward passes sum up.
    mask : None, or an array of 0/1 of data's shape. Invariant: data * mask == data, i.e. a masked weight is
           exactly 0. `set_mask` establishes it; layers zero the masked entries of grad; optimizers re-apply
           the mask after every step, so masked weights stay 0 through training.
    requires_grad : False skips the parameter-gradient work in backward (used by the Jacobian, which only
           needs d output / d input).
    direction, r_grad : the Hessian-vector product's direction v on this parameter (None: 0) and R{∇L}, the
           directional derivative of the gradient along v, which the layers' `r_backward` accumulate
           (`minidi.hvp`). Only the weights of Linear and Conv2d layers take a direction.
    """

    def __init__(self, data):
        if not (hasattr(data, "shape") and hasattr(data, "dtype")) or getattr(data.dtype, "kind", "") != "f":
            raise MinidiError(f"a Parameter holds a float array (NumPy or CuPy), got {type(data).__name__}"
                              + (" (layers take their weight arrays, not sizes: draw them with minidi.nn.init)"
                                 if isinstance(data, int) else ""))
        self.data = data
        self.grad = None
        self.mask = None
        self.requires_grad = True
        self.direction = None
        self.r_grad = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        self.grad = None

    def accumulate(self, g):
        """grad += g, with the masked entries of g zeroed; `g` becomes owned by the parameter."""
        if not self.requires_grad:
            return
        if self.mask is not None:
            g = g * self.mask
        if self.grad is None:
            self.grad = g
        else:
            self.grad += g

    def accumulate_r(self, g):
        """r_grad += g, the masked entries of g zeroed (a pruned weight has no curvature: it cannot move)."""
        if self.mask is not None:
            g = g * self.mask
        self.r_grad = g if self.r_grad is None else self.r_grad + g

    def set_mask(self, mask):
        """Attach a 0/1 mask (or None to remove it) and zero the masked weights."""
        if mask is None:
            self.mask = None
            return
        if tuple(mask.shape) != tuple(self.data.shape):
            from ..errors import MinidiError
            raise MinidiError(f"mask of shape {tuple(mask.shape)} for a parameter of shape {tuple(self.data.shape)}")
        xp = get_array_module(self.data)
        self.mask = xp.asarray(mask, dtype=self.data.dtype)
        self.apply_mask()

    def apply_mask(self):
        """data <- data * mask (no-op without a mask)."""
        if self.mask is not None:
            self.data *= self.mask

    def __repr__(self):
        return f"Parameter(shape={tuple(self.data.shape)}, dtype={self.data.dtype}, masked={self.mask is not None})"
