"""The audit inside another project's test suite: the ``audit_implicit`` marker and the
``implicit_audit`` fixture (registered by :mod:`verify.pytest_plugin`, so installing
implicit-verify is all a project needs)::

    import pytest

    @pytest.mark.audit_implicit(MyAdapter(), rhos=(0.5, 0.9, 0.99), allow=("near_contraction",))
    def test_my_deq(implicit_audit):
        assert implicit_audit.check("gradient").measured["rel_error"] < 1e-9

The marker's first argument is the adapter (an object following ``verify/audit/protocol.py``, a
class or factory called with no arguments, or a name such as ``"torchdeq"`` or
``"mypackage.module:MyAdapter"``); ``config`` (a dict) is passed to a named adapter. Keyword
arguments set the problem (``n``, ``d``, ``m``, ``gamma``, ``seed``, ``rhos``; defaults: a
small problem that runs in about a second) and the thresholds (``eq_tol``, ``grad_tol``).
``allow`` names checks whose flags the test accepts (each still listed in the report).

The fixture is the :class:`~verify.audit.checks.AuditResult`; after the test body, a flagged
check that is not allowed fails the test with the audit's lines (a failure of the test, not an
error of the fixture). ``docs/examples/test_audit_my_deq.py`` is a complete example, run by the
project's own tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from theory.errors import ParameterError

from .checks import AuditResult, audit
from .problem import Problem
from .protocol import Implementation, load_adapter

PROBLEM_KEYS = {"n": 6, "d": 4, "m": 96, "gamma": 0.45, "seed": 0, "rhos": (0.5, 0.9, 0.99, 0.999)}
THRESHOLD_KEYS = ("eq_tol", "grad_tol")


@lru_cache(maxsize=8)
def _problem(n, d, m, gamma, seed, rhos) -> Problem:
    return Problem(n=n, d=d, m=m, gamma=gamma, seed=seed, rhos=tuple(rhos))


def _adapter(target: Any, config: dict) -> Implementation:
    if isinstance(target, str):
        return load_adapter(target, config)
    if config:
        raise ParameterError("audit_implicit: 'config' applies to a named adapter; build your adapter object with it instead")
    impl = target if isinstance(target, Implementation) else target()
    if not isinstance(impl, Implementation):
        raise ParameterError(f"audit_implicit: {target!r} is not an adapter (it needs 'name' and 'solve(net, X, *, weights, Z0)')")
    return impl


def run_marked(args: tuple, kwargs: dict) -> tuple[AuditResult, tuple[str, ...]]:
    """The audit a marker asks for, and the checks its test allows to be flagged."""
    if len(args) != 1:
        raise ParameterError("audit_implicit takes one positional argument, the adapter")
    kwargs = dict(kwargs)
    unknown = set(kwargs) - set(PROBLEM_KEYS) - set(THRESHOLD_KEYS) - {"allow", "config", "label"}
    if unknown:
        raise ParameterError(f"audit_implicit: unknown keywords {sorted(unknown)}")
    allow = tuple(kwargs.pop("allow", ()))
    config = dict(kwargs.pop("config", {}) or {})
    label = kwargs.pop("label", "")
    problem = _problem(**{k: tuple(v) if k == "rhos" else v for k, v in {**PROBLEM_KEYS, **kwargs}.items() if k in PROBLEM_KEYS})
    thresholds = {k: float(kwargs[k]) for k in THRESHOLD_KEYS if k in kwargs}
    impl = _adapter(args[0], config)
    return audit(impl, problem, label=label, config=config, **thresholds), allow


def failures(result: AuditResult, allow: tuple[str, ...]) -> str:
    """The audit's lines for the flagged checks a test did not allow ('' when none)."""
    bad = [c for c in result.flagged if c.name not in allow]
    return "\n".join(f"  {c.name}: {c.detail}" + (f" (threshold: {c.threshold})" if c.threshold else "") for c in bad)
