"""theory.integrate.Stepper is scipy's RK45 / RK23 in torch: the same steps, the same dense output."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import RK23, RK45

from theory.integrate import Stepper


def _lotka_volterra(t, y):
    """A nonlinear, non-autonomous field (so that stage times matter)."""
    a, b = y[0], y[1]
    return [a * (1.5 - b) + 0.1 * math.sin(t), b * (a - 3.0)]


def _torch_field(t, y):
    return torch.tensor(_lotka_volterra(t, y.tolist()), dtype=torch.float64)


@pytest.mark.parametrize("method", [RK45, RK23])
def test_stepper_takes_scipys_steps(method):
    """The same steps (accepted and rejected), the same states and dense output, step by step.
    Not to rounding: the embedded error estimate E @ K cancels about seven digits, so the two
    orders of summation move each step size by ~1e-9 relative (measured: RK45 1.2e-9 on t,
    6e-10 on y over 68 steps; RK23 1e-13). Held to 1e-7 on t and 1e-8 on y, a hundredth of
    rtol: a wrong coefficient or control rule moves them by rtol or more."""
    y0, T = [1.0, 1.0], 8.0
    ref = method(lambda t, y: np.array(_lotka_volterra(t, y)), 0.0, np.array(y0), T, rtol=1e-6, atol=1e-9)
    ours = Stepper(_torch_field, 0.0, torch.tensor(y0, dtype=torch.float64), T, rtol=1e-6, atol=1e-9, method=method.__name__)
    steps = 0
    while ref.status == "running":
        ref.step()
        ours.step()
        steps += 1
        assert ours.t == pytest.approx(ref.t, rel=1e-7)
        np.testing.assert_allclose(ours.y.numpy(), ref.y, rtol=1e-8)
        mid = 0.5 * (ref.t_old + ref.t)
        np.testing.assert_allclose(ours.dense(mid).numpy(), ref.dense_output()(mid), rtol=1e-8)
    assert ours.status == "finished" and ours.t == T and steps > 20
    with pytest.raises(RuntimeError, match="finished"):
        ours.step()


def test_stepper_refuses_bad_arguments():
    y0 = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(ValueError, match="unknown integrator"):
        Stepper(lambda t, y: y, 0.0, y0, 1.0, rtol=1e-6, atol=1e-9, method="DOP853")
    with pytest.raises(ValueError, match="t_bound must exceed"):
        Stepper(lambda t, y: y, 1.0, y0, 1.0, rtol=1e-6, atol=1e-9)


def test_a_step_too_small_fails_instead_of_hanging():
    """A field of random values of size 1e6 (no smoothness for the error estimate to exploit)
    at t = 1 with atol 1e-15: an accepted step would need h < 1e-21, below the spacing of the
    floats there; the step shrinks to that limit and the stepper says so."""
    g = torch.Generator().manual_seed(0)

    def noise(t, y):
        return 1e6 * torch.randn(y.shape, generator=g, dtype=torch.float64)

    s = Stepper(noise, 1.0, torch.zeros(3, dtype=torch.float64), 2.0, rtol=1e-12, atol=1e-15)
    message = s.step()
    assert s.status == "failed" and "step size" in message
