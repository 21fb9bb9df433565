"""Every bad input gets a typed error that says what was wrong; nothing hangs or returns NaN."""

import math
import time

import numpy as np
import pytest
import torch

from theory import (
    ContractionError,
    ConvergenceError,
    DegenerateInputError,
    DTypeError,
    ImplicitNetwork,
    InputError,
    NonFiniteError,
    NormError,
    ParameterError,
    ShapeError,
    TheoryError,
    lambda_0,
    limiting_gram,
    require_a1,
)

from .conftest import unit_rows


def arrays(m=6, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, d)), rng.standard_normal((m, m)), rng.standard_normal(m)


def test_hierarchy():
    assert issubclass(ShapeError, InputError) and issubclass(InputError, ValueError)
    assert issubclass(ContractionError, TheoryError) and issubclass(ConvergenceError, TheoryError)


@pytest.mark.parametrize(
    "mutate,error,words",
    [
        (lambda U, A, u: (U, A[:, :-1], u), ShapeError, "m x m"),
        (lambda U, A, u: (U, A, u[:-1]), ShapeError, "length m"),
        (lambda U, A, u: (U[0], A, u), ShapeError, "2 dimension"),
        (lambda U, A, u: (U, np.where(np.eye(len(u)) > 0, np.nan, A), u), NonFiniteError, "non-finite"),
        (lambda U, A, u: (U * np.inf, A, u), NonFiniteError, "U holds"),
        (lambda U, A, u: ("abc", A, u), DTypeError, "numeric"),
        (lambda U, A, u: (U * 1j, A, u), DTypeError, "complex"),
    ],
)
def test_from_arrays_rejects(mutate, error, words):
    with pytest.raises(error, match=words):
        ImplicitNetwork.from_arrays(*mutate(*arrays()), gamma=0.25)


@pytest.mark.parametrize("gamma", [0.0, 0.5, -0.1, 0.7, math.nan, math.inf])
def test_gamma_out_of_range(gamma):
    with pytest.raises(ParameterError, match="gamma"):
        ImplicitNetwork.from_arrays(*arrays(), gamma=gamma)
    with pytest.raises(ParameterError, match="gamma"):
        limiting_gram(unit_rows(3, 2, 0), gamma=gamma)


@pytest.mark.parametrize("name", ["sigma_u", "kappa"])
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan])
def test_scales_must_be_positive(name, value):
    with pytest.raises(ParameterError, match=name):
        ImplicitNetwork.from_arrays(*arrays(), gamma=0.25, **{name: value})


def test_inputs_checked_by_network():
    net = ImplicitNetwork.initialize(d=3, m=8, seed=0)
    with pytest.raises(ShapeError, match="d = 3"):
        net.equilibrium(np.ones((2, 4)))
    with pytest.raises(NonFiniteError):
        net.output(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(ShapeError, match="length n"):
        net.loss_gradient(unit_rows(3, 3, 0), np.zeros(2))


def test_contraction_factor_above_one_is_refused_quickly():
    net = ImplicitNetwork.initialize(d=3, m=200, gamma=0.25, seed=0)
    net = net.with_A(net.A * 3.0)  # rho ~ 1.5
    t0 = time.perf_counter()
    with pytest.raises(ContractionError) as info:
        net.equilibrium(unit_rows(4, 3, 0))
    assert time.perf_counter() - t0 < 2.0
    assert info.value.factor == pytest.approx(net.contraction_factor()) and info.value.factor > 1.4
    assert "allow_noncontractive" in str(info.value)


def test_noncontractive_opt_in_diverges_with_an_error_not_a_hang():
    m = 10
    v = np.full(m, 1 / math.sqrt(m))
    A = 1.5 * math.sqrt(m) / 0.25 * np.outer(v, v)  # rho = 1.5, Perron direction
    net = ImplicitNetwork.from_arrays(np.ones((m, 2)), A, np.ones(m), gamma=0.25)
    for method in ("picard", "anderson"):
        with pytest.raises(ConvergenceError) as info:
            net.equilibrium(np.array([[1.0, 0.0]]), method=method, allow_noncontractive=True)
        assert info.value.iterations <= 10_000


def test_iteration_cap_raises_with_residual_and_partial_result():
    net = ImplicitNetwork.initialize(d=3, m=30, gamma=0.45, seed=1)
    with pytest.raises(ConvergenceError) as info:
        net.equilibrium(unit_rows(3, 3, 0), method="picard", max_iter=3)
    err = info.value
    assert err.iterations == 3 and err.residual > err.tol and err.result is not None
    assert torch.isfinite(err.result.Z).all()


def test_bad_tolerance_and_solver_name():
    net = ImplicitNetwork.initialize(d=2, m=5, seed=0)
    with pytest.raises(ParameterError, match="tol"):
        net.equilibrium(unit_rows(2, 2, 0), tol=0.0)
    with pytest.raises(ParameterError, match="unknown solver"):
        net.equilibrium(unit_rows(2, 2, 0), method="newton")


def test_kernel_input_checks():
    X = unit_rows(4, 3, 0)
    with pytest.raises(NormError, match="unit-norm"):
        limiting_gram(2 * X, gamma=0.25)
    Z = X.clone()
    Z[1] = 0
    with pytest.raises(NormError, match="zero-norm"):
        lambda_0(Z, gamma=0.25)
    with pytest.raises(NonFiniteError):
        limiting_gram(X * math.inf, gamma=0.25)
    with pytest.raises(ShapeError):
        limiting_gram(X[0], gamma=0.25)


def test_assumption_a1_check():
    X = unit_rows(5, 3, 0)
    require_a1(X)
    for bad in (X[2], -X[2], X[2] * (1 + 1e-15)):
        Y = X.clone()
        Y[4] = bad
        with pytest.raises(DegenerateInputError, match="rows 2 and 4|rows 4 and 2"):
            require_a1(Y)
    with pytest.raises(DegenerateInputError):
        require_a1(X, min_angle=math.pi / 2)
