"""The weight-shedding study's report: summary.json, cascade.csv, layers.csv, routes.csv, report.md (claims
computed), figures. "Many times" is ≥ 3× the pruned fraction, "much smaller" ≤ 1/3 of the shedding arm's σ,
"approaches GMP" within max(tol, 1 point) and "clearly below" more than that (tol as in the pai study); gradual
GMP's steps are "mostly" shed weights when at least half of the weights its steps 2 … n removed were already
shed. The phase map's report: `mapreport.py`."""
import os

import numpy as np

from ...theory import decay
from ...lab import grid
from ...measure import shedding
from ...files import write_csv, write_json, write_text
from ..plots import plt, save
from ..stats import mean_std
from ...data import mnist
from .cells import ARM_NAMES, FINAL_WD, MOMENTUM, ROUTES, arms
from .claims import TAU, claims

SHED_LEVEL = 0.1          # "a layer has shed" once σ_ℓ (κ = 1e-2) reaches 10 % of its unpruned weights


def write_report(out_dir, config, groups, folders, seconds, device=None):
    c = config
    if c.get("map"):
        from .mapreport import write_map_report
        return write_map_report(out_dir, c, groups, folders, seconds)
    ARMS = arms(c["shed_lr"], c["shed_wd"])
    res = lambda cell: grid.result_of(cell, folders)  # noqa: E731
    cascade = {key: res(cell) for key, cell in groups["cascade"].items()}
    routes = {key: res(cell) for key, cell in groups["route"].items()}
    acc = {}
    for (route, sp, s), r in routes.items():
        acc.setdefault((route, sp), []).append(r["final_test_acc"])
    sigma_end = {arm: [cascade[(arm, s)]["history"][-1]["shed"][TAU]["overall"] for s in range(c["seeds"])] for arm in ARMS}
    dead = {arm: [[h["dead_total"] for h in cascade[(arm, s)]["history"]] for s in range(c["seeds"])] for arm in ARMS}
    disconnections = [f"shedding disconnects {', '.join(r['disconnected'][TAU])} ({arm}, seed {s}, τ {TAU})"
                      for (arm, s), r in cascade.items() if r["disconnected"][TAU]]
    summary = dict(config=c, seconds=seconds, sigma_end=sigma_end, dead=dead, disconnections=disconnections,
                   accuracy={f"{r}|{sp}": v for (r, sp), v in acc.items()},
                   implicit={f"{arm}|{s}": r["implicit"] for (arm, s), r in cascade.items()})
    pickup = gmp_pickup(c, routes)
    summary["gmp_pickup"] = {f"{sp:g}": v for sp, v in pickup.items()}
    summary["shed_removed"] = {f"{r}|{sp:g}": v for (r, sp), v in shed_removed(c, routes).items()}
    summary["n_weights"] = routes[("gradual", c["sparsities"][0], 0)]["log"][0]["kept_before"]   # the dense count
    summary["layers"] = layer_rows(c, cascade)
    summary["claims"] = claims(c, sigma_end, dead, acc, *pickup_per_seed(c, routes), cascade)
    write_json(os.path.join(out_dir, "summary.json"), summary)
    write_csv(os.path.join(out_dir, "cascade.csv"), [
        {"arm": arm, "seed": s, "epoch": h["epoch"] + 1, "test_acc": h["test_acc"], "jsv_mean": h["jsv_mean"],
         "dead_total": h["dead_total"], **{f"sigma_{k}": v["overall"] for k, v in h["shed"].items()}}
        for (arm, s), r in cascade.items() for h in r["history"]])
    write_csv(os.path.join(out_dir, "layers.csv"), [
        {"arm": arm, "seed": s, "epoch": h["epoch"] + 1, "layer": name,
         **{f"sigma_{k}": h["shed"][k][name] for k in h["shed"]}, "sigma_relative": h["shed_relative"][name],
         "dead_by_weights": h["dead_by_weights"][name], "dead_by_activations": h["dead_by_activations"].get(name, "")}
        for (arm, s), r in cascade.items() for h in r["history"] for name in h["dead_by_weights"]])
    write_csv(os.path.join(out_dir, "routes.csv"), [
        {"route": r["route"], "sparsity": r["sparsity"], "seed": s, "final_test_acc": r["final_test_acc"],
         "acc_after_pruning": r["acc_after_pruning"], "epochs_before_final": r["epochs_before_final"],
         "rounds": len(r["log"]), "collapsed": ";".join(r["collapsed"])} for (_, _, s), r in routes.items()])
    figures = draw(out_dir, c, cascade, acc)
    write_text(os.path.join(out_dir, "report.md"), report(c, summary, cascade, acc, figures))
    return summary


