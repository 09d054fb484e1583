"""Learning-rate schedules: `curves.py` the schedules themselves (objects mapping training time to a learning
rate, the five retraining schedules), `text.py` their command-line form ("0:0.01,30:0.001", "cosine:..."). """
from .curves import (RETRAINING, Constant, Cosine, EpochTable, MultiStep, OneCycle, Rewound, ScaledRestart, Schedule,
                     dense_step, retraining_schedule)
from .text import parse_schedule

__all__ = ["Schedule", "Constant", "EpochTable", "MultiStep", "Cosine", "OneCycle", "Rewound", "ScaledRestart",
           "RETRAINING", "dense_step", "retraining_schedule", "parse_schedule"]
