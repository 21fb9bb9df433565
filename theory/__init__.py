"""theory: the mathematics of overparameterized implicit networks (arXiv 2209.15562) as
executable objects - the network, its exact Gram, the infinite-width kernel, and each claim
of docs/mathematics.md with its hypotheses, conclusion, check and negative controls."""

from ._validation import check_not_parallel as require_a1
from .errors import (
    ContractionError,
    ConvergenceError,
    DegenerateInputError,
    DTypeError,
    EquilibriumMismatchError,
    InputError,
    MemoryBudgetError,
    NonFiniteError,
    NormError,
    ParameterError,
    ShapeError,
    TheoryError,
)
from .kernel import kernel_parts, lambda_0, limiting_gram, limiting_gram_diagonal, nngp_depth, relu_expectation, two_layer_ntk
from .network import Equilibrium, ImplicitNetwork, relu_layer, spectral_norm
from .solvers import FixedPointResult, anderson, picard

__all__ = [
    "ContractionError",
    "ConvergenceError",
    "DegenerateInputError",
    "DTypeError",
    "Equilibrium",
    "EquilibriumMismatchError",
    "FixedPointResult",
    "ImplicitNetwork",
    "InputError",
    "MemoryBudgetError",
    "NonFiniteError",
    "NormError",
    "ParameterError",
    "ShapeError",
    "TheoryError",
    "anderson",
    "kernel_parts",
    "lambda_0",
    "limiting_gram",
    "limiting_gram_diagonal",
    "nngp_depth",
    "picard",
    "relu_expectation",
    "relu_layer",
    "require_a1",
    "spectral_norm",
    "two_layer_ntk",
]
