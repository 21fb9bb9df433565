"""The reference trainer on small problems (the TD claims build on it)."""

import math

import numpy as np
import pytest
import torch

from theory import ImplicitNetwork
from theory.trainer import Trainer, TrainingError

from .conftest import unit_rows


@pytest.fixture
def problem():
    X = unit_rows(3, 3, seed=1)
    y = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    net = ImplicitNetwork.initialize(3, 32, gamma=0.45, kappa=4.0, seed=0)
    return net, X, y


def test_gradient_flow_obeys_its_trajectory_bound(problem):
    """TD-1's trajectory-wise form: ||r(t)||^2 <= exp(-2 int lambda_min(G)) ||r(0)||^2, to the
    integrator's tolerance: rtol 1e-5 on the state (A and I(t)) moves the loss by ~1e-4
    relative, so 1e-3 is allowed. Width 256: at small m, gradient flow slides along ReLU
    kinks and adaptive RK needs thousands of evaluations (18847 for t <= 1 at m = 32)."""
    _, X, y = problem
    net = ImplicitNetwork.initialize(3, 256, gamma=0.45, kappa=4.0, seed=0)
    traj = Trainer(net, X, y).gradient_flow(1.0, times=np.linspace(0, 1.0, 3), rtol=1e-5, atol=1e-7)
    L, integral = traj.column("loss"), traj.column("lambda_integral")
    assert L[-1] < 0.5 * L[0]
    assert np.all(L <= L[0] * np.exp(-2 * integral) * (1 + 1e-3))
    # the check has teeth: the same bound with lambda_max in place of lambda_min fails
    I_max = np.concatenate([[0], np.cumsum(np.diff(traj.times) * traj.column("lambda_max")[1:])])
    assert np.any(L > L[0] * np.exp(-2 * I_max) * (1 + 1e-3))
    assert np.all(np.diff(traj.column("move_fro")) > 0)
    assert traj.column("contraction_factor").max() < 1
    # U and u are frozen: only A moved
    assert traj.A is not None and not torch.equal(traj.A, net.A)


def test_gradient_descent_step_is_the_loss_gradient(problem):
    net, X, y = problem
    eta = 0.05
    traj = Trainer(net, X, y).gradient_descent(eta, 1)
    grad, _, _ = net.loss_gradient(X, y)
    assert torch.allclose(traj.A, net.A - eta * grad, rtol=0, atol=1e-13)
    assert traj.snapshots[1].loss < traj.snapshots[0].loss


def test_contraction_loss_stops_training_with_the_trajectory(problem):
    net, X, y = problem
    with pytest.raises(TrainingError) as info:
        Trainer(net, X, y).gradient_descent(5e4, 20)
    traj = info.value.trajectory
    assert len(traj.snapshots) >= 1 and traj.snapshots[0].t == 0


def test_output_layer_contrast_reports_its_share(problem):
    net, X, y = problem
    traj = Trainer(net, X, y, train_u=True).gradient_descent(0.01, 2)
    share = traj.column("output_layer_share")
    assert np.all((share > 0) & (share < 1))
    # kappa^2/m Z Z^T against the A block: the output block dominates the trace
    assert share[0] > 0.5
    assert math.isnan(Trainer(net, X, y).gradient_descent(0.01, 1).snapshots[0].output_layer_share)


def test_contraction_factor_at_every_state_is_tracked_from_the_exact_start(problem):
    """rho_seen (TD-4's check between records) is a power iteration started from A(0)'s top
    singular vector: its first value is the exact rho(A(0)), and at every record it is at least
    the largest exact factor recorded so far, to 1e-6 (each estimate is a lower one, so only this
    side can show the iteration lagging). From the old start (the all-ones vector) the first
    value was several percent low. The network names its device "cpu:0" while its tensors
    report "cpu": the trainer's uncopied networks compare the tensors' device (on a GPU,
    "cuda" against "cuda:0" refused every state)."""
    _, X, y = problem
    net = ImplicitNetwork.initialize(3, 200, gamma=0.45, kappa=4.0, seed=2, device="cpu:0")
    traj = Trainer(net, X, y).gradient_descent(0.5, 30, record_every=3)
    exact, seen = traj.column("contraction_factor"), traj.column("rho_seen")
    assert seen[0] == pytest.approx(net.contraction_factor(), rel=1e-12)
    running_max = np.maximum.accumulate(exact)
    assert np.all(seen >= running_max * (1 - 1e-6))
    assert traj.column("move_fro")[-1] > 0  # A moved, so the iteration had something to track


def test_a_flow_solves_six_orders_below_its_rtol():
    """By default a flow's forward and backward solves stop at max(1e-12, 1e-6 rtol) (1e-10 at
    the catalog's rtol 1e-4), a descent's and a single state's at 1e-12; an explicit tol is
    used everywhere. On a flow that crosses its kinks cleanly the looser solves do not show:
    against the same flow solved to 1e-12, the loss, the movement and lambda_min agree to 1e-6
    relative with the same steps, yet differ (the looser solves did run). (A flow sliding along
    a kink is only determined to its integration error, and there the records move at that
    level: benchmarks/README.md, "Session 13".)"""
    X = unit_rows(4, 3, seed=7)
    y = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    net = ImplicitNetwork.initialize(3, 256, gamma=0.45, kappa=4.0, seed=2)
    times = np.linspace(0, 2.0, 5)
    loose, tight = Trainer(net, X, y), Trainer(net, X, y, tol=1e-12)
    a = loose.gradient_flow(2.0, times=times, rtol=1e-4, atol=1e-7)
    b = tight.gradient_flow(2.0, times=times, rtol=1e-4, atol=1e-7)
    assert a.settings["solve_tol"] == 1e-10 and b.settings["solve_tol"] == 1e-12
    assert Trainer(net, X, y).gradient_descent(0.01, 1).settings["solve_tol"] == 1e-12
    assert Trainer(net, X, y, tol=1e-11).gradient_descent(0.01, 1).settings["solve_tol"] == 1e-11
    assert a.rhs_evaluations == b.rhs_evaluations
    for name in ("loss", "move_fro", "lambda_min"):
        np.testing.assert_allclose(a.column(name), b.column(name), rtol=1e-6, atol=0)
    assert not np.array_equal(a.column("loss"), b.column("loss"))  # the solves did differ
