"""Hypothesis strategies for widths, datasets, labels, initializations and whole instances.

A claim declares its domain as data (:mod:`theory.domains`); :func:`for_domain` turns that
into a strategy of typed instances (:mod:`theory.instances`). Hypothesis draws only small
things (sizes, seeds, scales, structure choices); the arrays are built from them with
:mod:`theory.data`. Shrinking therefore heads toward small
widths, few points, seed 0 and the first structure ("gaussian"), which reads well, and the
health checks (too slow, data too large) stay quiet without being suppressed.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
from hypothesis import strategies as st

from theory import data
from theory.domains import STRUCTURES, Domain, KernelDomain, NetworkDomain, TrainingDomain
from theory.instances import KernelInstance, NetworkInstance, TrainingSetting


def log_uniform(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers in [lo, hi], log-uniform (a width of 8 is as likely as one of 512); shrinks to lo."""
    if not 1 <= lo <= hi:
        raise ValueError(f"need 1 <= lo <= hi, got {lo}, {hi}")
    span = math.log(hi) - math.log(lo)
    return st.integers(0, 1000).map(lambda k: min(hi, max(lo, round(lo * math.exp(span * k / 1000)))))


def widths(lo: int = 2, hi: int = 64) -> st.SearchStrategy[int]:
    return log_uniform(lo, hi)


seeds = st.integers(0, 2**31 - 1)


