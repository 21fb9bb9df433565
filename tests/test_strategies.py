import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.claims._common import network_of
from verify import data, strategies


@given(strategies.instances(start=True, mask=True, perturbation=True))
def test_instances_are_well_formed(inst):
    m, d = inst["U"].shape
    assert inst["A"].shape == (m, m) and inst["u"].shape == (m,) and inst["A2"].shape == (m, m)
    assert inst["X"].shape[1] == d and inst["Z0"].shape == (inst["X"].shape[0], m)
    assert np.allclose(np.linalg.norm(inst["X"], axis=1), 1.0, atol=1e-12)
    assert set(np.unique(inst["D"])) <= {0.0, 1.0}
    if inst["structure"] != "gaussian":
        assert network_of(inst).contraction_factor() == pytest.approx(inst["rho_target"], rel=1e-9, abs=1e-15)


@given(strategies.datasets(n=(2, 6), d=(2, 5), min_angle=0.2))
def test_datasets_respect_the_minimum_angle(X):
    G = np.abs(X @ X.T)
    np.fill_diagonal(G, 0)
    assert G.max() < math.cos(0.2)


@given(strategies.datasets(n=(2, 4), d=(2, 4), degenerate=True))
def test_degenerate_datasets_stay_unit(X):
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)


@given(strategies.log_uniform(4, 4096))
def test_log_uniform_range(m):
    assert 4 <= m <= 4096


def test_log_uniform_is_log_uniform():
    xs = [min(2048, max(2, round(2 * math.exp(math.log(1024) * k / 1000)))) for k in range(1001)]
    below = sum(x <= 64 for x in xs) / len(xs)
    assert 0.45 < below < 0.55  # half the draws below the geometric middle


def test_structures_are_what_they_say():
    for s in data.STRUCTURES:
        A = data.structured_matrix(8, s, seed=0, gamma=0.25, rho=0.9)
        assert A.shape == (8, 8)
    assert (data.structured_matrix(8, "nonneg", 0, gamma=0.25, rho=0.5) >= 0).all()
    assert np.linalg.matrix_rank(data.structured_matrix(8, "rank_one_nonneg", 0, gamma=0.25, rho=0.5)) == 1


@given(st.sampled_from(["teacher", "signs", "bounded"]), st.integers(0, 100))
def test_labels_bounded(kind, seed):
    X = data.unit_sphere(5, 3, seed)
    y = data.labels(X, kind, seed)
    assert y.shape == (5,) and np.abs(y).max() <= 1.0 + 1e-12
