"""How each kind of claim is tried (docs/mathematics.md section 5), one function per kind,
each returning an :class:`~verify.records.Outcome`.

- exact: a Hypothesis search over the claim's domain, steered by ``target()`` toward the
  smallest normalized slack; a violation is shrunk to a small counterexample.
- whp: independent seeded draws per configuration; one-sided exact binomial test of
  "violation rate <= delta" at the claim's Bonferroni share of the suite's budget.
- rate: a geometric grid, several seeds each; log-log slope with a Student-t interval.
- symbolic: the claim's sympy proof / high-precision check.
- distribution: goodness of fit to a stated Gaussian law, with the test's power against the
  controls' laws (:mod:`verify.kind_distribution`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from hypothesis import example, given, target
from hypothesis import seed as hypothesis_seed

from theory.claims import Claim, Evidence, Kind, NotApplicable

from .context import Context, control_seed, measure_point, rate_keys, rate_seed, sample_key, seed_of
from .errors import UsageError
from .kind_distribution import run_distribution
from .profiles import hypothesis_settings, keep_working_folder_clean
from .records import ERROR, HOLDS, INCONCLUSIVE, REFUTED, Outcome
from .stats import SequentialTest, control_variate, fit_exponent, violation_test
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


class _Tracked:
    """The claim as the search sees it: every check's score is recorded, so the outcome can say
    how close the search came to the boundary and whether it was still getting closer."""

    def __init__(self, claim):
        self._claim = claim
        self.checks, self.best, self.best_at, self.best_slack = 0, math.inf, 0, math.nan

    def __getattr__(self, name):
        return getattr(self._claim, name)

    def check(self, instance):
        ev = self._claim.check(instance)
        self.checks += 1
        score = self._claim.target(ev)
        if score < self.best:
            self.best, self.best_at, self.best_slack = score, self.checks, ev.normalized_slack
        return ev

    def closeness(self) -> dict:
        """How close the search came: the normalized slack (slack + tolerance over the larger
        side; < 0 is a violation) of the instance the search's target ranked closest, the check
        at which it was found, and whether that came in the last fifth of the search (the
        budget ran out while the search was still getting closer)."""
        return {
            "closest_normalized_slack": self.best_slack,
            "closest_at_check": self.best_at,
            "still_improving": self.checks >= 5 and self.best_at > 0.8 * self.checks,
        }


def run_exact(claim, ctx: Context) -> Outcome:
    """Search the claim's domain for a counterexample. ``closest_score`` in the outcome's
    statistics is the smallest score the search reached (the claim's ``target``: by default
    the normalized slack, (slack + tolerance) / max(|lhs|, |rhs|)), with where it was found."""
    tracked = claim = _Tracked(claim)
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

    keep_working_folder_clean(ctx.profile)
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
        return Outcome(REFUTED, f"counterexample: {inequality(v.evidence)}", v.evidence, {**stats, **tracked.closeness()}, v.instance)
    stats.update(tracked.closeness())
    if stats["checked"] == 0:
        return Outcome(INCONCLUSIVE, f"no applicable instance in {stats['calls']} tries", None, stats)
    ev = worst[0]
    near = f"normalized slack {stats['closest_normalized_slack']:.3g} at check {stats['closest_at_check']}" + (
        ", still improving when the budget ran out" if stats["still_improving"] else ""
    )
    return Outcome(HOLDS, f"no violation in {stats['checked']} instances; closest: {inequality(ev)}; {near}", ev, stats, worst[1])


# ---- whp -------------------------------------------------------------------------------
def _spread(values: list[float]) -> dict:
    import numpy as np

    q = np.quantile(np.array(values), [0.0, 0.1, 0.5, 0.9, 1.0]).tolist()
    return dict(zip(("min", "q10", "median", "q90", "max"), q, strict=True))


class CostError(UsageError):
    """A claim's estimated cost exceeds what the profile allows one claim."""