def gammas(lo: float = 0.05, hi: float = 0.49) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def kappas(lo: float = 0.01, hi: float = 4.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def datasets(draw, n=(1, 6), d=(2, 6), *, min_angle: float = 0.05, degenerate: bool = False, min_eps: float = 1e-12):
    """Unit-norm inputs (n x d). ``degenerate``: also near-parallel, near-antipodal,
    duplicate and antipodal pairs (angles down to ``min_eps``), for claims that need A1."""
    nn = draw(st.integers(*n))
    dd = draw(st.integers(*d))
    seed = draw(seeds)
    if degenerate and nn >= 2:
        kind = draw(st.sampled_from(["none", "near_parallel", "near_antipodal", "duplicate", "antipodal"]))
        if kind != "none":
            eps = 10.0 ** draw(st.integers(round(math.log10(min_eps)), -1))
            return data.near_degenerate(nn, dd, seed, kind=kind, eps=eps)
    angle = min_angle if dd >= 2 else 0.0
    return data.unit_sphere(nn, dd, seed, min_angle=angle)


@st.composite
def label_vectors(draw, X: np.ndarray):
    kind = draw(st.sampled_from(["teacher", "signs", "bounded"]))
    return data.labels(X, kind, draw(seeds))


@st.composite
def matrices(draw, m: int, gamma: float, *, structures=STRUCTURES, rho=(0.0, 0.999)):
    """(A, structure, target rho): an implicit layer from :func:`theory.data.structured_matrix`."""
    structure = draw(st.sampled_from(tuple(structures)))
    target = draw(st.floats(rho[0], rho[1], allow_nan=False)) if structure != "gaussian" else None
    A = data.structured_matrix(m, structure, draw(seeds), gamma=gamma, rho=target)
    return A, structure, target


@st.composite
def instances(
    draw,
    m=(2, 48),
    n=(1, 5),
    d=(1, 6),
    gamma=(0.05, 0.49),
    rho=(0.0, 0.999),
    sigma_u=(0.25, 4.0),
    structures=STRUCTURES,
    degenerate: bool = False,
    perturbation: bool = False,
    mask: bool = False,
    start: bool = False,
    direction: bool = False,
):
    """A whole :class:`theory.instances.NetworkInstance` (what a counterexample file holds);
    the arguments are the fields of :class:`theory.domains.NetworkDomain`."""
    mm = draw(widths(*m))
    g = draw(gammas(*gamma))
    A, structure, target = draw(matrices(mm, g, structures=structures, rho=rho))
    X = draw(datasets(n, d, degenerate=degenerate))
    rng = np.random.default_rng(draw(seeds))
    U = rng.standard_normal((mm, X.shape[1]))
    u = rng.standard_normal(mm)
    s_u = draw(st.floats(*sigma_u, allow_nan=False))
    kappa = draw(kappas())
    extra = {}
    if perturbation:
        scale = 10.0 ** draw(st.integers(-6, 0))
        extra["A2"] = A + scale * rng.standard_normal((mm, mm)) * (np.linalg.norm(A, 2) / math.sqrt(mm) + 1e-12)
    if mask:
        extra["D"] = (rng.random(mm) < draw(st.floats(0.0, 1.0))).astype(np.float64)
    if start:
        extra["Z0"] = draw(st.sampled_from([0.0, 1.0, 100.0])) * np.abs(rng.standard_normal((X.shape[0], mm)))
    if direction:
        extra["V"] = rng.standard_normal((mm, mm))
    return NetworkInstance(U, A, u, X, g, s_u, kappa, structure, target, **extra)


@st.composite
def kernel_instances(
    draw,
    n=(1, 8),
    d=(1, 6),
    gamma=(0.01, 0.49),
    degenerate: bool = False,
    min_eps: float = 1e-12,
    antipodal: bool = False,
    pairs_beyond_d=(1, 5),
    radius=(0.2, math.pi),
):
    """A :class:`theory.instances.KernelInstance`; the arguments are the fields of
    :class:`theory.domains.KernelDomain`.

    ``antipodal``: sets of d + k antipodal pairs (k in ``pairs_beyond_d``) in a cap of drawn
    radius, the configurations where the explicit two-layer NTK is singular (KG-6).
    """
    g = draw(gammas(*gamma))
    if antipodal:
        dd = draw(st.integers(max(2, d[0]), max(2, d[1])))
        k = dd + draw(st.integers(*pairs_beyond_d))
        r = draw(st.floats(*radius))
        # spacing that always fits the cap (an arc of length 2r when d = 2)
        X = data.antipodal_set(k, dd, draw(seeds), radius=r, min_angle=min(0.05, r / (2 * k)))
    else:
        X = draw(datasets(n, (max(1, d[0]), d[1]), degenerate=degenerate, min_eps=min_eps))
    return KernelInstance(X, g, draw(st.floats(0.25, 4.0)), draw(kappas()))


@st.composite
def training_runs(draw, n=(2, 5), ms=(128, 256), gammas=(0.25, 0.35, 0.45), kappas=(2.0, 4.0, 6.0), horizons=(2.0, 5.0)):
    """A :class:`theory.instances.TrainingSetting` (TD-1.path, TD-3). Drawn from small discrete sets so that the claims reading the same runs share
    them through the trainer cache; widths >= 128 keep each run to seconds (narrower flows slide
    along ReLU kinks and cost thousands of evaluations)."""
    return TrainingSetting(
        n=draw(st.integers(*n)),
        d=3,
        gamma=draw(st.sampled_from(gammas)),
        kappa=draw(st.sampled_from(kappas)),
        data_seed=draw(st.integers(0, 2**16)),
        m=draw(st.sampled_from(ms)),
        seed=draw(st.integers(0, 2**16)),
        horizon=draw(st.sampled_from(horizons)),
    )


_BY_DOMAIN = {NetworkDomain: instances, KernelDomain: kernel_instances, TrainingDomain: training_runs}


def for_domain(domain: Domain | dict | tuple) -> st.SearchStrategy:
    """The strategy of typed instances that a claim's declared ``domain`` describes. A plain
    dict is read as the keyword arguments of a :class:`theory.domains.NetworkDomain`; a tuple of
    domains is their union (``one_of``: e.g. "any distinct inputs" = generic sets or antipodal
    sets, ``(KernelDomain(), KernelDomain(antipodal=True))``)."""
    if isinstance(domain, tuple):
        return st.one_of(*(for_domain(d) for d in domain))
    if isinstance(domain, dict):
        domain = NetworkDomain(**domain)
    try:
        build = _BY_DOMAIN[type(domain)]
    except KeyError:
        raise TypeError(f"a claim's domain must be a NetworkDomain, KernelDomain or TrainingDomain, got {type(domain).__name__}") from None
    return build(**asdict(domain))
