"""Our own network as an implementation under audit, and deliberately broken variants of it.

- :class:`Reference`: ``theory.network`` itself (Anderson to a relative residual of 1e-12,
  exact implicit gradient). It must pass its own audit.
- Planted faults, which the audit must flag (tests check that it does):
  :class:`JacobianFree` (the one-step "Jacobian-free" gradient, b = D u instead of
  b = D (I - c A^T D)^{-1} u), :class:`EarlyStopped` (k Picard steps, then returns without a
  word), :class:`Float32` (the same mathematics in single precision).
"""

from __future__ import annotations

import torch

from theory.network import DEFAULT_TOL, ImplicitNetwork, relu_layer
from theory.solvers import picard

from .protocol import Solve


class Reference:
    """The reference implementation (``ImplicitNetwork.equilibrium``/``backward_vectors``)."""

    name = "reference"

    def __init__(self, tol: float = DEFAULT_TOL, method: str = "anderson"):
        self.tol, self.method = float(tol), str(method)

    def _equilibrium(self, net: ImplicitNetwork, X, Z0):
        return net.equilibrium(X, method=self.method, tol=self.tol, Z0=Z0)

    def _backward(self, net: ImplicitNetwork, X, eq) -> torch.Tensor:
        return net.backward_vectors(X, equilibrium=eq, method=self.method, tol=self.tol)

    def solve(self, net: ImplicitNetwork, X, *, weights=None, Z0=None) -> Solve:
        eq = self._equilibrium(net, X, Z0)
        f = net.output(X, equilibrium=eq)
        grad = None if weights is None else net.weighted_gradient(self._backward(net, X, eq), eq.Z, weights)
        info = {"tol": self.tol, "tol_kind": "rel", "reported_residual": eq.residual, "iterations": eq.iterations}
        return Solve(eq.Z, f, grad, info)


class JacobianFree(Reference):
    """Planted fault: the Jacobian-free (one-step) gradient df/dA = (kappa gamma/m) (D u) z*^T,
    which drops the factor (I - c A^T D)^{-1}; exact only when c A^T D = 0."""

    name = "planted-jfb"

    def _backward(self, net, X, eq):
        return eq.mask * net.u


class EarlyStopped(Reference):
    """Planted fault: ``steps`` Picard iterations from Z0, then return the iterate as if it were
    the equilibrium (reporting the requested tolerance, not raising)."""

    name = "planted-early-stop"

    def __init__(self, steps: int = 15, tol: float = DEFAULT_TOL):
        super().__init__(tol=tol, method="picard")
        self.steps = int(steps)

    def _equilibrium(self, net, X, Z0):
        H0 = net.preactivation_offset(X)
        z0 = torch.zeros_like(H0) if Z0 is None else Z0
        res = picard(lambda Z: relu_layer(Z, net.A, H0, net.c), z0, tol=self.tol, max_iter=self.steps)
        return net._package(res, H0, net.contraction_factor(), net._inputs(X))


class Float32(Reference):
    """Planted fault: the reference mathematics run in float32 (parameters, inputs, solves)."""

    name = "planted-float32"

    def solve(self, net, X, *, weights=None, Z0=None) -> Solve:
        U, A, u = (t.to(torch.float32) for t in (net.U, net.A, net.u))
        H0 = net.sigma_u * (torch.as_tensor(X, dtype=torch.float32) @ U.T)
        c = net.c
        z = torch.zeros_like(H0) if Z0 is None else Z0.to(torch.float32)
        for _ in range(2000):  # single precision stalls near 1e-7; stop when a step no longer helps
            z_new = relu_layer(z, A, H0, c)
            done = bool(((z_new - z).norm(dim=1) <= 1e-7 * z_new.norm(dim=1)).all())
            z = z_new
            if done:
                break
        f = (net.kappa / net.m**0.5) * (z @ u)
        grad = None
        if weights is not None:
            mask = ((c * (z @ A.T) + H0) > 0).to(torch.float32)
            b = mask * u
            for _ in range(2000):
                b = mask * (u + c * (b @ A))
            grad = (net.gradient_scale * ((b * weights.to(torch.float32)[:, None]).T @ z)).to(torch.float32)
        return Solve(z, f, grad, {"tol": 1e-7, "tol_kind": "rel"})
