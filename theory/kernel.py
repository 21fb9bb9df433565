"""The infinite-width kernels (docs/mathematics.md section 3; arXiv 2209.15562).

For unit-norm inputs x, x' with s = <x, x'> the pre-activation covariance has diagonal
k = sigma_u^2 / (1 - gamma^2/2) and correlation p = K(x,x')/k, the unique solution of

    p = (gamma^2 / (2 pi)) (sqrt(1 - p^2) + (pi - arccos p) p) + (1 - gamma^2/2) s   (KG-1)

(the right side has slope (gamma^2/2pi)(pi - arccos p) <= gamma^2/2 < 1). With theta = arccos p,

    Sigma = (k / 2pi) (sin theta + (pi - theta) cos theta),  Edot = (pi - theta) / 2pi,
    Pi = Edot / (1 - gamma^2 Edot),  G_inf = kappa^2 gamma^2 Sigma Pi,
    diag G_inf = kappa^2 gamma^2 sigma_u^2 / (2 - gamma^2)^2.

Numerics: ``arccos(1 - eps)`` keeps only half the digits of a nearly parallel pair, so the
fixed point is solved for q = 1 - p instead, with t = 1 - s = 2 sin^2(phi/2) taken from the
angle phi between the inputs (computed by Kahan's atan2 formula) and theta = 2 asin(sqrt(q/2)):

    q = (1 - gamma^2/2) t + (gamma^2 / 2pi) (pi q - (sin theta - theta cos theta)),

where sin theta - theta cos theta (~ theta^3/3) is summed from its Taylor series for small
theta. The map in q has the same slope <= gamma^2/2 <= 1/8, so 40 sweeps reach rounding level.
"""

from __future__ import annotations

import math

import torch

from ._validation import DTYPE, as_tensor, check_gamma, check_not_parallel, check_positive, check_unit_rows

_SERIES_THETA = 0.5  # below this, sin t - t cos t from its series (cancellation above is < 4x)


def _sin_minus_tcos(theta: torch.Tensor) -> torch.Tensor:
    """sin(theta) - theta cos(theta), accurate to rounding for all theta in [0, pi]."""
    out = torch.sin(theta) - theta * torch.cos(theta)
    small = theta < _SERIES_THETA
    if bool(small.any()):
        # sum_{k>=1} (-1)^{k+1} 2k theta^{2k+1} / (2k+1)!; k <= 9 leaves < 1e-22 relative at 0.5.
        th = theta[small]
        t2 = th * th
        term = th * t2  # theta^3
        series = torch.zeros_like(th)
        fact = 6.0  # (2k+1)! at k = 1
        for k in range(1, 10):
            series = series + ((-1) ** (k + 1)) * (2 * k) * term / fact
            term = term * t2
            fact *= (2 * k + 2) * (2 * k + 3)
        out[small] = series
    return out


def _one_minus_cosine(X: torch.Tensor, Y: torch.Tensor | None = None) -> torch.Tensor:
    """t_ij = 1 - cos(phi_ij) = 2 sin^2(phi_ij / 2), phi_ij the angle between rows i and j of X
    (or row i of X and row j of ``Y``).

    phi = 2 atan2(||x^ - y^||, ||x^ + y^||) on the normalized rows (Kahan) is accurate to a
    few ulps for every angle, including nearly parallel and nearly antipodal pairs, and
    makes the diagonal exactly 0. (The kernel has an infinite slope in p at p = 1 - the
    sqrt(1 - p) in theta - so 1e-16 of rounding in 1 - <x, y> would move G by ~1e-9.)
    """
    Xh = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    Yh = Xh if Y is None else Y / torch.linalg.vector_norm(Y, dim=1, keepdim=True)
    minus = torch.cdist(Xh, Yh, compute_mode="donot_use_mm_for_euclid_dist")
    plus = torch.cdist(Xh, -Yh, compute_mode="donot_use_mm_for_euclid_dist")
    half = torch.atan2(minus, plus)  # phi / 2
    return 2.0 * torch.sin(half) ** 2


def correlation(t: torch.Tensor, gamma: float, *, sweeps: int = 60) -> torch.Tensor:
    """q = 1 - p for input 1 - cosine ``t`` (any shape): the KG-1 fixed point, solved in q."""
    g2 = gamma * gamma
    q = t.clone()
    for _ in range(sweeps):
        theta = 2.0 * torch.asin(torch.sqrt(torch.clamp(q, 0.0, 2.0) / 2.0))
        q_new = (1.0 - g2 / 2.0) * t + (g2 / (2.0 * math.pi)) * (math.pi * q - _sin_minus_tcos(theta))
        q_new = torch.clamp(q_new, 0.0, 2.0)
        # stop at 4 ulp of change: the contraction (<= 1/8 per sweep) leaves rounding only
        done = bool(((q_new - q).abs() <= 1e-300 + 8.9e-16 * q.abs()).all())
        q = q_new
        if done:
            break
    return q


