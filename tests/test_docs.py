"""Every Python block of the README and of docs/writing-claims.md runs, and the guide's claims
give the verdicts the guide says (so no example can rot)."""

import re
import sys
from pathlib import Path

import pytest

from theory import claims
from verify import run
from verify.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / name).read_text(), re.S)


GUIDE = _blocks("docs/writing-claims.md")
EXPECTED = {
    "USER-NORM": "holds",
    "USER-NORM/ctl-no-factor": "refuted",
    "USER-TAIL": "holds",
    "USER-TAIL/ctl-below-edge": "refuted",
    "USER-GRAM": "holds",
    "USER-GRAM/ctl-rescaled": "refuted",
    "USER-SPREAD": "holds",
    "USER-SPREAD/ctl-too-slow": "refuted",
    "USER-SPREAD/ctl-too-fast": "refuted",
    "USER-LAW": "holds",
    "USER-LAW/ctl-no-half": "refuted",
    "USER-DIAG": "holds",
    "USER-DIAG/ctl-no-half": "refuted",
    "USER-SMALL": "refuted",
}


@pytest.fixture
def registered():
    before = {c.id for c in claims.all_claims()}
    yield
    for c in claims.all_claims():
        if c.id not in before:
            claims.unregister(c.id)


def test_the_guide_has_one_example_per_kind_and_each_is_short():
    assert len(GUIDE) == 7
    for block in GUIDE:
        code = [line for line in block.splitlines() if line.strip() and not line.startswith(("import", "from"))]
        assert len(code) <= 20, block[:80]


@pytest.mark.parametrize("index", range(len(GUIDE)))
def test_guide_examples_give_the_verdicts_the_guide_states(index, registered):
    namespace: dict = {"__name__": f"guide_example_{index}"}
    exec(compile(GUIDE[index], f"docs/writing-claims.md[{index}]", "exec"), namespace)
    new = [c.id for c in claims.all_claims() if c.id.startswith("USER-")]
    assert new, "the example registered no claim"
    report = run(new, profile="ci")
    got = {r.id: r.status for r in report.results}
    assert got == {k: v for k, v in EXPECTED.items() if k in got}, got
    assert report.ok, [(r.id, r.summary) for r in report.results if not r.ok]


def test_every_readme_python_block_runs(registered, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i, block in enumerate(_blocks("README.md")):
        if "pytest.mark.verify_claims" in block:
            continue  # a pytest test file: run by tests/test_tooling.py through pytester
        if "pytest.mark.audit_implicit" in block:
            continue  # its complete form is docs/examples/test_audit_my_deq.py, run by tests/test_audit_frameworks.py
        exec(compile(block, f"README.md[{i}]", "exec"), {"__name__": f"readme_block_{i}"})


def test_declared_claims_refuse_what_is_missing(registered):
    from theory.claims import declare

    with pytest.raises(ValueError, match="at least one negative control"):
        declare.exact("USER-X", "-")(lambda inst: (0, 1))
    with pytest.raises(ValueError, match="not keyword parameters"):
        declare.exact("USER-Y", "-", controls={"c": {"nope": 1}})(lambda inst, k=1: (0, k))


def test_a_believed_false_statement_follows_its_expectation_in_exit_codes(registered, tmp_path, monkeypatch):
    (tmp_path / "believed_false.py").write_text(next(b for b in GUIDE if "USER-SMALL" in b))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("believed_false", None)
    assert main(["--import", "believed_false", "run", "USER-SMALL"]) == 0  # refuted, as expected


def test_shrinking_stays_inside_the_declared_regime(registered):
    """A false claim about wide networks: its counterexample is shrunk to the smallest width of
    the declared domain, never below it."""
    from theory.claims import declare
    from theory.domains import NetworkDomain

    @declare.exact("USER-WIDE", "rho(A) <= 0.1", domain=NetworkDomain(m=(64, 256)), expect="refuted")
    def wide(inst):
        return inst.net.contraction_factor(), 0.1

    report = run(["USER-WIDE"], profile="ci")
    assert report.results[0].status == "refuted"
    assert report.results[0].evidence is not None
    from verify.kinds import run_exact

    outcome = run_exact(claims.get("USER-WIDE"), __import__("verify").Context.create("ci", None, 0.01))
    assert outcome.instance.net.m == 64  # shrunk to the floor of the regime, not to m = 2
