"""Adapter for torchopt (PyPI ``torchopt``, MetaOPT): implicit differentiation through
``torchopt.diff.implicit.custom_root`` and the linear solvers of ``torchopt.linear_solve``.

Install with ``pip install -e '.[audit]'``. torchopt has no fixed-point solver of its own: its
user writes the forward solve and declares the optimality condition
F(z, A) = relu(c z A^T + H0) - z = 0; ``custom_root(F, argnums=1, solve=...)`` then gives the
gradient by solving the linearized system (dF/dz)^T v = g with the chosen linear solver. The
adapter's forward solve is therefore the reference's (``theory.network``, Anderson to a relative
residual of 1e-12), so that everything the audit measures beyond the forward pass is torchopt's
backward.

Configuration keys:

- ``solve``: ``normal_cg`` (torchopt's default, CG on the normal equations), ``cg`` (CG on the
  system itself, which torchopt documents for positive definite systems only), ``inv`` (a
  dense inverse of the materialized matrix).
- ``rtol``, ``atol``, ``maxiter``, ``ridge``: passed to that solver (torchopt's CG defaults:
  rtol 1e-5, atol 0, maxiter 10 x size). ``ridge`` solves (M + ridge I) x = b instead.
- ``forward_tol``: the forward solve's relative tolerance (default 1e-12).

``info`` reports the forward tolerance (relative) and the forward residual; torchopt itself
reports nothing about its linear solve (no residual, no iteration count, no warning).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from theory.errors import ParameterError
from theory.network import relu_layer

from .protocol import Solve

SOLVES = ("normal_cg", "cg", "inv")
GRID: dict[str, dict[str, Any]] = {
    "defaults": {},
    "normal_cg-rtol1e-12": {"rtol": 1e-12},
    "normal_cg-rtol1e-12-maxiter20": {"rtol": 1e-12, "maxiter": 20},
    "cg-rtol1e-12": {"solve": "cg", "rtol": 1e-12},
    "inv": {"solve": "inv"},
    "inv-ridge1e-4": {"solve": "inv", "ridge": 1e-4},
}


class TorchOpt:
    """Our network's gradient through ``torchopt.diff.implicit.custom_root``; see the module docstring."""

    name = "torchopt"
    grid = GRID

    def __init__(self, **config: Any):
        try:
            import torchopt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ParameterError("the torchopt adapter needs torchopt: pip install -e '.[audit]'") from exc
        config = dict(config)
        name = str(config.pop("solve", "normal_cg"))
        if name not in SOLVES:
            raise ParameterError(f"solve must be one of {SOLVES}, got {name!r}")
        self.forward_tol = float(config.pop("forward_tol", 1e-12))
        unknown = sorted(set(config) - {"rtol", "atol", "maxiter", "ridge"})
        if unknown:
            raise ParameterError(f"unknown torchopt configuration keys {unknown}")
        if name == "inv" and set(config) - {"ridge"}:
            raise ParameterError("solve='inv' is direct: it takes only 'ridge'")
        self.linear_solve = getattr(torchopt.linear_solve, f"solve_{name}")(**config)
        self.torchopt = torchopt

    def solve(self, net, X, *, weights=None, Z0=None) -> Solve:
        with warnings.catch_warnings():
            # torchopt 0.7.3 calls functorch.vjp/jacfwd, deprecated since PyTorch 2.0 (it still works)
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*functorch")
            return self._solve(net, X, weights=weights, Z0=Z0)

    def _solve(self, net, X, *, weights=None, Z0=None) -> Solve:
        H0 = net.preactivation_offset(X)
        c = net.c
        eq = net.equilibrium(X, tol=self.forward_tol, Z0=Z0)

        def optimality(z, A):
            return relu_layer(z, A, H0, c) - z

        @self.torchopt.diff.implicit.custom_root(optimality, argnums=1, solve=self.linear_solve)
        def solver(z_init, A):
            return eq.Z.clone()  # the forward solve happened above, outside autograd

        A = net.A.clone().requires_grad_(weights is not None)
        with torch.enable_grad():
            Z = solver(torch.zeros_like(H0), A)
            f = (net.kappa / math.sqrt(net.m)) * (Z @ net.u)
            grad = None
            if weights is not None:
                (grad,) = torch.autograd.grad((weights * f).sum(), A)
        info = {"tol": self.forward_tol, "tol_kind": "rel", "reported_residual": eq.residual, "iterations": eq.iterations}
        return Solve(Z.detach(), f.detach(), grad, info)


class PlantedJacobianFree(TorchOpt):
    """Planted fault on the torchopt path: ``custom_root`` given a "linear solver" that returns its
    right-hand side unchanged, i.e. (I - c A^T D)^{-1} replaced by I: the Jacobian-free gradient.
    Must be flagged (gradient, Gram); a test checks it equals ``planted-jfb``."""

    name = "planted-torchopt-jfb"
    grid = None

    def __init__(self, **config: Any):
        super().__init__(**config)
        # torchopt solves (dF/dz)^T x = b with dF/dz = c D A - I, i.e. x = -(I - c A^T D)^{-1} b;
        # dropping the inverse leaves x = -b
        self.linear_solve = lambda matvec, b: tuple(-t for t in b)