def _unit_inputs(X, allow_degenerate: bool) -> torch.Tensor:
    """X checked: a matrix of unit rows that meets assumption A1 (no two rows parallel or
    antiparallel) unless ``allow_degenerate``."""
    X = as_tensor(X, "X", ndim=2)
    check_unit_rows(X)
    if not allow_degenerate:
        check_not_parallel(X)
    return X


def kernel_parts(X, *, gamma: float, sigma_u: float = 1.0, allow_degenerate: bool = False) -> dict[str, torch.Tensor]:
    """theta, Sigma, Edot, Pi (all n x n) for the unit rows of X (docs/mathematics.md section 3).

    The contract of every kernel entry point: X must meet assumption A1 (no two rows parallel
    or antiparallel; :class:`DegenerateInputError` otherwise), because the claims built on
    these kernels assume it. ``allow_degenerate=True`` computes the kernel for any unit rows
    (repeated rows give repeated rows of the kernel, so a singular matrix): for checks that
    probe A1 itself (KG-2's control, KG-6's antipodal sets)."""
    gamma = check_gamma(gamma)
    sigma_u = check_positive(sigma_u, "sigma_u")
    X = _unit_inputs(X, allow_degenerate)
    # every map below is elementwise and the input symmetric: work on the upper triangle
    # (half the entries; the fixed point dominates the cost), then mirror
    n = X.shape[0]
    i, j = torch.triu_indices(n, n)
    parts = _parts_of(_one_minus_cosine(X)[i, j], gamma, sigma_u)
    k = parts.pop("k")

    def full(v: torch.Tensor) -> torch.Tensor:
        out = torch.empty(n, n, dtype=v.dtype)
        out[i, j] = v
        out[j, i] = v
        return out

    return {**{name: full(v) for name, v in parts.items()}, "k": torch.tensor(k, dtype=DTYPE)}


def _parts_of(t: torch.Tensor, gamma: float, sigma_u: float) -> dict:
    """theta, q, Sigma, Edot, Pi (and the float k) elementwise from t = 1 - cosine (any shape):
    the one implementation of the kernel maps, for :func:`kernel_parts` and
    :func:`limiting_gram_between`."""
    q = correlation(t, gamma)
    theta = 2.0 * torch.asin(torch.sqrt(q / 2.0))
    k = sigma_u**2 / (1.0 - gamma**2 / 2.0)
    sigma = (k / (2.0 * math.pi)) * (torch.sin(theta) + (math.pi - theta) * torch.cos(theta))
    edot = (math.pi - theta) / (2.0 * math.pi)
    pi_ = edot / (1.0 - gamma**2 * edot)
    return {"theta": theta, "q": q, "Sigma": sigma, "Edot": edot, "Pi": pi_, "k": k}


def limiting_gram(X, *, gamma: float, sigma_u: float = 1.0, kappa: float = 1.0, allow_degenerate: bool = False) -> torch.Tensor:
    """G_inf(x_i, x_j) = kappa^2 gamma^2 Sigma Pi for all pairs of unit rows of X (n x n).
    A1 is required unless ``allow_degenerate`` (see :func:`kernel_parts`)."""
    kappa = check_positive(kappa, "kappa")
    parts = kernel_parts(X, gamma=gamma, sigma_u=sigma_u, allow_degenerate=allow_degenerate)
    G = (kappa**2 * gamma**2) * parts["Sigma"] * parts["Pi"]
    return 0.5 * (G + G.T)


def limiting_gram_between(X, C, *, gamma: float, sigma_u: float = 1.0, kappa: float = 1.0) -> torch.Tensor:
    """G_inf(x_i, c_k) for unit rows x_i of X and c_k of C (n x K): the same maps as
    :func:`limiting_gram` (G_inf depends on a pair only through its angle), for a function
    sum_k a_k G_inf(., c_k) of the kernel's RKHS evaluated at new points. No A1 check: a row of
    X may equal a center."""
    gamma, sigma_u, kappa = check_gamma(gamma), check_positive(sigma_u, "sigma_u"), check_positive(kappa, "kappa")
    X, C = as_tensor(X, "X", ndim=2), as_tensor(C, "C", ndim=2)
    check_unit_rows(X)
    check_unit_rows(C)
    parts = _parts_of(_one_minus_cosine(X, C), gamma, sigma_u)
    return (kappa**2 * gamma**2) * parts["Sigma"] * parts["Pi"]


def limiting_gram_diagonal(*, gamma: float, sigma_u: float = 1.0, kappa: float = 1.0) -> float:
    """kappa^2 gamma^2 sigma_u^2 / (2 - gamma^2)^2, the closed form of diag G_inf (KG-1)."""
    return kappa**2 * gamma**2 * sigma_u**2 / (2.0 - gamma**2) ** 2


