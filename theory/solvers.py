"""Batched fixed-point solvers: plain functions that return the point *and* what they did.

Each row of ``x`` (shape n x m) is an independent fixed-point problem ``x_i = f(x)_i``;
``f`` acts on all rows at once (one matrix product per iteration). Solvers stop when every
row meets ``||f(x_i) - x_i|| <= tol * ||x_i||`` (relative residual), return the lowest-residual
iterate of each row (never a worse, later one), and report the residual trace.

- ``picard``: x <- f(x). Under a rho-contraction the error falls like rho^k (WP-1).
- ``anderson``: type-II Anderson acceleration with memory ``memory``; the small
  (memory x memory) least-squares problems are solved row by row in numpy, because batched
  ``torch.linalg.solve`` can hang on some CPU builds (PyTorch issue 142815). Anderson has no
  convergence guarantee on the non-smooth ReLU map, so it is safeguarded: if it stalls it
  hands its best iterate to Picard for the remaining budget, which does converge under a
  contraction.

Neither solver knows about networks; ``theory.network`` supplies ``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import ConvergenceError

Map = Callable[[torch.Tensor], torch.Tensor]

# A row whose norm exceeds this is taken as diverging; no bounded fixed point gets there.
DIVERGENCE_NORM = 1e100


@dataclass
class FixedPointResult:
    """A solver's answer and its statistics.

    ``x``: the returned iterate (n x m). ``residuals``: ``||f(x_i) - x_i||`` of the returned
    rows. ``residual``: their maximum relative to ``||x_i||`` (what ``tol`` bounds).
    ``iterations``: evaluations of ``f``. ``trace``: the worst relative residual after each
    evaluation. ``method``: what actually ran (e.g. ``"anderson+picard"``).
    """

    x: torch.Tensor
    residuals: torch.Tensor
    residual: float
    iterations: int
    converged: bool
    method: str
    tol: float
    trace: list[float] = field(default_factory=list)


def _rel(res: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    norm = torch.linalg.vector_norm(x, dim=-1)
    return torch.where(res == 0, torch.zeros_like(res), res / torch.clamp(norm, min=1e-300))


def _check_finite(fx: torch.Tensor, iterations: int, tol: float) -> None:
    if not bool(torch.isfinite(fx).all()) or float(fx.abs().max()) > DIVERGENCE_NORM:
        raise ConvergenceError(
            "fixed-point iteration diverged (non-finite or > 1e100 iterate)",
            residual=float("inf"),
            iterations=iterations,
            tol=tol,
        )


def picard(f: Map, x0: torch.Tensor, *, tol: float = 1e-12, max_iter: int = 10_000) -> FixedPointResult:
    """Simple iteration x_{k+1} = f(x_k) from ``x0``; see the module docstring."""
    x = x0
    fx = f(x)
    _check_finite(fx, 1, tol)
    res = torch.linalg.vector_norm(fx - x, dim=1)
    rel = _rel(res, x)
    best_x, best_res, best_rel = x.clone(), res.clone(), rel.clone()
    trace = [float(rel.max())]
    it = 1
    while float(best_rel.max()) > tol and it < max_iter:
        x = fx
        fx = f(x)
        it += 1
        _check_finite(fx, it, tol)
        res = torch.linalg.vector_norm(fx - x, dim=1)
        rel = _rel(res, x)
        better = rel < best_rel
        if bool(better.any()):
            best_x[better], best_res[better], best_rel[better] = x[better], res[better], rel[better]
        trace.append(float(rel.max()))
    worst = float(best_rel.max())
    return FixedPointResult(best_x, best_res, worst, it, worst <= tol, "picard", tol, trace)


def anderson(
    f: Map,
    x0: torch.Tensor,
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    memory: int = 5,
    beta: float = 1.0,
    lam: float = 1e-10,
    patience: int = 25,
) -> FixedPointResult:
    """Safeguarded batched Anderson acceleration (type II); see the module docstring.

    ``lam`` regularizes each Gram of past residuals relative to its mean diagonal;
    ``patience``: evaluations without improving any row's best residual before the solver
    falls back to Picard from the best iterates.
    """
    n, m = x0.shape
    mem = max(1, int(memory))
    X = torch.zeros(n, mem, m, dtype=x0.dtype)
    F = torch.zeros(n, mem, m, dtype=x0.dtype)
    X[:, 0] = x0
    F[:, 0] = f(x0)
    _check_finite(F[:, 0], 1, tol)
    res = torch.linalg.vector_norm(F[:, 0] - x0, dim=1)
    rel = _rel(res, x0)
    best_x, best_res, best_rel = x0.clone(), res.clone(), rel.clone()
    trace = [float(rel.max())]
    it, k, stall = 1, 1, 0
    ones = None
    while float(best_rel.max()) > tol and it < max_iter and stall < patience:
        nk = min(k, mem)
        if k == 1:
            x_new = F[:, 0]
        else:
            G = (F[:, :nk] - X[:, :nk]).numpy()
            H = G @ G.transpose(0, 2, 1)
            scale = np.trace(H, axis1=1, axis2=2)[:, None, None] / nk
            H = H + lam * np.maximum(scale, 1e-300) * np.eye(nk)
            if ones is None or ones.shape[1] != nk:
                ones = np.ones((n, nk, 1))
            try:
                w = np.linalg.solve(H, ones)[..., 0]
            except np.linalg.LinAlgError:
                w = (np.linalg.pinv(H) @ ones)[..., 0]
            with np.errstate(all="ignore"):
                alpha = torch.from_numpy(w / w.sum(axis=1, keepdims=True))
            bad = ~torch.isfinite(alpha).all(dim=1)
            if bool(bad.any()):  # degenerate history (e.g. a row already at its fixed point)
                alpha[bad] = 0.0
                alpha[bad, (k - 1) % mem] = 1.0
            Fa = torch.einsum("nk,nkm->nm", alpha, F[:, :nk])
            Xa = torch.einsum("nk,nkm->nm", alpha, X[:, :nk])
            x_new = beta * Fa + (1.0 - beta) * Xa
        slot = k % mem
        fx = f(x_new)
        it += 1
        _check_finite(fx, it, tol)
        X[:, slot], F[:, slot] = x_new, fx
        res = torch.linalg.vector_norm(fx - x_new, dim=1)
        rel = _rel(res, x_new)
        better = rel < best_rel
        if bool(better.any()):
            best_x[better], best_res[better], best_rel[better] = x_new[better], res[better], rel[better]
            stall = 0
        else:
            stall += 1
        trace.append(float(rel.max()))
        k += 1
    worst = float(best_rel.max())
    if worst <= tol or it >= max_iter:
        return FixedPointResult(best_x, best_res, worst, it, worst <= tol, "anderson", tol, trace)
    rest = picard(f, best_x, tol=tol, max_iter=max_iter - it)
    return FixedPointResult(
        rest.x,
        rest.residuals,
        rest.residual,
        it + rest.iterations,
        rest.converged,
        "anderson+picard",
        tol,
        trace + rest.trace,
    )


SOLVERS: dict[str, Callable[..., FixedPointResult]] = {"picard": picard, "anderson": anderson}


def get_solver(name: str) -> Callable[..., FixedPointResult]:
    """The solver registered under ``name`` (``"picard"`` or ``"anderson"``)."""
    try:
        return SOLVERS[name]
    except KeyError:
        from .errors import ParameterError

        raise ParameterError(f"unknown solver {name!r}; choose one of {sorted(SOLVERS)}") from None
