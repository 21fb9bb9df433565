"""Hypothesis strategies for widths, datasets, labels, initializations and whole instances.

Hypothesis draws only small things (sizes, seeds, scales, structure choices); the arrays are
built from them with numpy (:mod:`verify.data`). Shrinking therefore heads toward small
widths, few points, seed 0 and the first structure ("gaussian"), which reads well, and the
health checks (too slow, data too large) stay quiet without being suppressed.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from . import data


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
def matrices(draw, m: int, gamma: float, *, structures=data.STRUCTURES, rho=(0.0, 0.999)):
    """(A, structure, target rho): an implicit layer from :func:`verify.data.structured_matrix`."""
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
    structures=data.STRUCTURES,
    degenerate: bool = False,
    perturbation: bool = False,
    mask: bool = False,
    start: bool = False,
    direction: bool = False,
):
    """A whole instance as a dict of plain arrays and numbers (what a counterexample file holds).

    Keys: U (m x d), A (m x m), u (m), X (n x d, unit rows), gamma, sigma_u, kappa, structure,
    rho_target; with ``perturbation`` also A2 (another layer near A, for WP-4); with ``mask``
    a 0/1 vector D (for WP-3); with ``start`` a starting point Z0 (n x m, for WP-1).
    """
    mm = draw(widths(*m))
    g = draw(gammas(*gamma))
    A, structure, target = draw(matrices(mm, g, structures=structures, rho=rho))
    X = draw(datasets(n, d, degenerate=degenerate))
    rng = np.random.default_rng(draw(seeds))
    inst = {
        "U": rng.standard_normal((mm, X.shape[1])),
        "A": A,
        "u": rng.standard_normal(mm),
        "X": X,
        "gamma": g,
        "sigma_u": draw(st.floats(*sigma_u, allow_nan=False)),
        "kappa": draw(kappas()),
        "structure": structure,
        "rho_target": target,
    }
    if perturbation:
        scale = 10.0 ** draw(st.integers(-6, 0))
        inst["A2"] = A + scale * rng.standard_normal((mm, mm)) * (np.linalg.norm(A, 2) / math.sqrt(mm) + 1e-12)
    if mask:
        inst["D"] = (rng.random(mm) < draw(st.floats(0.0, 1.0))).astype(np.float64)
    if start:
        inst["Z0"] = draw(st.sampled_from([0.0, 1.0, 100.0])) * np.abs(rng.standard_normal((X.shape[0], mm)))
    if direction:
        inst["V"] = rng.standard_normal((mm, mm))
    return inst


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
    """Inputs and scalars for the limiting kernel: {X, gamma, sigma_u, kappa}.

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
    return {"X": X, "gamma": g, "sigma_u": draw(st.floats(0.25, 4.0)), "kappa": draw(kappas())}


@st.composite
def training_runs(draw, n=(2, 5), ms=(128, 256), gammas=(0.25, 0.35, 0.45), kappas=(2.0, 4.0, 6.0), horizons=(2.0, 5.0)):
    """Settings of one gradient-flow run (TD-1.path, TD-3): {n, d, gamma, kappa, data_seed, m,
    seed, horizon}. Drawn from small discrete sets so that the claims reading the same runs share
    them through the trainer cache; widths >= 128 keep each run to seconds (narrower flows slide
    along ReLU kinks and cost thousands of evaluations)."""
    return {
        "n": draw(st.integers(*n)),
        "d": 3,
        "gamma": draw(st.sampled_from(gammas)),
        "kappa": draw(st.sampled_from(kappas)),
        "data_seed": draw(st.integers(0, 2**16)),
        "m": draw(st.sampled_from(ms)),
        "seed": draw(st.integers(0, 2**16)),
        "horizon": draw(st.sampled_from(horizons)),
    }
