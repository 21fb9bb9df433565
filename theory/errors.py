"""Typed errors. Every failure says what was wrong and carries the numbers.

The hierarchy lets a caller catch broadly (``TheoryError``) or narrowly
(``ContractionError``). Input problems are also ``ValueError`` so that generic
code that validates arguments keeps working.
"""

from __future__ import annotations


class TheoryError(Exception):
    """Base class of every error raised by ``theory``."""


class InputError(TheoryError, ValueError):
    """An argument is malformed: wrong shape, non-finite, out of range."""


class ShapeError(InputError):
    """An array has the wrong number of dimensions or incompatible sizes."""


class NonFiniteError(InputError):
    """An array holds NaN or infinity."""


class NormError(InputError):
    """A row has zero norm, or is not unit-norm where the mathematics needs it."""


class DegenerateInputError(InputError):
    """Inputs violate assumption A1: two rows are parallel (x_i = +-x_j)."""


class DTypeError(InputError):
    """An array has a type the mathematics does not admit (complex, non-numeric)."""


class EquilibriumMismatchError(InputError):
    """An :class:`Equilibrium` was passed to a network or for inputs other than those it was
    solved for (or the network's parameters changed in place since)."""


class MemoryBudgetError(InputError, MemoryError):
    """A request cannot fit in the available memory; refused before allocating."""

    def __init__(self, message: str, *, needed: float, available: float):
        self.needed, self.available = float(needed), float(available)
        super().__init__(message)


class ParameterError(InputError):
    """A scalar parameter (gamma, sigma_u, kappa, a tolerance) is out of range."""


class ContractionError(TheoryError):
    """The contraction factor rho(A) = gamma ||A||_2 / sqrt(m) is >= 1 (WP-1 needs < 1)."""

    def __init__(self, factor: float, message: str | None = None):
        self.factor = float(factor)
        super().__init__(
            message
            or (
                f"contraction factor rho(A) = gamma ||A||_2 / sqrt(m) = {self.factor:.6g} >= 1: "
                "the equilibrium map is not certified to be a contraction, so the fixed point may "
                "not exist or be unique (pass allow_noncontractive=True to try anyway)"
            )
        )


class ConvergenceError(TheoryError):
    """A fixed-point solver stopped before reaching its tolerance (or diverged)."""

    def __init__(self, message: str, *, residual: float, iterations: int, tol: float, result=None):
        self.residual = float(residual)
        self.iterations = int(iterations)
        self.tol = float(tol)
        self.result = result
        super().__init__(f"{message}: residual {self.residual:.3e} > tolerance {self.tol:.1e} after {self.iterations} iterations")


class MissingDependencyError(TheoryError, ImportError):
    """An optional dependency that one function needs is not installed (the message names the
    extra that brings it)."""
