"""The claim model: a lemma or theorem as an object that can be checked and broken.

A claim has its id in docs/mathematics.md, a title, its source (which statement of arXiv 2209.15562 or
which step of its proof), its kind, its hypotheses and a check that returns
:class:`Evidence` (both sides of the inequality, the relation, the slack, the tolerance and
why) - never a bare bool. Every claim ships negative controls: deliberately false variants,
registered with ``control_of`` set, which the suite must refute.

Kinds (docs/mathematics.md section 4):

- :class:`ExactClaim`: holds on every instance of its declared ``domain`` (:mod:`theory.domains`)
  that meets its hypotheses; ``verify`` searches for a counterexample with Hypothesis.
- :class:`WhpClaim`: a violation has probability <= ``delta`` over the random draw
  ``sample(config, seed)``; ``verify`` estimates the rate with a sequential test.
- :class:`RateClaim`: ``measure(x, seed)`` is ``O(x^exponent)`` (or Omega, or a geometric rate);
  ``verify`` fits the log-log (or semi-log) slope with a Student-t interval.
- :class:`SymbolicClaim`: ``prove()`` closes an identity with sympy or at high precision.
- :class:`DistributionClaim`: the draws ``sample(config, seed)`` follow the Gaussian law
  ``law(config)``; ``verify`` tests the fit and the test's power against the controls' laws.

What a claim may spend is declared once, as a :class:`Budget` per profile
(:class:`PerProfile`). A claim's draws (whp) and values (rate) are cached under its own id;
a variant whose ``sample``/``measure`` is its parent's unchanged says so with ``draws_of``
(checked at registration), so a variant can never silently reuse the wrong draws.

A user claim is a subclass decorated with :func:`theory.claims.register` (:mod:`.registry`).
This module imports nothing from ``verify``: claims are mathematics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from ..domains import Domain, NetworkDomain

#: The run profiles, cheapest first (``verify.profiles`` defines what each means for a search).
PROFILE_NAMES = ("ci", "dev", "thorough", "scale")

T = TypeVar("T")


@dataclass(frozen=True)
class PerProfile(Generic[T]):
    """One value per run profile, declared once: ``ci`` is required, ``dev``, ``thorough`` and
    ``scale`` (the GPU profile: wider rate grids for the claims that declare one) fall back to it
    when omitted. Call it with a profile name to get that profile's value."""

    ci: T
    dev: T | None = None
    thorough: T | None = None
    scale: T | None = None

    def __call__(self, profile: str) -> T:
        if profile not in PROFILE_NAMES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {list(PROFILE_NAMES)}")
        value = getattr(self, profile)
        return self.ci if value is None else value


@dataclass(frozen=True)
class Budget:
    """What a statistical claim may spend under one profile.

    whp: ``configs`` (each a mapping of the settings ``sample`` reads) and ``draws`` per
    configuration (``None``: the profile's default). rate: ``grid`` (the sizes, >= 3) and
    ``seeds`` per grid point."""

    configs: tuple[Mapping[str, Any], ...] = ()
    draws: int | None = None
    grid: tuple[int, ...] = ()
    seeds: int = 5

    def __post_init__(self):
        object.__setattr__(self, "configs", tuple(self.configs))
        object.__setattr__(self, "grid", tuple(self.grid))


@dataclass(frozen=True)
class Prepared:
    """What :meth:`WhpClaim.prepare` computed before the test's draws: a ``report`` shown with
    the evidence, and the ``configs`` to test when they are computed (e.g. a calibrated width)
    rather than declared."""

    report: Mapping[str, Any] = field(default_factory=dict)
    configs: tuple[Mapping[str, Any], ...] | None = None


class Kind(str, Enum):
    EXACT = "exact"
    WHP = "whp"
    RATE = "rate"
    SYMBOLIC = "symbolic"
    DISTRIBUTION = "distribution"


RELATIONS = ("<=", ">=", "==")


