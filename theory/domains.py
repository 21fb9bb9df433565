"""Where a claim's counterexample search looks, declared as data.

A claim states its domain with one of these records; ``verify.strategies.for_domain`` turns
it into a Hypothesis strategy that draws :mod:`theory.instances`. The mathematics therefore
never depends on the search machinery: a domain is a description (ranges, structures, which
extra arrays an instance carries), not code.

A range ``(lo, hi)`` is inclusive. Widths and sizes are drawn log-uniformly where they span
decades, so that shrinking heads toward the smallest instance of the range: a claim about
wide networks sets ``m=(256, 1024)`` and its counterexamples stay at least 256 wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

STRUCTURES = ("gaussian", "gaussian_scaled", "rank_one_nonneg", "nonneg", "scaled_orthogonal", "near_singular")


@dataclass(frozen=True)
class NetworkDomain:
    """Networks and inputs (:class:`theory.instances.NetworkInstance`).

    ``m``, ``n``, ``d``: width, points, input dimension. ``gamma``, ``sigma_u``: scalar ranges.
    ``rho``: the contraction factors that structured layers are scaled to (a ``gaussian`` layer
    is left as drawn, rho ~ 2 gamma). ``structures``: layer families
    (:func:`theory.data.structured_matrix`). ``degenerate``: also near-parallel, antipodal and
    repeated inputs. ``perturbation``/``mask``/``start``/``direction``: carry ``A2``/``D``/``Z0``/``V``.
    """

    m: tuple[int, int] = (2, 48)
    n: tuple[int, int] = (1, 5)
    d: tuple[int, int] = (1, 6)
    gamma: tuple[float, float] = (0.05, 0.49)
    rho: tuple[float, float] = (0.0, 0.999)
    sigma_u: tuple[float, float] = (0.25, 4.0)
    structures: tuple[str, ...] = STRUCTURES
    degenerate: bool = False
    perturbation: bool = False
    mask: bool = False
    start: bool = False
    direction: bool = False


@dataclass(frozen=True)
class KernelDomain:
    """Inputs and scalars for the infinite-width kernel (:class:`theory.instances.KernelInstance`).

    ``degenerate``: near-parallel and repeated pairs down to angle ``min_eps``. ``antipodal``:
    sets of d + k antipodal pairs (k in ``pairs_beyond_d``) in a cap of angular ``radius``."""

    n: tuple[int, int] = (1, 8)
    d: tuple[int, int] = (1, 6)
    gamma: tuple[float, float] = (0.01, 0.49)
    degenerate: bool = False
    min_eps: float = 1e-12
    antipodal: bool = False
    pairs_beyond_d: tuple[int, int] = (1, 5)
    radius: tuple[float, float] = (0.2, math.pi)


@dataclass(frozen=True)
class TrainingDomain:
    """Gradient-flow runs (:class:`theory.instances.TrainingSetting`), drawn from small discrete
    sets so that claims reading the same runs share them."""

    n: tuple[int, int] = (2, 5)
    ms: tuple[int, ...] = (128, 256)
    gammas: tuple[float, ...] = (0.25, 0.35, 0.45)
    kappas: tuple[float, ...] = (2.0, 4.0, 6.0)
    horizons: tuple[float, ...] = (2.0, 5.0)


Domain = NetworkDomain | KernelDomain | TrainingDomain
