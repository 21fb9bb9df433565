"""Argument checking shared by the network and the kernel (one place, one message style)."""

from __future__ import annotations

import math
import operator
import os

import numpy as np
import torch

from .errors import DegenerateInputError, DTypeError, MemoryBudgetError, NonFiniteError, NormError, ParameterError, ShapeError
from .tolerances import UNIT_NORM as UNIT_NORM_TOL

DTYPE = torch.float64


def as_tensor(value, name: str, *, ndim: int | None = None, device: torch.device | str | None = "cpu") -> torch.Tensor:
    """``value`` (array-like or tensor) as a float64 tensor on ``device`` (default the CPU) that
    the caller does not share (always a fresh copy: a caller's later in-place change cannot reach
    it), checked real and finite. Complex, boolean-only or non-numeric input is a
    :class:`DTypeError`, never a cast."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise DTypeError(f"{name} is complex ({value.dtype}); the network is real-valued: pass the real part explicitly")
        t = value.detach().to(device=device or "cpu", dtype=DTYPE, copy=True)
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise ShapeError(f"{name} must be a numeric array, got {type(value).__name__}") from exc
        if np.iscomplexobj(arr):
            raise DTypeError(f"{name} is complex ({arr.dtype}); the network is real-valued: pass the real part explicitly")
        if arr.dtype.kind not in "biuf":
            raise DTypeError(f"{name} must be a real numeric array, got dtype {arr.dtype} ({type(value).__name__})")
        t = torch.from_numpy(np.array(arr, dtype=np.float64, copy=True)).to(device or "cpu")
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
        raise ParameterError(f"gamma must lie in (0, 1/2) (docs/mathematics.md section 1), got {gamma!r}")
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


def check_int(value, name: str, *, low: int, high: int | None = None) -> int:
    """An integer argument (int or numpy integer; not bool, not float) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = operator.index(value)
    if value < low or (high is not None and value > high):
        span = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ParameterError(f"{name} must be an integer {span}, got {value}")
    return value


SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed takes a 64-bit seed; numpy's SeedSequence any int


def check_seed(seed) -> int:
    """A reproducible seed: an integer in [0, 2^63 - 1]. ``None`` is refused: every draw here is
    seeded, so that the same seed gives the same result."""
    if seed is None:
        raise ParameterError("seed is required (an integer in [0, 2^63 - 1]): every random draw here is seeded")
    return check_int(seed, "seed", low=0, high=SEED_MAX)


def check_tol(tol) -> float:
    """A relative residual tolerance in (0, 1)."""
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise ParameterError(f"tol must be a number in (0, 1), got {tol!r}") from None
    if not (0.0 < tol < 1.0):
        raise ParameterError(f"tol must lie in (0, 1), got {tol!r}")
    return tol


def check_max_iter(max_iter) -> int | None:
    """``None`` (the solver's default cap) or a positive integer."""
    return None if max_iter is None else check_int(max_iter, "max_iter", low=1)


def available_memory() -> int:
    """Bytes of memory this process may still allocate: MemAvailable from /proc/meminfo (Linux),
    else the physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def _size(nbytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes:.0f} B"


def check_memory(nbytes: float, what: str) -> None:
    """Refuse, before allocating, a request that cannot fit in the memory still available."""
    have = available_memory()
    if nbytes > have:
        raise MemoryBudgetError(
            f"{what} needs {_size(nbytes)}, but only {_size(have)} of memory is available", needed=nbytes, available=have
        )
