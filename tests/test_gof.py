"""The goodness-of-fit test of the distribution kind (verify.gof) and how the runner turns it
into verdicts: its level, its power, and "inconclusive" when it could not have seen a wrong law."""

import numpy as np
import pytest
from scipy import stats

from theory.claims import Budget, DistributionClaim, PerProfile, register, unregister
from verify import run
from verify.gof import covariance_null, covariance_statistic, gaussian_fit, power, whiten


def test_the_wishart_null_matches_the_direct_simulation_and_the_chi2_limit():
    """Bartlett's decomposition gives T's law: compare its quantiles with T of directly simulated
    Gaussian samples (and with chi^2_{n(n+1)/2}, its large-N limit)."""
    rng = np.random.default_rng(3)
    N, n = 300, 3
    direct = np.array([covariance_statistic(rng.standard_normal((N, n))) for _ in range(3000)])
    null = covariance_null(N, n)
    for q in (0.5, 0.9, 0.99):
        assert abs(np.quantile(direct, q) - np.quantile(null, q)) < 0.08 * np.quantile(null, q)
    assert abs(np.median(null) - stats.chi2.median(n * (n + 1) // 2)) < 0.3


def test_the_fit_test_keeps_its_level():
    """Under the null the test rejects at most alpha of the time (Bonferroni makes it conservative):
    400 runs at alpha = 0.1; the binomial 99.9% upper limit of a true rate 0.1 is about 0.16."""
    rng = np.random.default_rng(11)
    S = np.array([[2.0, 0.6], [0.6, 1.0]])
    rejected = sum(gaussian_fit(rng.multivariate_normal([0, 0], S, size=500), np.zeros(2), S, 0.1).rejected for _ in range(400))
    assert rejected / 400 < 0.16


def test_whitening_makes_the_stated_law_standard():
    rng = np.random.default_rng(2)
    S = np.array([[2.0, 0.6], [0.6, 1.0]])
    w = whiten(rng.multivariate_normal([1.0, -1.0], S, size=20000), np.array([1.0, -1.0]), S)
    assert np.allclose(np.cov(w.T), np.eye(2), atol=0.05)


def test_power_grows_with_the_draws_and_with_the_distance():
    S = np.eye(3)
    near, far = (np.zeros(3), 1.05 * S), (np.zeros(3), 1.5 * S)
    law = (np.zeros(3), S)
    assert power("near", law, near, 200, 0.01, simulations=200).power < 0.3
    assert power("far", law, far, 200, 0.01, simulations=200).power > 0.95
    assert power("near", law, near, 6000, 0.01, simulations=100).power > 0.5


def test_the_radii_see_a_scale_mixture_that_the_covariance_cannot():
    """Draws of s g, g ~ N(0, I), E s^2 = 1 with s^2 in {0.3, 1.7}: the same covariance as N(0, I),
    heavy tails; the fit must reject."""
    rng = np.random.default_rng(5)
    s = np.sqrt(rng.choice([0.3, 1.7], size=3000))
    x = rng.standard_normal((3000, 2)) * s[:, None]
    res = gaussian_fit(x, np.zeros(2), np.eye(2), 0.001)
    assert res.rejected and res.radii_p < 1e-4 and res.covariance_p > 1e-3


class _Scaled(DistributionClaim):
    """Draws of N(0, scale I_2); the claim states N(0, I_2)."""

    scale = 1.0
    stated = 1.0
    budget = PerProfile(Budget(configs=({},), draws=400))

    def sample(self, config, seed):
        return np.random.default_rng(seed).standard_normal(2) * np.sqrt(self.scale)

    def law(self, config):
        return None, self.stated * np.eye(2)


@pytest.fixture
def planted():
    ids = []

    def plant(cid, **attrs):
        cls = type(cid.replace("-", "_").replace("/", "_"), (_Scaled,), {"id": cid, "title": cid, "statement": cid, **attrs})
        register(cls)
        ids.append(cid)

    yield plant
    for cid in ids:
        unregister(cid)


def test_a_true_law_holds_and_a_wrong_one_is_refuted(planted):
    planted("T-LAW", scale=1.0)
    planted("T-LAW/ctl-double", scale=1.0, stated=2.0, control_of="T-LAW", why_false="the variance is 1")
    got = {r.id: r for r in run(["T-LAW"], profile="ci").results}
    assert got["T-LAW"].status == "holds", got["T-LAW"].summary
    assert "power against T-LAW/ctl-double 1.00" in got["T-LAW"].summary
    assert got["T-LAW/ctl-double"].status == "refuted"


def test_a_control_the_test_cannot_see_makes_the_claim_inconclusive(planted):
    """A control 2% away: 400 draws cannot tell it from the truth, so the true claim is not "holds"."""
    planted("T-NEAR", scale=1.0)
    planted("T-NEAR/ctl-close", scale=1.0, stated=1.02, control_of="T-NEAR", why_false="2% off")
    got = {r.id: r for r in run(["T-NEAR"], profile="ci").results}
    assert got["T-NEAR"].status == "inconclusive" and "underpowered" in got["T-NEAR"].summary


def test_a_claim_without_alternatives_does_not_hold(planted):
    planted("T-ALONE", scale=1.0)
    res = run(["T-ALONE"], profile="ci").results[0]
    assert res.status == "inconclusive" and "power is unknown" in res.summary


def test_bad_laws_and_draws_are_clear_errors():
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="not positive definite"):
        whiten(x, np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="non-finite"):
        whiten(np.full((10, 2), np.nan), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="need draws"):
        whiten(x, np.zeros(3), np.eye(2))
