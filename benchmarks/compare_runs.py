"""Compare two runs' verdicts and numbers: ``python benchmarks/compare_runs.py OLD/results.json NEW/results.json``.

Prints every result whose status, summary or evidence differs (times aside), key by key, and
the keys that only one side has (a refactor may add records, never change numbers). Exit 0
when verdicts and all shared numbers are identical.
"""

from __future__ import annotations

import json
import sys


def _walk(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out["added"].append(f"{path}.{k}")
            elif k not in b:
                out["removed"].append(f"{path}.{k}")
            else:
                _walk(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, f"{path}[{i}]", out)
    elif a != b:
        out["changed"].append(f"{path}: {str(a)[:80]} -> {str(b)[:80]}")


def main(old_path: str, new_path: str) -> int:
    old = {r["id"]: r for r in json.load(open(old_path))["results"]}
    new = {r["id"]: r for r in json.load(open(new_path))["results"]}
    bad = 0
    for cid in sorted(set(old) | set(new)):
        if cid not in old or cid not in new:
            print(f"{cid}: only in {'new' if cid in new else 'old'}")
            bad += 1
            continue
        out: dict = {"added": [], "removed": [], "changed": []}
        a, b = old[cid], new[cid]
        for key in ("status", "ok", "expected", "evidence", "stats"):
            _walk(a.get(key), b.get(key), key, out)
        if a["summary"] != b["summary"]:
            out["changed"].append(f"summary: {a['summary'][:90]} -> {b['summary'][:90]}")
        if out["changed"]:
            bad += 1
        if any(out.values()):
            print(f"== {cid}")
            for kind in ("changed", "added", "removed"):
                for line in out[kind][:12]:
                    print(f"  {kind}: {line}")
    print(f"{len(new)} results compared; {bad} with changed verdicts or numbers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