def _refuse_if_too_costly(claim, first: float, draws: int, ctx: Context) -> None:
    """Refuse, after the first draw, a whp claim whose budget of draws would take longer than the
    profile allows one claim (the estimate assumes every draw costs what the first did)."""
    estimate = first * draws
    if estimate > ctx.profile.claim_seconds:
        raise CostError(
            f"{claim.id}: refused: {draws} draws at ~{first:.1f} s each would take ~{estimate:.0f} s, over the "
            f"{ctx.profile.name} profile's {ctx.profile.claim_seconds:.0f} s per claim; lower draws= (or configs) in its budget"
        )


def run_whp(claim, ctx: Context) -> Outcome:
    """Draw sequentially per configuration (Wald's SPRT with Ville thresholds,
    :class:`~verify.stats.SequentialTest`): stop when the test decides or the budget is spent.
    Refuted if any configuration is; holds only if every configuration excludes a violation
    rate of its resolution p1; otherwise inconclusive (underpowered), with how many more draws
    would decide. Every draw's normalized slack is kept (the spread, not just the worst)."""
    base = ctx.base_seed
    budget = claim.budget(ctx.profile.name)
    prepared = claim.prepare(ctx.profile.name, base)
    if prepared.configs is not None and not claim.configs_from_prepare:
        raise UsageError(f"{claim.id}: prepare returned configurations; declare configs_from_prepare = True")
    configs = prepared.configs if prepared.configs is not None else budget.configs
    report = dict(prepared.report)
    if not configs:
        return Outcome(INCONCLUSIVE, "no configuration to test", None, {"prepared": report})
    alpha = ctx.alpha / len(configs)
    max_draws = budget.draws or ctx.profile.whp_draws
    owner = _draws_owner(claim)
    tests = []
    for ci, config in enumerate(configs):
        test = SequentialTest(claim.delta(config), claim.resolution(config), alpha)
        k, worst, decision = 0, None, None
        violating, records, values = [], [], []
        for i in range(max_draws):
            s = seed_of(base, ci, i)
            key = sample_key(owner, config, s)
            inst = ctx.cache.get(key)
            if inst is None:
                t0 = time.perf_counter()
                inst = ctx.cache[key] = claim.sample(config, s)
                if ci == 0 and i == 0:
                    _refuse_if_too_costly(claim, time.perf_counter() - t0, max_draws * len(configs), ctx)
            ev = claim.check(inst)
            values.append(ev.normalized_slack)
            if not ev.holds:
                k += 1
                violating.append(s)
            if worst is None or ev.normalized_slack < worst.normalized_slack:
                worst = ev
            rec = claim.record(inst)
            if rec is not None:
                records.append({"seed": s, **rec})
            decision = test.decide(k, i + 1)
            if decision:
                break
        n = len(values)
        fixed = violation_test(k, n, test.delta, alpha)
        entry = {
            "config": dict(config),
            **test.to_dict(k, n),
            "max_draws": max_draws,
            "rate": k / n,
            "clopper_pearson": [fixed.lower, fixed.upper],
            "closest": worst.to_dict(),
            "violating_seeds": violating[:20],
            "values": values,
            "spread": _spread(values),
        }
        if records:
            entry["records"] = records
        tests.append(entry)
    stats = {"configs": len(configs), "draws": sum(t["draws"] for t in tests), "alpha_per_config": alpha, "max_draws_per_config": max_draws}
    details = {"tests": tests, **({"prepared": report} if report else {})}
    why = (
        "Wald's SPRT of rate <= delta against rate >= p1 with Ville thresholds (anytime-valid at level "
        f"{alpha:.2g}, the claim's Bonferroni share per configuration)"
    )
    skipped = report.get("skipped_over_width_budget") or []
    tail = "; skipped (m* over the width budget): " + ", ".join(f"n={c.get('n')} m*={c.get('m')}" for c in skipped) if skipped else ""
    refuted = [t for t in tests if t["decision"] == "refuted"]
    if refuted:
        t = refuted[0]
        ev = Evidence(t["log_likelihood_ratio"], t["threshold"], "<=", 0.0, why + ": log-likelihood ratio against its threshold", details)
        summary = (
            f"violation rate {t['violations']}/{t['draws']} at {t['config']}: the evidence for a rate >= {t['resolution_p1']:.3g} "
            f"(delta={t['delta']:.3g}) passed 1/alpha"
        )
        return Outcome(REFUTED, summary + tail, ev, stats)
    worst_t = max(tests, key=lambda t: t["upper_bound"] - t["resolution_p1"])
    ev = Evidence(
        worst_t["upper_bound"], worst_t["resolution_p1"], "<=", 0.0, why + ": upper confidence bound on the rate against p1", details
    )
    if all(t["decision"] == "holds" for t in tests):
        summary = (
            f"max violations {max(t['violations'] for t in tests)} in {min(t['draws'] for t in tests)}-{max(t['draws'] for t in tests)} "
            f"draws per config; rate <= {worst_t['upper_bound']:.3g} (anytime bound) <= resolution {worst_t['resolution_p1']:.3g} everywhere"
        )
        return Outcome(HOLDS, summary + tail, ev, stats)
    t = worst_t
    summary = (
        f"inconclusive: underpowered at {t['config']}: {t['violations']}/{t['draws']} violations bound the rate only by "
        f"{t['upper_bound']:.3g} > resolution {t['resolution_p1']:.3g} (delta={t['delta']:.3g}); about {t['draws_to_hold']} more "
        f"draws without a violation would decide (budget {max_draws})"
    )
    return Outcome(INCONCLUSIVE, summary + tail, ev, stats)