class NotApplicable(Exception):
    """Raised by a check when its instance turns out to be outside the claim's hypotheses
    (e.g. a finite-difference step that would cross a ReLU kink); counted, never a refutation."""


@dataclass
class Evidence:
    """One comparison of two computed numbers.

    ``holds`` iff ``slack >= -tolerance``, where ``slack = rhs - lhs`` for ``<=``,
    ``lhs - rhs`` for ``>=`` and ``-|lhs - rhs|`` for ``==``. ``tolerance_why`` says where
    the tolerance comes from (rounding, a certified solver error, ...). ``details`` holds
    whatever else is worth showing (sizes, the contraction factor, intermediate numbers).
    """

    lhs: float
    rhs: float
    relation: str = "<="
    tolerance: float = 0.0
    tolerance_why: str = "exact comparison"
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, got {self.relation!r}")
        self.lhs, self.rhs, self.tolerance = float(self.lhs), float(self.rhs), float(self.tolerance)

    @property
    def slack(self) -> float:
        if self.relation == "<=":
            return self.rhs - self.lhs
        if self.relation == ">=":
            return self.lhs - self.rhs
        return -abs(self.lhs - self.rhs)

    @property
    def holds(self) -> bool:
        s = self.slack
        return not math.isnan(s) and s >= -self.tolerance

    @property
    def normalized_slack(self) -> float:
        """A scale-free margin for steering a search toward violations (< 0: violated).

        ``==``: (tolerance - |lhs - rhs|) / tolerance, the share of the error budget left.
        ``<=``/``>=``: (slack + tolerance) / max(|lhs|, |rhs|), the relative margin.
        """
        if self.relation == "==" and self.tolerance > 0:
            s = (self.slack + self.tolerance) / self.tolerance
        else:
            scale = max(abs(self.lhs), abs(self.rhs))
            if scale == 0.0:  # 0 vs 0: holds, and a relative margin is undefined; not "close"
                return 1.0
            s = (self.slack + self.tolerance) / scale
        if math.isnan(s):
            return -1e300
        return max(min(s, 1e300), -1e300)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lhs": self.lhs,
            "rhs": self.rhs,
            "relation": self.relation,
            "slack": self.slack,
            "tolerance": self.tolerance,
            "tolerance_why": self.tolerance_why,
            "holds": self.holds,
            "details": self.details,
        }

    @staticmethod
    def worst(items: list[Evidence]) -> Evidence:
        """The item closest to (or furthest into) violation."""
        return min(items, key=lambda e: e.normalized_slack)


@dataclass(frozen=True)
class Hypothesis:
    """A named predicate on an instance; an instance that fails it is 'not applicable'."""

    name: str
    test: Callable[[Any], bool]
    description: str = ""

    def __call__(self, instance) -> bool:
        return bool(self.test(instance))


