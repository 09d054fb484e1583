"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam. Both respect pruning masks.

An optimizer holds a list of Parameters and, per parameter, its state (momentum buffer, Adam moments).
`step()` reads `p.grad` and updates `p.data` in place; afterwards masked weights are re-zeroed, so a pruned
weight stays exactly 0 however momentum or weight decay would move it. The learning rate (and momentum)
are plain attributes that a schedule sets before each epoch or iteration.
"""
from .backend import get_array_module
from .errors import MinidiError, check_number


class SGD:
    """PyTorch's SGD:  g = ∇ + λ·w;  v ← μ·v + g;  w ← w − η·(g + μ·v if nesterov else v).

    Weight decay λ applies to every parameter, biases included (the studies' recipe).
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        check_number(lr, "learning rate", low=0)
        check_number(momentum, "momentum", low=0, high=1, high_open=True)
        check_number(weight_decay, "weight decay", low=0)
        if nesterov and not momentum:
            raise MinidiError("Nesterov momentum needs a momentum > 0")
        self.params = list(params)
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, nesterov
        self.buffers = [None] * len(self.params)

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad                                   # owned by p and dropped by zero_grad: safe to overwrite
            if g is None:
                continue
            if self.weight_decay:
                g += self.weight_decay * p.data
            if self.momentum:
                v = self.buffers[i]
                if v is None:
                    v = self.buffers[i] = g.copy()       # PyTorch: the first step sets v = g
                else:
                    v *= self.momentum
                    v += g
                if self.nesterov:
                    g += self.momentum * v
                else:
                    g = v
            p.data -= self.lr * g
            p.apply_mask()

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def state_dict(self):
        return {f"momentum_buffer.{i}": v for i, v in enumerate(self.buffers) if v is not None}

    def load_state_dict(self, state):
        for i, p in enumerate(self.params):
            v = state.get(f"momentum_buffer.{i}")
            self.buffers[i] = None if v is None else get_array_module(p.data).array(v, dtype=p.data.dtype)  # a copy


class Adam:
    """m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  w ← w − η · m̂ / (√v̂ + ε),  m̂, v̂ bias-corrected."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        check_number(lr, "learning rate", low=0)
        for i, beta in enumerate(betas):
            check_number(beta, f"betas[{i}]", low=0, high=1, high_open=True)
        check_number(eps, "eps", low=0, low_open=True)
        check_number(weight_decay, "weight decay", low=0)
        self.params = list(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0
        self.m = [None] * len(self.params)
        self.v = [None] * len(self.params)

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            xp = get_array_module(p.data)
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.m[i] is None:
                self.m[i], self.v[i] = xp.zeros_like(p.data), xp.zeros_like(p.data)
            self.m[i] *= b1
            self.m[i] += (1 - b1) * g
            self.v[i] *= b2
            self.v[i] += (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1 ** self.t)
            v_hat = self.v[i] / (1 - b2 ** self.t)
            p.data -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)
            p.apply_mask()

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def state_dict(self):
        state = {"t": self.t}
        for i in range(len(self.params)):
            if self.m[i] is not None:
                state[f"m.{i}"], state[f"v.{i}"] = self.m[i], self.v[i]
        return state

    def load_state_dict(self, state):
        self.t = int(state.get("t", 0))
        for i, p in enumerate(self.params):
            if f"m.{i}" in state:
                xp = get_array_module(p.data)
                self.m[i], self.v[i] = xp.array(state[f"m.{i}"]), xp.array(state[f"v.{i}"])  # copies
