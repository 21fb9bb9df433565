"""Goodness of fit to a stated Gaussian law, with the test's power against named alternatives
(the distribution kind, docs/mathematics.md section 5).

The hypothesis: N independent draws x_i in R^n follow N(mu, S), S given (not estimated).
Whitened, w_i = L^-1 (x_i - mu) with S = L L^T, they are i.i.d. N(0, I_n). Two statistics,
each with an exact null distribution, combined by Bonferroni (the law is rejected when the
smaller p-value is at most alpha / 2):

- **covariance** (likelihood ratio of N(0, I) against N(0, C), C free): with
  V = (1/N) sum_i w_i w_i^T, T = N (tr V - ln det V - n). Under the null N V ~ Wishart(N, I),
  whose Bartlett decomposition (N V = B B^T, B lower triangular, B_jj^2 ~ chi^2_{N-j+1},
  B_jk ~ N(0, 1) below the diagonal) gives T's null law by simulation at O(n^2) per draw, so
  the p-value is exact up to Monte Carlo error (10^5 draws, the p-value floor 1e-5). This is the
  test the alternatives we must exclude call for: another kernel is a Gaussian law with another
  covariance, and against those the likelihood ratio is the natural (asymptotically most
  powerful invariant) test.
- **shape** (the radii): ||w_i||^2 ~ chi^2_n exactly under the null; a Cramer-von Mises test of
  the radii against chi^2_n (scipy.stats.cramervonmises, p-value from the statistic's
  asymptotic law, accurate for N in the hundreds) sees what a covariance test cannot: a scale
  mixture of Gaussians (the finite-width law) has heavier tails than its average Gaussian.

Why not an energy or MMD permutation test: both are omnibus but cost O(N^2) per permutation,
and their p-value floor 1/(permutations + 1) would need ~10^4 permutations at the suite's
per-claim level; against covariance alternatives they are also less powerful than the
likelihood ratio (simulated with :func:`power`).

:func:`power` simulates the same test on N draws from each alternative N(mu, S_alt), so that a
verdict of "holds" says what the test could have seen.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

NULL_DRAWS = 100_000


def whiten(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """w = L^-1 (x - mean) row by row, cov = L L^T; a ValueError names what is wrong with the
    inputs (non-finite values, shapes, a covariance that is not positive definite)."""
    x, mean, cov = np.asarray(x, dtype=float), np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
    n = x.shape[1] if x.ndim == 2 else -1
    if x.ndim != 2 or cov.shape != (n, n) or mean.shape != (n,):
        raise ValueError(f"need draws N x n, mean (n,), cov n x n; got {x.shape}, {mean.shape}, {cov.shape}")
    if not (np.isfinite(x).all() and np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise ValueError("the draws or the stated law contain non-finite values")
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"the stated covariance is not positive definite (smallest eigenvalue {np.linalg.eigvalsh(cov)[0]:.3g})") from None
    return np.linalg.solve(L, (x - mean).T).T


def covariance_statistic(w: np.ndarray) -> float:
    """T = N (tr V - ln det V - n), V = W^T W / N (about the known mean 0, so a shifted mean
    raises tr V too): 0 iff V = I."""
    N, n = w.shape
    V = w.T @ w / N
    sign, logdet = np.linalg.slogdet(V)
    if sign <= 0:
        return math.inf
    return float(N * (np.trace(V) - logdet - n))


def _bartlett(N: int, n: int, draws: int, rng: np.random.Generator, factor: np.ndarray | None = None) -> np.ndarray:
    """T for ``draws`` Wishart(N, C) matrices, C = factor factor^T (I by default), via Bartlett."""
    B = np.zeros((draws, n, n))
    idx = np.tril_indices(n, -1)
    B[:, idx[0], idx[1]] = rng.standard_normal((draws, len(idx[0])))
    diag = np.sqrt(rng.chisquare(N - np.arange(n), size=(draws, n)))
    B[:, np.arange(n), np.arange(n)] = diag
    logdet = 2.0 * np.log(diag).sum(axis=1)
    if factor is not None:
        B = factor[None] @ B
        logdet = logdet + 2.0 * np.log(np.abs(np.diag(factor))).sum()
    tr = (B**2).sum(axis=(1, 2))
    return tr - N * logdet - N * n + N * n * math.log(N)  # N (tr V - ln det V - n), V = B B^T / N


_NULLS: dict[tuple[int, int], np.ndarray] = {}


def covariance_null(N: int, n: int) -> np.ndarray:
    """Sorted draws of T's null law (seeded, cached per (N, n))."""
    key = (N, n)
    if key not in _NULLS:
        _NULLS[key] = np.sort(_bartlett(N, n, NULL_DRAWS, np.random.default_rng([N, n, 20260])))
    return _NULLS[key]


