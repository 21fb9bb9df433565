"""Reports: ``results.json`` (written by the runner) rendered as ``report.md``."""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def render_markdown(data: dict, figures: list[Path] = ()) -> str:
    """A claims table, the findings, one section per claim and the figures, readable as a paper appendix."""
    lines = [
        "# Verification report",
        "",
        f"Profile `{data['profile']}`, seed `{data['seed']}`, {data['seconds']:.1f} s. Overall: **{'PASS' if data['ok'] else 'FAIL'}**.",
        "",
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
        lines += ["## Findings: claims of MATH.md this suite refutes", ""]
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


def write_report(out: str | Path) -> Path:
    """Render ``out/results.json`` into ``out/report.md``; returns the Markdown path."""
    out = Path(out)
    data = json.loads((out / "results.json").read_text())
    path = out / "report.md"
    path.write_text(render_markdown(data, sorted((out / "figures").glob("*.png"))))
    return path