class Claim:
    """Base class; subclass one of the five kinds below and :func:`register` it.

    Class attributes: ``id`` (id in docs/mathematics.md, or ``ID/ctl-NAME`` for a control), ``title``,
    ``source``, ``statement`` (the conclusion, as a formula), ``hypotheses``, and for a
    negative control ``control_of`` (the id of the claim it falsifies) and ``why_false``.
    """

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    source: ClassVar[str] = ""
    statement: ClassVar[str] = ""
    kind: ClassVar[Kind]
    hypotheses: ClassVar[tuple[Hypothesis, ...]] = ()
    control_of: ClassVar[str | None] = None
    why_false: ClassVar[str] = ""
    conjecture: ClassVar[bool] = False  # not in the paper: a new claim under test
    draws_of: ClassVar[str | None] = None  # reuse this claim's cached draws/values (same sample/measure)
    #: claims with the same label compute their values from one shared computation per grid
    #: point (e.g. one gradient flow per (m, seed)): a distributed run measures them together
    shares: ClassVar[str | None] = None
    #: True when the claim's computations follow theory.device's default device (its values come
    #: back to the CPU as floats or host arrays): ``run --device cuda`` runs it on the GPU; every
    #: other claim runs on the CPU whatever the flag says
    device_aware: ClassVar[bool] = False
    # "refuted": a statement its author believes false; the run expects it refuted (like a
    # control, without being one) and reports it as expected-refuted
    expect: ClassVar[str] = "holds"
    # profiles whose budget is known not to decide the claim: there "inconclusive" is the
    # expected verdict (and says why), "holds" is accepted, "refuted" still fails the run
    underpowered_at: ClassVar[tuple[str, ...]] = ()
    underpowered_why: ClassVar[str] = ""
    # a claim of the mathematics this suite has refuted: why, and the counterexample. The runner then
    # expects "refuted" (the finding must keep reproducing) and reports it as a finding.
    finding: ClassVar[str] = ""

    def target(self, evidence: Evidence) -> float:
        """The score a search drives down toward a violation (default: normalized slack)."""
        return evidence.normalized_slack

    @property
    def is_control(self) -> bool:
        return self.control_of is not None

    def failed_hypotheses(self, instance) -> list[str]:
        return [h.name for h in self.hypotheses if not h(instance)]

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind.value,
            "source": self.source,
            "statement": self.statement,
            "hypotheses": [h.name + (f": {h.description}" if h.description else "") for h in self.hypotheses],
            "control_of": self.control_of,
            "why_false": self.why_false,
            "conjecture": self.conjecture,
            "finding": self.finding,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}: {self.title}>"


class ExactClaim(Claim):
    """Holds on every instance meeting the hypotheses.

    ``domain``: where the search looks, as data (:mod:`theory.domains`; ``verify`` turns it
    into a Hypothesis strategy of :mod:`theory.instances`). :meth:`check` returns the
    evidence for one instance.
    """

    kind = Kind.EXACT
    domain: ClassVar[Domain] = NetworkDomain()
    #: instances checked first on every run, before the search (a finding's counterexample,
    #: a known hard case): a recorded counterexample reproduces whatever the search explores
    examples: ClassVar[tuple[Any, ...]] = ()
    effort: ClassVar[float] = 1.0  # multiplies the profile's number of examples
    shrink: ClassVar[bool] = True  # False: report the first violation unshrunk (each check costs seconds)

    def check(self, instance) -> Evidence:  # pragma: no cover - abstract
        raise NotImplementedError


