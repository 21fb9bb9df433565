"""Common random numbers across widths: a network whose initial outputs on given inputs are
set by one shared Gaussian vector, while the network stays an exact draw of its law
(docs/mathematics.md, TD-3.rate)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ._validation import as_tensor
from .errors import DegenerateInputError, ShapeError

if TYPE_CHECKING:
    from .network import ImplicitNetwork


def outputs_coupled(net: ImplicitNetwork, X, xi) -> ImplicitNetwork:
    """``net`` with u redrawn given its outputs on X: with Z = z*(X) (n x m) and L = chol(Z Z^T),

        u' = u + Z^T (Z Z^T)^-1 (L xi - Z u),   so   f(X) = (kappa / sqrt(m)) L xi.

    If u ~ N(0, I_m) and xi ~ N(0, I_n) independently of (U, A, u), then given (U, A) the
    row-space part Z^T (Z Z^T)^-1 L xi is N(0, P) and (I - P) u is N(0, I - P), independent:
    u' ~ N(0, I_m), the law :meth:`ImplicitNetwork.initialize` draws; only the coupling changes.
    One xi shared across widths gives common random numbers: f(X) = kappa chol(Z Z^T / m) xi
    tends to kappa chol(Sigma(X)) xi at every width. Z Z^T must be positive definite (n <= m,
    inputs that satisfy A1); otherwise :class:`DegenerateInputError`."""
    X = net._inputs(X)
    xi = as_tensor(xi, "xi", ndim=1, device=net.device)
    if xi.shape[0] != X.shape[0]:
        raise ShapeError(f"xi must have one entry per row of X ({X.shape[0]}), got {xi.shape[0]}")
    Z = net.equilibrium(X, certify=False).Z  # only Z is needed; a trainer certifies rho itself
    L, info = torch.linalg.cholesky_ex(Z @ Z.T)
    pivots = L.diagonal()
    # a pivot below 1e-7 of the largest (a condition number of Z Z^T above 1e14) is a rank that
    # float64 cannot resolve: Cholesky of a singular Z Z^T fails or succeeds by rounding alone
    if int(info) != 0 or not float(pivots.min()) > 1e-7 * float(pivots.max()):
        raise DegenerateInputError(f"Z Z^T is not positive definite (n = {X.shape[0]}, m = {net.m}): the outputs cannot be coupled")
    u = net.u + Z.T @ torch.cholesky_solve((L @ xi - Z @ net.u)[:, None], L)[:, 0]
    return type(net).from_arrays(net.U, net.A, u, gamma=net.gamma, sigma_u=net.sigma_u, kappa=net.kappa, device=net.device)
