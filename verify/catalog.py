"""The catalog of claims, generated from the registry: a Markdown table (the README holds a copy
between ``<!-- catalog:start -->`` and ``<!-- catalog:end -->``) and a page per claim
(``docs/claims.md``: statement, hypotheses, source, the file that holds it, what its check
computes, its controls). Tests keep both equal to the registry (``python -m verify catalog
--write README.md --docs docs/claims.md`` refreshes them).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import theory
from theory.claims import Claim, all_claims, controls_of

START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"
ROOT = Path(theory.__file__).resolve().parents[1]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    rows = ["| id | kind | claim | statement | negative control(s) |", "|---|---|---|---|---|"]
    for c in all_claims(controls=False):
        ctl = "; ".join(f"{_cell(k.title)} (`{k.id}`)" for k in controls_of(c.id)) or "**none**"
        rows.append(f"| {c.id} | {c.kind.value} | {_cell(c.title)} | `{_cell(c.statement)}` | {ctl} |")
    return "\n".join(rows)


def sync_readme(path: str | Path, *, write: bool = False) -> bool:
    """True when the README's catalog equals the registry's; ``write`` replaces it."""
    path = Path(path)
    text = path.read_text()
    block = f"{START}\n{markdown_table()}\n{END}"
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    if write and new != text:
        path.write_text(new)
    return new == text


def location(claim: Claim) -> str:
    """``path/to/module.py`` (relative to the project) and the class that holds ``claim``."""
    path = Path(inspect.getsourcefile(type(claim)) or "?").resolve()
    try:
        shown = path.relative_to(ROOT).as_posix()
    except ValueError:
        shown = path.name
    return f"`{shown}`, class `{type(claim).__name__}`"


def _what_it_computes(claim: Claim) -> str:
    method = {"exact": "check", "whp": "check", "rate": "measure", "symbolic": "prove", "distribution": "sample"}[claim.kind.value]
    docs = [inspect.getdoc(getattr(type(claim), method, None)), inspect.getdoc(type(claim))]
    base_docs = {inspect.getdoc(getattr(k, method, None)) for k in type(claim).__mro__[1:]} | {
        inspect.getdoc(k) for k in type(claim).__mro__[1:]
    }
    text = [d for d in docs if d and d not in base_docs]
    return " ".join(" ".join(t.split()) for t in text)


def claims_page() -> str:
    """``docs/claims.md``: one section per claim, in catalog order, with its controls."""
    lines = [
        "# The claims, one by one",
        "",
        "Generated from the registry by `python -m verify catalog --docs docs/claims.md` (a test keeps it in sync).",
        "The mathematics behind them is in [mathematics.md](mathematics.md); ids are the ones used there.",
        "",
    ]
    for c in all_claims(controls=False):
        tags = [c.kind.value] + (["conjecture"] if c.conjecture else []) + (["finding: refuted by this suite"] if c.finding else [])
        lines += [f"## {c.id}: {c.title}", "", f"- kind: {', '.join(tags)}", f"- statement: `{c.statement}`"]
        hyps = "; ".join(h.name + (f" ({h.description})" if h.description else "") for h in c.hypotheses)
        lines += [f"- hypotheses: {hyps or 'those of the setting (section 1 of mathematics.md)'}", f"- source: {c.source}"]
        lines += [f"- file: {location(c)}"]
        what = _what_it_computes(c)
        if what:
            lines.append(f"- what the check computes: {what}")
        if c.finding:
            lines.append(f"- finding: {' '.join(c.finding.split())}")
        for k in controls_of(c.id):
            lines.append(f"- negative control `{k.id}`: {k.title} (`{k.statement}`); false because {k.why_false}. File: {location(k)}")
        lines.append("")
    return "\n".join(lines)


def sync_docs(path: str | Path, *, write: bool = False) -> bool:
    """True when ``docs/claims.md`` equals the registry's page; ``write`` replaces it."""
    path = Path(path)
    page = claims_page()
    same = path.exists() and path.read_text() == page
    if write and not same:
        path.write_text(page)
    return same
