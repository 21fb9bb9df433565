"""Statistics for 'with high probability' and 'as m grows' claims (docs/mathematics.md section 5).

- :func:`violation_test`: one-sided exact binomial test of H0 "violation rate <= delta" with
  Clopper-Pearson bounds. A whp claim is refuted only when the rate is significantly above
  delta at the claim's share of the suite's false-alarm budget.
- :func:`fit_exponent`: the log-log slope of a measured quantity against a size, with a
  seed-resampling bootstrap interval.
- :func:`split_alpha`: Bonferroni split of the suite-wide false-alarm probability.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


def split_alpha(alpha_total: float, tests: int) -> float:
    """Per-test level so that P(any false alarm among ``tests``) <= ``alpha_total`` (Bonferroni)."""
    return alpha_total / max(1, tests)


def clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    """One-sided Clopper-Pearson bounds (lower, upper), each at confidence ``level``."""
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(level, k + 1, n - k))
    return lo, hi


@dataclass
class ViolationTest:
    violations: int
    draws: int
    delta: float
    alpha: float
    rate: float
    lower: float
    upper: float
    p_value: float
    rejected: bool

    def to_dict(self) -> dict:
        return asdict(self)


def violation_test(k: int, n: int, delta: float, alpha: float) -> ViolationTest:
    """Reject "P(violation) <= delta" when the exact binomial p-value is below ``alpha``."""
    p = float(stats.binomtest(k, n, delta, alternative="greater").pvalue) if delta < 1 else 1.0
    lo, hi = clopper_pearson(k, n, 1.0 - alpha)
    return ViolationTest(k, n, delta, alpha, k / n, lo, hi, p, p < alpha)


@dataclass
class ExponentFit:
    slope: float
    intercept: float
    lower: float
    upper: float
    level: float
    xs: list
    means: list

    def to_dict(self) -> dict:
        return asdict(self)


def _ols_slope(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(lx, ly, 1)
    return float(slope), float(intercept)


def fit_exponent(xs, values, *, alpha: float, n_boot: int = 2000, seed: int = 0, geometric: bool = False) -> ExponentFit:
    """Slope of log(mean over seeds) against log(x) (``geometric``: against x), and a
    (1 - 2 alpha) percentile bootstrap interval (each bound one-sided at level 1 - alpha)
    from resampling seeds within each x.

    ``values``: array (len(xs), seeds) of positive measurements.
    """
    xs = np.asarray(xs, dtype=float)
    V = np.asarray(values, dtype=float)
    if V.ndim != 2 or V.shape[0] != len(xs) or len(xs) < 3:
        raise ValueError("need values of shape (len(xs) >= 3, seeds)")
    if not np.all(V > 0) or not np.all(np.isfinite(V)):
        raise ValueError("measurements must be finite and positive for a log-log fit")
    lx = xs if geometric else np.log(xs)
    means = V.mean(axis=1)
    slope, intercept = _ols_slope(lx, np.log(means))
    rng = np.random.default_rng(seed)
    s = V.shape[1]
    idx = rng.integers(0, s, size=(n_boot, len(xs), s))
    boot_means = np.take_along_axis(V[None, :, :].repeat(n_boot, 0), idx, axis=2).mean(axis=2)
    ly = np.log(boot_means)
    lxc = lx - lx.mean()
    slopes = (ly - ly.mean(axis=1, keepdims=True)) @ lxc / (lxc @ lxc)
    lo, hi = np.quantile(slopes, [alpha, 1.0 - alpha])
    return ExponentFit(slope, intercept, float(lo), float(hi), 1.0 - alpha, xs.tolist(), means.tolist())
