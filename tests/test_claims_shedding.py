"""The weight-shedding study's claim functions, and its phase map's, on constructed numbers: each claim driven to
held, not held and undecided, with the edges (one replicate, --steps 1, a check of GMP taking shed weights)."""
import pytest

from minidi.experiments.shedding import claims as M
from minidi.experiments.shedding import claims as R

C = {"fraction": 0.1, "epochs": 10, "shed_lr": 0.1, "shed_wd": 5e-4, "sparsities": [0.8, 0.9], "steps": 3,
     "seeds": 3}


def sigma(large_wd, large=(0.01, 0.011, 0.009), small_wd=(0.01, 0.012, 0.011)):
    return {"large+wd": list(large_wd), "large": list(large), "small+wd": list(small_wd), "small": [0.0] * 3}


RISING = {"large+wd": [[5, 40], [6, 45], [4, 42]], "large": [[0, 0]] * 3, "small+wd": [[0, 1]] * 3,
          "small": [[0, 0]] * 3}


@pytest.mark.parametrize("large_wd, dead, want", [
    ((0.50, 0.52, 0.48), RISING, "held"),                                   # σ/f ≈ 5, dead units rise
    ((0.10, 0.11, 0.09), RISING, "not held"),                               # σ/f ≈ 1
    ((0.50, 0.10, 0.45), RISING, "undecided"),                              # σ/f 5, 1, 4.5: straddles 3
])
def test_cascade(large_wd, dead, want):
    assert f"at LR 0.001: **{want}**" in R.claim_cascade(C, sigma(large_wd), dead)


def test_cascade_one_replicate_is_undecided():
    s = {k: v[:1] for k, v in sigma((0.5, 0.5, 0.5)).items()}
    d = {k: v[:1] for k, v in RISING.items()}
    line = R.claim_cascade({**C, "seeds": 1}, s, d)
    assert "at LR 0.001: **undecided**" in line and "one replicate" in line


def routes(shed, noshed):
    g = [0.95, 0.96, 0.94]
    out = {}
    for sp in C["sparsities"]:
        out[("gmp", sp)] = g
        out[("random-shed", sp)] = [a + d for a, d in zip(g, shed)]
        out[("random-noshed", sp)] = [a + d for a, d in zip(g, noshed)]
    return out


@pytest.mark.parametrize("shed, noshed, want", [
    ((-0.002, -0.003, -0.001), (-0.05, -0.051, -0.049), "held"),
    ((-0.05, -0.051, -0.049), (-0.05, -0.051, -0.049), "not held"),
    ((-0.002, -0.003, -0.001), (-0.02, 0.0, -0.02), "undecided"),
])
def test_routes(shed, noshed, want):
    assert f"at the highest: **{want}**" in R.claim_routes(C, routes(shed, noshed))


@pytest.mark.parametrize("dead, want", [(RISING, "held"), ({**RISING, "large+wd": [[0, 0]] * 3}, "not held"),
                                        ({**RISING, "large+wd": [[0, 3], [0, 0], [0, 0]]}, "undecided")])
def test_dead_units(dead, want):
    cascade = {("large+wd", 0): {"disconnected": {R.TAU: ["layers.0"]}}}
    assert f"3 replicates: **{want}**" in R.claim_dead(dead, cascade)


@pytest.mark.parametrize("shares, want", [([0.8, 0.85, 0.75], "held"), ([0.05, 0.06, 0.04], "not held"),
                                          ([0.9, 0.2, 0.6], "undecided")])
def test_pickup(shares, want):
    line = R.claim_pickup(C, {0.8: shares, 0.9: shares}, True)
    assert f"were already shed: **{want}**" in line and "check **passed**" in line


def test_pickup_with_one_step_has_nothing_to_judge_and_the_construction_check_can_fail():
    assert "nothing to judge" in R.claim_pickup({**C, "steps": 1}, {}, True)
    assert "check **failed**" in R.claim_pickup(C, {0.9: [0.8, 0.8, 0.8]}, False)


# --- the phase map ---------------------------------------------------------------------------------------------
MAP = {"map_lrs": [0.01, 0.1], "map_wds": [0.0, 5e-3], "map_fractions": [0.1], "map_epochs": 2, "seeds": 3}


def map_results(sigma_at, seeds=3):
    """results[(lr, wd, f, s)] with the σ of each (lr, wd) at every epoch (varying slightly by seed)."""
    out = {}
    for (lr, wd), values in sigma_at.items():
        for s in range(seeds):
            v = values[s] if isinstance(values, (list, tuple)) else values
            out[(lr, wd, 0.1, s)] = {"steps_per_epoch": 500, "history": [
                {"shed": {M.TAU: {"overall": v * (1 + 0.01 * s)}}} for _ in range(MAP["map_epochs"])]}
    return out


def test_map_claims_each_verdict():
    shed = map_results({(0.01, 0.0): 0.01, (0.01, 5e-3): 0.02, (0.1, 0.0): 0.05, (0.1, 5e-3): 0.6})
    lines = M.map_claims(MAP, shed, {}, [])
    assert "point: **held**" in lines[0]                                   # LR 0.1, wd 5e-3 sheds (σ/f ≈ 6)
    assert "every wd = 0 point: **held**" in lines[1]
    none = map_results({(0.01, 0.0): 0.01, (0.01, 5e-3): 0.02, (0.1, 0.0): 0.05, (0.1, 5e-3): 0.05})
    assert "point: **not held**" in M.map_claims(MAP, none, {}, [])[0]
    wd0 = map_results({(0.01, 0.0): 0.5, (0.01, 5e-3): 0.02, (0.1, 0.0): 0.05, (0.1, 5e-3): 0.05})
    assert "every wd = 0 point: **not held**" in M.map_claims(MAP, wd0, {}, [])[1]
    unsure = map_results({(0.01, 0.0): 0.01, (0.01, 5e-3): 0.02, (0.1, 0.0): 0.05, (0.1, 5e-3): [0.6, 0.1, 0.35]})
    assert "point: **undecided**" in M.map_claims(MAP, unsure, {}, [])[0]


def test_map_points_of_one_replicate_are_undecided():
    one = map_results({(0.01, 0.0): 0.01, (0.01, 5e-3): 0.02, (0.1, 0.0): 0.05, (0.1, 5e-3): 0.6}, seeds=1)
    lines = M.map_claims({**MAP, "seeds": 1}, one, {}, [])
    assert all("**held**" not in line and "**not held**" not in line for line in lines[:2]), lines
