"""Weight initializers. Each draws on the host from a NumPy generator and returns a NumPy array of `shape`.

fan_in = shape[1] · (kh · kw), fan_out = shape[0] · (kh · kw), as PyTorch computes them.
"""
import math

import numpy as np


def fans(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _gain(nonlinearity, a=0.0):
    return {"linear": 1.0, "identity": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0),
            "leaky_relu": math.sqrt(2.0 / (1 + a * a))}[nonlinearity]


def kaiming_uniform(shape, rng, a=math.sqrt(5), dtype=np.float32):
    """U(−b, b), b = gain·√(3/fan_in), gain = √(2/(1+a²)). With a = √5 (PyTorch's Linear default) b = 1/√fan_in."""
    fan_in, _ = fans(shape)
    bound = _gain("leaky_relu", a) * math.sqrt(3.0 / fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def kaiming_normal(shape, rng, nonlinearity="relu", mode="fan_out", dtype=np.float32):
    """N(0, σ²), σ = gain/√fan (fan_out by default, the usual choice for CNNs)."""
    fan_in, fan_out = fans(shape)
    std = _gain(nonlinearity) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    return (rng.standard_normal(size=shape) * std).astype(dtype)


def xavier_uniform(shape, rng, gain=1.0, dtype=np.float32):
    """U(−b, b), b = gain·√(6/(fan_in+fan_out))."""
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def xavier_normal(shape, rng, gain=1.0, dtype=np.float32):
    """N(0, σ²), σ = gain·√(2/(fan_in+fan_out))."""
    fan_in, fan_out = fans(shape)
    return (rng.standard_normal(size=shape) * gain * math.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def orthogonalize(matrix):
    """The orthonormal factor of a 2-D matrix: Q of its reduced QR with column j multiplied by sign(R[j, j]).

    A wide matrix (rows < cols) is handled through its transpose, so the result has orthonormal rows
    (W Wᵀ = I) when wide and orthonormal columns (Wᵀ W = I) when tall. Works on NumPy and CuPy arrays.
    """
    from ..backend import get_array_module
    xp = get_array_module(matrix)
    wide = matrix.shape[0] < matrix.shape[1]
    a = matrix.T if wide else matrix
    q, r = xp.linalg.qr(a)                       # a = q r, q: (m, n) with m ≥ n
    signs = xp.sign(xp.diagonal(r))
    signs = xp.where(signs == 0, 1, signs)       # a zero pivot keeps its column as is
    q = q * signs                                # the Gram–Schmidt orthonormalization of a's columns
    return q.T if wide else q


def orthogonal(shape, rng, gain=1.0, dtype=np.float32):
    """A random (semi-)orthogonal matrix (or kernel, flattened to (out, in·kh·kw)) times gain."""
    rows = shape[0]
    cols = int(np.prod(shape[1:]))
    q = orthogonalize(rng.standard_normal(size=(rows, cols)))
    return (gain * q).reshape(shape).astype(dtype)


def bias_uniform(fan_in, size, rng, dtype=np.float32):
    """PyTorch's default bias: U(−1/√fan_in, 1/√fan_in)."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return rng.uniform(-bound, bound, size=size).astype(dtype)


INITIALIZERS = {
    "default": kaiming_uniform,   # PyTorch's nn.Linear / nn.Conv2d default
    "kaiming-uniform": kaiming_uniform,
    "kaiming-normal": kaiming_normal,
    "xavier-uniform": xavier_uniform,
    "xavier-normal": xavier_normal,
    "orthogonal": orthogonal,
}