def gmp_pickup(c, routes):
    """{final sparsity: (share of gradual GMP's removed weights, steps 2 … n, that were already shed; share of shed
    weights among the kept ones before those steps; share of the shed weights that the steps removed)}, pooled
    over steps and seeds (τ = 0.01·median). GMP removes the smallest weights first, so the last share is 1 whenever
    a step removes at least as many weights as are shed: GMP always takes the shed weights; the question is how
    much of its step they make up."""
    out = {}
    for sp in c["sparsities"]:
        rows = [row for s in range(c["seeds"]) for row in routes[("gradual", sp, s)]["log"][1:]]
        removed, picked = sum(r["removed"] for r in rows), sum(r["already_shed"] for r in rows)
        shed, kept = sum(r["shed_before"] for r in rows), sum(r["kept_before"] for r in rows)
        out[sp] = (picked / removed if removed else 0.0, shed / kept if kept else 0.0, picked / shed if shed else 1.0)
    return out


def pickup_per_seed(c, routes):
    """({final sparsity: [per seed, the share of gradual GMP's removed weights (steps 2 … n) already shed]},
    whether every step removed min(its count, the shed weights) shed weights: GMP takes the shed ones first)."""
    out, first = {}, True
    for sp in c["sparsities"]:
        shares = []
        for s in range(c["seeds"]):
            rows = routes[("gradual", sp, s)]["log"][1:]
            removed = sum(r["removed"] for r in rows)
            shares.append(sum(r["already_shed"] for r in rows) / removed if removed else 0.0)
            first &= all(r["already_shed"] == min(r["removed"], r["shed_before"]) for r in rows)
        out[sp] = shares
    return out, first


def shed_removed(c, routes):
    """{(route, final sparsity): mean over seeds of the weights the random routes hard-pruned as shed}."""
    return {(route, sp): float(np.mean([sum(r.get("shed_removed", 0) for r in routes[(route, sp, s)]["log"])
                                        for s in range(c["seeds"])]))
            for route in ("random-shed", "random-noshed") for sp in c["sparsities"]}


def layer_rows(c, cascade):
    """Per layer, for each arm (mean over seeds): σ_ℓ at the end for each τ, relative σ, dead units by weights and
    by activations at the first and the last epoch, BN-dead channels at the end, and the first epoch σ_ℓ ≥ 10 %."""
    out = []
    for arm in arms(c["shed_lr"], c["shed_wd"]):
        rs = [cascade[(arm, s)] for s in range(c["seeds"])]
        first = [shedding.first_to_shed(r["history"], TAU, SHED_LEVEL) for r in rs]
        for name in rs[0]["history"][0]["dead_by_weights"]:
            end = lambda key: float(np.mean([r["history"][-1][key][name] for r in rs]))  # noqa: E731
            out.append({"arm": arm, "layer": name,
                        **{f"sigma_{k}": float(np.mean([r["history"][-1]["shed"][k][name] for r in rs]))
                           for k in rs[0]["taus"]},
                        "sigma_relative": end("shed_relative"),
                        "dead_w": [float(np.mean([r["history"][i]["dead_by_weights"][name] for r in rs])) for i in (0, -1)],
                        "dead_a": [float(np.mean([r["history"][i]["dead_by_activations"].get(name, 0) for r in rs]))
                                   for i in (0, -1)],
                        "first_shed": [f[name] for f in first]})
        for name in rs[0]["history"][-1].get("dead_bn", {}):
            out.append({"arm": arm, "layer": name, "bn_dead": float(np.mean([r["history"][-1]["dead_bn"][name] for r in rs])),
                        "bn_dead_first": float(np.mean([r["history"][0]["dead_bn"][name] for r in rs]))})
    return out


