"""OrthP: exact isometry recovery, and orthogonal initialization (Wang et al. 2021, Saxe et al. 2014).

OrthP, for every weight matrix W (conv kernels flattened to (out, in·kh·kw)):
    A = Wᵀ if W is wide else W;  A = Q R (reduced QR);  Q[:, j] *= sign(R[j, j]);  W ← gain · (Qᵀ or Q).
For a linear MLP whose widths never grow after the first layer every W_l has orthonormal rows from layer 1 on
(and W_1 has too when it is wide), so J Jᵀ = W_L ⋯ W_1 W_1ᵀ ⋯ W_Lᵀ = I: every Jacobian singular value is 1.
"""
import math

from ..backend import device_of, get_array_module, to_device
from ..backend import rng as backend_rng
from ..nn.init import orthogonal, orthogonalize
from ..errors import check_number, check_seed
from ..models.plan import weight_layers


def as_matrix(w):
    """A weight array as a matrix (out, fan-in): conv kernels (out, in, kh, kw) are flattened (a view)."""
    return w.reshape(w.shape[0], -1)


def orthp(model, gain=1.0):
    """Replace every weight matrix by gain × its sign-fixed QR orthonormal factor, in place; biases untouched.

    gain: 1 for linear networks, √2 for ReLU networks. Masks, if any, are re-applied (which of course breaks
    exact orthogonality of a masked matrix). Returns the model.
    """
    gain = check_number(gain, "gain", low=0, low_open=True)
    for layer in weight_layers(model):
        w = layer.weight
        q = orthogonalize(as_matrix(w.data).astype(get_array_module(w.data).float64))
        w.data = (gain * q).astype(w.data.dtype).reshape(w.shape)
        w.apply_mask()
    return model


def orthogonal_init(model, gain=1.0, seed=0):
    """Re-draw every weight matrix as a random (semi-)orthogonal matrix times gain (biases kept)."""
    gain = check_number(gain, "gain", low=0, low_open=True)
    rng = backend_rng(check_seed(seed))
    device = None
    for layer in weight_layers(model):
        device = device or device_of(layer.weight.data)
        w = orthogonal(layer.weight.shape, rng, gain, dtype=layer.weight.data.dtype)
        layer.weight.data = to_device(w, device)
        layer.weight.apply_mask()
    return model


def gain_for(model):
    """√2 for ReLU networks, 1 otherwise (the OrthP gain of the paper)."""
    return math.sqrt(2.0) if getattr(model, "act", None) == "relu" else 1.0
