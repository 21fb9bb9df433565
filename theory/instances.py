"""What a claim's check receives: typed, frozen records of plain float64 arrays and numbers.

An instance is the contract between the search (``verify.strategies`` builds them from a
:mod:`theory.domains` declaration) and a claim's ``check``; it is also exactly what a
counterexample file holds, so a replay rebuilds the same object. Arrays are copied and made
read-only on construction: an instance cannot change after it is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from .network import ImplicitNetwork


def _frozen_array(value) -> np.ndarray:
    arr = np.array(value, dtype=np.float64, copy=True)
    arr.flags.writeable = False
    return arr


class _Record:
    """Shared behaviour: array fields frozen on construction, a plain-dict view for files."""

    ARRAYS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        for name in self.ARRAYS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen_array(value))

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value (arrays stay arrays; ``verify.serialize`` writes them exactly)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class NetworkInstance(_Record):
    """One implicit network (U: m x d, A: m x m, u: m, scalars) and its inputs X (n x d, unit
    rows), with what some claims need beside it: ``A2`` (a second layer near A, WP-4), ``D``
    (a 0/1 diagonal, WP-3), ``Z0`` (a starting point, WP-1), ``V`` (a direction, GR-1).
    ``structure`` and ``rho_target`` say how A was built (:func:`theory.data.structured_matrix`)."""

    ARRAYS: ClassVar[tuple[str, ...]] = ("U", "A", "u", "X", "A2", "D", "Z0", "V")

    U: np.ndarray
    A: np.ndarray
    u: np.ndarray
    X: np.ndarray
    gamma: float
    sigma_u: float = 1.0
    kappa: float = 1.0
    structure: str = "gaussian"
    rho_target: float | None = None
    A2: np.ndarray | None = None
    D: np.ndarray | None = None
    Z0: np.ndarray | None = None
    V: np.ndarray | None = None

    @cached_property
    def net(self) -> ImplicitNetwork:
        """The network this instance describes (built once; its contraction factor is cached)."""
        return ImplicitNetwork.from_arrays(self.U, self.A, self.u, gamma=self.gamma, sigma_u=self.sigma_u, kappa=self.kappa)

    @cached_property
    def net2(self) -> ImplicitNetwork:
        """The same network with the second layer ``A2`` (WP-4)."""
        if self.A2 is None:
            raise ValueError("this instance has no second layer A2")
        return ImplicitNetwork.from_arrays(self.U, self.A2, self.u, gamma=self.gamma, sigma_u=self.sigma_u, kappa=self.kappa)


@dataclass(frozen=True, eq=False)
class KernelInstance(_Record):
    """Inputs X (n x d, unit rows) and the scalars of the infinite-width kernel."""

    ARRAYS: ClassVar[tuple[str, ...]] = ("X",)

    X: np.ndarray
    gamma: float
    sigma_u: float = 1.0
    kappa: float = 1.0


@dataclass(frozen=True)
class TrainingSetting(_Record):
    """One gradient-flow run: the data (n random unit inputs in R^d from ``data_seed``), the
    scalars, the width and initialization seed, and the horizon in units of 1/lambda_0."""

    n: int
    d: int
    gamma: float
    kappa: float
    data_seed: int
    m: int
    seed: int
    horizon: float


INSTANCE_TYPES: dict[str, type[_Record]] = {t.__name__: t for t in (NetworkInstance, KernelInstance, TrainingSetting)}
