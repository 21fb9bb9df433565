"""Adapter for torchdeq (PyPI ``torchdeq``, locuslab), the best-known PyTorch DEQ library.

Install with ``pip install -e '.[audit]'``. Our layer z -> relu(c z A^T + H0), with A a
float64 ``torch.nn.Parameter``, is handed to ``torchdeq.get_deq(**config)``; the adapter
returns ``z_out[-1]`` (what torchdeq's documentation tells users to use), the outputs, and
the gradient that ``torch.autograd.grad`` obtains through torchdeq's backward pass.

Configuration keys go to ``get_deq`` unchanged, except:

- ``mode``: ``"train"`` (default) or ``"eval"``: the module's ``.train()`` state, which
  selects torchdeq's computational graph (in eval mode it returns the fixed point with no
  gradient path).
- ``solver.<key>``: passed in ``solver_kwargs`` at call time (e.g. ``solver.lam=0`` for
  Anderson's regularization, ``solver.m=5`` for its memory).

``info`` reports torchdeq's own statistics (``abs_lowest``/``rel_lowest``, ``nstep``) and
the configuration keys torchdeq accepted but never read (it takes arbitrary keys without a
warning; see torchdeq issue 12, where ``stop_mode='rel'`` was silently ignored because the
keys are ``f_stop_mode``/``b_stop_mode``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from theory.errors import ParameterError

from .protocol import Solve

# The configurations of the published audit (README "Auditing an implementation"): torchdeq's
# defaults, its exact (IFT) and phantom gradients, each solver, and one probe per reported issue.
TIGHT = {"f_tol": 1e-12, "b_tol": 1e-12, "f_max_iter": 500, "b_max_iter": 500}
GRID: dict[str, dict[str, Any]] = {
    "defaults": {},
    "ift": {"ift": True},
    "ift-tight-fixed_point_iter": {"ift": True, **TIGHT},
    "ift-tight-anderson": {"ift": True, "f_solver": "anderson", "b_solver": "anderson", **TIGHT},
    "ift-tight-broyden": {"ift": True, "f_solver": "broyden", "b_solver": "broyden", **TIGHT},
    "phantom-1-tight": {"grad": 1, **TIGHT},
    "phantom-5-tight": {"grad": 5, **TIGHT},
    "phantom-20-tight": {"grad": 20, **TIGHT},
    "issue7-indexing": {"core": "indexing", "indexing": [8], "ift": True, **TIGHT},
    "issue12-stop_mode": {"ift": True, "stop_mode": "rel", "f_tol": 0.05},
    "issue4/8-eval-mode": {"mode": "eval", "ift": True, **TIGHT},
    "deq20-anderson-lam0": {"ift": True, "f_solver": "anderson", "b_solver": "anderson", "solver.lam": 0.0, **TIGHT},
}


class _ReadTracking(dict):
    """A config dict that remembers which keys torchdeq read (it reads them with ``.get``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


class TorchDEQ:
    """Our network run through ``torchdeq.get_deq(**config)``; see the module docstring."""

    name = "torchdeq"
    grid = GRID  # the published audit: ``python -m verify audit torchdeq --grid``

    def __init__(self, **config: Any):
        try:
            import torchdeq  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ParameterError(
                "the torchdeq adapter needs torchdeq: pip install 'implicit-verify[audit]' (in a clone: pip install -e '.[audit]')"
            ) from exc
        config = dict(config)
        self.mode = str(config.pop("mode", "train"))
        if self.mode not in ("train", "eval"):
            raise ParameterError(f"mode must be 'train' or 'eval', got {self.mode!r}")
        self.solver_kwargs = {k.split(".", 1)[1]: config.pop(k) for k in [k for k in config if k.startswith("solver.")]}
        self.config = config

    def _deq(self):
        from torchdeq import get_deq

        cfg = _ReadTracking(self.config)
        deq = get_deq(cfg)
        return deq, sorted(set(self.config) - cfg.read)

    def solve(self, net, X, *, weights=None, Z0=None) -> Solve:
        deq, ignored = self._deq()
        deq.train(self.mode == "train")
        A = torch.nn.Parameter(net.A.clone())
        H0 = net.preactivation_offset(X)
        c = net.c

        def layer(z):
            return torch.relu(c * (z @ A.T) + H0)

        z0 = torch.zeros_like(H0) if Z0 is None else Z0.clone()
        with torch.enable_grad():
            z_out, stats = deq(layer, z0, solver_kwargs=dict(self.solver_kwargs) or None)
            z = z_out[-1]
            f = (net.kappa / math.sqrt(net.m)) * (z @ net.u)
            grad = None
            if weights is not None and f.requires_grad:
                (grad,) = torch.autograd.grad((weights * f).sum(), A, allow_unused=True)
        kind = deq.f_stop_mode
        info = {
            "tol": float(deq.f_tol),
            "tol_kind": kind,
            "reported_residual": float(stats[f"{kind}_lowest"].max()),
            "iterations": int(stats["nstep"].max()),
            "ignored_config": ignored,
            "mode": self.mode,
        }
        return Solve(z.detach(), f.detach(), grad, info)
