"""The runner: tries to break each claim the way its kind allows, and its controls.

- exact: a Hypothesis search over ``claim.instances()``, steered by ``target()`` toward the
  smallest normalized slack; a violation is shrunk to a small counterexample.
- whp: independent seeded draws per configuration; one-sided exact binomial test of
  "violation rate <= delta" at the claim's Bonferroni share of the suite's budget.
- rate: a geometric grid, several seeds each; log-log slope with a bootstrap interval.
- symbolic: the claim's sympy proof / high-precision check.

A claim is *refuted* only on a concrete violation (exact, symbolic) or a significant one
(whp, rate). A negative control passes when it is refuted; one that survives means the check
lacks power, and fails the run like a refuted claim does.
"""

from __future__ import annotations

import hashlib
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, target
from hypothesis import seed as hypothesis_seed

from theory.claims import Claim, Evidence, Kind, NotApplicable, all_claims, get

from . import serialize
from .profiles import Profile, get_profile, hypothesis_settings
from .stats import fit_exponent, split_alpha, violation_test

HOLDS, REFUTED, INCONCLUSIVE, ERROR = "holds", "refuted", "inconclusive", "error"
MAX_CI_WIDTH = 1.0  # a slope interval wider than this has no power to decide an exponent


@dataclass
class Result:
    """One claim's (or control's) verdict with its evidence."""

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
    finding: str = ""  # a MATH.md claim this suite refutes (see Claim.finding)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Context:
    profile: Profile
    seed: int | None
    alpha: float  # per statistical test (Bonferroni share)
    out: Path | None
    cache: dict = field(default_factory=dict)


class _Violation(Exception):
    def __init__(self, instance, evidence: Evidence):
        super().__init__("violation")
        self.instance, self.evidence = instance, evidence


