"""Calibration in both directions: what "holds" and "refuted" mean at a profile's budget.

- :func:`false_alarms` (measured): every true whp and rate claim rerun under many seeds; the
  suite promises that each run reports any of them refuted with probability at most
  ``alpha_total`` (0.01 under ``ci``), so over S seeds the expected number of runs with a false
  alarm is at most S * alpha_total. Inconclusive verdicts are counted too (a claim that is
  inconclusive under many seeds is underpowered at that budget, whatever one seed said).
- :func:`whp_characteristics` (computed, exact): for each whp claim and configuration, the
  sequential test the runner uses (its delta, p1, share of alpha and budget of draws) and its
  operating characteristic (:meth:`~verify.stats.SequentialTest.operating_characteristic`):
  P(refuted) and P(holds) at a true violation rate of delta, of p1, and the power against each
  delta mutant (delta / k) were the claim's true rate exactly delta.
- :func:`rate_power` (computed from a run): for each rate claim, the probability that its
  interval refutes an exponent shifted by s toward the false side, taking the run's fitted
  slope as the truth and its standard error and degrees of freedom as measured (plug-in).
The measured power of every mutant is ``python -m verify mutate --seeds N`` (verify/mutate.py).
"""

from __future__ import annotations

import math

from theory.claims import Kind, all_claims

from .runner import run
from .stats import SequentialTest


def false_alarms(*, seeds, profile: str = "ci", kinds=("whp", "rate"), ids=None, on_run=None) -> dict:
    """Rerun the true claims of ``kinds`` (or only ``ids`` among them) under each seed."""
    wanted = {Kind(k) for k in kinds}
    ids = [c.id for c in all_claims(controls=False) if c.kind in wanted and not c.finding and (ids is None or c.id in ids)]
    runs: list[dict] = []
    for s in seeds if ids else ():  # no claim: nothing to run (never the whole catalog)
        rep = run(ids, profile=profile, seed=s, controls=False)
        bad = [r.id for r in rep.results if r.status == "refuted"]
        undecided = [r.id for r in rep.results if r.status == "inconclusive"]
        rec = {"seed": s, "false_alarms": bad, "inconclusive": undecided, "seconds": round(rep.seconds, 2), "alpha_total": rep.alpha_total}
        runs.append(rec)
        if on_run:
            on_run(rec)
    alarms = sum(1 for r in runs if r["false_alarms"])
    alpha = runs[0]["alpha_total"] if runs else 0.0
    inconclusive = {i: sum(i in r["inconclusive"] for r in runs) for i in ids}
    return {
        "claims": ids,
        "runs": runs,
        "false_alarms": alarms,
        "inconclusive": {k: v for k, v in inconclusive.items() if v},
        "statement": (
            f"{alarms} of {len(runs)} runs raised a false alarm on {ids}; the stated bound allows "
            f"each run a probability of at most {alpha:g} (expected at most {alpha * len(runs):.2g} runs)."
            + (
                " Inconclusive: " + ", ".join(f"{k} in {v} of {len(runs)}" for k, v in inconclusive.items() if v) + "."
                if any(inconclusive.values())
                else ""
            )
        ),
    }


def _mutant_delta(claim, config, k: int) -> tuple[float, float]:
    """(delta / k, its resolution): what the delta / k mutant's test uses (verify.mutate)."""
    from .mutate import mutants

    mutant = next(m.claim for m in mutants(claim) if m.label == f"delta/{k}")
    return mutant.delta(config), mutant.resolution(config)


def whp_characteristics(claims, profile, alpha: float) -> list[dict]:
    """The exact operating characteristic of every whp claim's test at ``profile`` (alpha: the
    share each claim gets in a run of ``claims``)."""
    from .mutate import DIVISORS

    rows = []
    for claim in claims:
        if claim.kind is not Kind.WHP or claim.is_control:
            continue
        budget = claim.budget(profile.name)
        if claim.configs_from_prepare:
            rows.append({"claim": claim.id, "note": "its configurations come from its calibration (prepare): run it to see them"})
            continue
        configs = budget.configs
        share = alpha / len(configs)
        max_draws = budget.draws or profile.whp_draws
        for config in configs:
            delta, p1 = claim.delta(config), claim.resolution(config)
            test = SequentialTest(delta, p1, share)
            at_delta, at_p1 = test.operating_characteristic(delta, max_draws), test.operating_characteristic(p1, max_draws)
            mutant_power = {}
            for k in DIVISORS:
                d_k, p1_k = _mutant_delta(claim, config, k)
                mutant_power[f"delta/{k}"] = SequentialTest(d_k, p1_k, share).operating_characteristic(delta, max_draws)["refuted"]
            rows.append(
                {
                    "claim": claim.id,
                    "config": dict(config),
                    "delta": delta,
                    "p1": p1,
                    "alpha": share,
                    "max_draws": max_draws,
                    "false_alarm_at_delta": at_delta["refuted"],
                    "holds_at_delta": at_delta["holds"],
                    "draws_at_delta": at_delta["expected_draws"],
                    "power_at_p1": at_p1["refuted"],
                    "holds_at_p1": at_p1["holds"],
                    "mutant_power_if_tight": mutant_power,
                }
            )
    return rows