def layer_free_parts(X, *, sigma_u: float = 1.0) -> dict[str, torch.Tensor]:
    """Sigma_0 and Edot_0 (n x n): the infinite-width kernels (1/m) z . z' and (1/m) 1[h > 0] . 1[h' > 0]
    of the network with A = 0, where z = relu(sigma_u U x): the arc-cosine maps of section 3 at
    the inputs' own correlation (k = sigma_u^2, no fixed point). The claims' control variates
    (KG-3, NG-1, NG-4) use them. Any unit rows."""
    X = _unit_inputs(X, allow_degenerate=True)
    parts = _parts_of(_one_minus_cosine(X), 0.0, check_positive(sigma_u, "sigma_u"))  # gamma = 0 in the fixed point
    return {name: 0.5 * (parts[name] + parts[name].T) for name in ("Sigma", "Edot")}


def layer_free_gram(X, *, gamma: float, sigma_u: float = 1.0, kappa: float = 1.0) -> torch.Tensor:
    """The infinite-width limit of the Gram of the network with A = 0 (b = D u):
    kappa^2 gamma^2 Edot_0 o Sigma_0 (:func:`layer_free_parts`)."""
    parts = layer_free_parts(X, sigma_u=sigma_u)
    return check_positive(kappa, "kappa") ** 2 * check_gamma(gamma) ** 2 * parts["Sigma"] * parts["Edot"]


def lambda_0(X, *, gamma: float, sigma_u: float = 1.0, kappa: float = 1.0, allow_degenerate: bool = False) -> float:
    """lambda_min(G_inf) on the rows of X (KG-2: > 0 under assumption A1, which is required
    unless ``allow_degenerate``; see :func:`kernel_parts`)."""
    G = limiting_gram(X, gamma=gamma, sigma_u=sigma_u, kappa=kappa, allow_degenerate=allow_degenerate)
    return float(torch.linalg.eigvalsh(G)[0])


def two_layer_ntk(X, *, allow_degenerate: bool = False) -> torch.Tensor:
    """H_ij = <x_i, x_j> (pi - arccos <x_i, x_j>) / (2 pi): the explicit two-layer ReLU NTK
    (first layer trained), the contrast of KG-6. Its odd part is only the linear term, so it
    is singular on more than d antipodal pairs. A1 is required unless ``allow_degenerate``."""
    X = _unit_inputs(X, allow_degenerate)
    t = _one_minus_cosine(X)
    theta = 2.0 * torch.asin(torch.sqrt(t / 2.0))
    H = (1.0 - t) * (math.pi - theta) / (2.0 * math.pi)
    return 0.5 * (H + H.T)


def relu_expectation(K: torch.Tensor) -> torch.Tensor:
    """E[relu(h) relu(h')] for (h, h') ~ N(0, K), entrywise over a covariance matrix K: with
    d_i = sqrt(K_ii) and theta = arccos(K_ij / (d_i d_j)), (d_i d_j / 2 pi)(sin theta + (pi - theta)
    cos theta) (Cho and Saul's degree-1 arc-cosine kernel; the diagonal is K_ii / 2)."""
    d = torch.sqrt(torch.clamp(K.diagonal(), min=0.0))
    scale = d[:, None] * d[None, :]
    rho = torch.clamp(K / torch.clamp(scale, min=1e-300), -1.0, 1.0)
    theta = torch.arccos(rho)
    out = scale / (2.0 * math.pi) * (torch.sin(theta) + (math.pi - theta) * torch.cos(theta))
    out.diagonal().copy_(K.diagonal() / 2.0)
    return 0.5 * (out + out.T)


def nngp_depth(X, depth: int, *, gamma: float, sigma_u: float = 1.0, allow_degenerate: bool = False) -> torch.Tensor:
    """Sigma_L (n x n): the infinite-width kernel (1/m) z^L . z^L' of the weight-tied depth-L
    network with z^0 = 0 (docs/mathematics.md, NG-3): K_1 = sigma_u^2 <x, x'>,
    K_{l+1} = gamma^2 E_{K_l}[relu relu] + sigma_u^2 <x, x'>, Sigma_L = E_{K_L}[relu relu]. As L grows
    it tends to Sigma (:func:`kernel_parts`) like (gamma^2 / 2)^L. A1 is required unless
    ``allow_degenerate``."""
    gamma = check_gamma(gamma)
    sigma_u = check_positive(sigma_u, "sigma_u")
    X = _unit_inputs(X, allow_degenerate)
    L = int(depth)
    if L < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    S = sigma_u**2 * (X @ X.T)
    K = S
    for _ in range(L - 1):
        K = gamma**2 * relu_expectation(K) + S
    return relu_expectation(K)
