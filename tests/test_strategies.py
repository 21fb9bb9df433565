import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import data
from theory.domains import STRUCTURES, KernelDomain, NetworkDomain, TrainingDomain
from theory.instances import KernelInstance, NetworkInstance, TrainingSetting
from verify import strategies


@given(strategies.for_domain(NetworkDomain(start=True, mask=True, perturbation=True, direction=True)))
def test_instances_are_well_formed_typed_and_frozen(inst):
    assert isinstance(inst, NetworkInstance)
    m, d = inst.U.shape
    assert inst.A.shape == (m, m) and inst.u.shape == (m,) and inst.A2.shape == (m, m) and inst.V.shape == (m, m)
    assert inst.X.shape[1] == d and inst.Z0.shape == (inst.X.shape[0], m)
    assert np.allclose(np.linalg.norm(inst.X, axis=1), 1.0, atol=1e-12)
    assert set(np.unique(inst.D)) <= {0.0, 1.0}
    if inst.structure != "gaussian":
        assert inst.net.contraction_factor() == pytest.approx(inst.rho_target, rel=1e-9, abs=1e-15)
    with pytest.raises(ValueError):  # read-only arrays: an instance cannot change after it is checked
        inst.A[0, 0] = 1.0


@given(strategies.for_domain(KernelDomain(antipodal=True, d=(2, 3))))
def test_kernel_domain_gives_antipodal_sets(inst):
    assert isinstance(inst, KernelInstance)
    k = inst.X.shape[0] // 2
    assert np.allclose(inst.X[:k], -inst.X[k:])


def test_training_domain_draws_settings_of_the_declared_sets():
    strategy = strategies.for_domain(TrainingDomain(ms=(128,), horizons=(2.0,)))
    seen = []

    @settings(max_examples=10, derandomize=True, database=None)
    @given(strategy)
    def collect(s):
        seen.append(s)

    collect()
    assert seen and all(isinstance(s, TrainingSetting) and s.m == 128 and s.horizon == 2.0 for s in seen)


def test_a_domain_that_is_not_one_is_a_clear_error():
    with pytest.raises(TypeError, match="NetworkDomain, KernelDomain or TrainingDomain"):
        strategies.for_domain(object())


@given(strategies.datasets(n=(2, 6), d=(2, 5), min_angle=0.2))
def test_datasets_respect_the_minimum_angle(X):
    G = np.abs(X @ X.T)
    np.fill_diagonal(G, 0)
    assert G.max() < math.cos(0.2)


@given(strategies.datasets(n=(2, 4), d=(2, 4), degenerate=True))
def test_degenerate_datasets_stay_unit(X):
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)


def test_log_uniform_is_log_uniform_and_spans_its_range():
    """Draw from the strategy itself (not a re-implementation): half the mass below the
    geometric middle, and both ends reached."""
    draws = []

    @settings(max_examples=600, derandomize=True, database=None)
    @given(strategies.log_uniform(2, 2048))
    def collect(m):
        draws.append(m)

    collect()
    below = sum(x <= 64 for x in draws) / len(draws)
    assert 0.35 < below < 0.65, below  # uniform (not log-uniform) would put ~3% below 64
    assert min(draws) == 2 and max(draws) >= 1024


def test_log_uniform_refuses_a_bad_range():
    with pytest.raises(ValueError):
        strategies.log_uniform(0, 10)
    with pytest.raises(ValueError):
        strategies.log_uniform(10, 5)


def test_structures_are_what_they_say():
    for s in STRUCTURES:
        A = data.structured_matrix(8, s, seed=0, gamma=0.25, rho=0.9)
        assert A.shape == (8, 8)
    assert (data.structured_matrix(8, "nonneg", 0, gamma=0.25, rho=0.5) >= 0).all()
    assert np.linalg.matrix_rank(data.structured_matrix(8, "rank_one_nonneg", 0, gamma=0.25, rho=0.5)) == 1


@given(st.sampled_from(["teacher", "signs", "bounded"]), st.integers(0, 100))
def test_labels_bounded(kind, seed):
    X = data.unit_sphere(5, 3, seed)
    y = data.labels(X, kind, seed)
    assert y.shape == (5,) and np.abs(y).max() <= 1.0 + 1e-12
