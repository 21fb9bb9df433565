"""Adapter for jaxopt (PyPI ``jaxopt``, Google): ``FixedPointIteration`` and
``AndersonAcceleration``, with ``implicit_diff=True`` (its default) or unrolled iterations.

Install with ``pip install -e '.[audit]'``. Our layer z -> relu(c z A^T + H0) is the
``fixed_point_fun(z, A, H0)``; ``solver.run(Z0, A, H0).params`` is the equilibrium and
``jax.grad`` of sum_i w_i f_i with respect to A goes through jaxopt's backward pass (implicit
differentiation with ``implicit_diff_solve``, or the unrolled loop). The whole program is one
``jax.jit`` per adapter (compiled once per shape). Arrays cross through DLPack, and every solve
runs inside ``jax.enable_x64(x64)`` (see :mod:`.jax_bridge`).

Configuration keys (``--config KEY=VALUE``):

- ``solver``: ``"fixed_point"`` (default, ``jaxopt.FixedPointIteration``) or ``"anderson"``.
- ``solve``: the linear solver of the implicit backward, ``jaxopt.linear_solve.solve_<name>``:
  ``normal_cg`` (jaxopt's default), ``cg``, ``gmres``, ``bicgstab``, ``lu``; ``solve_tol``
  and ``solve_maxiter`` are passed to it (scipy-style ``tol``/``maxiter``; jaxopt's default
  tol is 1e-5).
- ``x64``: float64 on (default true); false shows what JAX does when a user forgets.
- any other key goes to the solver's constructor unchanged (``tol``, ``maxiter``,
  ``history_size``, ``ridge``, ``implicit_diff``, ``unroll``, ...); jaxopt's dataclasses refuse
  unknown keys with a TypeError, which the audit records.

``info``: jaxopt's stopping rule is ``error = ||params_{k+1} - params_k||_2`` over the whole
batch (one norm for all n rows), so a tolerance honoured in that sense is honoured per row in the
absolute sense (``tol_kind="abs"``); ``reported_residual`` is that ``error``, ``iterations``
its ``iter_num``. jaxopt returns silently at ``maxiter`` (no exception, no warning).
"""

from __future__ import annotations

import functools
from typing import Any

from theory.errors import ParameterError

from .jax_bridge import load_jax, problem_args, relu_layer, require_float64, to_torch
from .protocol import Solve

SOLVES = ("normal_cg", "cg", "gmres", "bicgstab", "lu")
TIGHT = {"tol": 1e-12, "maxiter": 2000}
GRID: dict[str, dict[str, Any]] = {
    "defaults": {},
    "fixed_point-tight": {**TIGHT},
    "fixed_point-tight-solve_tol": {**TIGHT, "solve_tol": 1e-12},
    "fixed_point-tight-gmres": {**TIGHT, "solve": "gmres", "solve_tol": 1e-12},
    "fixed_point-tight-lu": {**TIGHT, "solve": "lu"},
    "fixed_point-tight-cg": {**TIGHT, "solve": "cg", "solve_tol": 1e-12},
    "fixed_point-tight-unrolled": {**TIGHT, "implicit_diff": False, "unroll": True, "maxiter": 300},
    "anderson-defaults": {"solver": "anderson"},
    "anderson-tight-lu": {"solver": "anderson", **TIGHT, "solve": "lu"},
    "anderson-tight-ridge0-lu": {"solver": "anderson", **TIGHT, "ridge": 0.0, "solve": "lu"},
    "x64-off-tight-lu": {**TIGHT, "solve": "lu", "x64": False},
}