def radii_pvalue(w: np.ndarray) -> float:
    """Cramer-von Mises p-value of ||w_i||^2 against chi^2_n."""
    return float(stats.cramervonmises((w**2).sum(axis=1), "chi2", args=(w.shape[1],)).pvalue)


@dataclass
class FitTest:
    draws: int
    dim: int
    covariance_statistic: float
    covariance_p: float
    radii_p: float
    p_value: float  # Bonferroni: 2 min(p_cov, p_radii), capped at 1
    alpha: float
    rejected: bool

    def to_dict(self) -> dict:
        return asdict(self)


def gaussian_fit(x: np.ndarray, mean: np.ndarray, cov: np.ndarray, alpha: float) -> FitTest:
    """Test "the rows of x are i.i.d. N(mean, cov)" at level alpha (see the module docstring)."""
    return whitened_fit(whiten(x, mean, cov), alpha)


def whitened_fit(w: np.ndarray, alpha: float) -> FitTest:
    """:func:`gaussian_fit` on draws already whitened by the stated law (null: i.i.d. N(0, I))."""
    N, n = w.shape
    T = covariance_statistic(w)
    null = covariance_null(N, n)
    p_cov = (1 + len(null) - np.searchsorted(null, T, side="left")) / (len(null) + 1)
    p_rad = radii_pvalue(w)
    p = min(1.0, 2.0 * min(p_cov, p_rad))
    return FitTest(N, n, T, float(p_cov), p_rad, p, alpha, p <= alpha)


@dataclass
class Power:
    alternative: str
    draws: int
    power: float  # the share of simulated runs that rejected
    interval: tuple[float, float]  # Clopper-Pearson 95% interval of that share
    simulations: int
    kl_per_draw: float  # KL(N(0, C) || N(0, I)): how far the alternative is, per draw

    def to_dict(self) -> dict:
        return asdict(self)


def power(
    name: str,
    law: tuple[np.ndarray, np.ndarray],
    alt: tuple[np.ndarray, np.ndarray],
    N: int,
    alpha: float,
    *,
    simulations: int = 400,
    seed: int = 0,
) -> Power:
    """The share of ``simulations`` runs of :func:`gaussian_fit` (N draws from the alternative
    N(mean_alt, cov_alt), tested against ``law`` = (mean, cov)) that reject at level alpha."""
    (mean, cov), (alt_mean, alt_cov) = law, alt
    L = np.linalg.cholesky(cov)
    Li = np.linalg.inv(L)
    C = Li @ alt_cov @ Li.T  # the whitened draws' covariance under the alternative
    shift = Li @ (alt_mean - mean)  # and their mean
    F = np.linalg.cholesky(C)
    rng = np.random.default_rng([N, seed, 7])
    null = covariance_null(N, len(cov))
    crit = null[min(len(null) - 1, int(math.ceil((1 - alpha / 2) * (len(null) + 1))) - 1)]
    rejected = 0
    for _ in range(simulations):
        w = rng.standard_normal((N, len(cov))) @ F.T + shift
        if covariance_statistic(w) > crit or radii_pvalue(w) <= alpha / 2:
            rejected += 1
    lo = 0.0 if rejected == 0 else float(stats.beta.ppf(0.025, rejected, simulations - rejected + 1))
    hi = 1.0 if rejected == simulations else float(stats.beta.ppf(0.975, rejected + 1, simulations - rejected))
    kl = 0.5 * float(np.trace(C) - len(C) - np.linalg.slogdet(C)[1] + shift @ shift)
    return Power(name, N, rejected / simulations, (lo, hi), simulations, kl)


def qq(w: np.ndarray, points: int = 99) -> dict:
    """Quantiles of the whitened draws against their null laws (the report's Q-Q figure): the
    radii ||w||^2 against chi^2_n and the first coordinate against N(0, 1)."""
    probs = (np.arange(points) + 0.5) / points
    r2 = (w**2).sum(axis=1)
    return {
        "probs": probs.tolist(),
        "radii": np.quantile(r2, probs).tolist(),
        "radii_null": stats.chi2.ppf(probs, w.shape[1]).tolist(),
        "coordinate": np.quantile(w[:, 0], probs).tolist(),
        "coordinate_null": stats.norm.ppf(probs).tolist(),
    }
