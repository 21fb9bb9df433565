"""Reports: a run's records rendered as ``report.md`` (written atomically).

The records are read from ``results.jsonl`` (so an interrupted run renders too, marked
incomplete) or, for folders written before it existed, ``results.json``. Numbers are decoded
before rendering: inf and nan read as numbers, never as serialization internals.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from . import serialize
from .store import RECORDS, REPORT, SUMMARY, atomic_write


def _fmt(x) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.4g}"
    return str(x)


def render_markdown(data: dict, figures: list[Path] = ()) -> str:
    """A claims table, the findings, one section per claim and the figures, readable as a paper appendix."""
    seed = data["seed"]
    seed_text = f"seed {seed}" if seed is not None else "seed 0 (the profile's fixed seeds; Hypothesis derandomized)"
    complete = data.get("complete", True)
    lines = [
        "# Verification report",
        "",
        f"Profile `{data['profile']}`, {seed_text}, {data['seconds']:.1f} s. Overall: **{'PASS' if data['ok'] else 'FAIL'}**.",
        "",
    ]
    if not complete:
        missing = data.get("missing", [])
        lines += [
            f"**INCOMPLETE RUN**: {len(missing)} selected claim(s) have no verdict ({', '.join(missing)}); "
            "finish it with `python -m verify run --resume DIR`.",
            "",
        ]
    lines += [
        data["false_alarm_statement"],
        "",
        "| id | kind | expected | verdict | ok | lhs | rel | rhs | slack | time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["results"]:
        ev = r.get("evidence") or {}
        lines.append(
            f"| {r['id']} | {r['kind']} | {r['expected']} | {r['status']} | {'yes' if r['ok'] else '**NO**'} | "
            f"{_fmt(ev.get('lhs', '-'))} | {ev.get('relation', '')} | {_fmt(ev.get('rhs', '-'))} | "
            f"{_fmt(ev.get('slack', '-'))} | {r['seconds']:.2f} |"
        )
    lines.append("")
    findings = [r for r in data["results"] if r.get("finding")]
    if findings:
        lines += ["## Findings: claims of the mathematics (docs/mathematics.md) this suite refutes", ""]
        lines += [f"- **{r['id']}** ({r['status']}): {r['finding']}" for r in findings]
        lines.append("")
    for r in data["results"]:
        ev = r.get("evidence") or {}
        lines += [f"## {r['id']}: {r['title']}", "", r["summary"], ""]
        if ev:
            lines.append(f"- tolerance {_fmt(ev['tolerance'])}: {ev['tolerance_why']}")
        for k, v in (r.get("stats") or {}).items():
            if k != "traceback":
                lines.append(f"- {k}: {_fmt(v)}")
        if r.get("replay"):
            lines.append(f"- replay: `python -m verify replay {r['replay']}`")
        if "traceback" in (r.get("stats") or {}):
            lines += ["", "```", r["stats"]["traceback"], "```"]
        lines.append("")
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{p.stem}](figures/{p.name})" for p in figures]
        lines.append("")
    v = data.get("versions", {})
    lines.append("Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    return "\n".join(lines) + "\n"


def load_run(out: str | Path) -> dict:
    """The run recorded in ``out``, as the dict ``results.json`` holds (decoded): from the
    append-only records when present (complete or not), else from ``results.json``."""
    from .errors import OutputError
    from .runner import report_from_records

    out = Path(out)
    if (out / RECORDS).exists():
        return serialize.decode(serialize.encode(report_from_records(out).to_dict()))
    if (out / SUMMARY).exists():
        return serialize.decode(json.loads((out / SUMMARY).read_text()))
    raise OutputError(f"{out} holds no run (neither {RECORDS} nor {SUMMARY})")


def write_report(out: str | Path) -> Path:
    """Render the run in ``out`` into ``out/report.md`` (atomically); returns its path."""
    out = Path(out)
    data = load_run(out)
    path = out / REPORT
    atomic_write(path, render_markdown(data, sorted((out / "figures").glob("*.png"))))
    return path
