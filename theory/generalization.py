"""The generalization bound of GE-1 and what it is made of (docs/mathematics.md section 4, GE-1..GE-4;
arXiv 2209.15562, following Arora, Du, Hu, Li, Wang 2019, Theorem 5.1).

Derivation, with every constant fixed:

1. Loss: the ramp loss ``l(f, y) = min(1, max(0, 1 - y f))`` for labels y in {-1, +1}:
   1-Lipschitz in f, values in [0, 1].
2. Class: the network linearized at its initialization, ``F_R = {x -> f0(x) + <W, df0(x)/dA> :
   ||W||_F <= R}``. Its empirical Rademacher complexity is exactly
   ``(R/n) E_eps ||J^T eps||_F = (R/n) E sqrt(eps^T G eps) <= (R/n) sqrt(trace G)`` (GE-2;
   Cauchy-Schwarz, attained at W = R J^T eps / ||J^T eps||, then Jensen), and trace G = n g
   in the limit, g = G_inf(x, x) = kappa^2 gamma^2 sigma_u^2 / (2 - gamma^2)^2.
3. For one radius R, with probability >= 1 - delta' (Mohri et al., Theorem 3.3 with the
   Ledoux-Talagrand contraction for a 1-Lipschitz loss):
   ``L_D(f) <= L_S(f) + 2 R_S(F_R) + 3 sqrt(log(2/delta') / (2n))`` for all f in F_R.
4. R is not known in advance: take the grid R_j = j / sqrt(g) (j = 1, 2, ...; in units of
   1/sqrt(g), so the grid does not depend on the output scale kappa) with
   ``delta_j = delta / (j (j + 1))`` (summing to delta); a trained network with radius R lies in
   F_{R_j} for j = ceil(R sqrt(g)). Hence, with probability >= 1 - delta, simultaneously for all R,
   ``L_D <= L_S + 2 j / sqrt(n) + 3 sqrt(log(2 j (j + 1) / delta) / (2n))``, j = ceil(R sqrt(g)).
5. Gradient flow from A(0) reaches, in the kernel regime, the minimum-norm interpolant, whose
   radius is ``R = sqrt((y - f0)^T G^-1 (y - f0))`` (TD-6). With ``G -> G_inf`` the middle term
   is ``sqrt(4 g (y - f0)^T G_inf^-1 (y - f0) / n)`` (the form of docs/mathematics.md, up to the rounding of
   R sqrt(g) up to the grid).
   The finite-width network differs from its linearization by eps(m) -> 0 (TD-5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from .errors import DegenerateInputError, ParameterError
from .kernel import limiting_gram_diagonal
from .network import ImplicitNetwork

_L, _g, _R, _n, _delta = sp.symbols("L_S g R n delta", positive=True)
_j = sp.ceiling(_R * sp.sqrt(_g))
#: GE-1's bound (step 4 above) as a sympy expression, for the report.
BOUND = _L + 2 * _j / sp.sqrt(_n) + 3 * sp.sqrt(sp.log(2 * _j * (_j + 1) / _delta) / (2 * _n))


def ramp_loss(f, y) -> np.ndarray:
    """min(1, max(0, 1 - y f)): 1-Lipschitz, values in [0, 1] (labels y in {-1, +1})."""
    return np.clip(1.0 - np.asarray(y, dtype=float) * np.asarray(f, dtype=float), 0.0, 1.0)


def clipped_absolute_loss(f, y) -> np.ndarray:
    """min(1, |f - y|): 1-Lipschitz in f, values in [0, 1] (for real-valued targets)."""
    return np.minimum(1.0, np.abs(np.asarray(f, dtype=float) - np.asarray(y, dtype=float)))


def empirical_bernstein_margin(losses, delta: float) -> float:
    """The margin m with P(E[l] < mean(l) - m) <= delta for i.i.d. losses in [0, 1]:
    sqrt(2 V ln(2/delta) / N) + 7 ln(2/delta) / (3 (N - 1)), V the unbiased sample variance
    (Maurer and Pontil 2009, Theorem 4, applied to 1 - l). Far tighter than Hoeffding's
    sqrt(ln(1/delta) / (2N)) when the losses are small."""
    losses = np.asarray(losses, dtype=float)
    N = losses.size
    if N < 2:
        raise ValueError(f"need at least 2 losses, got {N}")
    log_term = math.log(2.0 / delta)
    return math.sqrt(2.0 * float(losses.var(ddof=1)) * log_term / N) + 7.0 * log_term / (3.0 * (N - 1))


def bound_terms(train_loss: float, R: float, n: int, *, g: float, delta: float, main_scale: float = 1.0) -> dict:
    """The three terms of GE-1 (step 4), and their sum ``bound``. ``main_scale`` multiplies the
    complexity term (a negative control shrinks it)."""
    if n < 1 or not (0 < delta < 1) or R < 0 or g <= 0:
        raise ValueError(f"need n >= 1, 0 < delta < 1, R >= 0, g > 0; got n={n}, delta={delta}, R={R}, g={g}")
    j = max(1, math.ceil(R * math.sqrt(g)))
    main = main_scale * 2 * j / math.sqrt(n)
    conf = 3 * math.sqrt(math.log(2 * j * (j + 1) / delta) / (2 * n))
    return {
        "train_loss": train_loss,
        "complexity": main,
        "confidence": conf,
        "radius": R,
        "grid_radius": j,
        "bound": train_loss + main + conf,
    }


def radius(G: torch.Tensor, target: torch.Tensor) -> float:
    """R = sqrt(v^T G^-1 v): the Frobenius norm of the minimum-norm move that fits v (TD-6),
    by a Cholesky solve (G symmetric positive definite)."""
    Lc = torch.linalg.cholesky(G)
    w = torch.cholesky_solve(target[:, None], Lc)[:, 0]
    return math.sqrt(max(float(target @ w), 0.0))


def flow_move(G: torch.Tensor, v: torch.Tensor, time: float) -> tuple[torch.Tensor, float]:
    """The linearized gradient flow on the squared loss from residual -v, at time T: the
    coefficients c = G^-1 (I - e^{-G T}) v of its move W_T = J^T c, and the move's norm
    ||W_T||_F = sqrt(v^T (I - e^{-G T})^2 G^-1 v) (at T = inf the interpolant's :func:`radius`;
    TD-6's predicted movement, GE-1's early-stopped radius). By the eigendecomposition of G,
    which must be positive definite."""
    if not time > 0:
        raise ParameterError(f"the training time must be positive (inf: the interpolant), got {time}")
    w, V = torch.linalg.eigh(G)
    if not float(w[0]) > 0:
        raise DegenerateInputError(f"G is not positive definite (lambda_min = {float(w[0]):.3e}): the flow's move is undefined")
    a = V.T @ v
    filt = torch.ones_like(w) if math.isinf(time) else -torch.expm1(-w * time)  # 1 - e^{-w T}, accurate for small w T
    return V @ (filt / w * a), math.sqrt(float((filt**2 / w * a**2).sum()))


def sign_vectors(n: int) -> torch.Tensor:
    """All 2^n vectors in {-1, +1}^n (rows), for exact Rademacher averages (n <= 16)."""
    if n > 16:
        raise ValueError(f"exact enumeration needs n <= 16, got {n}")
    return torch.tensor(list(np.ndindex(*(2,) * n)), dtype=torch.float64) * 2 - 1


def rademacher_norms(G: torch.Tensor) -> torch.Tensor:
    """sqrt(eps^T G eps) = ||J^T eps||_F for every sign vector eps (rows of :func:`sign_vectors`)."""
    signs = sign_vectors(G.shape[0]).to(G.dtype)
    return torch.einsum("si,ij,sj->s", signs, G, signs).clamp_min(0).sqrt()


def rademacher_linearized(G: torch.Tensor, R: float = 1.0) -> float:
    """The exact empirical Rademacher complexity (R/n) E sqrt(eps^T G eps) of the linearized
    class, averaging over all 2^n sign vectors (n <= 16)."""
    return R / G.shape[0] * float(rademacher_norms(G).mean())


def limit_diagonal(gamma: float, sigma_u: float = 1.0, kappa: float = 1.0) -> float:
    """g = G_inf(x, x) (the trace of G_inf over n is n g)."""
    return limiting_gram_diagonal(gamma=gamma, sigma_u=sigma_u, kappa=kappa)


@dataclass(frozen=True, eq=False)
class LinearizedFit:
    """The network linearized at its initialization, trained by gradient flow on the squared
    loss: at time T, f_T = f0 + K0(., X) G^-1 (I - e^{-G T}) (y - f0(X)) with G = G(0); its
    limit T = inf is the minimum-norm interpolant f0 + K0(., X) G^-1 (y - f0(X)) (gradient
    flow's limit in the kernel regime).

    ``f_train``/``f_test``: its outputs; ``f0``: the initial outputs on [X; X_test]; ``G``: the
    training Gram G(0); ``radius``: ||W_T||_F = sqrt(v^T (I - e^{-G T})^2 G^-1 v), v = y - f0(X)
    (at T = inf sqrt(v^T G^-1 v), the distance A moves, TD-6); ``time``: T (inf: the
    interpolant)."""

    f_train: torch.Tensor
    f_test: torch.Tensor
    f0: torch.Tensor
    G: torch.Tensor
    radius: float
    time: float = math.inf


def linearized_fit(
    net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, X_test: torch.Tensor, *, method: str = "auto", time: float = math.inf
) -> LinearizedFit:
    """Fit the linearized network of ``net`` on (X, y) by gradient flow to ``time`` (inf: its
    minimum-norm interpolant, :class:`LinearizedFit`) and evaluate it on X_test (one joint solve;
    the tangent kernel by the Hadamard form). A finite time is early stopping: the flow has
    fitted the modes of G(0) with eigenvalue well above 1/T and not the rest, so on noisy labels
    the radius stays bounded while the train loss stays near the noise. ``method``: the
    fixed-point solver (Picard is cheaper for thousands of rows at small rho: Anderson's per-row
    bookkeeping then costs more than the products it saves)."""
    if not time > 0:  # before the solves: a bad time fails without costing them
        raise ParameterError(f"the training time must be positive (inf: the interpolant), got {time}")
    n = X.shape[0]
    Xall = torch.cat([X, X_test])
    B, Z, eq = net.features(Xall, method=method)
    f0 = net.output(Xall, equilibrium=eq)
    K = net.gram_of(B, Z, B[:n], Z[:n])  # tangent kernel, all points x training points
    G = K[:n]
    v = y - f0[:n]
    if math.isinf(time):
        coef = torch.cholesky_solve(v[:, None], torch.linalg.cholesky(G))[:, 0]
        R = radius(G, v)
    else:
        coef, R = flow_move(G, v, time)
    f = f0 + K @ coef
    return LinearizedFit(f[:n], f[n:], f0, G, R, float(time))
