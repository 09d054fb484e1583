"""Shared helpers of the benchmark scripts: timing and the optional PyTorch baseline."""
import time


def best_of(fn, repeats=3, sync=lambda: None, warmup=True):
    """The fastest of `repeats` runs of fn() in seconds (after one warm-up run unless warmup=False)."""
    if warmup:
        fn()
        sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def paired(ours, theirs, rounds=3, repeats=2, sync=lambda: None, tsync=lambda: None):
    """Time minidi and PyTorch (theirs may be None) in alternating blocks: `rounds` times, the best of `repeats`
    runs of each. On a shared, noisy machine both then see the same conditions. Returns the best time of each
    and the ratio minidi/PyTorch of every round."""
    a, b = [], []
    for r in range(rounds):
        a.append(best_of(ours, repeats, sync, warmup=r == 0))
        if theirs is not None:
            b.append(best_of(theirs, repeats, tsync, warmup=r == 0))
    return min(a), (min(b) if b else None), [x / y for x, y in zip(a, b)]


def torch_or_none():
    try:
        import torch
        return torch
    except ImportError:
        return None


def torch_mlp(torch, model):
    """The PyTorch twin of a minidi MLP: the same `layers` Sequential, weights copied by state_dict."""
    import numpy as np
    from minidi.backend import to_numpy
    mods = []
    for layer in model.layers.layers:
        name = type(layer).__name__
        if name == "Linear":
            mods.append(torch.nn.Linear(layer.in_features, layer.out_features))
        else:
            mods.append({"Identity": torch.nn.Identity, "ReLU": torch.nn.ReLU, "Tanh": torch.nn.Tanh}[name]())
    net = torch.nn.Module()
    net.layers = torch.nn.Sequential(*mods)
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(to_numpy(v))) for k, v in model.state_dict().items()})
    net.forward = lambda x: net.layers(x)
    return net


def report(rows):
    """Print a small table: name, seconds, and the ratio minidi / PyTorch where both exist (with the range of
    the per-round ratios when a row carries them)."""
    for name, ours, theirs, *rounds in rows:
        line = f"{name:<40} minidi {ours:8.4f} s"
        if theirs is not None:
            line += f"   pytorch {theirs:8.4f} s   ratio minidi/pytorch {ours / theirs:5.2f}"
            if rounds and len(rounds[0]) > 1:
                line += f"   (rounds {min(rounds[0]):.2f}–{max(rounds[0]):.2f})"
        print(line)


def torch_chain(torch, model):
    """The MLP twin as a real nn.Module subclass (deep-copyable: torch_mlp's forward is a closure)."""
    class Chain(torch.nn.Module):
        def __init__(self, layers):
            super().__init__()
            self.layers = layers

        def forward(self, x):
            return self.layers(x.flatten(1))
    return Chain(torch_mlp(torch, model).layers)