class WhpClaim(Claim):
    """P(violation) <= ``delta(config)`` over the random draw ``sample(config, seed)``.

    ``budget``: per profile, the configurations and draws (:class:`Budget`). ``prepare`` may
    compute the configurations (e.g. a calibrated width) before the test's draws.
    """

    kind = Kind.WHP
    budget: ClassVar[PerProfile[Budget]] = PerProfile(Budget())
    #: True when ``prepare`` returns the configurations to test (then they are known only after
    #: it ran, and a distributed run cannot draw ahead); a prepare that only reports leaves it False
    configs_from_prepare: ClassVar[bool] = False

    def prepare(self, profile: str, seed: int) -> Prepared:
        """Called once before the draws: e.g. calibrate a constant on draws independent of
        the test's. Its report is shown with the evidence; its configs, when given, replace
        the declared ones."""
        return Prepared()

    def record(self, instance) -> Mapping[str, Any] | None:
        """A small record of one draw kept in the run's evidence (what a figure needs), or None."""
        return None

    def delta(self, config: dict[str, Any]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def resolution(self, config: dict[str, Any]) -> float:
        """The violation rate p1 > delta the test must be able to exclude before the claim
        "holds" (otherwise the verdict is inconclusive: underpowered). Default:
        max(3 delta, delta + 0.1), or halfway to 1 when that would reach 1."""
        delta = self.delta(config)
        p1 = max(3.0 * delta, delta + 0.1)
        return p1 if p1 < 1.0 else delta + (1.0 - delta) / 2.0

    def sample(self, config: dict[str, Any], seed: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, instance) -> Evidence:  # pragma: no cover - abstract
        raise NotImplementedError


class RateClaim(Claim):
    """An asymptotic order of ``measure(x, seed)`` as x grows over a geometric grid.

    ``fit = "power"``: log(measure) against log(x), slope = the exponent a of x^a. ``"geometric"``:
    log(measure) against x, slope = log r of r^x (``exponent`` a log-rate, e.g. log(rho) for rho^L).
    ``bound``: ``"upper"`` (O: refuted when the slope's lower confidence limit exceeds
    exponent + exponent_tol), ``"lower"`` (Omega: refuted when the upper limit is below
    exponent - exponent_tol), ``"both"`` (of order exactly) or ``"decay"`` (tends to 0 at some
    rate: holds when the slope's upper limit is below 0, refuted when its lower limit is above
    -exponent_tol: significantly slower than any decay worth the name). ``exponent_tol``: how far
    finite sizes may bend the fit; ``exponent_tol_why``: why.
    ``budget``: per profile, the grid of x and the seeds per grid point (:class:`Budget`). Values are
    cached under the claim's id (or ``draws_of``'s, for a variant measuring the same). ``coupled``: the i-th seed is the same at every x and ``measure`` couples
    its draws across x (common random numbers, e.g. one initial output shared by every width);
    the fit's interval then takes each seed as one replicate (``verify.stats.fit_exponent(paired=True)``).
    ``control_variate``: :meth:`measure_with_control` gives (value, control) from one draw, the
    control cheap and correlated with the value; ``control_draws(x, draws, seed)`` draws the control
    alone (an array), for its mean; verify fits control-variate means (``verify.stats.control_variate``).
    """

    kind = Kind.RATE
    exponent: ClassVar[float] = 0.0
    exponent_tol: ClassVar[float] = 0.1
    exponent_tol_why: ClassVar[str] = ""
    bound: ClassVar[str] = "upper"
    fit: ClassVar[str] = "power"
    variable: ClassVar[str] = "m"
    budget: ClassVar[PerProfile[Budget]] = PerProfile(Budget())
    coupled: ClassVar[bool] = False
    control_variate: ClassVar[bool] = False
    control_draws_per_x: ClassVar[int] = 0

    def measure(self, x: int, seed: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def measure_with_control(self, x: int, seed: int) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def control_draws(self, x: int, draws: int, seed: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe_setting(self) -> Mapping[str, Any]:
        """The fixed setting of the measurements (shown with the fit)."""
        return {}


class DistributionClaim(Claim):
    """The draws ``sample(config, seed)`` (vectors in R^n, independent across seeds) follow the
    Gaussian law ``law(config) -> (mean, cov)``.

    ``verify`` tests the fit at the claim's share of the suite's level (``verify.gof``: a
    likelihood-ratio covariance test and a test of the whitened radii against chi^2_n) and
    simulates the test's power against each alternative law: its controls' laws, and any that
    :meth:`alternatives` adds. Not rejected with power >= ``min_power`` against every
    alternative: holds; with less: inconclusive (underpowered). ``budget``: per profile, the
    configurations and the draws per configuration (each draw is one independent sample)."""

    kind = Kind.DISTRIBUTION
    budget: ClassVar[PerProfile[Budget]] = PerProfile(Budget(configs=({},), draws=1000))
    min_power: ClassVar[float] = 0.9

    def sample(self, config: dict[str, Any], seed: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def law(self, config: dict[str, Any]) -> tuple[Any, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def alternatives(self, config: dict[str, Any]) -> Mapping[str, tuple[Any, Any]]:
        """Laws (mean, cov), by name, the test must tell apart from ``law`` (besides the controls')."""
        return {}

    def describe_setting(self) -> Mapping[str, Any]:
        """The fixed setting of the draws (shown with the verdict)."""
        return {}


class SymbolicClaim(Claim):
    """An identity or closed form: :meth:`prove` returns evidence with lhs = |residual|."""

    kind = Kind.SYMBOLIC

    def prove(self) -> Evidence:  # pragma: no cover - abstract
        raise NotImplementedError
