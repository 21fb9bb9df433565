"""The typed records that cross module boundaries in ``verify``: what a kind runner returns
(:class:`Outcome`), one claim's verdict (:class:`Result`), and a run (:class:`Report`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from theory.claims import Evidence

HOLDS, REFUTED, INCONCLUSIVE, ERROR = "holds", "refuted", "inconclusive", "error"
STATUSES = (HOLDS, REFUTED, INCONCLUSIVE, ERROR)


@dataclass(frozen=True)
class Outcome:
    """What a kind runner found: the verdict, a one-line summary, the evidence it rests on, the
    search's statistics, and (exact claims) the instance the evidence is about."""

    status: str
    summary: str
    evidence: Evidence | None
    stats: Mapping[str, Any] = field(default_factory=dict)
    instance: Any = None


@dataclass(frozen=True)
class Result:
    """One claim's (or control's) verdict with its evidence, as written to ``results.jsonl``."""

    id: str
    title: str
    kind: str
    control_of: str | None
    status: str
    expected: str
    ok: bool
    summary: str
    evidence: dict | None = None
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0
    replay: str | None = None
    finding: str = ""  # a claim of the mathematics this suite refutes (see Claim.finding)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Report:
    """A whole run: its results in selection order, and what the verdicts are worth together."""

    results: tuple[Result, ...]
    profile: str
    seed: int | None  # None: the profile's fixed seeds (base 0; Hypothesis derandomized under ci)
    alpha_total: float
    alpha_per_test: float
    statistical_tests: int
    seconds: float
    versions: Mapping[str, str]
    complete: bool = True
    missing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.complete and all(r.ok for r in self.results)

    @property
    def errors(self) -> list[Result]:
        return [r for r in self.results if r.status == ERROR]

    def false_alarm_statement(self) -> str:
        return (
            f"False-alarm bound: P(any true whp/rate claim reported refuted) <= {self.alpha_total:g} "
            f"(Bonferroni over {self.statistical_tests} statistical claim(s) at {self.alpha_per_test:.3g} each; "
            "rate intervals are t intervals on the fit's first-order error). Exact and symbolic refutations are concrete instances."
        )

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "complete": self.complete,
            "missing": list(self.missing),
            "profile": self.profile,
            "seed": self.seed,
            "alpha_total": self.alpha_total,
            "alpha_per_test": self.alpha_per_test,
            "statistical_tests": self.statistical_tests,
            "false_alarm_statement": self.false_alarm_statement(),
            "seconds": self.seconds,
            "versions": dict(self.versions),
            "results": [r.to_dict() for r in self.results],
        }
