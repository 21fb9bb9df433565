"""Stating a claim in a few lines: decorators that turn a function into a registered claim of
each kind, with its negative controls declared beside it (the class API stays for the catalog).

    from theory.claims import declare
    from theory.domains import NetworkDomain

    @declare.exact(
        "USER-1", "||z*|| <= sigma_u ||U x|| / (1 - rho)",
        domain=NetworkDomain(m=(2, 32)), tolerance=1e-10,
        controls={"no-factor": {"power": 0.0}},
    )
    def norm_bound(inst, power=1.0):
        net = inst.net
        rho = net.contraction_factor()
        z = net.equilibrium(inst.X).Z.norm(dim=1).max()
        return z, net.preactivation_offset(inst.X).norm(dim=1).max() / (1 - rho) ** power

The decorated function returns ``(lhs, rhs)`` (or an :class:`~.base.Evidence`); its keyword
arguments are the claim's parameters, and each control overrides some of them (its id is
``ID/ctl-NAME``). ``expect="refuted"`` states a claim the user believes false: the run then
expects it refuted and says so. Every kind needs at least one control, and every budget has a
default, so nothing is missing at run time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ..domains import Domain, NetworkDomain
from .base import Budget, DistributionClaim, Evidence, ExactClaim, PerProfile, RateClaim, SymbolicClaim, WhpClaim
from .registry import register


def _evidence(value, relation: str, tolerance: float, why: str, details: Mapping[str, Any] | None = None) -> Evidence:
    if isinstance(value, Evidence):
        return value
    try:
        lhs, rhs = value
    except (TypeError, ValueError):
        raise TypeError("a declared check returns (lhs, rhs) or an Evidence") from None
    return Evidence(float(lhs), float(rhs), relation, tolerance, why, dict(details or {}))


def _params(fn: Callable) -> dict[str, Any]:
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not inspect.Parameter.empty}


def _build(
    base: type,
    claim_id: str,
    statement: str,
    fn: Callable,
    attrs: dict,
    controls: Mapping[str, Mapping[str, Any]],
    expect: str,
    share_draws: bool = False,
):
    if not controls and expect != "refuted":  # a statement believed false is its own test of teeth
        raise ValueError(f"{claim_id}: declare at least one negative control (controls={{'name': {{param: value}}}})")
    unknown = {k for c in controls.values() for k in c if k not in _params(fn) and k != "why_false"}
    if unknown:
        raise ValueError(f"{claim_id}: controls set {sorted(unknown)}, which are not keyword parameters of {fn.__name__}")
    doc = inspect.getdoc(fn) or ""
    common = {
        "title": doc.split("\n")[0] if doc else statement,
        "statement": statement,
        "source": attrs.pop("source", "user claim"),
        "__doc__": doc,
    }
    main = type(f"Declared_{fn.__name__}", (base,), {"id": claim_id, "params": {}, "expect": expect, **common, **attrs})
    register(main)
    for name, override in controls.items():
        override = dict(override)
        why = override.pop("why_false", "declared false by its author")
        ctl = type(
            f"Declared_{fn.__name__}_{name}",
            (main,),
            {
                "id": f"{claim_id}/ctl-{name}",
                "control_of": claim_id,
                "why_false": why,
                "params": override,
                "expect": "",
                "title": f"{common['title']} with {override}",
                "statement": f"{statement} with {override}",
                "source": "negative control",
                # the draws depend on (config, seed) only, never on the parameters: the controls read the claim's
                **({"draws_of": claim_id} if share_draws else {}),
            },
        )
        register(ctl)
    return fn


def exact(
    claim_id: str,
    statement: str,
    *,
    domain: Domain | None = None,
    relation: str = "<=",
    tolerance: float = 0.0,
    why: str = "exact comparison",
    hypotheses: tuple = (),
    controls: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006  (read only)
    expect: str = "holds",
    source: str = "user claim",
):
    """An exact claim: ``fn(instance, **params) -> (lhs, rhs)`` must satisfy ``lhs relation rhs``
    within ``tolerance`` on every instance of ``domain`` meeting ``hypotheses``."""

    def wrap(fn):
        def check(self, inst):
            return _evidence(fn(inst, **self.params), relation, tolerance, why)

        attrs = {"domain": domain or NetworkDomain(), "hypotheses": tuple(hypotheses), "check": check, "source": source}
        return _build(ExactClaim, claim_id, statement, fn, attrs, controls, expect)

    return wrap


def whp(
    claim_id: str,
    statement: str,
    *,
    sample: Callable[[Mapping[str, Any], int], Any],
    delta: float,
    configs: tuple[Mapping[str, Any], ...] = ({},),
    draws: int = 100,
    relation: str = "<=",
    tolerance: float = 0.0,
    why: str = "a draw violates when the comparison fails",
    controls: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006  (read only)
    expect: str = "holds",
    source: str = "user claim",
):
    """A whp claim: ``sample(config, seed)`` draws; ``fn(draw, **params) -> (lhs, rhs)`` is one
    comparison; violations have probability at most ``delta`` (tested sequentially, up to
    ``draws`` per configuration)."""

    def wrap(fn):
        def check(self, draw):
            return _evidence(fn(draw, **self.params), relation, tolerance, why)

        attrs = {
            "budget": PerProfile(Budget(configs=tuple(configs), draws=draws)),
            "sample": lambda self, config, seed: sample(config, seed),
            "delta": lambda self, config: self.params.get("delta", delta),
            "check": check,
            "source": source,
        }
        # the draws depend on (config, seed) only, never on the parameters: controls share them
        return _build(WhpClaim, claim_id, statement, fn, attrs, controls, expect, share_draws=True)

    return wrap


def rate(
    claim_id: str,
    statement: str,
    *,
    exponent: float,
    grid: tuple[int, ...],
    seeds: int = 5,
    bound: str = "upper",
    tolerance: float = 0.0,
    why: str = "",
    fit: str = "power",
    variable: str = "m",
    coupled: bool = False,
    control_draws: Callable[[int, int, int], Any] | None = None,
    control_draws_per_x: int = 4096,
    controls: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006  (read only)
    expect: str = "holds",
    source: str = "user claim",
):
    """A rate claim: ``fn(x, seed, **params) -> float`` is ``O(x^exponent)`` (``bound``: "upper",
    "lower", "both" for exactly that order, "decay"). ``coupled``: ``fn`` receives the same
    seed at every x and may share random numbers across x (common random numbers); the fit is
    then Student's t on each seed's own slope. ``control_draws``: a control variate; ``fn`` then
    returns ``(value, control)`` from one draw, and ``control_draws(x, draws, seed)`` returns
    ``draws`` independent controls at x (an array) from which the fit estimates their mean
    (``control_draws_per_x`` of them; docs/writing-claims.md)."""
    if control_draws is not None and coupled:
        raise ValueError(f"{claim_id}: a control variate needs independent seeds at each x, not coupled=True")

    def wrap(fn):
        def pair(self, x, seed):
            value, control = fn(x, seed, **self.params)
            return float(value), float(control)

        measuring = (
            {
                "control_variate": True,
                "control_draws_per_x": int(control_draws_per_x),
                "measure_with_control": pair,
                "measure": lambda self, x, seed: pair(self, x, seed)[0],
                "control_draws": lambda self, x, draws, seed: control_draws(x, draws, seed),
            }
            if control_draws is not None
            else {"measure": lambda self, x, seed: float(fn(x, seed, **self.params))}
        )
        attrs = {
            "budget": PerProfile(Budget(grid=tuple(grid), seeds=seeds)),
            "exponent": exponent,
            "bound": bound,
            "exponent_tol": tolerance,
            "exponent_tol_why": why,
            "fit": fit,
            "variable": variable,
            "coupled": bool(coupled),
            **measuring,
            "source": source,
        }
        return _build(RateClaim, claim_id, statement, fn, attrs, controls, expect)

    return wrap


def distribution(
    claim_id: str,
    statement: str,
    *,
    sample: Callable[[Mapping[str, Any], int], Any],
    configs: tuple[Mapping[str, Any], ...] = ({},),
    draws: int = 1000,
    min_power: float = 0.9,
    controls: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006  (read only)
    expect: str = "holds",
    source: str = "user claim",
):
    """A distribution claim: ``sample(config, seed)`` draws one vector (independent across
    seeds); ``fn(config, **params) -> cov`` (or ``(mean, cov)``) is the Gaussian law the draws
    follow. Each control overrides parameters, so it states another law: the claim holds only
    if the fit is not rejected and the test's power against every control's law is at least
    ``min_power`` (the draws are shared)."""

    def wrap(fn):
        def law(self, config):
            value = fn(config, **self.params)
            return value if isinstance(value, tuple) else (None, value)

        attrs = {
            "budget": PerProfile(Budget(configs=tuple(configs), draws=draws)),
            "sample": lambda self, config, seed: sample(config, seed),
            "law": law,
            "min_power": min_power,
            "source": source,
        }
        return _build(DistributionClaim, claim_id, statement, fn, attrs, controls, expect, share_draws=True)

    return wrap


def symbolic(
    claim_id: str,
    statement: str,
    *,
    tolerance: float = 0.0,
    why: str = "an identity: the residual must vanish",
    controls: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006  (read only)
    expect: str = "holds",
    source: str = "user claim",
):
    """A symbolic claim: ``fn(**params) -> residual`` (a number, or a sympy expression that
    simplifies to it) must be 0 within ``tolerance``."""

    def wrap(fn):
        def prove(self):
            value = fn(**self.params)
            try:
                import sympy as sp

                value = sp.simplify(value)
            except (ImportError, TypeError, AttributeError):
                pass
            return Evidence(abs(float(value)), 0.0, "==", tolerance, why)

        attrs = {"prove": prove, "source": source}
        return _build(SymbolicClaim, claim_id, statement, fn, attrs, controls, expect)

    return wrap
