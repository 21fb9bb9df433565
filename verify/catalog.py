"""The catalog of claims as a Markdown table, generated from the registry.

The README holds a copy between ``<!-- catalog:start -->`` and ``<!-- catalog:end -->``; a
test keeps the two equal (``python -m verify catalog --write README.md`` refreshes it).
"""

from __future__ import annotations

import re
from pathlib import Path

from theory.claims import all_claims, controls_of

START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"


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