def _seed_of(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


# ---- exact -----------------------------------------------------------------------------
def _run_exact(claim, ctx: Context) -> tuple[str, str, Evidence | None, dict, Any]:
    stats = {"calls": 0, "not_applicable": 0, "checked": 0}
    worst: list = [None, None]
    current: list = [None]

    def body(instance):
        stats["calls"] += 1
        current[0] = instance
        if claim.failed_hypotheses(instance):
            stats["not_applicable"] += 1
            return
        try:
            ev = claim.check(instance)
        except NotApplicable:
            stats["not_applicable"] += 1
            return
        stats["checked"] += 1
        score = claim.target(ev)
        if worst[0] is None or score < claim.target(worst[0]):
            worst[0], worst[1] = ev, instance
        target(-score, label="closeness to violation")
        if not ev.holds:
            raise _Violation(instance, ev)

    test = given(claim.instances())(body)
    test._hypothesis_internal_database_key = hashlib.sha384(claim.id.encode()).digest()
    test = hypothesis_settings(ctx.profile, seeded=ctx.seed is not None, effort=claim.effort, shrink=claim.shrink)(test)
    if ctx.seed is not None:
        test = hypothesis_seed(ctx.seed)(test)
    try:
        test()
    except _Violation as v:
        ev = v.evidence
        return REFUTED, f"counterexample: {_ineq(ev)}", ev, stats, v.instance
    if stats["checked"] == 0:
        return INCONCLUSIVE, f"no applicable instance in {stats['calls']} tries", None, stats, None
    ev = worst[0]
    return HOLDS, f"no violation in {stats['checked']} instances; closest: {_ineq(ev)}", ev, stats, worst[1]


# ---- whp -------------------------------------------------------------------------------
def _run_whp(claim, ctx: Context):
    base = ctx.seed or 0
    prepared = claim.prepare(ctx.profile.name, base)
    configs = claim.configs_for(ctx.profile.name)
    if not configs:
        return INCONCLUSIVE, "no configuration to test", None, {"prepared": prepared}, None
    alpha = ctx.alpha / len(configs)
    draws = claim.draws.get(ctx.profile.name) or ctx.profile.whp_draws
    tests, rejected = [], []
    for ci, config in enumerate(configs):
        k, worst = 0, None
        violating = []
        for i in range(draws):
            s = _seed_of(base, ci, i)
            key = (type(claim).sample, repr(sorted(config.items())), s)
            inst = ctx.cache.get(key)
            if inst is None:
                inst = ctx.cache[key] = claim.sample(config, s)
            ev = claim.check(inst)
            if not ev.holds:
                k += 1
                violating.append(s)
            if worst is None or ev.normalized_slack < worst.normalized_slack:
                worst = ev
        t = violation_test(k, draws, claim.delta(config), alpha)
        rec = {"config": config, **t.to_dict(), "closest": worst.to_dict(), "violating_seeds": violating[:20]}
        tests.append(rec)
        if t.rejected:
            rejected.append(rec)
    # evidence: the configuration whose lower confidence bound is highest relative to delta
    pick = max(tests, key=lambda r: r["lower"] - r["delta"])
    ev = Evidence(
        pick["lower"],
        pick["delta"],
        "<=",
        0.0,
        f"one-sided Clopper-Pearson lower bound at level 1 - {alpha:.2g} (Bonferroni share)",
        {"tests": tests, "draws_per_config": draws, **({"prepared": prepared} if prepared else {})},
    )
    stats = {"configs": len(configs), "draws": draws * len(configs), "alpha_per_config": alpha}
    if rejected:
        r = rejected[0]
        return (
            REFUTED,
            f"violation rate {r['violations']}/{r['draws']} at {r['config']} is significantly above delta={r['delta']:.3g} (p={r['p_value']:.2g})",
            ev,
            stats,
            None,
        )
    worst_rate = max(tests, key=lambda r: r["rate"] - r["delta"])
    return (
        HOLDS,
        f"max violation rate {worst_rate['violations']}/{draws} vs delta={worst_rate['delta']:.3g} at {worst_rate['config']}; none significant",
        ev,
        stats,
        None,
    )


# ---- rate ------------------------------------------------------------------------------
def _run_rate(claim, ctx: Context):
    grid = claim.grid_for(ctx.profile.name)
    seeds_n = claim.seeds_for(ctx.profile.name)
    base = ctx.seed or 0
    values = np.empty((len(grid), seeds_n))
    for gi, x in enumerate(grid):
        for si in range(seeds_n):
            s = _seed_of(base, x, si)
            key = (type(claim).measure, x, s)
            if key not in ctx.cache:
                ctx.cache[key] = float(claim.measure(x, s))
            values[gi, si] = ctx.cache[key]
    geometric = claim.fit == "geometric"
    fit = fit_exponent(grid, values, alpha=ctx.alpha, n_boot=ctx.profile.bootstrap, seed=base, geometric=geometric)
    a, tol = claim.exponent, claim.exponent_tol
    details = {
        "fit": fit.to_dict(),
        "fit_kind": claim.fit,
        "claimed_exponent": a,
        "bound": claim.bound,
        "tolerance_why": claim.exponent_tol_why,
        "values": values.tolist(),
    }
    if hasattr(claim, "describe_setting"):
        details["setting"] = claim.describe_setting()
    why = f"bootstrap limit (level {1 - ctx.alpha:.4g}) of the fitted {'log-rate' if geometric else 'exponent'} vs the claim +- {tol}"
    upper_ev = Evidence(fit.lower, a + tol, "<=", 0.0, why, details)
    lower_ev = Evidence(fit.upper, a - tol, ">=", 0.0, why, details)
    stats = {"grid": list(grid), "seeds": seeds_n}
    shown = f"{'log-rate' if geometric else 'slope'} {fit.slope:.3f}, interval [{fit.lower:.3f}, {fit.upper:.3f}]"
    if claim.bound == "decay":  # "tends to 0": holds on a significant decrease, refuted on a significant lack of one
        decays = Evidence(fit.upper, 0.0, "<=", 0.0, f"upper bootstrap limit (level {1 - ctx.alpha:.4g}) of the slope below 0", details)
        if fit.lower > -tol:
            return (
                REFUTED,
                f"{shown}: does not decay (lower limit above -{tol})",
                Evidence(fit.lower, -tol, "<=", 0.0, why, details),
                stats,
                None,
            )
        if fit.upper < 0:
            return HOLDS, f"{shown}: decays significantly, consistent with -> 0", decays, stats, None
        return INCONCLUSIVE, f"{shown}: no significant decay", decays, stats, None
    evs = {"upper": [upper_ev], "lower": [lower_ev], "both": [upper_ev, lower_ev]}[claim.bound]
    ev = Evidence.worst(evs)
    if not upper_ev.holds and claim.bound in ("upper", "both"):
        return REFUTED, f"{shown} lies above the claimed {a:.3f} (+{tol})", upper_ev, stats, None
    if not lower_ev.holds and claim.bound in ("lower", "both"):
        return REFUTED, f"{shown} lies below the claimed {a:.3f} (-{tol})", lower_ev, stats, None
    if fit.upper - fit.lower > MAX_CI_WIDTH:
        return INCONCLUSIVE, f"{shown} too wide to decide", ev, stats, None
    order = {"upper": "O", "lower": "Omega", "both": "Theta"}[claim.bound]
    return HOLDS, f"{shown} consistent with {order}({claim.variable}^{a:.3g})" + (" (geometric)" if geometric else ""), ev, stats, None


# ---- symbolic --------------------------------------------------------------------------
def _run_symbolic(claim, ctx: Context):
    ev = claim.prove()
    if ev.holds:
        return HOLDS, f"proven: residual {ev.lhs:.3g} (tolerance {ev.tolerance:.1g})", ev, {}, None
    return REFUTED, f"identity fails: residual {ev.lhs:.6g} at the witness", ev, {}, None


_RUNNERS: dict[Kind, Callable] = {Kind.EXACT: _run_exact, Kind.WHP: _run_whp, Kind.RATE: _run_rate, Kind.SYMBOLIC: _run_symbolic}


def _ineq(ev: Evidence | None) -> str:
    if ev is None:
        return "-"
    return f"{ev.lhs:.6g} {ev.relation} {ev.rhs:.6g} (slack {ev.slack:.3g}, tol {ev.tolerance:.2g})"


def run_claim(claim: Claim, ctx: Context) -> Result:
    expected = REFUTED if claim.is_control or claim.finding else HOLDS
    t0 = time.perf_counter()
    instance = None
    try:
        status, summary, ev, stats, instance = _RUNNERS[claim.kind](claim, ctx)
    except Exception as exc:  # a crash in a check is a finding, never a pass
        status, summary, ev, stats = ERROR, f"{type(exc).__name__}: {exc}", None, {"traceback": traceback.format_exc()}
    ok = status == expected
    if claim.is_control and status == HOLDS:
        summary = "NOT refuted: this check lacks power. " + summary
    elif claim.is_control and status == REFUTED:
        summary = "refuted as expected: " + summary
    elif claim.finding and status == REFUTED:
        summary = "FINDING, MATH.md's claim is false here: " + summary
    elif claim.finding:
        summary = "a recorded finding did not reproduce: " + summary
    res = Result(
        claim.id,
        claim.title,
        claim.kind.value,
        claim.control_of,
        status,
        expected,
        ok,
        summary,
        ev.to_dict() if ev is not None else None,
        stats,
        time.perf_counter() - t0,
        finding=claim.finding,
    )
    if status == REFUTED and ctx.out is not None:
        res.replay = str(write_counterexample(claim, res, instance, ctx))
    return res


def write_counterexample(claim: Claim, res: Result, instance, ctx: Context) -> Path:
    """A self-contained replay file: the instance (exact claims) or the run's settings."""
    folder = ctx.out / "counterexamples"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (claim.id.replace("/", "__").replace("<", "lt").replace(">", "gt") + ".json")
    record = {
        "claim": claim.id,
        "module": type(claim).__module__,
        "mode": "instance" if instance is not None else "run",
        "instance": instance,
        "evidence": res.evidence,
        "summary": res.summary,
        "profile": ctx.profile.name,
        "seed": ctx.seed,
        "alpha": ctx.alpha,
        "versions": serialize.versions(),
    }
    path.write_text(serialize.dumps(record))
    return path


@dataclass
class Report:
    results: list[Result]
    profile: str
    seed: int | None
    alpha_total: float
    alpha_per_test: float
    statistical_tests: int
    seconds: float
    versions: dict

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def false_alarm_statement(self) -> str:
        return (
            f"False-alarm bound: P(any true whp/rate claim reported refuted) <= {self.alpha_total:g} "
            f"(Bonferroni over {self.statistical_tests} statistical claim(s) at {self.alpha_per_test:.3g} each; "
            "rate intervals are bootstrap approximations). Exact and symbolic refutations are concrete instances."
        )

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "profile": self.profile,
            "seed": self.seed,
            "alpha_total": self.alpha_total,
            "alpha_per_test": self.alpha_per_test,
            "statistical_tests": self.statistical_tests,
            "false_alarm_statement": self.false_alarm_statement(),
            "seconds": self.seconds,
            "versions": self.versions,
            "results": [r.to_dict() for r in self.results],
        }


