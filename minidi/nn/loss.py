"""Softmax cross-entropy, the loss of every classifier in minidi."""
from ..backend import get_array_module


class SoftmaxCrossEntropy:
    """L = −(1/N) Σ_n log softmax(z_n)[y_n].   z: (N, C) logits, y: (N,) integer labels.

    Stable form: log softmax(z) = z − m − log Σ_c exp(z_c − m) with m = max_c z_c.
    Gradient: dL/dz = (softmax(z) − onehot(y)) / N.
    """

    def forward(self, logits, labels):
        xp = get_array_module(logits)
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = xp.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = xp.arange(len(labels))
        self.probs, self.labels, self.rows = exp / total, labels, rows
        return (xp.log(total[:, 0]) - shifted[rows, labels]).mean()   # a 0-d array: no device sync here

    def backward(self):
        dz = self.probs.copy()
        dz[self.rows, self.labels] -= 1
        dz /= len(self.labels)
        return dz
