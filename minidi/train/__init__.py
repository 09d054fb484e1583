"""Training: `loop.py` the epoch loop (`fit`) and `evaluate`; `callbacks.py` what a run adds to the loop
(checkpoint and log, the divergence check, progress); `checkpoint.py` a run's state on disk; `run.py` a whole
SGD run into a folder (`train_sgd`, what `minidi train` and the studies' training cells call)."""
from .checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from .loop import TrainingDiverged, evaluate, fit, summarize
from .run import train_sgd

__all__ = ["fit", "evaluate", "summarize", "TrainingDiverged", "train_sgd", "save_weights", "load_weights",
           "save_checkpoint", "load_checkpoint"]
