"""Argument checking shared by the network and the kernel (one place, one message style)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .errors import DegenerateInputError, NonFiniteError, NormError, ParameterError, ShapeError

DTYPE = torch.float64

# Rows count as unit-norm when | ||x|| - 1 | <= UNIT_NORM_TOL. Normalizing in float64 gives
# errors near 1e-16; 1e-10 admits data saved with fewer digits and refuses real mistakes.
UNIT_NORM_TOL = 1e-10


def as_tensor(value, name: str, *, ndim: int | None = None) -> torch.Tensor:
    """``value`` (array-like or tensor) as a contiguous float64 CPU tensor, checked finite."""
    if isinstance(value, torch.Tensor):
        t = value.detach().to(device="cpu", dtype=DTYPE)
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ShapeError(f"{name} must be a numeric array, got {type(value).__name__}") from exc
        t = torch.from_numpy(arr.copy())
    if ndim is not None and t.ndim != ndim:
        raise ShapeError(f"{name} must have {ndim} dimension(s), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ShapeError(f"{name} is empty (shape {tuple(t.shape)})")
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise NonFiniteError(f"{name} holds {bad} non-finite value(s) (NaN or inf)")
    return t.contiguous()


def check_gamma(gamma: float) -> float:
    gamma = float(gamma)
    if not (0.0 < gamma < 0.5) or not math.isfinite(gamma):
        raise ParameterError(f"gamma must lie in (0, 1/2) (MATH.md section 1), got {gamma!r}")
    return gamma


def check_positive(value: float, name: str) -> float:
    value = float(value)
    if not (value > 0.0) or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite positive number, got {value!r}")
    return value


def check_rows_nonzero(X: torch.Tensor, name: str = "X") -> torch.Tensor:
    norms = torch.linalg.vector_norm(X, dim=1)
    zero = torch.nonzero(norms == 0).flatten().tolist()
    if zero:
        raise NormError(f"{name} has zero-norm row(s) {zero[:10]}")
    return norms


def check_unit_rows(X: torch.Tensor, name: str = "X") -> None:
    norms = check_rows_nonzero(X, name)
    err = (norms - 1.0).abs()
    worst = int(torch.argmax(err))
    if float(err[worst]) > UNIT_NORM_TOL:
        raise NormError(
            f"{name} rows must be unit-norm (tolerance {UNIT_NORM_TOL:g}); row {worst} has norm "
            f"{float(norms[worst]):.12g}. Normalize with X / ||X||_row first."
        )


def check_not_parallel(X: torch.Tensor, name: str = "X", *, min_angle: float = 0.0) -> None:
    """Assumption A1: no two rows are parallel or antiparallel (angle to +-x_j > min_angle)."""
    U = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    n = U.shape[0]
    if n < 2:
        return
    # |sin| of the angle between rows, computed from the chordal distances to +-x_j, which
    # keeps digits for nearly parallel rows where 1 - |<x,x'>| would cancel.
    d_minus = torch.cdist(U, U, compute_mode="donot_use_mm_for_euclid_dist")
    d_plus = torch.cdist(U, -U, compute_mode="donot_use_mm_for_euclid_dist")
    chord = torch.minimum(d_minus, d_plus)
    chord.fill_diagonal_(float("inf"))
    angle = 2.0 * torch.asin(torch.clamp(chord / 2.0, max=1.0))
    k = int(torch.argmin(angle))
    i, j = divmod(k, n)
    if float(angle[i, j]) <= min_angle:
        raise DegenerateInputError(
            f"{name} violates assumption A1: rows {i} and {j} are parallel or antiparallel (angle to +-x_j = {float(angle[i, j]):.3e} rad)"
        )
