import math

import numpy as np
import pytest

from verify.stats import clopper_pearson, fit_exponent, split_alpha, violation_test


def test_clopper_pearson_known_values():
    lo, hi = clopper_pearson(0, 10, 0.95)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.05 ** (1 / 10), rel=1e-12)
    lo, hi = clopper_pearson(10, 10, 0.95)
    assert hi == 1.0 and lo == pytest.approx(0.05 ** (1 / 10), rel=1e-12)


def test_violation_test_rejects_only_significant_excess():
    assert not violation_test(5, 100, 0.05, 0.01).rejected  # exactly at delta
    assert violation_test(20, 100, 0.05, 0.01).rejected
    t = violation_test(20, 100, 0.05, 0.01)
    assert t.lower > 0.05 and t.p_value < 0.01  # Clopper-Pearson / binomial-test duality


def test_violation_test_calibration():
    """Under H0 (rate = delta exactly) the rejection frequency stays below alpha."""
    rng = np.random.default_rng(0)
    rejections = sum(violation_test(int(rng.binomial(200, 0.1)), 200, 0.1, 0.05).rejected for _ in range(2000))
    assert rejections / 2000 <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000)


def test_fit_exponent_recovers_a_known_slope():
    rng = np.random.default_rng(1)
    xs = np.array([64, 128, 256, 512, 1024])
    V = 3.0 * xs[:, None] ** -0.5 * np.exp(0.1 * rng.standard_normal((5, 8)))
    fit = fit_exponent(xs, V, alpha=0.01, n_boot=2000)
    assert fit.lower <= -0.5 <= fit.upper
    assert fit.upper - fit.lower < 0.3


def test_fit_exponent_rejects_bad_input():
    with pytest.raises(ValueError):
        fit_exponent([1, 2, 3], -np.ones((3, 2)), alpha=0.01)
    with pytest.raises(ValueError):
        fit_exponent([1, 2], np.ones((2, 2)), alpha=0.01)


def test_split_alpha():
    assert split_alpha(0.01, 4) == 0.0025 and split_alpha(0.01, 0) == 0.01
