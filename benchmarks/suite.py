"""Time of a verify run broken down by claim (with its negative controls), slowest first.

    python benchmarks/suite.py verify-out/results.json     # after: nox -s verify

Writes benchmarks/out/suite.md and prints it.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def breakdown(results: dict) -> list[tuple[str, float, int]]:
    """(claim id, seconds of the claim and its controls, checks), slowest first."""
    total: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for r in results["results"]:
        key = r["id"].split("/")[0]
        total[key] += r["seconds"]
        count[key] += 1
    return sorted(((k, total[k], count[k]) for k in total), key=lambda t: -t[1])


def main(path: str) -> None:
    data = json.loads(Path(path).read_text())
    rows = breakdown(data)
    overall = data["seconds"]
    lines = [
        "# The suite's time by claim",
        "",
        f"`{path}`: profile {data['profile']}, {len(data['results'])} checks, {overall:.0f} s in all "
        f"({'all as expected' if data['ok'] else 'NOT all as expected'}).",
        "",
        "| claim (+ controls) | checks | seconds | share |",
        "|---|---|---|---|",
    ]
    lines += [f"| {k} | {n} | {s:.1f} | {100 * s / overall:.1f}% |" for k, s, n in rows]
    text = "\n".join(lines) + "\n"
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "suite.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "verify-out/results.json")
