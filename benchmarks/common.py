"""Shared helpers of the benchmark scripts: timing and the optional PyTorch baseline."""
import time


def best_of(fn, repeats=3, sync=lambda: None):
    """The fastest of `repeats` runs of fn() in seconds (after one warm-up run)."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


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
    """Print a small table: name, seconds, and the ratio minidi / PyTorch where both exist."""
    for name, ours, theirs in rows:
        line = f"{name:<40} minidi {ours:8.4f} s"
        if theirs is not None:
            line += f"   pytorch {theirs:8.4f} s   ratio minidi/pytorch {ours / theirs:5.2f}"
        print(line)