# ---- rate ------------------------------------------------------------------------------
def _control_variate(claim, ctx: Context, grid, values, controls):
    """(adjusted values, the variance their means owe to the control's estimated mean,
    diagnostics): :func:`verify.stats.control_variate`, the control's mean at each x from
    ``claim.control_draws_per_x`` independent draws (cached: the claim's controls reuse them)."""
    import numpy as np

    means, mean_vars = [], []
    for x in grid:
        key = (_draws_owner(claim), "control-mean", x, ctx.base_seed)
        if key not in ctx.cache:
            draws = np.asarray(claim.control_draws(x, claim.control_draws_per_x, control_seed(ctx.base_seed, x)), dtype=float)
            ctx.cache[key] = (float(draws.mean()), float(draws.var(ddof=1) / draws.size))
        means.append(ctx.cache[key][0])
        mean_vars.append(ctx.cache[key][1])
    adjusted, mean_var, diagnostics = control_variate(values, controls, means, mean_vars)
    return adjusted, mean_var, {**diagnostics, "draws_per_x": claim.control_draws_per_x, "control_mean_vars": mean_vars}


def _blind_to_no_change(bound: str, a: float, tol: float, half: float, form: str) -> str:
    """Why a rate's "holds" is not earned, or "": a decay claim (a < 0, upper or two-sided)
    whose interval, centred on 0 (no decay at all) with the same half-width, would not lie
    above a + tol could not have refuted a measure that does not decay; likewise a growth
    claim (a > 0, lower or two-sided) and no growth. Its "holds" would print for a false
    statement, so it is inconclusive."""
    if a < 0 and bound in ("upper", "both") and not -half > a + tol:
        return f"cannot tell a decay like {form} from none: an interval this wide (+-{half:.2f}) around a slope of 0 would not refute it (that needs +-{-(a + tol):.2f} or less)"
    if a > 0 and bound in ("lower", "both") and not half < a - tol:
        return f"cannot tell a growth like {form} from none: an interval this wide (+-{half:.2f}) around a slope of 0 would not refute it (that needs +-{a - tol:.2f} or less)"
    return ""


