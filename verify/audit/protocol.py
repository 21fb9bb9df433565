"""The protocol an implementation under audit follows: one adapter with one method.

An adapter receives our reference network (``theory.network.ImplicitNetwork``: U, A, u and
the scalars gamma, sigma_u, kappa), a batch of inputs X (n x d), optionally output weights w
and a starting point Z0, and returns what the implementation computes with those exact
parameters::

    class MyAdapter:
        name = "mylib"

        def solve(self, net, X, *, weights=None, Z0=None) -> Solve:
            # 1. build the library's layer with A = net.A (a leaf tensor requiring grad),
            #    H0 = net.preactivation_offset(X), c = net.c: z -> relu(c z A^T + H0)
            # 2. solve for the equilibria from Z0 (zeros when None) with the library's solver
            # 3. f = net.kappa / sqrt(net.m) * Z @ net.u
            # 4. if weights is not None: grad = d(sum_i w_i f_i)/dA through the library's
            #    backward pass (None when its output carries no gradient path)
            return Solve(Z, f, grad, info={...})

The gradient of the loss 1/2 ||f - y||^2 is the case w = f - y; per-sample gradients (for
the Gram) are the cases w = e_i. ``info`` is optional and lets the audit test what the
library claims about itself:

- ``tol``, ``tol_kind`` (``"abs"``: ||T(z_i) - z_i|| per row; ``"rel"``: divided by a row
  norm): the stopping tolerance the library was asked to honour.
- ``reported_residual``: the largest per-row residual the library reports, in the sense of
  ``tol_kind`` (to check that the returned iterate is the one it reports on).
- ``iterations``: evaluations of the layer, as the library counts them.
- ``ignored_config``: configuration keys the library accepted but never read.

An adapter class may also carry ``grid``, a dict of labelled configurations that
``python -m verify audit ADAPTER --grid`` audits one after another (torchdeq's is the
published audit).

An adapter may raise any exception when it cannot solve (that is an honest failure, and the
audit records it); returning an inaccurate answer without saying so is what the audit flags.
Register an adapter by passing ``module:attribute`` (a class or factory taking the
``--config`` keys as keyword arguments) to ``python -m verify audit``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch

from theory.errors import ParameterError
from theory.network import ImplicitNetwork


@dataclass
class Solve:
    """What an implementation returns: equilibria Z (n x m), outputs f (n), the gradient of
    sum_i w_i f_i with respect to A (m x m, or None: no gradient path) and optional ``info``
    (see the module docstring)."""

    Z: torch.Tensor
    f: torch.Tensor
    grad: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Implementation(Protocol):
    name: str

    def solve(
        self, net: ImplicitNetwork, X: torch.Tensor, *, weights: torch.Tensor | None = None, Z0: torch.Tensor | None = None
    ) -> Solve: ...


def _registry() -> dict[str, str]:
    return {
        "reference": "verify.audit.reference:Reference",
        "planted-jfb": "verify.audit.reference:JacobianFree",
        "planted-early-stop": "verify.audit.reference:EarlyStopped",
        "planted-float32": "verify.audit.reference:Float32",
        "torchdeq": "verify.audit.torchdeq_adapter:TorchDEQ",
        "torchopt": "verify.audit.torchopt_adapter:TorchOpt",
        "jaxopt": "verify.audit.jaxopt_adapter:JaxOpt",
        "optimistix": "verify.audit.optimistix_adapter:Optimistix",
        "planted-torchopt-jfb": "verify.audit.torchopt_adapter:PlantedJacobianFree",
        "planted-jax-jfb": "verify.audit.jaxopt_adapter:PlantedJacobianFree",
        "planted-jax-early-stop": "verify.audit.jaxopt_adapter:planted_early_stop",
        "planted-jax-float32": "verify.audit.jaxopt_adapter:planted_float32",
    }


ADAPTERS = tuple(_registry())
# the libraries of the published audit (``python -m verify audit all --grid``), each with a GRID
LIBRARIES = ("torchdeq", "torchopt", "jaxopt", "optimistix")


def load_adapter(spec: str, config: dict[str, Any] | None = None) -> Implementation:
    """The adapter named ``spec`` (one of :data:`ADAPTERS`, or ``module:attribute``), built
    with ``config`` as keyword arguments."""
    target = _registry().get(spec, spec)
    if ":" not in target:
        raise ParameterError(f"unknown adapter {spec!r}: choose one of {', '.join(ADAPTERS)} or give module:attribute")
    module, attr = target.split(":", 1)
    try:
        factory = getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        raise ParameterError(f"adapter {spec!r}: no module named {exc.name!r}") from None
    except AttributeError:
        raise ParameterError(f"adapter {spec!r}: module {module!r} has no attribute {attr!r}") from None
    impl = factory(**(config or {}))
    if not isinstance(impl, Implementation):
        raise ParameterError(f"{spec!r} built {type(impl).__name__}, which lacks a 'name' and a 'solve(net, X, *, weights, Z0)' method")
    return impl
