"""The claim model and the catalog of MATH.md claims (registered on import)."""

from . import generalization, gradients, kernels, training, well_posedness  # noqa: F401  (registers the catalog)
from .base import (
    Claim,
    Evidence,
    ExactClaim,
    Hypothesis,
    Kind,
    NotApplicable,
    RateClaim,
    SymbolicClaim,
    WhpClaim,
    all_claims,
    controls_of,
    get,
    register,
    unregister,
)

__all__ = [
    "Claim",
    "Evidence",
    "ExactClaim",
    "Hypothesis",
    "Kind",
    "NotApplicable",
    "RateClaim",
    "SymbolicClaim",
    "WhpClaim",
    "all_claims",
    "controls_of",
    "get",
    "register",
    "unregister",
]
