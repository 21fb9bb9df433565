"""The claims engine end to end: verdicts, controls, replay, planted bugs, user claims."""

import json
import re
from pathlib import Path

import pytest
import torch

import theory.claims as claims
from theory import ImplicitNetwork
from theory.claims import Evidence, ExactClaim, Kind, all_claims, controls_of, get
from theory.domains import NetworkDomain
from verify import catalog, run
from verify.cli import main
from verify.replay import replay

ROOT = Path(__file__).resolve().parents[1]
MATH_ID = re.compile(r"^(WP|GR|KG|TD|GE|NG)-\d+(\.[a-z]+)?$")  # TD-1.path: a second form of TD-1


def test_evidence_semantics():
    assert Evidence(1, 2, "<=").slack == 1 and Evidence(1, 2, "<=").holds
    assert not Evidence(3, 2, "<=").holds and Evidence(3, 2, "<=", tolerance=1.0).holds
    assert Evidence(3, 2, ">=").holds and not Evidence(1, 2, ">=").holds
    assert Evidence(1.0, 1.0 + 1e-13, "==", tolerance=1e-12).holds and not Evidence(1.0, 1.1, "==", 1e-12).holds
    assert not Evidence(float("nan"), 1.0).holds
    assert Evidence(0, 0).normalized_slack == 1.0
    assert Evidence(2, 1).normalized_slack < 0 < Evidence(1, 2).normalized_slack
    with pytest.raises(ValueError):
        Evidence(1, 2, "<")


def test_registry_every_claim_has_a_control_and_a_math_id():
    mains = all_claims(controls=False)
    assert mains, "the catalog is empty"
    for c in mains:
        assert MATH_ID.match(c.id), c.id
        assert controls_of(c.id), f"{c.id} has no negative control"
        assert c.source and c.statement and c.title
    for c in all_claims():
        if c.is_control:
            assert claims.get(c.control_of) and c.why_false, c.id


def test_public_surface_matches_all():
    """Every public, non-module name of ``theory.claims`` is in ``__all__`` and vice versa."""
    import types

    public = {n for n, v in vars(claims).items() if not n.startswith("_") and not isinstance(v, types.ModuleType) and n != "annotations"}
    assert public == set(claims.__all__), public ^ set(claims.__all__)


def test_readme_catalog_in_sync():
    assert catalog.sync_readme(ROOT / "README.md"), "run: python -m verify catalog --write README.md"


NON_TRAINING = [c.id for c in all_claims(controls=False) if not c.id.startswith("TD")]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", NON_TRAINING)
def test_ci_profile_everything_as_expected(claim_id, tmp_path):
    """The ci run without the training claims (TD: minutes of gradient flows, covered by
    ``nox -s verify`` and, check by check, by test_training_claims), one claim and its controls
    per test, so that no single test is long even on a loaded machine: the claim holds, every
    control is refuted, with evidence and a replay file."""
    report = run([claim_id], profile="ci", out=tmp_path)
    bad = [(r.id, r.status, r.summary) for r in report.results if not r.ok]
    assert not bad, bad
    for r in report.results:
        assert r.evidence is not None and "slack" in r.evidence
        if r.control_of:
            assert r.status == "refuted" and r.replay and Path(r.replay).exists()
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["ok"] and "False-alarm bound" in data["false_alarm_statement"]


def test_the_non_training_catalog_covers_every_kind():
    assert {get(cid).kind for cid in NON_TRAINING} == set(Kind)


def test_counterexample_replays_to_the_same_numbers(tmp_path):
    report = run(["WP-3"], profile="ci", out=tmp_path)
    control = next(r for r in report.results if r.control_of)
    res = replay(control.replay)
    assert res["identical"] and not res["holds"]
    assert res["replayed"]["lhs"] == control.evidence["lhs"]
    assert main(["replay", control.replay]) == 0


def test_same_seed_same_result(tmp_path):
    a = run(["WP-5", "WP-2"], profile="ci", seed=3)
    b = run(["WP-5", "WP-2"], profile="ci", seed=3)
    assert [r.evidence for r in a.results] == [r.evidence for r in b.results]


