"""The audit across frameworks (issue 21): torchopt, jaxopt and optimistix adapters on a small
problem, planted faults on each new path, float64 in JAX, the cross-framework tables, and the
audit as a pytest marker in another project's suite."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
import torch

from verify.audit import Problem, audit, load_adapter
from verify.audit.checks import failure_text
from verify.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _needs(*modules: str):
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    # CI installs the audit extra, so there a missing library fails instead of skipping
    return pytest.mark.skipif(
        bool(missing) and not os.environ.get("CI"), reason=f"{', '.join(missing)} not installed: pip install -e '.[audit]'"
    )


needs_torchopt = _needs("torchopt")
needs_jaxopt = _needs("jax", "jaxopt")
needs_optimistix = _needs("jax", "optimistix", "equinox", "lineax")


@pytest.fixture(scope="module")
def problem():
    return Problem(n=6, d=4, m=96, gamma=0.45, seed=3, rhos=(0.5, 0.99))


def flagged(result):
    return {c.name for c in result.flagged}


def _grid(lib, label, problem):
    cfg = load_adapter(lib).grid[label]
    return audit(load_adapter(lib, cfg), problem, label=label, config=cfg)


def _jfb_error(name, problem):
    jfb = load_adapter("planted-jfb").solve(problem.net, problem.X, weights=problem.w).grad
    g = load_adapter(name).solve(problem.net, problem.X, weights=problem.w).grad
    return float((g.double() - jfb).norm() / jfb.norm())


@needs_torchopt
def test_torchopt_exact_backward_passes_and_its_defaults_are_flagged(problem):
    r = _grid("torchopt", "normal_cg-rtol1e-12", problem)
    assert r.ok, failure_text(r)
    assert r.check("gradient").measured["rel_error"] < 1e-9
    d = _grid("torchopt", "defaults", problem)  # CG on the normal equations to rtol 1e-5
    assert "gradient" in flagged(d) and 1e-7 < d.check("gradient").measured["rel_error"] < 1e-3
    cg = _grid("torchopt", "cg-rtol1e-12", problem)  # CG on a non-symmetric system
    assert {"gradient", "gram"} <= flagged(cg) and cg.check("gradient").measured["cosine"] < 0.9


@needs_torchopt
def test_torchopt_path_planted_jacobian_free_gradient(problem):
    r = audit(load_adapter("planted-torchopt-jfb"), problem)
    assert {"gradient", "gram"} <= flagged(r) and r.check("equilibrium").passed
    assert _jfb_error("planted-torchopt-jfb", problem) < 1e-9  # the same mathematics by another path


@needs_jaxopt
def test_jaxopt_float64_exact_and_silent_defaults(problem):
    r = _grid("jaxopt", "anderson-tight-ridge0-lu", problem)
    assert r.ok, failure_text(r)
    assert r.check("dtype").passed and r.check("gradient").measured["rel_error"] < 1e-9
    d = _grid("jaxopt", "defaults", problem)  # tol 1e-5 on the batch's step, normal CG at 1e-5
    assert {"equilibrium", "gradient"} <= flagged(d)
    rows = {row["rho"]: row for row in d.check("near_contraction").measured["rows"]}
    assert "raised" not in rows[0.99] and rows[0.99]["eq_error"] > 1e-3  # returned without a word


@needs_jaxopt
def test_jax_path_planted_faults_are_flagged(problem):
    jfb = audit(load_adapter("planted-jax-jfb"), problem)
    assert {"gradient", "gram"} <= flagged(jfb) and jfb.check("equilibrium").passed
    assert _jfb_error("planted-jax-jfb", problem) < 1e-9
    early = audit(load_adapter("planted-jax-early-stop"), problem)
    assert {"equilibrium", "tolerance_honoured"} <= flagged(early)
    f32 = audit(load_adapter("planted-jax-float32"), problem)
    assert "dtype" in flagged(f32) and "float32" in f32.check("dtype").detail


@needs_jaxopt
def test_jax_bridge_shares_memory_and_refuses_silent_float32():
    import jax

    from theory.errors import ParameterError
    from verify.audit.jax_bridge import require_float64, to_jax, to_torch

    t = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    with jax.enable_x64(True):
        a = to_jax(t)
        assert str(a.dtype) == "float64" and to_torch(a).data_ptr() == t.data_ptr()  # no copy either way
    with jax.enable_x64(False):
        a32 = to_jax(t)  # what JAX does without the flag: float32, without a warning
        assert str(a32.dtype) == "float32"
        with pytest.raises(ParameterError, match="float32"):
            require_float64("lib", Z=a32)


@needs_optimistix
def test_optimistix_raises_honestly_and_its_no_throw_mode_is_flagged(problem):
    r = _grid("optimistix", "newton-tight", problem)
    assert r.ok, failure_text(r)
    small = audit(load_adapter("optimistix", {"max_steps": 5}), problem)  # throw=True: an exception, not a wrong answer
    assert "runs" in flagged(small) and "maximum number of steps" in small.check("runs").detail
    quiet = audit(load_adapter("optimistix", {"max_steps": 8, "throw": False}), problem)
    assert "equilibrium" in flagged(quiet)


def test_unknown_configuration_keys_are_typed_errors():
    from theory.errors import ParameterError

    for lib, key in (("torchopt", "tol"), ("optimistix", "tol")):
        if importlib.util.find_spec(lib) is None:
            continue
        with pytest.raises(ParameterError, match="unknown"):
            load_adapter(lib, {key: 1e-3})


@needs_optimistix
@needs_jaxopt
@needs_torchopt
def test_comparison_tables_render_from_measured_rows(problem):
    from verify.audit import compare

    picks = [c for c in compare.CONTENDERS if (c[0], c[1]) in {("jaxopt", "FixedPointIteration"), ("optimistix", "Chord")}]
    p = Problem(n=4, d=4, m=64, gamma=0.45, seed=1, rhos=compare.COMPARE_RHOS)
    rows = compare.time_to_tolerance(p, picks, repeats=1)
    assert len(rows) == 2 * len(compare.COMPARE_RHOS)
    by = {(r["library"], r["rho"]): r for r in rows}
    assert by[("jaxopt", 0.9)]["outcome"] == "exact" and by[("jaxopt", 0.9)]["iterations"] > 50
    assert by[("jaxopt", 0.999)]["outcome"] == "silent"  # 5000 iterations are not enough, and it returns anyway
    assert by[("optimistix", 0.999)]["outcome"] == "raised"  # Chord runs out of steps and says so
    grids = {"jaxopt": [audit(load_adapter("jaxopt", {"tol": 1e-12, "solve": "lu"}), p, label="tight-lu")]}
    md = compare.render_comparison(grids, rows, command="test")
    assert "| jaxopt | FixedPointIteration |" in md and "**silent**" in md and "raised" in md


def test_audit_all_needs_grid():
    assert main(["audit", "all"]) == 2


def test_the_example_test_file_runs_as_a_users_suite(pytester):
    """docs/examples/test_audit_my_deq.py, run as another project would: both tests pass."""
    if importlib.util.find_spec("torchdeq") is None and not os.environ.get("CI"):
        pytest.skip("the example's second test audits torchdeq: pip install -e '.[audit]'")
    shutil.copy(ROOT / "docs/examples/test_audit_my_deq.py", pytester.path / "test_audit_my_deq.py")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_marker_fails_a_flagged_adapter_with_the_audit_lines(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.audit_implicit("planted-jfb", rhos=(0.5,))
        def test_planted(implicit_audit):
            pass

        @pytest.mark.audit_implicit("planted-jfb", rhos=(0.5,), allow=("gradient", "gram", "near_contraction"))
        def test_planted_allowed(implicit_audit):
            assert implicit_audit.check("gradient").passed is False

        def test_fixture_without_marker(implicit_audit):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*implicit audit of planted-jfb: flagged*", "*gradient: relative error*"])
