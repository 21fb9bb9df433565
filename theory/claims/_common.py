"""Small helpers shared by the claim modules: rounding tolerances, row norms, the worst row."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..device import default_device
from ..instances import NetworkInstance
from ..tolerances import EPS
from .base import Evidence


def rounding(m: int, scale: float, rho: float = 0.0) -> float:
    """Slack for float64 rounding in a chain of layer evaluations.

    One evaluation of relu(c A z + h) rounds each entry with an error of about
    eps * (number of terms) * magnitude; summed over m entries in 2-norm that is at most
    ~ eps * sqrt(m) * m^(1/2) * scale. Errors propagated through a rho-contraction add up to
    1/(1 - rho) times one step's. A factor 16 covers the constants.
    """
    return 16.0 * EPS * m * max(scale, 1e-300) / max(1.0 - rho, 1e-12)


def input_layer_draws(m: int, d: int, draws: int, seed: int, fn) -> np.ndarray:
    """``fn(U, u)`` over ``draws`` independent input and output layers of a width-m network
    (U: k x m x d, u: k x m, i.i.d. N(0,1) as :meth:`ImplicitNetwork.initialize` draws them,
    without A), drawn from ``seed`` in chunks of about 32 MB; ``fn`` returns one value per draw.
    The Monte Carlo mean of a control variate that depends on U and u only. On a GPU default
    device (:mod:`theory.device`) they are drawn there: another stream of the same law (4096
    draws at m = 65536 are 1.3e9 numbers, a minute of the CPU's generator)."""
    where = default_device() if default_device().type != "cpu" else torch.device("cpu")
    g = torch.Generator(device=where).manual_seed(int(seed))
    chunk = max(1, min(draws, 2**22 // (m * (d + 1))))
    out = []
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        U = torch.randn(k, m, d, generator=g, dtype=torch.float64, device=where)
        out.append(torch.as_tensor(fn(U, torch.randn(k, m, generator=g, dtype=torch.float64, device=where))).cpu())
    return torch.cat(out).numpy()


def row_norms(Z: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(Z, dim=-1)


def rho_below(limit: float):
    """Hypothesis predicate: the instance's contraction factor is below ``limit``."""

    def test(inst: NetworkInstance) -> bool:
        return inst.net.contraction_factor() < limit

    return test


def fmt(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else str(x)


def worst_row(lhs, rhs, tolerance, why: str, relation: str = "<=", **details) -> Evidence:
    """Evidence for the row of ``lhs <= rhs`` (vectors, or ``tolerance`` per row) whose
    normalized slack is smallest, i.e. the row closest to (or deepest into) violation."""
    lhs = torch.as_tensor(lhs, dtype=torch.float64).reshape(-1)
    rhs = torch.as_tensor(rhs, dtype=torch.float64).reshape(-1)
    tol = torch.as_tensor(tolerance, dtype=torch.float64).expand_as(lhs)
    rows = [Evidence(float(lhs[i]), float(rhs[i]), relation, float(tol[i]), why, {"row": i, **details}) for i in range(len(lhs))]
    return Evidence.worst(rows)