def time_to_shed(c, cascade, arm):
    """{τ label: epochs a weight of median size with zero loss gradient needs to fall below τ (None: never)} under
    the arm's SGD (momentum 0.9, batch 128), from the decay law (`minidi.theory.decay`)."""
    lr, wd = arms(c["shed_lr"], c["shed_wd"])[arm]
    n_train = c.get("train_samples") or (mnist.TRAIN_SIZE if c["dataset"] == "mnist" else c["synthetic_samples"])
    steps = -(-n_train // c.get("batch_size", 128))
    taus = cascade[(arm, 0)]["taus"]
    median = taus["kappa=0.01"] / 1e-2
    return {k: (decay.epochs_to_fall(t / median, lr, MOMENTUM, wd, steps) if 0 < t < median else None)
            for k, t in taus.items()}


def decay_lines(c, cascade):
    """The decay law beside the measured σ: was the run long enough to shed at all?"""
    lines = ["", "## The decay law: was the run long enough to shed?", "",
             f"A weight whose loss gradient is 0 shrinks only by weight decay, through SGD's momentum recurrence "
             f"(`minidi.theory.decay`). Epochs it needs to fall below each τ, from the median weight size, against this "
             f"run's {c['epochs']} epochs of fine-tuning:", "",
             "| cascade arm | κ = 1e-2 | κ = 1e-3 | prune τ | long enough for κ = 1e-2 |", "|---|---|---|---|---|"]
    for arm in arms(c["shed_lr"], c["shed_wd"]):
        t = time_to_shed(c, cascade, arm)
        fmt = lambda v: "never" if v is None else f"{v:.1f}"  # noqa: E731
        enough = t["kappa=0.01"] is not None and t["kappa=0.01"] <= c["epochs"]
        lines.append(f"| {arm} | {fmt(t['kappa=0.01'])} | {fmt(t['kappa=0.001'])} | {fmt(t.get('prune'))} | "
                     f"{'yes' if enough else 'no'} |")
    return lines


def route_lines(c, summary):
    epochs = (c["steps"] - 1) * c["round_epochs"]
    lines = ["", f"Every route: {c['steps']} prune steps on the cubic schedule, {c['round_epochs']} epoch(s) at LR "
             f"{c['shed_lr']:g} (weight decay {c['shed_wd']:g}; random-noshed 0) after each but the last ({epochs} "
             f"epochs; one-shot GMP prunes at the first step and trains the same epochs), then {c['epochs']} epochs "
             f"cosine from 0.1, weight decay {FINAL_WD:g}.", "",
             "| final sparsity | weights removed in all | random-shed: removed as shed | random-noshed: removed as shed "
             "| gradual GMP: removed weights already shed (steps 2 … n) | shed share of the kept before those steps "
             "| shed weights GMP removed |", "|---|---|---|---|---|---|---|"]
    for sp, (p, q, r) in summary["gmp_pickup"].items():
        total = summary["n_weights"] - round((1 - float(sp)) * summary["n_weights"])
        lines.append(f"| {sp} | {total} | {summary['shed_removed'][f'random-shed|{sp}']:.0f} | "
                     f"{summary['shed_removed'][f'random-noshed|{sp}']:.0f} | {p:.4f} | {q:.4f} | {r:.4f} |")
    return lines


def layer_lines(c, rows):
    taus = [k[len("sigma_"):] for k in rows[0] if k.startswith("sigma_") and k != "sigma_relative"]
    lines = ["", "## Per layer (mean over seeds)", "",
             f"σ_ℓ at the end for every τ, the relative σ (κ = 1e-2 of the layer's own median now), dead units "
             f"first → last epoch, and the first epoch σ_ℓ (κ = 1e-2) reached {SHED_LEVEL:g} (per seed; – never):", "",
             "| arm | layer | " + " | ".join(f"σ_ℓ {t}" for t in taus) + " | relative σ | dead by weights | "
             "dead by activations | first epoch σ_ℓ ≥ 0.1 |", "|---|---|" + "---|" * (len(taus) + 4)]
    for r in rows:
        if "bn_dead" in r:
            continue
        first = ", ".join("–" if e is None else str(e) for e in r["first_shed"])
        lines.append(f"| {r['arm']} | {r['layer']} | " + " | ".join(f"{r['sigma_' + t]:.4f}" for t in taus)
                     + f" | {r['sigma_relative']:.4f} | {r['dead_w'][0]:g} → {r['dead_w'][1]:g} | "
                     f"{r['dead_a'][0]:g} → {r['dead_a'][1]:g} | {first} |")
    bn = [r for r in rows if "bn_dead" in r]
    if bn:
        lines += ["", "BatchNorm channels with |γ| < τ_γ = 0.01 · median |γ(t₀)| (first → last epoch):", "",
                  "| arm | BN layer | BN-dead channels |", "|---|---|---|"]
        lines += [f"| {r['arm']} | {r['layer']} | {r['bn_dead_first']:g} → {r['bn_dead']:g} |" for r in bn]
    return lines


def report(c, summary, cascade, acc, figures):
    lines = [f"# Cascade weight shedding: {c['model']} on {c['dataset']}", "",
             f"{c['seeds']} replicate(s); random prune of {c['fraction']:g}, then {c['epochs']} epochs of fine-tuning "
             f"(SGD momentum {MOMENTUM:g}, batch {c.get('batch_size', 128)}"
             + (f", the first {c['train_samples']} training and {c['test_samples']} test images" if c.get("train_samples") else "")
             + f"); routes to {', '.join(f'{s:g}' for s in c['sparsities'])} sparsity, gradual GMP in "
             f"{c['steps']} steps; wall time {summary['seconds']['wall']:.0f} s (this invocation), cells' compute time {summary['seconds']['compute']:.0f} s. τ = 0.01 · median |θ(t₀)| unless named.", "",
             "| cascade arm | σ end (κ=1e-2) | σ end (κ=1e-3) | σ end (prune τ) | dead units end (by weights or activations) | test acc | "
             "acc with shed removed |", "|---|---|---|---|---|---|---|"]
    for arm in ARM_NAMES:
        rs = [cascade[(arm, s)] for s in range(c["seeds"])]
        cell = lambda vals: "{:.4f} ± {:.4f}".format(*mean_std(vals))  # noqa: E731
        lines.append(f"| {arm} | " + " | ".join(cell([r["history"][-1]["shed"][k]["overall"] for r in rs])
                                                  for k in ("kappa=0.01", "kappa=0.001", "prune"))
                     + f" | {np.mean([r['history'][-1]['dead_total'] for r in rs]):.1f} | "
                     f"{cell([r['final_test_acc'] for r in rs])} | {cell([r['implicit'][TAU]['acc_shed_removed'] for r in rs])} |")
    lines += ["", "| route | " + " | ".join(f"{s:g}" for s in c["sparsities"]) + " |",
              "|---|" + "---|" * len(c["sparsities"])]
    for route in ROUTES:
        lines.append(f"| {route} | " + " | ".join("{:.4f} ± {:.4f}".format(*mean_std(acc[(route, s)]))
                                                  for s in c["sparsities"]) + " |")
    lines += route_lines(c, summary)
    lines += layer_lines(c, summary["layers"])
    lines += decay_lines(c, cascade)
    lines += ["", "## Claims (computed from this run)", ""] + summary["claims"]
    if summary["disconnections"]:
        lines += ["", "## Disconnections", ""] + [f"- {d}" for d in summary["disconnections"]]
    lines += ["", "## Figures", ""] + [f"![{t}]({os.path.basename(p)})" for t, p in figures.items()]
    return "\n".join(lines) + "\n"


def draw(out_dir, c, cascade, acc):
    figs = {}
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    for arm in ARM_NAMES:
        tr = cascade[(arm, 0)]["trace"]
        t = [max(p[0], 1e-2) for p in tr]
        line, = a.plot(t, [p[1][TAU] for p in tr], label=f"{arm}, τ = 0.01·median")
        a.plot(t, [p[1]["prune"] for p in tr], color=line.get_color(), ls="--", label=f"{arm}, τ = prune threshold")
        d = [[h["dead_total"] for h in cascade[(arm, s)]["history"]] for s in range(c["seeds"])]
        b.plot(np.arange(1, len(d[0]) + 1), np.mean(d, axis=0), color=line.get_color(), label=arm)
    a.axhline(c["fraction"], color="gray", ls=":", lw=0.8)
    a.set(xscale="log", xlabel="fine-tuning epoch (log)", ylabel="σ(t)", title="shed fraction (seed 0; dotted: pruned share)")
    b.set(xlabel="epoch", ylabel="dead units", title="dead units (mean over seeds)")
    a.legend(fontsize=6)
    figs["σ(t) and dead units"] = save(fig, os.path.join(out_dir, "shedding.png"))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for route in ROUTES:
        pts = [mean_std(acc[(route, s)]) for s in c["sparsities"]]
        ax.errorbar(c["sparsities"], [p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, capsize=2, label=route)
    ax.set(xlabel="final sparsity", ylabel="final test accuracy", title="pruning routes")
    ax.legend(fontsize=7)
    figs["accuracy vs final sparsity"] = save(fig, os.path.join(out_dir, "acc_vs_sparsity.png"))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for arm in ARM_NAMES:
        cv = np.array([[cascade[(arm, s)]["jsv_init"]] + [h["jsv_mean"] for h in cascade[(arm, s)]["history"]]
                       for s in range(c["seeds"])])
        ax.plot(np.arange(cv.shape[1]), cv.mean(axis=0), label=arm)
    ax.set(xlabel="fine-tuning epoch (0 = after pruning)", ylabel="mean JSV", yscale="log", title="Jacobian spectrum")
    ax.legend(fontsize=7)
    figs["mean JSV vs epoch"] = save(fig, os.path.join(out_dir, "jsv_vs_epoch.png"))
    return figs
