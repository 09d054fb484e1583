"""The core study's arms: how each finetuning run gets its starting network, and the arithmetic of the arms.

An arm is `lr<η>` or `lr<η>+<route>`, η ∈ {0.01, 0.001} (the finetuning LR table: 0.01 → ×0.1 at 1/3 and 2/3
of the run, the paper's; 0.001 → ×0.1 at 1/2), route one of
    (none)      L1 pruning at PR, the surviving weights inherited (Wang et al.'s L1 arm)
    orthp       L1, then OrthP (exact isometry for linear networks; `minidi.recover.orthp`)
    ai          L1, then approximate isometry (Lee et al. 2020: per layer ‖W Wᵀ − I‖² by Adam, masks kept), ×gain
    tpp         the regularized route (Wang & Fu 2023): L1's choice fixed on the dense model, `tpp_epochs` of
                training with the TPP penalty at LR η (λ scaled to the phase: `tpp_step`), then the chosen units
                removed and the network finetuned
    scratch-e   the pruned widths from a fresh initialization of the preset (`models.fresh`), the finetuning
                schedule and epochs ("Scratch-E", Liu et al. 2019)
    scratch-b   the same network trained for the epochs that spend the dense pretraining's FLOPs on it
                ("Scratch-B"), at most `scratch_b_cap` × the finetuning epochs (`scratch_b_epochs`)
`--arms` takes arm names, routes alone (both LRs) or "all" (every arm, the default).
"""
import copy
import math
import os

from ...backend import device_of, to_device
from ...errors import MinidiError, check_number
from ...nn.checks import plan_of, sample_shape
from ...recover import TPPRegularizer, approximate_isometry, gain_for, orthp
from ...models import fresh
from ...prune import l1_keep, remove_units
from ...prune.report import layer_report
from ...schedules import parse_schedule

LRS = ("lr0.01", "lr0.001")
ROUTES = ("", "orthp", "ai", "tpp", "scratch-e", "scratch-b")
ALL_ARMS = tuple(lr + (f"+{r}" if r else "") for r in ROUTES for lr in LRS)
SCRATCH_SEED = 10_000            # a scratch arm of replicate s draws its init with seed 10 000 + s
AI = dict(ai_steps=10000, ai_lr=1e-3, ai_tol=1e-6)   # Lee et al.'s optimiser settings


def parse_arms(text):
    """'lr0.01,orthp,scratch-e' → ('lr0.01', 'lr0.01+orthp', 'lr0.001+orthp', ...): arm names, routes alone
    (both LRs) or 'all', in the order given, each once."""
    items = [t.strip() for t in (",".join(text) if isinstance(text, (list, tuple)) else str(text)).split(",")]
    arms = []
    for item in items:
        if item == "all":
            found = ALL_ARMS
        elif item in ALL_ARMS:
            found = (item,)
        elif not item:
            raise MinidiError("--arms has an empty entry: give comma-separated arm names")
        elif item in ROUTES[1:]:
            found = tuple(f"{lr}+{item}" for lr in LRS)
        else:
            raise MinidiError(f"unknown arm {item!r} in --arms: give arm names ({', '.join(ALL_ARMS)}), a route "
                              f"alone for both LRs ({', '.join(ROUTES[1:])}) or all")
        arms += [a for a in found if a not in arms]
    return tuple(arms)


def split(arm):
    """'lr0.001+orthp' → ('lr0.001', 'orthp'); 'lr0.01' → ('lr0.01', '')."""
    lr, _, route = arm.partition("+")
    return lr, route


def flops(model):
    """Multiply-accumulates of one forward pass of one sample (the pruning literature's FLOPs)."""
    plan_of(model)
    return sum(r["flops_dense"] for r in layer_report(model, sample_shape(model)))


def scratch_b_epochs(dense_flops, pruned_flops, pretrain_epochs, epochs, cap):
    """Liu et al.'s budget rule: E_B = pretrain_epochs · F_dense / F_pruned (the dense training's FLOPs spent
    on the smaller network), rounded, at least `epochs` and at most cap · epochs."""
    dense_flops = check_number(dense_flops, "dense FLOPs", low=0, low_open=True)
    pruned_flops = check_number(pruned_flops, "pruned FLOPs", low=0, low_open=True)
    pretrain_epochs = check_number(pretrain_epochs, "pretraining epochs", low=1, integer=True)
    epochs = check_number(epochs, "epochs", low=1, integer=True)
    cap = check_number(cap, "cap", low=1)                  # below 1, Scratch-B would train less than Scratch-E
    budget = round(pretrain_epochs * dense_flops / pruned_flops)
    return int(min(max(budget, epochs), math.floor(cap * epochs)))


def tpp_step(phase_epochs, steps_per_epoch, lam_max=1.0, grow=0.8):
    """The λ increment that makes TPP's schedule fit a phase of `phase_epochs`: λ = min(lam_max, step · ⌊t /
    every⌋) reaches lam_max after `grow` of the phase's iterations (the paper: 1e-4 every 10 iterations up to 1,
    i.e. 100 000 iterations; the rest of the phase holds λ at lam_max, the paper's "stabilize")."""
    every = tpp_every(phase_epochs, steps_per_epoch, grow)
    increments = max(1, math.floor(grow * phase_epochs * steps_per_epoch / every))
    return lam_max / increments


def tpp_every(phase_epochs, steps_per_epoch, grow=0.8):
    """λ grows every 10 iterations (the paper's), or every iteration of a phase too short for 10 to pass
    before its `grow` part ends (a tiny run: λ would otherwise stay 0)."""
    return 10 if grow * phase_epochs * steps_per_epoch >= 10 else 1


def tpp_phase_epochs(epochs):
    """The default length of the TPP phase: a ninth of the finetuning (10 epochs of a 90-epoch run), ≥ 1."""
    return max(1, round(epochs / 9))


def keep_device(model):
    return model.pruning_plan()[0].layer.weight.data


def starting_network(c, dense, spec, data, folder, train):
    """The network arm `c["arm"]` finetunes, and what its start cost: (model, {facts for the result}).

    spec: the L1 pruning spec at PR; train(model, schedule, epochs, folder, callbacks) runs `fit`."""
    route = split(c["arm"])[1]
    keep = l1_keep(dense, spec)
    if route == "tpp":
        regularized = copy.deepcopy(dense)
        steps = math.ceil(len(data["train"][1]) / c["batch_size"])
        reg = TPPRegularizer(regularized, spec, step=c["tpp_step"], every=tpp_every(c["tpp_epochs"], steps), lam_max=1.0,
                             steps_per_epoch=steps)
        phase = train(regularized, parse_schedule(f"0:{c['tpp_lr']}", c["tpp_epochs"]), c["tpp_epochs"],
                      os.path.join(folder, "tpp-phase"), [reg])
        return remove_units(regularized, keep), {"tpp_lambda_end": reg.lam, "tpp_phase_test_acc": phase[-1]["test_acc"]}
    model = remove_units(dense, keep)
    if route == "orthp":
        orthp(model, gain_for(dense))
    elif route == "ai":
        out = approximate_isometry(model, c["ai_steps"], c["ai_lr"], c["ai_tol"], gain=gain_for(dense))
        return model, {"ai_loss": {str(i): list(v) for i, v in out.items()}}
    elif route.startswith("scratch"):
        return to_device(fresh(model, c["scratch_seed"]), device_of(keep_device(dense))), {}
    return model, {}
