"""Statistics for 'with high probability' and 'as m grows' claims (docs/mathematics.md section 5).

- :class:`SequentialTest`: Wald's sequential probability ratio test of "violation rate <=
  delta" against "violation rate >= p1" (the claim's resolution), with thresholds from Ville's
  inequality, so both error bounds hold exactly under any stopping rule (draw one at a time,
  stop when decided or when the budget runs out). A whp claim is refuted when the evidence for
  a rate >= p1 reaches 1/alpha, and holds only when the evidence for a rate <= delta does:
  then every rate >= p1 is excluded at level alpha (the test could have seen a violation).
- :func:`violation_test`: the fixed-sample one-sided binomial test with Clopper-Pearson bounds
  (shown beside the sequential verdict).
- :func:`fit_exponent`: the log-log slope of a measured quantity against a size, with a
  Student-t interval on its first-order (delta-method) error, for independent or coupled seeds.
- :func:`split_alpha`: Bonferroni split of the suite-wide false-alarm probability.
"""

from __future__ import annotations

import math
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
    method: str = "welch-t"  # "welch-t" (independent seeds per x), "paired-t" (coupled seeds), "single-seed"
    df: float = math.inf  # the t interval's degrees of freedom
    standard_error: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _ols_slope(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(lx, ly, 1)
    return float(slope), float(intercept)


def fit_exponent(xs, values, *, alpha: float, geometric: bool = False, paired: bool = False, mean_var=None) -> ExponentFit:
    """The slope of log(measure) against log(x) (``geometric``: against x), with a (1 - 2 alpha)
    Student-t interval (each limit one-sided at level 1 - alpha). ``values``: array
    (len(xs), seeds) of positive measurements; c = (l - mean(l)) / ||l - mean(l)||^2, l = log(x).

    - independent seeds at each x: the slope of log(mean over seeds), sum_x c_x log(mean_x).
      To first order log(mean_x) - log(mu_x) = mean_j R[x, j] - 1, R[x, j] = V[x, j] / mean_x,
      so its variance is sum_x c_x^2 var_j(R[x, j]) / S, with Welch-Satterthwaite degrees of
      freedom.
    - ``paired`` (column j holds one seed's measurements at every x: coupled draws, common
      random numbers): each seed's own slope s_j = sum_x c_x log V[x, j] is one independent
      draw; the fit is their mean, the interval t on them with S - 1 degrees of freedom (exact
      for normal s_j). A level shared by a seed's measurements cancels in s_j (sum_x c_x = 0):
      that is what coupling buys.
    - ``mean_var`` (independent seeds only): a further variance of each x's mean from an
      independent source (a control variate's estimated mean, :func:`control_variate`), added
      to the sampled one as known (it takes no degrees of freedom). The values may then be
      negative (an adjusted value can be); their means must be positive.

    Not a bootstrap: resampling 4-24 seeds, the percentile bootstrap's limits at the suite's
    levels (alpha ~ 1e-3) were missed 3-23 times as often as stated (simulated with log-normal
    noise, sd 0.3-0.7, three widths; docs/mathematics.md section 5); this interval's were
    missed at 0.5-2 times the stated rate in the same simulation. One seed (a deterministic
    measurement) gives a zero-width interval.
    """
    xs = np.asarray(xs, dtype=float)
    V = np.asarray(values, dtype=float)
    if V.ndim != 2 or V.shape[0] != len(xs) or len(xs) < 3:
        raise ValueError("need values of shape (len(xs) >= 3, seeds)")
    if not np.all(np.isfinite(V)):
        raise ValueError("measurements must be finite for a log-log fit")
    # a control-variate adjusted value (mean_var given) may fall below 0; only its mean is logged
    if not (np.all(V.mean(axis=1) > 0) if mean_var is not None else np.all(V > 0)):
        raise ValueError("measurements (or, adjusted by a control variate, their means) must be positive for a log-log fit")
    S = V.shape[1]
    if paired and S < 3:
        raise ValueError("a paired fit needs at least 3 seeds")
    if mean_var is not None and (paired or S < 2):
        raise ValueError("mean_var needs independent seeds (at least 2 per x)")
    lx = xs if geometric else np.log(xs)
    means = V.mean(axis=1)
    slope, intercept = _ols_slope(lx, np.log(means))
    lxc = lx - lx.mean()
    c = lxc / (lxc @ lxc)
    method, df, se = "single-seed", math.inf, 0.0
    if paired:
        own = c @ np.log(V)
        method, df, slope = "paired-t", float(S - 1), float(own.mean())
        intercept = float(np.log(V).mean() - slope * lx.mean())
        se = float(own.std(ddof=1) / math.sqrt(S))
    elif S > 1:
        method = "welch-t"
        v = c**2 * (V / means[:, None]).var(axis=1, ddof=1) / S
        known = 0.0 if mean_var is None else float(np.sum(c**2 * np.asarray(mean_var, dtype=float) / means**2))
        se = float(math.sqrt(v.sum() + known))
        df = float((v.sum() + known) ** 2 / np.sum(v**2 / (S - 1))) if v.sum() > 0 else math.inf
    half = float(stats.t.ppf(1.0 - alpha, df) * se) if se > 0 else 0.0
    return ExponentFit(slope, intercept, slope - half, slope + half, 1.0 - alpha, xs.tolist(), means.tolist(), method, df, se)


def control_variate(values, controls, control_means, control_mean_vars) -> tuple[np.ndarray, np.ndarray, dict]:
    """The regression (control-variate) estimate of each row's mean: rows x of ``values`` Y and
    ``controls`` C (same draws, shape (len(xs), S)), the control's mean mu_x estimated
    independently with variance v_x. Returns (Y', e, diagnostics) with

        Y'[x, j] = Y[x, j] - beta_x (C[x, j] - mu_x),   beta_x = b mean(Y[x]) / mu_x,

    b the least-squares slope of Y / mean(Y[x]) on C / mu_x, pooled over every row (one
    parameter from len(xs) * S draws: the relative fluctuations of value and control are alike
    across x), and e_x = beta_x^2 v_x, the variance mu_x's own error adds to mean(Y'[x]). The
    mean of Y'[x] estimates E Y at x (its bias, from estimating b on the same draws, is of
    order 1/S relative); its sampled variance is var(Y[x]) (1 - corr^2) for the best b, so a
    control correlated 0.87 with the value cuts the variance 4x. Pass (Y', e) to
    :func:`fit_exponent` as (values, mean_var)."""
    Y, C = np.asarray(values, dtype=float), np.asarray(controls, dtype=float)
    mu, v = np.asarray(control_means, dtype=float), np.asarray(control_mean_vars, dtype=float)
    if Y.shape != C.shape or Y.ndim != 2 or mu.shape != (Y.shape[0],) or v.shape != mu.shape:
        raise ValueError("values and controls need one shape (len(xs), seeds), and one control mean and variance per x")
    if not (np.all(np.isfinite(C)) and np.all(mu > 0) and np.all(v >= 0)):
        raise ValueError("controls must be finite and their means positive")
    ybar = Y.mean(axis=1)
    ry = (Y - ybar[:, None]) / ybar[:, None]
    rc = (C - C.mean(axis=1, keepdims=True)) / mu[:, None]
    b = float(np.sum(ry * rc) / np.sum(rc * rc)) if np.any(rc) else 0.0
    beta = b * ybar / mu
    adjusted = Y - beta[:, None] * (C - mu[:, None])
    var_y = Y.var(axis=1, ddof=1)
    diagnostics = {
        "slope_relative": b,
        "correlation": float(np.sum(ry * rc) / math.sqrt(np.sum(ry * ry) * np.sum(rc * rc))) if np.any(rc) and np.any(ry) else 0.0,
        "variance_factor": (adjusted.var(axis=1, ddof=1) / np.where(var_y > 0, var_y, np.inf)).tolist(),
        "control_means": mu.tolist(),
        "raw_means": ybar.tolist(),
    }
    return adjusted, beta**2 * v, diagnostics


@dataclass(frozen=True)
class SequentialTest:
    """Wald's SPRT of H0: p <= delta against H1: p >= p1 (delta < p1 < 1) at level ``alpha``.

    With k violations in n draws, Lambda_n = (p1/delta)^k ((1-p1)/(1-delta))^(n-k). Under any
    p <= delta, Lambda_n is a nonnegative supermartingale with Lambda_0 = 1 (its one-step mean
    p p1/delta + (1-p)(1-p1)/(1-delta) is at most 1 for p <= delta), so by Ville's inequality
    P(Lambda_n >= 1/alpha at any n) <= alpha: **refuted** is a false alarm with probability at
    most alpha, whatever the stopping rule. Symmetrically 1/Lambda_n is a supermartingale under
    any p >= p1, so **holds** (Lambda_n <= alpha) is wrong about a rate >= p1 with probability
    at most alpha. Between the two thresholds the test is undecided (underpowered).

    :meth:`upper_bound` is the matching anytime-valid upper confidence bound on p: the
    smallest q >= max(delta, k/n) that the same test (delta against q) rejects.
    """

    delta: float
    p1: float
    alpha: float

    def __post_init__(self):
        if not (0.0 < self.delta < self.p1 < 1.0):
            raise ValueError(f"need 0 < delta < p1 < 1, got delta={self.delta}, p1={self.p1}")
        if not (0.0 < self.alpha < 1.0):
            raise ValueError(f"need 0 < alpha < 1, got {self.alpha}")

    def log_ratio(self, k: int, n: int, q: float | None = None) -> float:
        """log Lambda_n for the alternative ``q`` (default p1)."""
        q = self.p1 if q is None else q
        return k * math.log(q / self.delta) + (n - k) * math.log((1.0 - q) / (1.0 - self.delta))

    def decide(self, k: int, n: int) -> str | None:
        """ "refuted", "holds", or None (undecided) after k violations in n draws."""
        lr = self.log_ratio(k, n)
        if lr >= -math.log(self.alpha):
            return "refuted"
        if lr <= math.log(self.alpha):
            return "holds"
        return None

    def upper_bound(self, k: int, n: int) -> float:
        """Anytime-valid upper confidence bound (level 1 - alpha) on the violation rate."""
        if k >= n:
            return 1.0
        lo = max(self.delta, k / n) if n else self.delta
        if self.log_ratio(k, n, lo) <= math.log(self.alpha):
            return lo
        hi = 1.0 - 1e-15
        if self.log_ratio(k, n, hi) > math.log(self.alpha):
            return 1.0
        for _ in range(200):  # log-ratio is concave in q and decreasing above k/n: bisection
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if self.log_ratio(k, n, mid) > math.log(self.alpha) else (lo, mid)
        return hi

    def draws_to_hold(self, k: int, n: int) -> int:
        """How many more draws without a violation would make the test decide "holds"."""
        gap = self.log_ratio(k, n) - math.log(self.alpha)
        if gap <= 0:
            return 0
        return math.ceil(gap / -math.log((1.0 - self.p1) / (1.0 - self.delta)))

    def operating_characteristic(self, p: float, max_draws: int) -> dict:
        """Exactly, for a true violation rate ``p`` and at most ``max_draws`` draws (stopping as
        soon as the test decides): P(refuted), P(holds), P(undecided at the budget) and the
        expected number of draws. Dynamic programming over the number of violations k after n
        draws (O(max_draws^2)); the state is absorbed where :meth:`decide` decides."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        alive = np.zeros(max_draws + 2)
        alive[0] = 1.0  # P(k violations so far and still undecided)
        refuted = holds = expected = 0.0
        for n in range(1, max_draws + 1):
            expected += alive.sum()  # draw n is taken iff undecided after n - 1
            nxt = np.zeros_like(alive)
            nxt[1:] += alive[:-1] * p
            nxt += alive * (1.0 - p)
            for k in np.nonzero(nxt)[0]:
                d = self.decide(int(k), n)
                if d == "refuted":
                    refuted += nxt[k]
                elif d == "holds":
                    holds += nxt[k]
                if d:
                    nxt[k] = 0.0
            alive = nxt
        return {"p": p, "refuted": refuted, "holds": holds, "undecided": float(alive.sum()), "expected_draws": expected}

    def to_dict(self, k: int, n: int) -> dict:
        return {
            "delta": self.delta,
            "resolution_p1": self.p1,
            "alpha": self.alpha,
            "violations": k,
            "draws": n,
            "log_likelihood_ratio": self.log_ratio(k, n),
            "threshold": -math.log(self.alpha),
            "upper_bound": self.upper_bound(k, n),
            "decision": self.decide(k, n) or "undecided",
            "draws_to_hold": self.draws_to_hold(k, n),
        }
