"""pytest plugin (registered through the ``pytest11`` entry point): claims in your own test suite.

Mark a test with the claims it should run; it is parametrized over them and their negative
controls, and the ``claim_result`` fixture runs one and fails the test, with the evidence,
unless the verdict is the expected one (a claim holds, a control is refuted)::

    import pytest

    @pytest.mark.verify_claims("WP-2", "KG-2")
    def test_paper_claims(claim_result):
        assert claim_result.evidence is not None   # the Result is yours to inspect

Your own claims work the same once the module registering them is imported. Options:
``--verify-profile`` (ci, dev or thorough; default ci), ``--verify-seed N``,
``--verify-no-controls``. The verdicts are listed at the end of the session, and each test's
evidence is attached to its report (``user_properties``, so it lands in ``--junitxml``).

It also carries the audit of an implicit-layer implementation (``@pytest.mark.audit_implicit``
and the ``implicit_audit`` fixture): see :mod:`verify.audit.fixture`.
"""

from __future__ import annotations

import json

import pytest

_VERDICTS: list = []


def pytest_addoption(parser):
    group = parser.getgroup("verify", "claims of implicit-verify")
    from theory.claims import PROFILE_NAMES

    group.addoption("--verify-profile", default="ci", choices=PROFILE_NAMES, help="search effort for marked claims")
    group.addoption("--verify-seed", type=int, default=None, help="reseed the claims' random draws")
    group.addoption("--verify-no-controls", action="store_true", help="run the marked claims without their negative controls")


def pytest_configure(config):
    config.addinivalue_line("markers", "verify_claims(*ids): run these claims (and their controls) through the claim_result fixture")
    config.addinivalue_line(
        "markers",
        "audit_implicit(adapter, **options): audit an implicit-layer implementation through the implicit_audit fixture "
        "(verify/audit/fixture.py)",
    )


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker("verify_claims")
    if marker is None or "claim_result" not in metafunc.fixturenames:
        return
    from .runner import select

    controls = not metafunc.config.getoption("--verify-no-controls")
    ids = [c.id for c in select(list(marker.args) or None, controls=controls)]
    metafunc.parametrize("claim_id", ids, ids=ids)


@pytest.fixture
def claim_result(request, claim_id):
    """Run ``claim_id`` (the marker's parametrization); the test then fails unless the verdict
    is the expected one."""
    from theory.claims import get

    from .context import Context
    from .profiles import get_profile
    from .runner import run_claim, statistical_level

    config = request.config
    claim = get(claim_id)
    prof = get_profile(config.getoption("--verify-profile"))
    # one statistical claim per test: each gets the profile's whole false-alarm budget
    _, alpha = statistical_level([claim], prof.alpha)
    res = run_claim(claim, Context.create(prof, config.getoption("--verify-seed"), alpha))
    _VERDICTS.append(res)
    request.node.user_properties.append(("verify_result", json.dumps(res.to_dict(), default=str)))
    return res


@pytest.fixture
def implicit_audit(request):
    """The audit of the adapter named by the test's ``audit_implicit`` marker (an AuditResult);
    the test then fails with the audit's lines unless every flagged check is in ``allow``."""
    from .audit.fixture import run_marked

    marker = request.node.get_closest_marker("audit_implicit")
    if marker is None:
        raise pytest.UsageError("the implicit_audit fixture needs @pytest.mark.audit_implicit(adapter, ...) on the test")
    result, allow = run_marked(marker.args, marker.kwargs)
    request.node._implicit_audit = (result, allow)
    request.node.user_properties.append(("implicit_audit", json.dumps(result.to_dict(), default=str)))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body: a claim that did not behave as expected fails the test (a failure
    of the call, with the evidence, not an error of the fixture)."""
    outcome = yield
    res = getattr(item, "funcargs", {}).get("claim_result")
    if res is not None and not res.ok:
        ev = res.evidence or {}
        pytest.fail(
            f"{res.id} ({res.kind}): expected {res.expected}, got {res.status}\n  {res.summary}\n"
            f"  lhs {ev.get('lhs')} {ev.get('relation', '')} rhs {ev.get('rhs')}, slack {ev.get('slack')}, tolerance {ev.get('tolerance')}"
            f" ({ev.get('tolerance_why', '')})" + (f"\n  replay: python -m verify replay {res.replay}" if res.replay else ""),
            pytrace=False,
        )
    audited = getattr(item, "_implicit_audit", None)
    if audited is not None:
        from .audit.fixture import failures

        result, allow = audited
        lines = failures(result, allow)
        if lines:
            pytest.fail(f"implicit audit of {result.adapter}: flagged\n{lines}", pytrace=False)
    return outcome


def pytest_terminal_summary(terminalreporter):
    if not _VERDICTS:
        return
    terminalreporter.section("implicit-verify claims")
    for r in _VERDICTS:
        mark = "ok  " if r.ok else "FAIL"
        terminalreporter.write_line(f"{mark} {r.id:<26} {r.status:<12} {r.seconds:6.2f}s  {r.summary[:140]}")
