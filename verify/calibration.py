"""Checking the stated false-alarm bound, not only computing it.

Every true whp and rate claim is rerun under many seeds; the suite promises that each run
reports any of them refuted with probability at most ``alpha_total`` (0.01 under ``ci``), so
over S seeds the expected number of runs with a false alarm is at most S * alpha_total.
"""

from __future__ import annotations

from theory.claims import Kind, all_claims

from .runner import run


def false_alarms(*, seeds, profile: str = "ci", kinds=("whp",), on_run=None) -> dict:
    wanted = {Kind(k) for k in kinds}
    ids = [c.id for c in all_claims(controls=False) if c.kind in wanted]
    runs = []
    for s in seeds:
        rep = run(ids, profile=profile, seed=s, controls=False)
        bad = [r.id for r in rep.results if r.status == "refuted"]
        rec = {"seed": s, "false_alarms": bad, "seconds": round(rep.seconds, 2), "alpha_total": rep.alpha_total}
        runs.append(rec)
        if on_run:
            on_run(rec)
    alarms = sum(1 for r in runs if r["false_alarms"])
    alpha = runs[0]["alpha_total"] if runs else 0.0
    return {
        "claims": ids,
        "runs": runs,
        "false_alarms": alarms,
        "statement": (
            f"{alarms} of {len(runs)} runs raised a false alarm on {ids}; the stated bound allows "
            f"each run a probability of at most {alpha:g} (expected at most {alpha * len(runs):.2g} runs)."
        ),
    }