@pytest.mark.slow
def test_planted_gram_scale_bug_fails_the_suite(monkeypatch):
    """A wrong scale in the Gram (10% too large) must make KG-3 fail."""
    monkeypatch.setattr(ImplicitNetwork, "gradient_scale", property(lambda self: 1.1 * self.kappa * self.gamma / self.m))
    report = run(["KG-3"], profile="ci")
    main_result = next(r for r in report.results if r.id == "KG-3")
    assert main_result.status == "refuted" and not report.ok


def test_planted_solver_bug_fails_the_suite(monkeypatch):
    """A forward layer with the wrong coupling (c -> 1.3 c) breaks WP-1's rate bound."""
    import theory.claims.well_posedness as wp

    real = wp.relu_layer
    monkeypatch.setattr(wp, "relu_layer", lambda Z, A, H0, c: real(Z, A, H0, 1.3 * c))
    report = run(["WP-1"], profile="ci")
    assert next(r for r in report.results if r.id == "WP-1").status == "refuted"


def test_a_crashing_check_is_an_error_not_a_pass():
    @claims.register
    class Crashes(ExactClaim):
        id = "USER-CRASH"
        title = "crashes"
        statement = "-"

        def check(self, inst):
            raise RuntimeError("boom")

    try:
        r = run(["USER-CRASH"]).results[0]
        assert r.status == "error" and not r.ok and "boom" in r.summary
    finally:
        claims.unregister("USER-CRASH")


def _readme_user_claim() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Checking a claim of your own") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_user_claim_from_the_readme_runs_through_the_machinery(tmp_path, monkeypatch):
    module = tmp_path / "my_claims.py"
    module.write_text(_readme_user_claim())
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert main(["--import", "my_claims", "run", "USER-1", "--out", str(tmp_path / "out")]) == 0
        data = json.loads((tmp_path / "out" / "results.json").read_text())
        verdicts = {r["id"]: r["status"] for r in data["results"]}
        assert verdicts == {"USER-1": "holds", "USER-1/ctl-no-factor": "refuted"}
        ctl = next(r for r in data["results"] if r["control_of"])
        assert main(["--import", "my_claims", "replay", ctl["replay"]]) == 0
    finally:
        claims.unregister("USER-1")
        claims.unregister("USER-1/ctl-no-factor")


def test_a_false_claim_gives_exit_code_1_and_a_replay_file(tmp_path):
    @claims.register
    class FalseBound(ExactClaim):
        id = "USER-FALSE"
        title = "equilibria are small"
        statement = "||z*|| <= 0.1"
        domain = NetworkDomain(m=(2, 8))

        def check(self, inst):
            z = inst.net.equilibrium(inst.X).Z
            return Evidence(float(torch.linalg.vector_norm(z, dim=1).max()), 0.1, "<=")

    try:
        assert main(["run", "USER-FALSE", "--out", str(tmp_path)]) == 1
        assert list((tmp_path / "counterexamples").glob("USER-FALSE*.json"))
        assert "USER-FALSE" in (tmp_path / "report.md").read_text()
    finally:
        claims.unregister("USER-FALSE")


def test_cli_list_and_unknown_id(capsys):
    assert main(["list"]) == 0
    assert "WP-1" in capsys.readouterr().out
    assert main(["run", "NOPE-9"]) == 2


def test_an_exact_search_is_the_same_from_the_cli_and_the_library(tmp_path):
    """Same claim, same profile: `python -m verify run` and `verify.runner.run` in a fresh
    process give the same records (times aside). Hypothesis' explain phase, which ran or not
    depending on the process, made one control's search statistics differ (22 vs 72)."""
    import json
    import subprocess
    import sys

    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cli = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "verify", "run", "KG-6.iii", "--out", str(cli)], check=True, capture_output=True, env=env)
    code = (
        "import json, sys; from verify.runner import run; "
        "print(json.dumps([r.to_dict() for r in run(['KG-6.iii'], profile='ci').results], default=str))"
    )
    lib = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout)
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("seconds", "replay")} for r in rs]
    assert strip(json.load(open(cli / "results.json"))["results"]) == strip(lib)