def rate_power(records, shifts=None) -> list[dict]:
    """Plug-in power of every rate claim's fit in a run's ``records`` (results.json's
    ``results``) against exponents shifted by ``shifts`` toward the false side: with slope b,
    standard error se, df and one-sided level 1 - alpha, the mutant's limit a -+ s +- tol is
    crossed with probability P(T_df > t_{1-alpha} - |b - threshold| / se) (signed)."""
    from scipy import stats

    from .mutate import SHIFTS

    shifts = SHIFTS if shifts is None else shifts
    rows = []
    for r in records:
        det = (r.get("evidence") or {}).get("details") or {}
        fit = det.get("fit")
        if not fit or r.get("control_of") or det.get("bound") == "decay" or "standard_error" not in fit:
            continue
        a, bound, se, df = det["claimed_exponent"], det["bound"], fit["standard_error"], fit["df"]
        tol = det.get("tolerance", 0.0)
        t_crit = stats.t.ppf(fit["level"], df) if se > 0 else 0.0
        power = {}
        for s in shifts:
            sides = []
            if bound in ("upper", "both"):
                sides.append(fit["slope"] - (a - s + tol))  # refuted when lower > a - s + tol
            if bound in ("lower", "both"):
                sides.append((a + s - tol) - fit["slope"])  # refuted when upper < a + s - tol
            gap = max(sides)
            power[s] = float(stats.t.sf(t_crit - gap / se, df)) if se > 0 else float(gap > 0)
        rows.append({"claim": r["id"], "slope": fit["slope"], "se": se, "df": df, "tolerance": tol, "power": power})
    return rows


def render(whp_rows: list[dict], rate_rows: list[dict], profile: str) -> str:
    lines = [f"# Calibration at the {profile} profile (computed)", ""]
    if whp_rows:
        lines += [
            "## whp claims: the sequential test's exact operating characteristic",
            "",
            "| claim | config | delta | p1 | draws | P(refuted) at delta | P(holds) at delta (mean draws) | P(refuted) at p1 | P(holds) at p1 | power vs delta/10, /3, /2 if the claim is tight |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in whp_rows:
            if "note" in r:
                lines.append(f"| {r['claim']} | {r['note']} | | | | | | | | |")
                continue
            mp = ", ".join(f"{v:.2f}" for v in r["mutant_power_if_tight"].values())
            cfg = ", ".join(f"{k}={v}" for k, v in r["config"].items())
            lines.append(
                f"| {r['claim']} | {cfg} | {r['delta']:.3g} | {r['p1']:.3g} | {r['max_draws']} | {r['false_alarm_at_delta']:.2g} | "
                f"{r['holds_at_delta']:.2f} ({r['draws_at_delta']:.0f}) | {r['power_at_p1']:.2f} | {r['holds_at_p1']:.2g} | {mp} |"
            )
    if rate_rows:
        shifts = list(rate_rows[0]["power"])
        lines += [
            "",
            "## rate claims: plug-in power against shifted exponents (the run's slope taken as the truth)",
            "",
            "| claim | slope (se, df) | tolerance | " + " | ".join(f"shift {s:g}" for s in shifts) + " |",
            "|---|---|---|" + "---|" * len(shifts),
        ]
        for r in rate_rows:
            df = "inf" if math.isinf(r["df"]) else f"{r['df']:.1f}"
            lines.append(
                f"| {r['claim']} | {r['slope']:.3f} ({r['se']:.3f}, {df}) | {r['tolerance']:g} | "
                + " | ".join(f"{r['power'][s]:.2f}" for s in shifts)
                + " |"
            )
    return "\n".join(lines) + "\n"


def command(args, console) -> int:
    """``python -m verify calibrate``: rerun claims under seeds 1..N and count false alarms, or
    (``--computed``) the whp tests' exact operating characteristics at the profile (each with the
    share of alpha it gets in a whole-catalog run) and, with ``--run DIR``, the plug-in power of
    that run's rate fits."""
    import json
    from pathlib import Path

    from . import serialize
    from .errors import UsageError
    from .store import atomic_write

    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    if args.computed:
        from .profiles import get_profile
        from .report import load_run
        from .runner import select, statistical_level

        prof = get_profile(args.profile)
        claims = select(None, controls=False)
        _, alpha = statistical_level([c for c in claims if c.kind in (Kind.WHP, Kind.RATE, Kind.DISTRIBUTION)], prof.alpha)
        whp = whp_characteristics(claims, prof, alpha)
        rate = rate_power(load_run(Path(args.run))["results"]) if args.run else []
        text = render(whp, rate, prof.name)
        console.print(text)
        if out:
            atomic_write(out / "calibration.md", text)
            data = {"profile": prof.name, "alpha_per_claim": alpha, "whp": whp, "rate": rate}
            atomic_write(out / "calibration.json", json.dumps(serialize.encode(data), indent=1))
            console.print(f"written: {out / 'calibration.md'}, {out / 'calibration.json'}")
        return 0
    if args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1 (got {args.seeds}): zero runs would pass vacuously")
    res = false_alarms(
        seeds=range(1, args.seeds + 1), profile=args.profile, kinds=args.kinds, ids=args.ids or None, on_run=lambda r: console.print(r)
    )
    if not res["claims"]:
        raise UsageError(f"no true {'/'.join(args.kinds)} claim among {args.ids}")
    if out:
        atomic_write(out / "false-alarms.json", json.dumps(res, indent=1))
    console.print(res["statement"])
    return 0 if res["false_alarms"] == 0 else 1
