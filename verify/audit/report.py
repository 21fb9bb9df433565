"""Audit reports: ``audit.json`` (every check's numbers) and ``audit.md`` (a table and the flags)."""

from __future__ import annotations

import json
from pathlib import Path

from verify.serialize import encode, versions

from .checks import AuditResult


def _e(x, fmt=".1e") -> str:
    return "-" if x is None else format(x, fmt)


def _sweep_cell(r: AuditResult) -> str:
    try:
        rows = r.check("near_contraction").measured["rows"]
    except StopIteration:
        return "-"
    cells = []
    for row in rows[-2:]:
        cells.append("raised" if "raised" in row else f"{_e(row['eq_error'])}/{_e(row['grad_error'])}")
    return " ; ".join(cells)


def _row(r: AuditResult) -> str:
    m = {c.name: c for c in r.checks}

    def get(name, key):
        c = m.get(name)
        return None if c is None else c.measured.get(key)

    verdict = "pass" if r.ok else "**flagged**: " + ", ".join(c.name for c in r.flagged)
    tol = m.get("tolerance_honoured")
    res = (
        "-"
        if tol is None or not tol.measured
        else f"{_e(tol.measured['residual'])} ({tol.measured['tol_kind']} {_e(tol.measured['tol'], '.0e')})"
    )
    cos = get("gradient", "cosine")
    grad = "no path" if m.get("gradient") and not m["gradient"].measured else _e(get("gradient", "rel_error"))
    return (
        f"| {r.label} | {verdict} | {_e(get('equilibrium', 'error'))} | {res} | {grad} | "
        f"{'-' if cos is None else f'{cos:.8f}'} | {_e(get('gram', 'rel_error'))} | {_sweep_cell(r)} | {r.seconds:.2f} |"
    )


def render_markdown(results: list[AuditResult], *, title: str, command: str, library: str = "") -> str:
    s = results[0].setting
    lines = [
        f"# {title}",
        "",
        f"Reproduce: `{command}`" + (f"  \nLibrary: {library}" if library else ""),
        "",
        f"Problem: n = {s['n']} inputs on S^{s['d'] - 1}, width m = {s['m']}, gamma = {s['gamma']}, seed {s['seed']}: "
        f"rho = {s['rho']:.3f}. Reference: `theory.network` (relative residual 1e-12, certified by WP-1). "
        "Contraction sweep at rho = "
        + ", ".join(map(str, s["rhos"]))
        + " (A0 plus a positive spike, rescaled; see `verify/audit/checks.py`).",
        "",
        "| configuration | verdict | eq. error | residual (tol) | grad. rel. error | cosine | Gram rel. error | sweep rho "
        + " ; ".join(map(str, s["rhos"][-2:]))
        + " (eq/grad) | time (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(r) for r in results]
    lines += ["", "## Configurations and flagged checks", ""]
    for r in results:
        lines.append(f"### {r.label}: {'pass' if r.ok else 'flagged'}")
        lines.append("")
        lines.append(f"`{json.dumps(r.config)}`")
        lines.append("")
        for c in r.checks:
            mark = {True: "ok", False: "**FLAG**", None: "n/a"}[c.passed]
            lines.append(f"- {mark} `{c.name}`: {c.detail}" + (f" (threshold: {c.threshold})" if c.threshold else ""))
        lines.append("")
    v = versions()
    lines.append("Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    return "\n".join(lines) + "\n"


def write(results: list[AuditResult], out: str | Path, *, title: str, command: str, library: str = "") -> tuple[Path, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = {"title": title, "command": command, "library": library, "versions": versions(), "results": [r.to_dict() for r in results]}
    jp, mp = out / "audit.json", out / "audit.md"
    jp.write_text(json.dumps(encode(data), indent=1, allow_nan=False))
    mp.write_text(render_markdown(results, title=title, command=command, library=library))
    return jp, mp