def select(ids: list[str] | None = None, *, controls: bool = True) -> list[Claim]:
    """Claims named by ``ids`` (a claim id also selects its controls), or all of them."""
    everything = all_claims(controls=controls)
    if not ids:
        return everything
    chosen: list[Claim] = []
    for cid in ids:
        get(cid)  # raises a clear KeyError for an unknown id
        for c in everything:
            if (c.id == cid or c.control_of == cid) and c not in chosen:
                chosen.append(c)
    return chosen


def run(
    ids: list[str] | None = None,
    *,
    profile: str = "ci",
    seed: int | None = None,
    out: str | Path | None = None,
    on_result: Callable[[Result], None] | None = None,
    on_start: Callable[[Claim], None] | None = None,
    controls: bool = True,
    jobs: int = 1,
    scheduler: str | None = None,
    imports: tuple[str, ...] = (),
) -> Report:
    """Run the selected claims and (unless ``controls=False``) their negative controls; write
    ``results.json`` and counterexamples to ``out``. The false-alarm budget is split over the
    selected statistical claims, so a run of fewer claims gives each a larger share.

    ``jobs > 1`` runs on a ``dask.distributed.LocalCluster`` of that many single-threaded
    worker processes, ``scheduler`` on an existing Dask cluster at that address (its workers
    must have this package installed, and import ``imports``, e.g. modules registering your
    own claims). The unit of work is a claim with its controls (they share cached draws);
    every number is a function of (claim, profile, seed, alpha) only, so a distributed run
    gives the same verdicts and numbers as the serial one (tested)."""
    prof = get_profile(profile)
    claims = select(ids, controls=controls)
    statistical = sum(1 for c in claims if not c.is_control and c.kind in (Kind.WHP, Kind.RATE))
    alpha = split_alpha(prof.alpha, statistical)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if jobs > 1 or scheduler:
        results = _run_distributed(claims, prof.name, seed, alpha, out_path, on_result, jobs, scheduler, tuple(imports))
    else:
        ctx = Context(prof, seed, alpha, out_path)
        results = []
        for claim in claims:
            if on_start:
                on_start(claim)
            res = run_claim(claim, ctx)
            results.append(res)
            if on_result:
                on_result(res)
    report = Report(results, prof.name, seed, prof.alpha, alpha, statistical, time.perf_counter() - t0, serialize.versions())
    if out_path is not None:
        (out_path / "results.json").write_text(serialize.dumps(report.to_dict()))
    return report


