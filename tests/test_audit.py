"""The audit (issue 8): the reference passes its own audit, planted faults are flagged, torchdeq's
behaviour is measured, and the numbers agree with independent computations."""

from __future__ import annotations

import json
import math
import os

import pytest
import torch

from theory.errors import ParameterError
from verify.audit import Problem, Solve, audit, load_adapter
from verify.audit.checks import failure_text
from verify.audit.torchdeq_adapter import GRID
from verify.cli import main


@pytest.fixture(scope="module")
def problem():
    return Problem(n=6, d=4, m=96, gamma=0.45, seed=3)


def verdicts(result):
    return {c.name: c.passed for c in result.checks}


def test_reference_passes_its_own_audit(problem):
    r = audit(load_adapter("reference"), problem)
    assert r.ok, failure_text(r)
    v = verdicts(r)
    # every check actually ran (None would mean "not applicable")
    for name in (
        "equilibrium",
        "outputs",
        "tolerance_honoured",
        "best_iterate",
        "gradient",
        "gram",
        "uniqueness",
        "near_contraction",
        "dtype",
    ):
        assert v[name] is True, name
    assert r.check("gradient").measured["rel_error"] < 1e-9


def test_jacobian_free_gradient_is_flagged(problem):
    r = audit(load_adapter("planted-jfb"), problem)
    v = verdicts(r)
    assert v["equilibrium"] is True  # the forward pass is right ...
    assert v["gradient"] is False and v["gram"] is False  # ... the gradient is not
    assert r.check("gradient").measured["rel_error"] > 1e-2


def test_early_stopped_solver_is_flagged(problem):
    r = audit(load_adapter("planted-early-stop", {"steps": 10}), problem)
    v = verdicts(r)
    assert v["equilibrium"] is False and v["tolerance_honoured"] is False
    assert v["near_contraction"] is False
    # the certified bound (WP-1) holds for the inexact answer: error <= residual / (1 - rho)
    eq = r.check("equilibrium").measured
    assert eq["error"] <= eq["certified_bound"]


def test_float32_is_flagged(problem):
    r = audit(load_adapter("planted-float32"), problem)
    assert verdicts(r)["dtype"] is False
    assert "float32" in r.check("dtype").detail


class _NoGradient:
    """A user adapter (module:attribute) whose answers are right but carry no gradient."""

    name = "no-gradient"

    def solve(self, net, X, *, weights=None, Z0=None):
        eq = net.equilibrium(X, Z0=Z0)
        return Solve(eq.Z, net.output(X, equilibrium=eq), None)


class _Raises:
    name = "raises"

    def solve(self, net, X, *, weights=None, Z0=None):
        raise RuntimeError("solver exploded")


def test_user_adapters_by_module_path(problem):
    r = audit(load_adapter("tests.test_audit:_NoGradient"), problem)
    v = verdicts(r)
    assert v["equilibrium"] is True and v["gradient"] is False
    assert v["tolerance_honoured"] is None  # it reports no tolerance: not applicable, not a pass
    r = audit(load_adapter("tests.test_audit:_Raises"), problem)
    assert not r.ok and "solver exploded" in r.check("runs").detail


def test_bad_adapters_get_typed_errors():
    with pytest.raises(ParameterError, match="unknown adapter"):
        load_adapter("no-such-adapter")
    with pytest.raises(ParameterError, match="lacks"):
        load_adapter("collections:OrderedDict")


def test_cli_exit_codes_and_report(tmp_path):
    assert main(["audit", "reference", "--m", "64", "--n", "4", "--rhos", "0.5", "0.99"]) == 0
    assert main(["audit", "planted-early-stop", "--m", "64", "--n", "4", "--rhos", "0.5", "--out", str(tmp_path)]) == 1
    data = json.loads((tmp_path / "audit.json").read_text())
    assert data["results"][0]["flagged"]
    md = (tmp_path / "audit.md").read_text()
    assert "**flagged**" in md and "Reproduce:" in md
    assert main(["audit", "reference", "--config", "nonsense"]) == 2
    assert main(["audit", "reference", "--rhos", "0.5", "1.2"]) == 2  # not a contraction: a typed error, exit 2
    assert main(["audit", "planted-jfb", "--grid"]) == 2  # no grid of configurations


# ---- torchdeq (the optional extra 'audit'; CI installs it, so there a missing torchdeq fails) ----
try:
    import torchdeq  # noqa: F401

    HAVE_TORCHDEQ = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_TORCHDEQ = False
needs_torchdeq = pytest.mark.skipif(
    not HAVE_TORCHDEQ and not os.environ.get("CI"), reason="torchdeq not installed: pip install -e '.[audit]'"
)


def _td(problem, label):
    return audit(load_adapter("torchdeq", GRID[label]), problem, label=label, config=GRID[label])


@needs_torchdeq
def test_torchdeq_exact_settings_pass(problem):
    r = _td(problem, "ift-tight-broyden")
    assert r.ok, failure_text(r)
    assert r.check("gradient").measured["rel_error"] < 1e-9


@needs_torchdeq
def test_torchdeq_default_gradient_is_the_jacobian_free_one(problem):
    """Independent confirmation: torchdeq's default backward (phantom gradient, 1 step) equals our
    planted Jacobian-free gradient, computed by a different code path."""
    d = _td(problem, "defaults")
    assert verdicts(d)["gradient"] is False
    p1 = load_adapter("torchdeq", GRID["phantom-1-tight"]).solve(problem.net, problem.X, weights=problem.w)
    jfb = load_adapter("planted-jfb").solve(problem.net, problem.X, weights=problem.w)
    assert float((p1.grad - jfb.grad).norm() / jfb.grad.norm()) < 1e-9
    # phantom gradients converge to the exact one as the number of steps grows
    e = [_td(problem, f"phantom-{k}-tight").check("gradient").measured["rel_error"] for k in (1, 5, 20)]
    assert e[0] > e[1] > e[2]


@needs_torchdeq
def test_torchdeq_reported_issues_are_detected(problem):
    v = verdicts(_td(problem, "issue7-indexing"))
    assert v["best_iterate"] is False  # torchdeq issue 7: a sampled state, not the best iterate
    r = _td(problem, "issue12-stop_mode")
    assert r.check("config_honoured").measured["ignored"] == ["stop_mode"]  # torchdeq issue 12
    assert verdicts(_td(problem, "issue4/8-eval-mode"))["gradient"] is False  # torchdeq issues 4, 8


@needs_torchdeq
def test_torchdeq_fixed_point_iteration_fails_silently_near_rho_one(problem):
    r = _td(problem, "ift-tight-fixed_point_iter")
    rows = {row["rho"]: row for row in r.check("near_contraction").measured["rows"]}
    assert rows[0.5]["eq_error"] < 1e-10
    assert rows[0.999]["eq_error"] > 1e-3 and "raised" not in rows[0.999]
    assert math.isfinite(rows[0.999]["reported_residual"]) and rows[0.999]["reported_residual"] > 1e-12


@needs_torchdeq
def test_adapter_keeps_float64(problem):
    s = load_adapter("torchdeq").solve(problem.net, problem.X, weights=problem.w)
    assert s.Z.dtype == torch.float64 and s.grad.dtype == torch.float64
