"""Replay a saved counterexample and show that it gives the same numbers."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from theory.claims import get

from . import serialize
from .profiles import get_profile
from .runner import Context, run_claim


def replay(path: str | Path) -> dict:
    """Re-run the claim of a counterexample file; returns {stored, replayed, identical}.

    ``mode == "instance"``: the claim's check on the stored instance (exact claims).
    ``mode == "run"``: the whole statistical or symbolic run with the stored profile and seed.
    """
    record = serialize.decode(json.loads(Path(path).read_text()))
    importlib.import_module(record["module"])  # registers a user's claim module
    claim = get(record["claim"])
    if record["mode"] == "instance":
        inst = record["instance"]
        if claim.failed_hypotheses(inst):
            raise ValueError(f"stored instance no longer meets {claim.failed_hypotheses(inst)}")
        evidence = (claim.check(inst) if hasattr(claim, "check") else claim.prove()).to_dict()
    else:
        ctx = Context(get_profile(record["profile"]), record["seed"], record["alpha"], None)
        evidence = run_claim(claim, ctx).evidence
    stored = record["evidence"]
    same = all(stored[k] == evidence[k] for k in ("lhs", "rhs", "relation", "tolerance"))
    return {"claim": claim.id, "stored": stored, "replayed": evidence, "identical": same, "holds": evidence["holds"]}
