"""What the JAX adapters (jaxopt, optimistix) share: importing JAX with a clear error, float64
made explicit, and arrays exchanged with torch through DLPack (no copy, no Python lists).

JAX computes in float32 unless ``jax_enable_x64`` is set, and it says nothing when it drops a
float64 input to float32: ``jax.dlpack.from_dlpack`` of a float64 torch tensor returns a
float32 array with x64 off (measured, jax 0.10.2). The adapters therefore run every solve inside
``jax.enable_x64(x64)`` (a scoped switch, not the process-wide flag) and, when float64 was
asked for, refuse to go on if any array is not float64 (:func:`require_float64`). ``x64=False``
is kept as a configuration so the audit can show what a user who forgot the flag gets.
"""

from __future__ import annotations

from typing import Any

import torch

from theory.errors import ParameterError

EXTRA = "pip install 'implicit-verify[audit]' (in a clone: pip install -e '.[audit]')"


def load_jax(library: str, *modules: str):
    """``(jax, jnp, *modules)`` imported, or a ParameterError naming what is missing and the extra."""
    import importlib

    out = []
    for name in ("jax", "jax.numpy", *modules):
        try:
            out.append(importlib.import_module(name))
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ParameterError(f"the {library} adapter needs {name.split('.')[0]}: {EXTRA}") from exc
    return tuple(out)


def to_jax(t: torch.Tensor):
    """A torch tensor as a JAX array through DLPack (zero-copy on the CPU in float64)."""
    import jax

    return jax.dlpack.from_dlpack(t.detach().contiguous())


def to_torch(a) -> torch.Tensor:
    """A JAX array as a torch tensor through DLPack; its dtype is what JAX computed in."""
    return torch.from_dlpack(a)


def relu_layer(z, A, H0, c):
    """T(z) = relu(c z A^T + H0) in JAX: ``theory.network.relu_layer`` translated, for the adapters'
    solvers (a library under audit must iterate its own array type)."""
    import jax

    return jax.nn.relu(c * (z @ A.T) + H0)


def problem_args(net, X, weights, Z0) -> list:
    """The arguments (A, H0, Z0, c, u, kappa/sqrt(m), w) every JAX adapter's program takes,
    as JAX arrays (zeros for a missing start or output weights); call inside ``enable_x64``."""
    import math

    import jax.numpy as jnp

    H0 = net.preactivation_offset(X)
    z0 = H0.new_zeros(H0.shape) if Z0 is None else Z0
    w = H0.new_zeros(H0.shape[0]) if weights is None else weights
    return [to_jax(net.A), to_jax(H0), to_jax(z0), jnp.asarray(net.c), to_jax(net.u), jnp.asarray(net.kappa / math.sqrt(net.m)), to_jax(w)]


def require_float64(library: str, **arrays: Any) -> None:
    """Raise when float64 was asked for and JAX produced anything else (never silently)."""
    bad = {k: str(v.dtype) for k, v in arrays.items() if v is not None and str(v.dtype) != "float64"}
    if bad:
        raise ParameterError(f"{library}: float64 was enabled but JAX returned {bad}")
