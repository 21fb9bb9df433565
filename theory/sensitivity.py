"""How the Gram's smallest eigenvalue moves with the implicit layer (docs/mathematics.md
section 3, KG-5): the gradient of lambda_min(G(A)) with respect to A, in closed form, without
the n x m^2 Jacobian.

With the activation patterns D_i held fixed (they are locally constant almost everywhere),

    dz_i = c (I - c D_i A)^{-1} D_i (dA) z_i,      db_i = c (I - c D_i A^T)^{-1} D_i (dA)^T b_i,

and for the unit eigenvector v of lambda = lambda_min(G), G = s^2 (B B^T) o (Z Z^T),
s = kappa gamma / m, dlambda = v^T dG v. Writing P_i = sum_j v_j (z_i . z_j) b_j and
Q_i = sum_j v_j (b_i . b_j) z_j,

    d lambda / dA = 2 s^2 c sum_i v_i (p_i z_i^T + b_i q_i^T),
    p_i = D_i (Q_i + c A^T p_i),     q_i = D_i (P_i + c A q_i),

two batched fixed-point solves with the same contraction factor as the forward and backward
ones. The gradient has rank <= 2n, so a Frobenius step along it moves c A in operator norm
by about as much as a rank-one step: the direction in which the stability lemma's Frobenius
ball is tightest, to first order.
"""

from __future__ import annotations

import torch

from .errors import ConvergenceError
from .network import DEFAULT_TOL, ImplicitNetwork
from .solvers import get_solver


def smallest_eigenvalue_gradient(net: ImplicitNetwork, X, *, tol: float = DEFAULT_TOL) -> tuple[float, torch.Tensor]:
    """(lambda_min(G), d lambda_min(G) / dA) at the network's A (the formula of the module
    docstring; ``tol`` as in :meth:`ImplicitNetwork.equilibrium`). A repeated smallest
    eigenvalue has no gradient; the one returned is that of the eigenvector ``eigh`` picks.
    Raises :class:`ConvergenceError` when an adjoint solve does not converge."""
    B, Z, eq = net.features(X, tol=tol)
    w, vecs = torch.linalg.eigh(net.gram_of(B, Z))
    v = vecs[:, 0]
    A, c, D = net.A, net.c, eq.mask
    P = (v[None, :] * (Z @ Z.T)) @ B
    Q = (v[None, :] * (B @ B.T)) @ Z
    solve = get_solver("picard")
    adjoint = []
    for name, rhs, step in (("p = D(Q + c A^T p)", Q, lambda Y: Y @ A), ("q = D(P + c A q)", P, lambda Y: Y @ A.T)):
        res = solve(lambda Y, rhs=rhs, step=step: D * (rhs + c * step(Y)), D * rhs, tol=tol, max_iter=10_000)
        if not res.converged:
            raise ConvergenceError(
                f"adjoint solve {name} did not converge", residual=res.residual, iterations=res.iterations, tol=tol, result=res
            )
        adjoint.append(res.x)
    p, q = adjoint
    scale = 2.0 * net.gradient_scale**2 * c
    grad = scale * ((v[:, None] * p).T @ Z + (v[:, None] * B).T @ q)
    return float(w[0]), grad
