"""How each kind of claim is tried (docs/mathematics.md section 5), one function per kind,
each returning an :class:`~verify.records.Outcome`.

- exact: a Hypothesis search over the claim's domain, steered by ``target()`` toward the
  smallest normalized slack; a violation is shrunk to a small counterexample.
- whp: independent seeded draws per configuration; one-sided exact binomial test of
  "violation rate <= delta" at the claim's Bonferroni share of the suite's budget.
- rate: a geometric grid, several seeds each; log-log slope with a bootstrap interval.
- symbolic: the claim's sympy proof / high-precision check.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import example, given, target
from hypothesis import seed as hypothesis_seed

from theory.claims import Claim, Evidence, Kind, NotApplicable

from .context import Context, seed_of
from .profiles import hypothesis_settings
from .records import ERROR, HOLDS, INCONCLUSIVE, REFUTED, Outcome
from .stats import fit_exponent, violation_test
from .store import file_stem
from .strategies import for_domain

MAX_CI_WIDTH = 1.0  # a slope interval wider than this has no power to decide an exponent


def inequality(ev: Evidence | None) -> str:
    if ev is None:
        return "-"
    return f"{ev.lhs:.6g} {ev.relation} {ev.rhs:.6g} (slack {ev.slack:.3g}, tol {ev.tolerance:.2g})"


def _draws_owner(claim: Claim) -> str:
    """Whose cached draws/values a claim reads: its own, or those it declares with ``draws_of``."""
    return claim.draws_of or claim.id


# ---- exact -----------------------------------------------------------------------------
class _Violation(Exception):
    def __init__(self, instance, evidence: Evidence):
        super().__init__("violation")
        self.instance, self.evidence = instance, evidence


def run_exact(claim, ctx: Context) -> Outcome:
    stats = {"calls": 0, "not_applicable": 0, "checked": 0}
    worst: list = [None, None]
    current: list = [None]

    # Under a derandomized profile Hypothesis seeds its search from this function's source:
    # editing the body changes which instances ci explores (keep it stable, or rebaseline).
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

    # a user claim may bring its own strategy (instances()); the catalog declares domains
    strategy = claim.instances() if callable(getattr(claim, "instances", None)) else for_domain(claim.domain)
    test = given(strategy)(body)
    for inst in reversed(claim.examples):  # tried first, in the order declared
        test = example(inst)(test)
    settings = hypothesis_settings(
        ctx.profile, seeded=ctx.seed is not None, effort=claim.effort, shrink=claim.shrink, database_key=file_stem(claim.id)
    )
    test = settings(test)
    if ctx.seed is not None:
        test = hypothesis_seed(ctx.seed)(test)
    try:
        test()
    except _Violation as v:
        return Outcome(REFUTED, f"counterexample: {inequality(v.evidence)}", v.evidence, stats, v.instance)
    if stats["checked"] == 0:
        return Outcome(INCONCLUSIVE, f"no applicable instance in {stats['calls']} tries", None, stats)
    ev = worst[0]
    return Outcome(HOLDS, f"no violation in {stats['checked']} instances; closest: {inequality(ev)}", ev, stats, worst[1])


# ---- whp -------------------------------------------------------------------------------
def run_whp(claim, ctx: Context) -> Outcome:
    base = ctx.base_seed
    budget = claim.budget(ctx.profile.name)
    prepared = claim.prepare(ctx.profile.name, base)
    configs = prepared.configs if prepared.configs is not None else budget.configs
    report = dict(prepared.report)
    if not configs:
        return Outcome(INCONCLUSIVE, "no configuration to test", None, {"prepared": report})
    alpha = ctx.alpha / len(configs)
    draws = budget.draws or ctx.profile.whp_draws
    owner = _draws_owner(claim)
    tests, rejected = [], []
    for ci, config in enumerate(configs):
        k, worst = 0, None
        violating, records = [], []
        for i in range(draws):
            s = seed_of(base, ci, i)
            key = (owner, "sample", repr(sorted(config.items())), s)
            inst = ctx.cache.get(key)
            if inst is None:
                inst = ctx.cache[key] = claim.sample(config, s)
            ev = claim.check(inst)
            if not ev.holds:
                k += 1
                violating.append(s)
            if worst is None or ev.normalized_slack < worst.normalized_slack:
                worst = ev
            rec = claim.record(inst)
            if rec is not None:
                records.append({"seed": s, **rec})
        t = violation_test(k, draws, claim.delta(config), alpha)
        rec = {"config": dict(config), **t.to_dict(), "closest": worst.to_dict(), "violating_seeds": violating[:20]}
        if records:
            rec["records"] = records
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
        {"tests": tests, "draws_per_config": draws, **({"prepared": report} if report else {})},
    )
    stats = {"configs": len(configs), "draws": draws * len(configs), "alpha_per_config": alpha}
    if rejected:
        r = rejected[0]
        summary = f"violation rate {r['violations']}/{r['draws']} at {r['config']} is significantly above delta={r['delta']:.3g} (p={r['p_value']:.2g})"
        return Outcome(REFUTED, summary, ev, stats)
    worst_rate = max(tests, key=lambda r: r["rate"] - r["delta"])
    summary = f"max violation rate {worst_rate['violations']}/{draws} vs delta={worst_rate['delta']:.3g} at {worst_rate['config']}; none significant"
    return Outcome(HOLDS, summary, ev, stats)


# ---- rate ------------------------------------------------------------------------------
def run_rate(claim, ctx: Context) -> Outcome:
    import numpy as np

    budget = claim.budget(ctx.profile.name)
    grid, seeds_n = budget.grid, budget.seeds
    base = ctx.base_seed
    owner = _draws_owner(claim)
    values = np.empty((len(grid), seeds_n))
    for gi, x in enumerate(grid):
        for si in range(seeds_n):
            s = seed_of(base, x, si)
            key = (owner, "measure", x, s)
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
    setting = dict(claim.describe_setting())
    if setting:
        details["setting"] = setting
    why = f"bootstrap limit (level {1 - ctx.alpha:.4g}) of the fitted {'log-rate' if geometric else 'exponent'} vs the claim +- {tol}"
    upper_ev = Evidence(fit.lower, a + tol, "<=", 0.0, why, details)
    lower_ev = Evidence(fit.upper, a - tol, ">=", 0.0, why, details)
    stats = {"grid": list(grid), "seeds": seeds_n}
    shown = f"{'log-rate' if geometric else 'slope'} {fit.slope:.3f}, interval [{fit.lower:.3f}, {fit.upper:.3f}]"
    if claim.bound == "decay":  # "tends to 0": holds on a significant decrease, refuted on a significant lack of one
        decays = Evidence(fit.upper, 0.0, "<=", 0.0, f"upper bootstrap limit (level {1 - ctx.alpha:.4g}) of the slope below 0", details)
        if fit.lower > -tol:
            return Outcome(
                REFUTED, f"{shown}: does not decay (lower limit above -{tol})", Evidence(fit.lower, -tol, "<=", 0.0, why, details), stats
            )
        if fit.upper < 0:
            return Outcome(HOLDS, f"{shown}: decays significantly, consistent with -> 0", decays, stats)
        return Outcome(INCONCLUSIVE, f"{shown}: no significant decay", decays, stats)
    evs = {"upper": [upper_ev], "lower": [lower_ev], "both": [upper_ev, lower_ev]}[claim.bound]
    ev = Evidence.worst(evs)
    if not upper_ev.holds and claim.bound in ("upper", "both"):
        return Outcome(REFUTED, f"{shown} lies above the claimed {a:.3f} (+{tol})", upper_ev, stats)
    if not lower_ev.holds and claim.bound in ("lower", "both"):
        return Outcome(REFUTED, f"{shown} lies below the claimed {a:.3f} (-{tol})", lower_ev, stats)
    if fit.upper - fit.lower > MAX_CI_WIDTH:
        return Outcome(INCONCLUSIVE, f"{shown} too wide to decide", ev, stats)
    order = {"upper": "O", "lower": "Omega", "both": "Theta"}[claim.bound]
    return Outcome(HOLDS, f"{shown} consistent with {order}({claim.variable}^{a:.3g})" + (" (geometric)" if geometric else ""), ev, stats)


# ---- symbolic --------------------------------------------------------------------------
def run_symbolic(claim, ctx: Context) -> Outcome:
    ev = claim.prove()
    if ev.holds:
        return Outcome(HOLDS, f"proven: residual {ev.lhs:.3g} (tolerance {ev.tolerance:.1g})", ev)
    return Outcome(REFUTED, f"identity fails: residual {ev.lhs:.6g} at the witness", ev)


RUNNERS: dict[Kind, Callable[[Claim, Context], Outcome]] = {
    Kind.EXACT: run_exact,
    Kind.WHP: run_whp,
    Kind.RATE: run_rate,
    Kind.SYMBOLIC: run_symbolic,
}
__all__ = ["ERROR", "HOLDS", "INCONCLUSIVE", "REFUTED", "RUNNERS", "inequality"]
