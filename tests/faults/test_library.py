"""Fault injection against the library (issue: no silent wrong answer).

Each test does the harmful thing for real and asserts the exact outcome: a typed error, or a
recomputed (never stale) number."""

import math

import numpy as np
import pytest
import torch

from theory import (
    ContractionError,
    DegenerateInputError,
    DTypeError,
    EquilibriumMismatchError,
    ImplicitNetwork,
    MemoryBudgetError,
    ParameterError,
    lambda_0,
    limiting_gram,
)

from ..conftest import unit_rows


def _contracting(m=24, seed=0, rho=0.83):
    """A network with rho = 0.83 exactly (a rescaled Gaussian layer)."""
    net = ImplicitNetwork.initialize(d=3, m=m, gamma=0.3, seed=seed)
    A = net.A * (rho / net.contraction_factor())
    return A


def test_mutating_the_callers_arrays_does_not_reach_the_network():
    A = _contracting()
    net = ImplicitNetwork.from_arrays(torch.randn(24, 3, dtype=torch.float64), A, torch.randn(24, dtype=torch.float64), gamma=0.3)
    X = unit_rows(4, 3, 0)
    before = net.equilibrium(X)
    assert net.contraction_factor() == pytest.approx(0.83, rel=1e-12)
    A.mul_(1.5)  # the caller scales its own tensor: rho of *that* would be 1.245
    assert net.contraction_factor() == pytest.approx(0.83, rel=1e-12)
    assert torch.equal(net.equilibrium(X).Z, before.Z)
    with pytest.raises(ContractionError):  # a fresh network of the mutated array is refused
        ImplicitNetwork.from_arrays(net.U, A, net.u, gamma=0.3).equilibrium(X)


def test_numpy_caller_arrays_are_copied_too():
    A = _contracting().numpy().copy()
    net = ImplicitNetwork.from_arrays(np.ones((24, 3)), A, np.ones(24), gamma=0.3)
    A *= 1.5
    assert net.contraction_factor() == pytest.approx(0.83, rel=1e-12)


def test_in_place_change_through_the_network_is_recomputed_not_stale():
    net = ImplicitNetwork.from_arrays(
        torch.randn(24, 3, dtype=torch.float64), _contracting(), torch.randn(24, dtype=torch.float64), gamma=0.3
    )
    X = unit_rows(3, 3, 1)
    eq = net.equilibrium(X)
    assert net.contraction_factor() == pytest.approx(0.83, rel=1e-12)
    net.A.mul_(1.5)
    assert net.contraction_factor() == pytest.approx(1.245, rel=1e-12)  # not the cached 0.83
    with pytest.raises(ContractionError) as info:
        net.equilibrium(X)
    assert info.value.factor == pytest.approx(1.245, rel=1e-12)
    with pytest.raises(EquilibriumMismatchError, match="before its parameters changed"):
        net.output(X, equilibrium=eq)


def test_foreign_equilibrium_is_a_typed_error():
    net = ImplicitNetwork.initialize(d=3, m=20, seed=0)
    other = ImplicitNetwork.initialize(d=3, m=20, seed=1)
    X, X2 = unit_rows(4, 3, 0), unit_rows(4, 3, 1)
    eq = net.equilibrium(X)
    for call in (
        lambda: net.output(X2, equilibrium=eq),
        lambda: net.gram(X2, equilibrium=eq),
        lambda: net.backward_vectors(X2, equilibrium=eq),
        lambda: net.features(X[:3], equilibrium=eq),
    ):
        with pytest.raises(EquilibriumMismatchError, match="other inputs"):
            call()
    with pytest.raises(EquilibriumMismatchError, match="another network"):
        other.output(X, equilibrium=eq)
    with pytest.raises(EquilibriumMismatchError, match="another network"):  # same numbers, another object
        ImplicitNetwork.from_arrays(net.U, net.A, net.u, gamma=net.gamma).gram(X, equilibrium=eq)
    # the right one is accepted and gives the same numbers as solving again
    assert torch.equal(net.output(X, equilibrium=eq), net.output(X))


def test_degenerate_inputs_follow_one_contract():
    X = unit_rows(4, 3, 2)
    Y = torch.cat([X, X[1:2]])
    for entry in (lambda_0, limiting_gram):
        with pytest.raises(DegenerateInputError):
            entry(Y, gamma=0.25)
    assert lambda_0(Y, gamma=0.25, allow_degenerate=True) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    "make,words",
    [
        (lambda U, A, u: (U * 1j, A, u), "U is complex"),
        (lambda U, A, u: (U, torch.complex(A, torch.zeros_like(A)), u), "A is complex"),
        (lambda U, A, u: (U, A, u.numpy().astype(object)), "u must be a real numeric array"),
    ],
)
def test_complex_and_non_numeric_parameters_are_refused(make, words):
    net = ImplicitNetwork.initialize(d=2, m=6, seed=0)
    with pytest.raises(DTypeError, match=words):
        ImplicitNetwork.from_arrays(*make(net.U, net.A, net.u), gamma=0.25)


def test_complex_inputs_are_refused():
    net = ImplicitNetwork.initialize(d=2, m=6, seed=0)
    with pytest.raises(DTypeError, match="X is complex"):
        net.equilibrium(unit_rows(2, 2, 0).numpy() * 1j)


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"m": 8.0}, "m must be an integer"),
        ({"m": 8.5}, "m must be an integer"),
        ({"m": True}, "m must be an integer"),
        ({"m": 0}, "m must be an integer >= 1"),
        ({"d": "3"}, "d must be an integer"),
        ({"seed": None}, "seed is required"),
        ({"seed": 1.0}, "seed must be an integer"),
        ({"seed": -1}, r"seed must be an integer \[0"),
        ({"seed": 2**64}, r"seed must be an integer \[0"),
    ],
)
def test_bad_sizes_and_seeds_name_the_argument(kwargs, words):
    args = {"d": 2, "m": 4, "seed": 0, **kwargs}
    with pytest.raises(ParameterError, match=words):
        ImplicitNetwork.initialize(**args)


def test_solver_arguments_are_validated_everywhere():
    net = ImplicitNetwork.initialize(d=2, m=6, seed=0)
    X = unit_rows(2, 2, 0)
    for call in (net.equilibrium, net.backward_vectors):
        with pytest.raises(ParameterError, match="max_iter"):
            call(X, max_iter=0)
        with pytest.raises(ParameterError, match="max_iter"):
            call(X, max_iter=-5)
        with pytest.raises(ParameterError, match="tol"):
            call(X, tol=0.0)
        with pytest.raises(ParameterError, match="tol"):
            call(X, tol=math.nan)
        with pytest.raises(ParameterError, match="tol"):
            call(X, tol="tight")


@pytest.mark.parametrize("m,words", [(10**6, "TB"), (40_000, "GB")])
def test_a_width_that_cannot_fit_is_refused_before_allocating(m, words, monkeypatch):
    import theory._validation as v

    monkeypatch.setattr(v, "available_memory", lambda: 24 * 10**9)  # this machine's size, made explicit
    with pytest.raises(MemoryBudgetError, match=words) as info:
        ImplicitNetwork.initialize(d=2, m=m, seed=0)
    assert info.value.needed == 16.0 * m * m and info.value.available == 24e9
