"""``report.html``: the Markdown report as one self-contained page (figures embedded as data
URIs), to attach to a CI run. A small renderer for the subset :mod:`verify.report` writes:
headings, paragraphs, bullet lists, pipe tables, images, inline code, bold and italics."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; font-size: 0.86em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tr.bad td { background: #fde8e8; }
code { background: #f4f4f4; padding: 0 0.2em; }
img { max-width: 100%; border: 1px solid #ddd; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.legend { background: #f8f8f8; border-left: 3px solid #999; padding: 0.5em 1em; }
"""


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", out)
    return out


def _image(alt: str, src: str, folder: Path) -> str:
    path = folder / src
    if not path.exists():
        return f"<p>[missing figure {html.escape(src)}]</p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def render_html(markdown: str, folder: Path, title: str = "Verification report") -> str:
    """HTML for ``markdown`` (from :func:`verify.report.render_markdown`); images relative to ``folder``."""
    lines = markdown.splitlines()
    body: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            text = line[level:].strip()
            anchor = re.sub(r"[^A-Za-z0-9.-]+", "-", text.split(":")[0]).strip("-")
            body.append(f'<h{level} id="{anchor}">{_inline(text)}</h{level}>')
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            head, data = rows[0], [r for r in rows[2:]]
            out = ["<table>", "<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"]
            for r in data:
                bad = any("expected" in c and "**" in c for c in r)
                row_open = '<tr class="bad">' if bad else "<tr>"
                out.append(row_open + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>")
            out.append("</table>")
            body.append("\n".join(out))
        elif line.startswith("- "):
            items = []
            while i < len(lines) and (lines[i].startswith("- ") or (lines[i].startswith("  ") and items)):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:])
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            body.append("<ul>" + "".join(f"<li>{_inline(t)}</li>" for t in items) + "</ul>")
        elif line.startswith("![") and (m := re.match(r"!\[([^\]]*)\]\(([^)]+)\)", line)):
            body.append(_image(m.group(1), m.group(2), folder))
            i += 1
        elif line.startswith("```"):
            i += 1
            block = []
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            i += 1
            body.append("<pre>" + html.escape("\n".join(block)) + "</pre>")
        else:
            para = [line]
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "|", "- ", "![", "```")):
                para.append(lines[i])
                i += 1
            cls = ' class="legend"' if para[0].startswith("How to read") else ""
            body.append(f"<p{cls}>" + _inline(" ".join(para)) + "</p>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
