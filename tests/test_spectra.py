"""The spectra study: its claims on constructed results (held, not held, undecided, the check), a quick run end to
end on both backends, and its bad inputs as one-line errors."""
import json
import os

import pytest
from click.testing import CliRunner

from minidi.cli import main
from minidi.experiments.spectra import report as R

C = {"depths": [1, 2, 4], "draws": 3, "activations": ["linear", "relu"], "inits": ["gaussian", "orthogonal"]}


def cell(nvars, mean_s=(1.0, 1.0, 1.0), predicted_mean_s=1.0, predicted_nvar=0.0, dev=0.0):
    """A square or preset cell's result with the given Var λ / m₁² per draw (m₁ = 1)."""
    return {"m1": [1.0] * len(nvars), "m2": [1.0 + v for v in nvars], "mean_s": list(mean_s), "max_dev_from_mean": dev,
            "predicted": {"m1": 1.0, "m2": 1.0 + predicted_nvar, "mean_s": predicted_mean_s, "atom": 0.0}}


def depth_results(slope_noise=(0.0, 0.0, 0.0), orth_relu=1.0, relu_floor=2.0):
    out = {}
    for L in C["depths"]:
        out[("linear", "gaussian", L)] = cell([L * (1 + n) for n in slope_noise])
        out[("linear", "orthogonal", L)] = cell([0.0] * 3, dev=1e-15)
        out[("relu", "gaussian", L)] = cell([relu_floor + L] * 3)
        out[("relu", "orthogonal", L)] = cell([orth_relu * max(L - 1, 0) + (0.01 * k if L > 1 else 0.6)
                                               for k in range(3)])
    return out


def test_depth_claim_each_verdict():
    assert "**held**" in R.claims(C, depth_results((0.01, -0.01, 0.0)), {})[0]
    assert "**not held**" in R.claims(C, depth_results((0.5, 0.51, 0.49)), {})[0]            # slope 1.5
    assert "**undecided**" in R.claims(C, depth_results((0.3, -0.2, 0.1)), {})[0]


def test_orthogonal_linear_is_a_check():
    d = depth_results()
    assert "check **passed**" in R.claims(C, d, {})[1]
    d[("linear", "orthogonal", 4)]["max_dev_from_mean"] = 0.01
    assert "check **failed**" in R.claims(C, d, {})[1]


def test_relu_claim_each_verdict():
    assert "**held**" in R.relu_claim(C, depth_results(orth_relu=1.0))[0]
    assert "**not held**" in R.relu_claim(C, depth_results(orth_relu=2.0))[0]         # twice the prediction
    assert "**not held**" in R.relu_claim(C, depth_results(relu_floor=-1.9))[0]       # isometric: Var ≈ 0


def test_preset_claim_each_verdict_and_one_draw():
    def preset(values):
        return {("mlp7-linear", 0.0): {**cell([0.7] * len(values), values, 0.02, 0.61), "widths": [1024, 10]}}
    assert "**held**" in R.preset_claims(preset([0.0201, 0.0199, 0.0200]))[0]
    assert "**not held**" in R.preset_claims(preset([0.030, 0.031, 0.029]))[0]
    assert "**undecided**" in R.preset_claims(preset([0.015, 0.024, 0.020]))[0]
    assert "**undecided**" in R.preset_claims(preset([0.0200]))[0]                     # one draw: never held


def test_a_quick_spectra_study_end_to_end(tmp_path, device):
    out = str(tmp_path / "s")
    r = CliRunner().invoke(main, ["spectra", "--depths", "1,3", "--width", "32", "--draws", "2", "--samples", "2",
                                  "--no-presets", "--device", device, "--out", out, "--cache", str(tmp_path / "c"),
                                  "--quiet"])
    assert r.exit_code == 0, r.output
    summary = json.load(open(os.path.join(out, "summary.json")))
    rows = {(x["activation"], x["init"], x["depth"]): x for x in summary["rows"]}
    assert len(rows) == 2 * 3 * 2
    assert rows[("linear", "orthogonal", 3)]["nvar"] == pytest.approx(0, abs=1e-9)     # exactly isometric
    assert rows[("linear", "gaussian", 1)]["predicted_nvar"] == pytest.approx(1.0)      # Marchenko–Pastur
    for name in ("hist_linear.png", "hist_relu.png", "depth.png", "spectra.csv", "report.md", "provenance.json"):
        assert os.path.isfile(os.path.join(out, name)), name
    assert len(summary["claims"]) == 3 and "check **passed**" in summary["claims"][1]


@pytest.mark.parametrize("args, message", [
    (["--depths", "0,2"], "depth must be in [1, 100], got 0"),
    (["--inits", "gaussian,xavier"], "unknown init 'xavier'"),
    (["--activations", "tanh"], "unknown activation 'tanh'"),
    (["--width", "1"], "1 is not in the range x>=2"),
    (["--draws", "1"], "1 is not in the range x>=2"),
])
def test_bad_spectra_inputs_are_one_line(args, message, tmp_path):
    r = CliRunner().invoke(main, ["spectra", *args, "--out", str(tmp_path / "o"), "--quiet"])
    assert r.exit_code != 0 and message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert not os.path.exists(str(tmp_path / "o"))
