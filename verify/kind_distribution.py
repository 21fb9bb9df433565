"""How a distribution claim is tried (docs/mathematics.md section 5): independent seeded draws
per configuration, a goodness-of-fit test of the stated Gaussian law (:mod:`verify.gof`) at the
claim's Bonferroni share of the suite's level, and the test's power against the controls' laws
simulated at the same number of draws, so that "holds" says what the test could have seen."""

from __future__ import annotations

import numpy as np

from theory.claims import Evidence, controls_of

from .context import Context, sample_key, seed_of
from .gof import power, qq, whiten, whitened_fit
from .records import HOLDS, INCONCLUSIVE, REFUTED, Outcome

POWER_SIMULATIONS = 400  # runs per alternative: the power's Monte Carlo error is <= 0.025 (one s.d.)


def _law(claim, config) -> tuple[np.ndarray, np.ndarray]:
    mean, cov = claim.law(config)
    cov = np.asarray(cov, dtype=np.float64)
    mean = np.zeros(len(cov)) if mean is None else np.asarray(mean, dtype=np.float64)
    return mean, cov


def _draws(claim, config, ci: int, n: int, ctx: Context) -> np.ndarray:
    owner = claim.draws_of or claim.id
    rows = []
    for i in range(n):
        s = seed_of(ctx.base_seed, ci, i)
        key = sample_key(owner, config, s)
        if key not in ctx.cache:
            ctx.cache[key] = np.asarray(claim.sample(config, s), dtype=np.float64).ravel()
        rows.append(ctx.cache[key])
    return np.stack(rows)


def run_distribution(claim, ctx: Context) -> Outcome:
    """Refuted if the fit is rejected at any configuration; holds if it is rejected nowhere and
    the power against every alternative reaches ``claim.min_power``; else inconclusive."""
    budget = claim.budget(ctx.profile.name)
    configs = budget.configs or ({},)
    n = budget.draws or ctx.profile.whp_draws
    alpha = ctx.alpha / len(configs)
    tests = []
    for ci, config in enumerate(configs):
        config = dict(config)
        x = _draws(claim, config, ci, n, ctx)
        law = _law(claim, config)
        w = whiten(x, *law)
        fit = whitened_fit(w, alpha)
        alternatives = {} if claim.is_control else {c.id: _law(c, config) for c in controls_of(claim.id)}
        if not claim.is_control:
            alternatives.update({k: (np.asarray(m, float), np.asarray(c, float)) for k, (m, c) in claim.alternatives(config).items()})
        powers = [
            power(name, law, alt, n, alpha, simulations=POWER_SIMULATIONS, seed=ctx.base_seed).to_dict()
            for name, alt in alternatives.items()
        ]
        tests.append({"config": config, **fit.to_dict(), "powers": powers, "qq": qq(w)})
    details = {"tests": tests, "min_power": claim.min_power, "power_simulations": POWER_SIMULATIONS}
    setting = dict(claim.describe_setting())
    if setting:
        details["setting"] = setting
    stats = {"configs": len(configs), "draws": n * len(configs), "alpha_per_config": alpha}
    worst = min(tests, key=lambda t: t["p_value"])
    why = (
        f"Bonferroni of a likelihood-ratio covariance test (exact Wishart null) and a Cramer-von Mises test of the whitened "
        f"radii against chi^2_n, at level {alpha:.2g} (the claim's share): p-value against the level"
    )
    ev = Evidence(worst["p_value"], alpha, ">=", 0.0, why, details)
    shown = f"p = {worst['p_value']:.3g} (covariance {worst['covariance_p']:.3g}, radii {worst['radii_p']:.3g}) with {n} draws"
    if worst["rejected"]:
        return Outcome(REFUTED, f"{shown}: the law is rejected at level {alpha:.2g}", ev, stats)
    weak = [(t, p) for t in tests for p in t["powers"] if p["power"] < claim.min_power]
    if claim.is_control or not tests[0]["powers"]:
        note = "" if claim.is_control else "; no alternative declared, so the test's power is unknown"
        status = INCONCLUSIVE if not claim.is_control else HOLDS
        return Outcome(status, f"{shown}: not rejected{note}", ev, stats)
    if weak:
        t, p = min(weak, key=lambda tp: tp[1]["power"])
        return Outcome(
            INCONCLUSIVE,
            f"inconclusive: underpowered: {shown}, not rejected, but the test rejects {p['alternative']} only with power "
            f"{p['power']:.2f} < {claim.min_power} at {n} draws (KL {p['kl_per_draw']:.3g} per draw): more draws would decide",
            ev,
            stats,
        )
    powers = ", ".join(f"{p['alternative']} {p['power']:.2f}" for p in tests[0]["powers"])
    return Outcome(HOLDS, f"{shown}: not rejected; power against {powers} (>= {claim.min_power})", ev, stats)
