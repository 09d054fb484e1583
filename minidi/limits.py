"""Upper bounds of every count a user gives, in one place: a value past them is surely a typo (1e20 seeds would
write config.json and then never report progress), so it is a one-line error instead of a run that never ends."""
MAX_SEEDS = 10_000           # replicates (and finetuning data orders)
MAX_EPOCHS = 100_000         # any epoch count or budget
MAX_ROUNDS = 100_000         # SynFlow's rounds; the curvature lens's Lanczos steps and probes
MAX_STEPS = 10_000           # gradual GMP's prune steps
MAX_SGD_STEPS = 10 ** 9      # optimizer iterations the decay law is iterated over