def _groups(claims: list[Claim]) -> list[list[str]]:
    """Each claim with the controls selected after it (controls share their claim's caches)."""
    groups: list[list[str]] = []
    for c in claims:
        if c.is_control and groups and c.control_of in groups[-1]:
            groups[-1].append(c.id)
        else:
            groups.append([c.id])
    return groups


def _thread_counts() -> dict:
    """This process's torch and BLAS thread counts."""
    import torch
    from threadpoolctl import threadpool_info

    return {"torch": torch.get_num_threads(), "blas": {i["internal_api"]: i["num_threads"] for i in threadpool_info()}}


def run_group(
    ids: list[str],
    profile: str,
    seed: int | None,
    alpha: float,
    out: str | None,
    imports: tuple[str, ...] = (),
    threads: dict | None = None,
) -> list[dict]:
    """One unit of distributed work: run ``ids`` in a fresh context; plain dicts come back.

    ``threads``: the submitting process's torch and BLAS thread counts, mirrored here. Dask
    starts workers with one BLAS thread, and a reduction split over another number of threads
    rounds differently: a serial and a distributed run then differed in the last bit of some
    spectral norms (measured). With the same counts they agree bit for bit."""
    import importlib

    import torch
    from threadpoolctl import threadpool_limits

    for mod in imports:
        importlib.import_module(mod)
    if threads:
        torch.set_num_threads(threads["torch"])
        threadpool_limits(limits=threads["blas"])  # keyed by internal API (openblas, openmp, ...)
    ctx = Context(get_profile(profile), seed, alpha, Path(out) if out else None)
    return [run_claim(get(cid), ctx).to_dict() for cid in ids]


def _run_distributed(claims, profile, seed, alpha, out, on_result, jobs, scheduler, imports) -> list[Result]:
    from dask.distributed import Client, LocalCluster, as_completed

    threads = _thread_counts()
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        groups = _groups(claims)
        futures = {
            client.submit(run_group, g, profile, seed, alpha, str(out) if out else None, imports, threads, pure=False, key=f"claims-{i}"): i
            for i, g in enumerate(groups)
        }
        by_group: dict[int, list[Result]] = {}
        for fut in as_completed(futures):
            rs = [Result(**d) for d in fut.result()]
            by_group[futures[fut]] = rs
            for r in rs:
                if on_result:
                    on_result(r)
        return [r for i in range(len(groups)) for r in by_group[i]]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _finite(x: float) -> bool:
    return isinstance(x, float) and math.isfinite(x)
