"""Adapter for optimistix (PyPI ``optimistix``, patrick-kidger; JAX and Equinox):
``optx.fixed_point`` with its fixed-point solvers, its root finders (Newton, Chord: optimistix
solves a fixed-point problem with a root finder on z - T(z)), and its two adjoints.

Install with ``pip install -e '.[audit]'``. ``optx.fixed_point(T, solver, Z0, args=(A, H0, c))``
gives the equilibrium and ``jax.grad`` of sum_i w_i f_i with respect to A goes through the
adjoint (``ImplicitAdjoint``, optimistix's default, solves the linearized system with lineax;
``RecursiveCheckpointAdjoint`` differentiates the unrolled loop). One ``jax.jit`` per adapter;
DLPack and ``jax.enable_x64`` as in :mod:`.jax_bridge`.

Configuration keys:

- ``solver``: ``fixed_point`` (default, ``optx.FixedPointIteration``), ``newton``, ``chord``;
  ``rtol``, ``atol`` (optimistix has no default tolerances; ours: 1e-8 each) go to it.
- ``best_so_far``: wrap the solver in ``optx.BestSoFarFixedPoint`` (default false).
- ``adjoint``: ``implicit`` (default) or ``checkpoint`` (``RecursiveCheckpointAdjoint``);
  ``linear_solver``: lineax's ``auto`` (default, ``AutoLinearSolver(well_posed=None)``), ``lu``,
  ``gmres``; ``linear_rtol``/``linear_atol`` for GMRES.
- ``max_steps`` (optimistix's default 256), ``throw`` (default true: non-convergence raises).
- ``x64``: float64 on (default true).

``info``: optimistix stops when max_j |y_{k+1} - y_k|_j / (atol + rtol |y_{k+1}|_j) < 1 (its
``max_norm``), which implies per row ||T(z) - z||_2 <= sqrt(m) atol + rtol ||z||_2 for the
returned iterate up to one contraction step; the audit is given that row bound at the largest
row norm as an absolute tolerance. optimistix reports no residual (best_iterate: n/a);
``iterations`` is ``stats["num_steps"]``.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from theory.errors import ParameterError

from .jax_bridge import load_jax, problem_args, relu_layer, require_float64, to_torch
from .protocol import Solve

# JAX logs the traceback of every failed host callback, which is how throw=True raises; the
# exception itself carries the message, so the log line is noise in an audit.
logging.getLogger("jax._src.callback").setLevel(logging.CRITICAL)

KNOWN = {"solver", "rtol", "atol", "best_so_far", "adjoint", "linear_solver", "linear_rtol", "linear_atol", "max_steps", "throw", "x64"}
TIGHT = {"rtol": 1e-12, "atol": 1e-12, "max_steps": 5000}
GRID: dict[str, dict[str, Any]] = {
    "fixed_point-1e-8": {},
    "fixed_point-tight": {**TIGHT},
    "fixed_point-tight-no-throw": {**TIGHT, "throw": False},
    "fixed_point-tight-best_so_far-no-throw": {**TIGHT, "throw": False, "best_so_far": True},
    "fixed_point-tight-gmres": {**TIGHT, "linear_solver": "gmres", "linear_rtol": 1e-12, "linear_atol": 1e-12},
    "fixed_point-tight-checkpoint": {**TIGHT, "adjoint": "checkpoint"},
    "newton-tight": {**TIGHT, "solver": "newton", "max_steps": 256},
    "chord-tight": {**TIGHT, "solver": "chord", "max_steps": 256},
    "x64-off-tight": {**TIGHT, "x64": False},
    "x64-off-1e-6": {"rtol": 1e-6, "atol": 1e-6, "x64": False},
}


class Optimistix:
    """Our network run through ``optx.fixed_point``; see the module docstring."""

    name = "optimistix"
    grid = GRID

    def __init__(self, **config: Any):
        self.jax, self.jnp, lx, optx = load_jax("optimistix", "lineax", "optimistix")
        unknown = sorted(set(config) - KNOWN)
        if unknown:
            raise ParameterError(f"unknown optimistix configuration keys {unknown}: choose from {sorted(KNOWN)}")
        self.x64 = bool(config.get("x64", True))
        self.rtol, self.atol = float(config.get("rtol", 1e-8)), float(config.get("atol", 1e-8))
        kind = str(config.get("solver", "fixed_point"))
        solvers = {"fixed_point": optx.FixedPointIteration, "newton": optx.Newton, "chord": optx.Chord}
        if kind not in solvers:
            raise ParameterError(f"solver must be one of {sorted(solvers)}, got {kind!r}")
        solver = solvers[kind](rtol=self.rtol, atol=self.atol)
        if config.get("best_so_far", False):
            solver = optx.BestSoFarFixedPoint(solver) if kind == "fixed_point" else optx.BestSoFarRootFinder(solver)
        linear = str(config.get("linear_solver", "auto"))
        linear_solvers = {
            "auto": lambda: lx.AutoLinearSolver(well_posed=None),
            "lu": lx.LU,
            "gmres": lambda: lx.GMRES(rtol=float(config.get("linear_rtol", 1e-8)), atol=float(config.get("linear_atol", 1e-8))),
        }
        if linear not in linear_solvers:
            raise ParameterError(f"linear_solver must be one of {sorted(linear_solvers)}, got {linear!r}")
        adjoint = str(config.get("adjoint", "implicit"))
        if adjoint == "implicit":
            self.adjoint = optx.ImplicitAdjoint(linear_solver=linear_solvers[linear]())
        elif adjoint == "checkpoint":
            self.adjoint = optx.RecursiveCheckpointAdjoint()
        else:
            raise ParameterError(f"adjoint must be 'implicit' or 'checkpoint', got {adjoint!r}")
        self.ignored = [k for k in ("linear_solver", "linear_rtol", "linear_atol") if k in config and adjoint == "checkpoint"]
        self.solver, self.optx = solver, optx
        self.max_steps, self.throw = int(config.get("max_steps", 256)), bool(config.get("throw", True))
        self._programs: dict[tuple, Any] = {}

    def _program(self, with_grad: bool):
        key = (with_grad, self.x64)
        if key in self._programs:
            return self._programs[key]
        import equinox as eqx

        jax, jnp, optx = self.jax, self.jnp, self.optx

        def layer(z, args):
            return relu_layer(z, *args)

        def forward(A, H0, Z0, c, u, scale, w):
            sol = optx.fixed_point(
                layer, self.solver, Z0, args=(A, H0, c), max_steps=self.max_steps, adjoint=self.adjoint, throw=self.throw
            )
            Z = sol.value
            f = scale * (Z @ u)
            return jnp.sum(w * f), (Z, f, sol.stats["num_steps"])

        # equinox.filter_jit: with plain jax.jit an Equinox runtime error comes without its message
        prog = eqx.filter_jit(jax.grad(forward, has_aux=True) if with_grad else lambda *a: (None, forward(*a)[1]))
        self._programs[key] = prog
        return prog

    def solve(self, net, X, *, weights=None, Z0=None) -> Solve:
        with self.jax.enable_x64(self.x64):
            try:
                grad, (Z, f, steps) = self._program(weights is not None)(*problem_args(net, X, weights, Z0))
            except Exception as exc:  # throw=True: optimistix raises on non-convergence (honest)
                raise RuntimeError(f"optimistix raised: {_first_line(exc)}") from None
            if self.x64:
                require_float64("optimistix", Z=Z, f=f, grad=grad)
            Zt = to_torch(Z)
            row_bound = math.sqrt(net.m) * self.atol + self.rtol * float(Zt.norm(dim=1).max())
            info = {
                "tol": row_bound,
                "tol_kind": "abs",
                "iterations": int(steps),
                "ignored_config": list(self.ignored),
                "x64": self.x64,
            }
            return Solve(Zt, to_torch(f), None if grad is None else to_torch(grad), info)


def _first_line(exc: Exception) -> str:
    """The message of an Equinox runtime error without JAX's callback traceback around it."""
    text = str(exc)
    found = re.search(r"EquinoxRuntimeError: ([^\n]+)", text)
    return found.group(1) if found else text.strip().splitlines()[0][:200]
