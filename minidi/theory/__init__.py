"""What the theory predicts, computed by hand beside what minidi measures: `decay.py`, the decay law of a
weight with zero loss gradient under SGD with momentum and weight decay (the weight-shedding study)."""
from . import decay

__all__ = ["decay"]
