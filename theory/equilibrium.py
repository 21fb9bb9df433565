"""The result of a forward solve (:class:`Equilibrium`), with what certifies it (WP-1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """Equilibria ``Z`` (n x m) of the rows of X, with the solve's diagnostics.

    ``error_bound`` certifies ``max_i ||z_i - z*_i|| <= residual_i / (1 - rho)`` (WP-1) when
    rho < 1, and is ``inf`` otherwise. ``X`` and ``source`` record what it was solved for (the
    inputs, and the network's identity with its parameters' versions): a network refuses an
    equilibrium of another problem with :class:`EquilibriumMismatchError`.
    """

    Z: torch.Tensor
    mask: torch.Tensor  # D as a 0/1 float matrix (n x m): 1[pre-activation > 0]
    iterations: int
    residual: float
    residuals: torch.Tensor
    contraction_factor: float
    error_bound: float
    method: str
    trace: list[float] = field(default_factory=list)
    X: torch.Tensor | None = None
    source: tuple = ()

    def diagnostics(self) -> dict:
        return {
            "iterations": self.iterations,
            "residual": self.residual,
            "contraction_factor": self.contraction_factor,
            "error_bound": self.error_bound,
            "method": self.method,
        }