def run_rate(claim, ctx: Context) -> Outcome:
    import numpy as np

    budget = claim.budget(ctx.profile.name)
    grid, seeds_n = budget.grid, budget.seeds
    base = ctx.base_seed
    values = np.empty((len(grid), seeds_n))
    controls = np.empty((len(grid), seeds_n))
    for gi, x in enumerate(grid):
        for si in range(seeds_n):
            s = rate_seed(claim, base, x, si)
            keys = rate_keys(claim, x, s)
            if any(k not in ctx.cache for k in keys):
                for k, v in measure_point(claim, x, s).items():
                    ctx.cache[k] = v  # item by item: a journal writes each as it lands
            values[gi, si] = ctx.cache[keys[0]]
            if claim.control_variate:
                controls[gi, si] = ctx.cache[keys[1]]
    geometric = claim.fit == "geometric"
    fit = fit_exponent(grid, values, alpha=ctx.alpha, geometric=geometric, paired=claim.coupled)
    cv = None
    if claim.control_variate:
        raw, (adjusted, mean_var, cv) = fit, _control_variate(claim, ctx, grid, values, controls)
        fit = fit_exponent(grid, adjusted, alpha=ctx.alpha, geometric=geometric, mean_var=mean_var)
        cv = {**cv, "raw_fit": raw.to_dict(), "adjusted_values": adjusted.tolist()}
    a, tol = claim.exponent, claim.exponent_tol
    details = {
        "fit": fit.to_dict(),
        "fit_kind": claim.fit,
        "claimed_exponent": a,
        "tolerance": tol,
        "bound": claim.bound,
        "tolerance_why": claim.exponent_tol_why,
        "values": values.tolist(),
        **({"coupled": "one seed per column at every x: the seed is the unit of the t interval"} if claim.coupled else {}),
        **({"control_variate": cv} if cv is not None else {}),
    }
    setting = dict(claim.describe_setting())
    if setting:
        details["setting"] = setting
    limit = f"{fit.method} limit"
    why = f"{limit} (level {1 - ctx.alpha:.4g}) of the fitted {'log-rate' if geometric else 'exponent'} vs the claim +- {tol}"
    upper_ev = Evidence(fit.lower, a + tol, "<=", 0.0, why, details)
    lower_ev = Evidence(fit.upper, a - tol, ">=", 0.0, why, details)
    half = (fit.upper - fit.lower) / 2
    stats = {"grid": list(grid), "seeds": seeds_n, "resolution": half}
    shown = f"{'log-rate' if geometric else 'slope'} {fit.slope:.3f}, interval [{fit.lower:.3f}, {fit.upper:.3f}] (resolves +-{half:.2f})"
    if cv is not None:
        shown += f" with a control variate (variance x{np.mean(cv['variance_factor']):.2f})"
    if claim.bound == "decay":  # "tends to 0": holds on a significant decrease, refuted on a significant lack of one
        decays = Evidence(fit.upper, 0.0, "<=", 0.0, f"upper {limit} (level {1 - ctx.alpha:.4g}) of the slope below 0", details)
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
    form = f"exp({a:.3g} {claim.variable})" if geometric else f"{claim.variable}^{a:.3g}"
    blind = _blind_to_no_change(claim.bound, a, tol, half, form)
    if blind:
        stats["blind_to_no_change"] = True
        return Outcome(INCONCLUSIVE, f"{shown}: {blind}", ev, stats)
    order = {"upper": "O", "lower": "Omega", "both": "Theta"}[claim.bound]
    consistent = f"{shown} consistent with {order}({form})"
    beyond = (claim.bound in ("upper", "both") and fit.lower > a) or (claim.bound in ("lower", "both") and fit.upper < a)
    if beyond and tol > 0:  # the interval lies wholly on the refuting side: only the tolerance keeps it
        stats["rests_on_tolerance"] = True
        side = "above" if fit.lower > a else "below"
        consistent = (
            f"holds within tolerance {tol}: interval wholly {side} {a:.3g} ({claim.exponent_tol_why or 'no reason given'}); " + consistent
        )
    return Outcome(HOLDS, consistent, ev, stats)


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
    Kind.DISTRIBUTION: run_distribution,
}
__all__ = ["ERROR", "HOLDS", "INCONCLUSIVE", "REFUTED", "RUNNERS", "inequality"]