class JaxOpt:
    """Our network run through jaxopt's fixed-point solvers; see the module docstring."""

    name = "jaxopt"
    grid = GRID

    def __init__(self, **config: Any):
        self.jax, self.jnp, jaxopt = load_jax("jaxopt", "jaxopt")
        self.jaxopt = jaxopt
        config = dict(config)
        self.x64 = bool(config.pop("x64", True))
        kind = str(config.pop("solver", "fixed_point"))
        classes = {"fixed_point": jaxopt.FixedPointIteration, "anderson": jaxopt.AndersonAcceleration}
        if kind not in classes:
            raise ParameterError(f"solver must be one of {sorted(classes)}, got {kind!r}")
        solve_name = config.pop("solve", None)
        solve_kw = {k.split("_", 1)[1]: config.pop(k) for k in ("solve_tol", "solve_maxiter") if k in config}
        self.ignored: list[str] = []
        if solve_name is not None or solve_kw:
            name = solve_name or "normal_cg"
            if name not in SOLVES:
                raise ParameterError(f"solve must be one of {SOLVES}, got {name!r}")
            if name == "lu" and solve_kw:
                raise ParameterError("solve='lu' is direct: it takes no solve_tol/solve_maxiter")
            config["implicit_diff_solve"] = functools.partial(getattr(jaxopt.linear_solve, f"solve_{name}"), **solve_kw)
            if config.get("implicit_diff", True) is False:
                self.ignored.append("solve")  # accepted, never read: the backward is unrolled
        self.kind, self.config = kind, config
        self._solver_class = classes[kind]
        self._programs: dict[tuple, Any] = {}

    def _program(self, with_grad: bool):
        key = (with_grad, self.x64)
        if key in self._programs:
            return self._programs[key]
        jax, jnp = self.jax, self.jnp

        layer = relu_layer
        solver = self._solver_class(fixed_point_fun=layer, **self.config)

        def forward(A, H0, Z0, c, u, scale, w):
            Z, state = self._equilibrium(solver, layer, Z0, A, H0, c)
            f = scale * (Z @ u)
            return jnp.sum(w * f), (Z, f, state.error, state.iter_num)

        if with_grad:
            prog = jax.jit(jax.grad(forward, has_aux=True))
        else:
            prog = jax.jit(lambda *a: (None, forward(*a)[1]))
        self._programs[key] = prog
        return prog

    def _equilibrium(self, solver, layer, Z0, A, H0, c):
        return solver.run(Z0, A, H0, c)

    def solve(self, net, X, *, weights=None, Z0=None) -> Solve:
        with self.jax.enable_x64(self.x64):
            grad, (Z, f, error, iters) = self._program(weights is not None)(*problem_args(net, X, weights, Z0))
            if self.x64:
                require_float64("jaxopt", Z=Z, f=f, grad=grad)
            info = {
                "tol": float(self.config.get("tol", self._solver_class.tol)),
                "tol_kind": "abs",
                "reported_residual": float(error),
                "iterations": int(iters),
                "ignored_config": list(self.ignored),
                "x64": self.x64,
            }
            return Solve(to_torch(Z), to_torch(f), None if grad is None else to_torch(grad), info)


class PlantedJacobianFree(JaxOpt):
    """Planted fault on the JAX path: jaxopt's equilibrium with its gradient cut
    (``stop_gradient``) and one differentiable application of the layer, the Jacobian-free
    gradient a DEQ author writes by hand. Must be flagged (gradient, Gram), like ``planted-jfb``."""

    name = "planted-jax-jfb"
    grid = None

    def __init__(self, **config: Any):
        super().__init__(**{**TIGHT, **config})

    def _equilibrium(self, solver, layer, Z0, A, H0, c):
        Z, state = solver.run(Z0, A, H0, c)
        return layer(self.jax.lax.stop_gradient(Z), A, H0, c), state


def planted_early_stop(**config: Any) -> JaxOpt:
    """Planted fault on the JAX path: ``FixedPointIteration`` capped at 10 iterations while asked
    for 1e-12 (jaxopt returns silently at ``maxiter``). Must be flagged."""
    impl = JaxOpt(**{"tol": 1e-12, "maxiter": 10, "solve": "lu", **config})
    impl.name = "planted-jax-early-stop"
    return impl


def planted_float32(**config: Any) -> JaxOpt:
    """Planted fault on the JAX path: the tight configuration with float64 left off, as a user
    who never set ``jax_enable_x64`` runs it. Must be flagged (dtype)."""
    impl = JaxOpt(**{**TIGHT, "solve": "lu", **config, "x64": False})
    impl.name = "planted-jax-float32"
    return impl
