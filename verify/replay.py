"""Replay a saved counterexample and show that it gives the same numbers.

A replay file is data, never code: it names a claim id, which is looked up in the registry
(the built-in catalog, plus modules the user imports with ``--import`` on the command line);
nothing the file says is imported or executed. The whole file is validated against the
schema below before anything is used; a malformed file is a one-line
:class:`~verify.errors.ReplayFileError` (exit 2).
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import numpy as np

from theory.claims import Claim, get
from theory.claims.base import RELATIONS
from theory.instances import INSTANCE_TYPES

from . import serialize
from .context import Context
from .errors import ReplayFileError
from .profiles import PROFILES

MAX_DEPTH = 64
MAX_BYTES = 1 << 30


def instance_record(instance) -> dict[str, Any]:
    """A typed instance as plain data: ``{"type": name, "fields": {...}}`` (any other object a
    user strategy produced: ``{"type": "plain", "value": ...}``, stored as JSON data)."""
    name = type(instance).__name__
    if INSTANCE_TYPES.get(name) is type(instance):
        return {"type": name, "fields": instance.to_dict()}
    return {"type": "plain", "value": instance}


# ---- validation -----------------------------------------------------------------------------
def _fail(path, what: str):
    raise ReplayFileError(f"{path}: not a valid counterexample file: {what}")


def _depth(obj, limit: int, level: int = 0) -> int:
    if level > limit:
        return level
    if isinstance(obj, dict):
        return max([_depth(v, limit, level + 1) for v in obj.values()] or [level])
    if isinstance(obj, list):
        return max([_depth(v, limit, level + 1) for v in obj] or [level])
    return level


def _is_number(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, dict) and set(v) == {"__float__"} and v["__float__"] in ("inf", "-inf", "nan")


def _array(path, name: str, v) -> None:
    if not (isinstance(v, dict) and set(v) == {"__ndarray__", "shape"}):
        _fail(path, f"{name} must be an array record {{__ndarray__, shape}}")
    shape, flat = v["shape"], v["__ndarray__"]
    if not (isinstance(shape, list) and all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in shape)):
        _fail(path, f"{name}.shape must be a list of non-negative integers")
    if not (isinstance(flat, list) and all(_is_number(x) for x in flat)):
        _fail(path, f"{name} must hold numbers only")
    if math.prod(shape) != len(flat):
        _fail(path, f"{name} has {len(flat)} numbers but shape {shape}")


def _field_kind(annotation: str) -> tuple[str, bool]:
    optional = "None" in annotation
    base = annotation.replace("| None", "").strip()
    return {"np.ndarray": "array", "float": "number", "int": "int", "str": "str"}.get(base, "any"), optional


def _scalar_ok(kind: str, v) -> bool:
    if kind == "number":
        return _is_number(v)
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "str":
        return isinstance(v, str)
    return True


def _instance(path, rec) -> None:
    if not isinstance(rec, dict) or not isinstance(rec.get("type"), str):
        _fail(path, "instance must be an object with a 'type'")
    if rec["type"] == "plain":
        if set(rec) != {"type", "value"}:
            _fail(path, "a plain instance holds exactly 'type' and 'value'")
        return
    cls = INSTANCE_TYPES.get(rec["type"])
    if cls is None:
        _fail(path, f"unknown instance type {rec['type']!r} (known: {', '.join(sorted(INSTANCE_TYPES))}, plain)")
    values = rec.get("fields")
    if not isinstance(values, dict):
        _fail(path, "instance.fields must be an object")
    spec = {f.name: (f, _field_kind(str(f.type))) for f in fields(cls)}
    unknown = set(values) - set(spec)
    if unknown:
        _fail(path, f"instance has unknown field(s) {sorted(unknown)} for {cls.__name__}")
    for name, (f, (kind, optional)) in spec.items():
        required = f.default is MISSING and f.default_factory is MISSING
        if name not in values:
            if required:
                _fail(path, f"instance lacks the field {name!r}")
            continue
        v = values[name]
        if v is None:
            if not optional:
                _fail(path, f"instance.{name} must not be null")
            continue
        if kind == "array":
            _array(path, f"instance.{name}", v)
        elif not _scalar_ok(kind, v):
            _fail(path, f"instance.{name} must be {'an integer' if kind == 'int' else 'a ' + kind}")


def validate(path, record) -> None:
    """Check a decoded-JSON record against the counterexample schema (before any use)."""
    if not isinstance(record, dict):
        _fail(path, "the top level must be an object")
    if _depth(record, MAX_DEPTH) > MAX_DEPTH:
        _fail(path, f"nested deeper than {MAX_DEPTH} levels")
    for key, check, what in (
        ("claim", lambda v: isinstance(v, str) and 0 < len(v) <= 200, "a claim id (string)"),
        ("mode", lambda v: v in ("instance", "run"), '"instance" or "run"'),
        ("evidence", lambda v: isinstance(v, dict), "an object"),
        ("profile", lambda v: v in PROFILES, f"one of {list(PROFILES)}"),
        ("seed", lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0), "null or a non-negative integer"),
        ("alpha", lambda v: _is_number(v) and isinstance(v, (int, float)) and 0 < v <= 1, "a number in (0, 1]"),
    ):
        if key not in record:
            _fail(path, f"missing {key!r}")
        if not check(record[key]):
            _fail(path, f"{key!r} must be {what}")
    ev = record["evidence"]
    for key in ("lhs", "rhs", "tolerance"):
        if not _is_number(ev.get(key)):
            _fail(path, f"evidence.{key} must be a number")
    if ev.get("relation") not in RELATIONS:
        _fail(path, f"evidence.relation must be one of {RELATIONS}")
    if record["mode"] == "instance":
        _instance(path, record.get("instance"))


def load(path: str | Path) -> dict:
    """Read and validate a replay file; returns the decoded record."""
    path = Path(path)
    if not path.exists():
        raise ReplayFileError(f"{path}: no such file")
    if not path.is_file():
        raise ReplayFileError(f"{path}: not a regular file")
    if path.stat().st_size > MAX_BYTES:
        raise ReplayFileError(f"{path}: larger than {MAX_BYTES >> 20} MiB")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReplayFileError(f"{path}: not JSON ({exc})") from None
    except RecursionError:
        raise ReplayFileError(f"{path}: nested too deeply") from None
    validate(path, raw)
    return raw


def _rebuild(rec: dict):
    if rec["type"] == "plain":
        return serialize.decode(rec["value"])
    cls = INSTANCE_TYPES[rec["type"]]
    return cls(**{k: serialize.decode(v) for k, v in rec["fields"].items()})


def _claim(record) -> Claim:
    try:
        return get(record["claim"])
    except KeyError:
        raise ReplayFileError(
            f"the file names claim {record['claim']!r}, which is not registered; if it is your own, pass --import MODULE"
        ) from None


def replay(path: str | Path) -> dict:
    """Re-run the claim of a counterexample file; returns {claim, stored, replayed, identical, holds}.

    ``mode == "instance"``: the claim's check on the stored instance (exact claims).
    ``mode == "run"``: the whole statistical or symbolic run with the stored profile and seed.
    """
    from .runner import run_claim

    raw = load(path)
    claim = _claim(raw)
    record = {k: v for k, v in raw.items() if k != "instance"}
    record = serialize.decode(record)
    if record["mode"] == "instance":
        inst = _rebuild(raw["instance"])
        if claim.failed_hypotheses(inst):
            raise ReplayFileError(f"{path}: the stored instance no longer meets {claim.failed_hypotheses(inst)}")
        evidence = (claim.check(inst) if hasattr(claim, "check") else claim.prove()).to_dict()
    else:
        ctx = Context.create(record["profile"], record["seed"], float(record["alpha"]))
        evidence = run_claim(claim, ctx).evidence
        if evidence is None:
            raise ReplayFileError(f"{path}: replaying {claim.id} produced no evidence")
    stored = record["evidence"]
    same = all(_same(stored[k], evidence[k]) for k in ("lhs", "rhs", "relation", "tolerance"))
    return {"claim": claim.id, "stored": stored, "replayed": evidence, "identical": same, "holds": evidence["holds"]}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b
