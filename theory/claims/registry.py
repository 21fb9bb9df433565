"""The registry of claims: :func:`register` validates a claim (every required piece present,
named when missing) and adds it; :func:`all_claims` lists them in the order of
docs/mathematics.md, each followed by its negative controls."""

from __future__ import annotations

from .base import PROFILE_NAMES, Claim, Kind, RateClaim, WhpClaim

_REGISTRY: dict[str, Claim] = {}


def _draw_function(claim: Claim):
    return getattr(type(claim), "sample", None) or getattr(type(claim), "measure", None)


_METHODS = (
    "check",
    "sample",
    "measure",
    "prove",
    "delta",
    "resolution",
    "target",
    "prepare",
    "record",
    "describe_setting",
    "law",
    "alternatives",
    "failed_hypotheses",
)


def validate(claim: Claim) -> None:
    """What :func:`register` checks: every required piece is there, named when missing."""
    if not claim.id:
        raise ValueError(f"{claim!r} has no id")
    for name in _METHODS:
        if hasattr(claim, name) and not callable(getattr(claim, name)):
            raise TypeError(f"{claim.id}: the attribute {name!r} hides the method of that name; rename the attribute")
    if not isinstance(getattr(claim, "kind", None), Kind):
        raise TypeError(f"{claim.id}: subclass ExactClaim, WhpClaim, RateClaim, SymbolicClaim or DistributionClaim")
    if isinstance(claim, WhpClaim) and not claim.budget.ci.configs and type(claim).prepare is WhpClaim.prepare:
        raise ValueError(
            f"{claim.id}: a whp claim needs budget = PerProfile(Budget(configs=(...), draws=N)) (or a prepare() that computes them)"
        )
    if isinstance(claim, RateClaim) and len(claim.budget.ci.grid) < 3:
        raise ValueError(f"{claim.id}: a rate claim needs budget = PerProfile(Budget(grid=(x1, x2, x3, ...), seeds=N)) with >= 3 sizes")
    if claim.expect not in ("holds", "refuted", ""):
        raise ValueError(f"{claim.id}: expect must be 'holds' or 'refuted', got {claim.expect!r}")
    unknown = [p for p in claim.underpowered_at if p not in PROFILE_NAMES]
    if unknown or (claim.underpowered_at and not claim.underpowered_why):
        raise ValueError(
            f"{claim.id}: underpowered_at names profiles from {PROFILE_NAMES} (got {unknown or claim.underpowered_at}) "
            "and needs underpowered_why, the reason"
        )
    if claim.draws_of is not None:
        owner = _REGISTRY.get(claim.draws_of)
        if owner is None:
            raise ValueError(f"{claim.id}: draws_of names {claim.draws_of!r}, which is not registered (register it first)")
        if _draw_function(owner) is not _draw_function(claim):
            raise ValueError(
                f"{claim.id}: draws_of = {claim.draws_of!r}, but its sample/measure differs from that claim's: "
                "reusing those draws would be wrong (drop draws_of)"
            )


def register(cls):
    """Class decorator: instantiate ``cls``, :func:`validate` it and add it to the registry
    (ids are unique)."""
    claim = cls() if isinstance(cls, type) else cls
    validate(claim)
    if claim.id in _REGISTRY and type(_REGISTRY[claim.id]) is not type(claim):
        raise ValueError(f"claim id {claim.id!r} is already registered by {_REGISTRY[claim.id]!r}")
    _REGISTRY[claim.id] = claim
    return cls


def unregister(claim_id: str) -> None:
    _REGISTRY.pop(claim_id, None)


def get(claim_id: str) -> Claim:
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise KeyError(f"no claim {claim_id!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def all_claims(*, controls: bool = True) -> list[Claim]:
    """Registered claims in id order, each followed by its controls when ``controls``."""
    mains = sorted((c for c in _REGISTRY.values() if not c.is_control), key=lambda c: _id_key(c.id))
    out: list[Claim] = []
    for c in mains:
        out.append(c)
        if controls:
            out.extend(controls_of(c.id))
    orphans = [c for c in _REGISTRY.values() if c.is_control and c.control_of not in _REGISTRY]
    return out + (sorted(orphans, key=lambda c: c.id) if controls else [])


def controls_of(claim_id: str) -> list[Claim]:
    return sorted((c for c in _REGISTRY.values() if c.control_of == claim_id), key=lambda c: c.id)


_SECTION_ORDER = ("WP", "GR", "KG", "TD", "GE", "NG")  # docs/mathematics.md's order; user prefixes come after


def _id_key(claim_id: str):
    prefix, _, rest = claim_id.partition("-")
    rank = _SECTION_ORDER.index(prefix) if prefix in _SECTION_ORDER else len(_SECTION_ORDER)
    digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]  # "3" of "3.rate": a variant sorts after its claim
    return (rank, prefix, int(digits) if digits else 10**9, claim_id)
