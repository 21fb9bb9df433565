"""The claim model and the catalog (registered on import). Each claim lives in one module,
named for the part of the mathematics it holds (docs/claims.md lists claim -> file)."""

from . import (  # noqa: F401  (registers the catalog)
    declare,  # noqa: F401  (the short way to state a claim)
    gaussian_law,
    gaussian_process,
    generalization,
    gradients,
    kernel_definiteness,
    kernel_init,
    kernels,
    label_training,
    span_target,
    training,
    training_rates,
    well_posedness,
)
from .base import (
    PROFILE_NAMES,
    Budget,
    Claim,
    DistributionClaim,
    Evidence,
    ExactClaim,
    Hypothesis,
    Kind,
    NotApplicable,
    PerProfile,
    Prepared,
    RateClaim,
    SymbolicClaim,
    WhpClaim,
)
from .registry import all_claims, controls_of, get, register, unregister, validate

__all__ = [
    "PROFILE_NAMES",
    "Budget",
    "Claim",
    "DistributionClaim",
    "Evidence",
    "ExactClaim",
    "Hypothesis",
    "Kind",
    "NotApplicable",
    "PerProfile",
    "Prepared",
    "RateClaim",
    "SymbolicClaim",
    "WhpClaim",
    "all_claims",
    "controls_of",
    "get",
    "register",
    "unregister",
    "validate",
]
