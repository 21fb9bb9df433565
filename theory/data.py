"""Reproducible inputs and labels: unit-sphere datasets, teachers, adversarial matrices.

Plain numpy functions of a seed; :mod:`verify.strategies` lets Hypothesis draw the seeds
and sizes and calls these to build the arrays.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .domains import STRUCTURES
from .errors import MissingDependencyError
from .network import ImplicitNetwork, spectral_norm


def gaussian_directions(n: int, d: int, generator: torch.Generator) -> torch.Tensor:
    """n points uniform on S^{d-1} (normalized Gaussians) from ``generator``: the catalog's fixed
    data sets (KG-3, KG-4, KG-5, WP-6, the TD problems) are drawn this way from a seed."""
    return torch.nn.functional.normalize(torch.randn(n, d, generator=generator, dtype=torch.float64), dim=1)


def sphere(n: int, d: int, seed: int) -> torch.Tensor:
    """:func:`gaussian_directions` from a fresh ``torch.Generator(seed)``."""
    return gaussian_directions(n, d, torch.Generator().manual_seed(int(seed)))


def unit_sphere(n: int, d: int, seed: int, *, min_angle: float = 0.0, max_tries: int = 10_000) -> np.ndarray:
    """n points uniform on S^{d-1}, each at angle > ``min_angle`` from every +-x_j (A1).

    Rejection sampling, point by point; raises ``ValueError`` if ``max_tries`` draws cannot
    place the points (``min_angle`` too large for n and d).
    """
    rng = np.random.default_rng(seed)
    pts: list[np.ndarray] = []
    tries = 0
    while len(pts) < n:
        tries += 1
        if tries > max_tries:
            raise ValueError(f"cannot place {n} points on S^{d - 1} with min angle {min_angle}")
        x = rng.standard_normal(d)
        x /= np.linalg.norm(x)
        if min_angle == 0.0 or all(abs(float(x @ p)) < math.cos(min_angle) for p in pts):
            pts.append(x)
    return np.stack(pts)


def near_degenerate(n: int, d: int, seed: int, *, kind: str, eps: float) -> np.ndarray:
    """Unit points with a deliberately bad pair: ``kind`` = "near_parallel" (angle eps),
    "near_antipodal" (angle pi - eps), "duplicate" or "antipodal" (exact)."""
    X = unit_sphere(max(n, 2), d, seed)
    x0 = X[0]
    rng = np.random.default_rng(seed + 1)
    w = rng.standard_normal(d)
    w -= (w @ x0) * x0
    w /= max(float(np.linalg.norm(w)), 1e-300)
    if kind == "near_parallel":
        X[1] = math.cos(eps) * x0 + math.sin(eps) * w
    elif kind == "near_antipodal":
        X[1] = -(math.cos(eps) * x0 + math.sin(eps) * w)
    elif kind == "duplicate":
        X[1] = x0
    elif kind == "antipodal":
        X[1] = -x0
    else:
        raise ValueError(f"unknown degenerate kind {kind!r}")
    X[1] /= np.linalg.norm(X[1])
    return X


def antipodal_set(pairs: int, d: int, seed: int, *, radius: float = math.pi, min_angle: float = 0.05) -> np.ndarray:
    """``pairs`` points in the cap of angular ``radius`` around e_1 (angle to the pole drawn
    uniformly, direction uniformly), at angle > ``min_angle`` from each other's +-, followed
    by their antipodes: 2 * pairs distinct unit inputs that violate A1."""
    rng = np.random.default_rng(seed)
    pole = np.eye(d)[0]
    pts: list[np.ndarray] = []
    for _ in range(100_000):
        if len(pts) == pairs:
            break
        w = rng.standard_normal(d)
        w -= (w @ pole) * pole
        w /= max(float(np.linalg.norm(w)), 1e-300)
        phi = radius * rng.random()
        x = math.cos(phi) * pole + math.sin(phi) * w
        if all(abs(float(x @ p)) < math.cos(min_angle) for p in pts):
            pts.append(x / np.linalg.norm(x))
    if len(pts) < pairs:
        raise ValueError(f"cannot place {pairs} points in a cap of radius {radius} with min angle {min_angle}")
    P = np.stack(pts)
    return np.vstack([P, -P])


def structured_matrix(m: int, structure: str, seed: int, *, gamma: float, rho: float | None) -> np.ndarray:
    """An m x m implicit layer A of the given structure.

    ``gaussian``: i.i.d. N(0,1), unscaled (rho ~ 2 gamma, the paper's initialization).
    Every other structure is rescaled so that gamma ||A||_2 / sqrt(m) = ``rho`` exactly:
    ``gaussian_scaled``; ``rank_one_nonneg`` (v v^T, v >= 0: the Perron direction that makes
    ReLU iterations grow once rho > 1); ``nonneg`` (|N(0,1)| entries); ``scaled_orthogonal``
    (a Haar orthogonal matrix); ``near_singular`` (I + 0.01 N(0,1)/sqrt(m), so that
    I - c D A is nearly singular as rho -> 1).
    """
    rng = np.random.default_rng(seed)
    if structure in ("gaussian", "gaussian_scaled"):
        A = rng.standard_normal((m, m))
    elif structure == "rank_one_nonneg":
        v = np.abs(rng.standard_normal(m)) + 1e-3
        A = np.outer(v, v)
    elif structure == "nonneg":
        A = np.abs(rng.standard_normal((m, m)))
    elif structure == "scaled_orthogonal":
        Q, R = np.linalg.qr(rng.standard_normal((m, m)))
        A = Q * np.sign(np.diag(R))
    elif structure == "near_singular":
        A = np.eye(m) + 0.01 * rng.standard_normal((m, m)) / math.sqrt(m)
    else:
        raise ValueError(f"unknown structure {structure!r}; choose from {STRUCTURES}")
    if structure == "gaussian" or rho is None:
        return A
    norm = spectral_norm(torch.from_numpy(A))
    return A * (rho * math.sqrt(m) / (gamma * norm))


def teacher_labels(X: np.ndarray, seed: int, *, m: int = 64, gamma: float = 0.25) -> np.ndarray:
    """Labels from a random teacher implicit network, scaled so max |y_i| = 1."""
    net = ImplicitNetwork.initialize(X.shape[1], m, gamma=gamma, seed=seed)
    f = net.output(X).numpy()
    f = f - f.mean() if len(f) > 1 else f
    return f / max(np.abs(f).max(), 1e-300)


def labels(X: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """``kind``: "teacher", "signs" (random +-1) or "bounded" (uniform in [-1, 1])."""
    rng = np.random.default_rng(seed)
    if kind == "teacher":
        return teacher_labels(X, seed)
    if kind == "signs":
        return np.asarray(rng.choice([-1.0, 1.0], size=X.shape[0]))
    if kind == "bounded":
        return np.asarray(rng.uniform(-1.0, 1.0, size=X.shape[0]))
    raise ValueError(f"unknown label kind {kind!r}")


def to_sphere(X: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Center by ``center`` (the training mean) and scale every row to unit norm."""
    Xc = X - center
    norms = np.linalg.norm(Xc, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a centered input is zero: it has no direction on the sphere")
    return Xc / norms


def digits(classes=(3, 8), *, test_fraction: float = 0.4, seed: int = 0):
    """scikit-learn's ``load_digits`` (shipped with the package, no download): two classes as
    labels -1/+1, split into train and test at random (``seed``), inputs centered by the
    training mean and scaled to the unit sphere. Returns (X_train, y_train, X_test, y_test)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDependencyError("the digits data set needs scikit-learn: pip install 'implicit-verify[data]'") from None

    raw = load_digits()
    keep = np.isin(raw.target, classes)
    X, y = raw.data[keep].astype(np.float64), np.where(raw.target[keep] == classes[0], -1.0, 1.0)
    idx = np.random.default_rng(seed).permutation(len(y))
    cut = int(round(len(y) * (1 - test_fraction)))
    tr, te = idx[:cut], idx[cut:]
    center = X[tr].mean(axis=0)
    return to_sphere(X[tr], center), y[tr], to_sphere(X[te], center), y[te]
