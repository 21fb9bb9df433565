"""The training runs the TD claims read: one cached gradient flow or descent per (setting,
width, seed), with what the claims need from it (:class:`Run`). The setting: n = 4 random
unit inputs in R^3, labels +-1, gamma = 0.45, kappa = 4 (see :mod:`.training`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..data import gaussian_directions
from ..device import default_device
from ..kernel import limiting_gram
from ..network import ImplicitNetwork
from ..tolerances import FLOW_ATOL, FLOW_RTOL
from ..trainer import Trainer, TrainingError, Trajectory
from .base import Evidence

RECORDS = 11  # record times per run (equispaced on [0, T])
SETTING = {"n": 4, "d": 3, "gamma": 0.45, "kappa": 4.0, "data_seed": 7}


@lru_cache(maxsize=64)
def problem(n: int, d: int, gamma: float, kappa: float, data_seed: int):
    """(X, y, G_inf, lambda_0): unit inputs, +-1 labels, the limit Gram and its smallest eigenvalue."""
    g = torch.Generator().manual_seed(int(data_seed))
    X = gaussian_directions(n, d, g)
    y = torch.randint(0, 2, (n,), generator=g).to(torch.float64) * 2 - 1
    G = limiting_gram(X, gamma=gamma, kappa=kappa)
    return X, y, G, float(torch.linalg.eigvalsh(G)[0])


@dataclass
class Run:
    """One training run and what the claims need from it."""

    setting: dict
    m: int
    seed: int
    method: str  # "gradient_flow" or "gradient_descent"
    lambda_0: float
    G0: np.ndarray  # G(0)
    r0: np.ndarray
    trajectory: Trajectory
    error: str | None = None  # why training stopped early (TrainingError), if it did
    gamma: float = 0.0
    eta: float = math.nan

    def col(self, name: str) -> np.ndarray:
        return self.trajectory.column(name)

    @property
    def t(self) -> np.ndarray:
        return self.trajectory.times

    def sq_residual(self) -> np.ndarray:
        return np.array([float(s.residual @ s.residual) for s in self.trajectory.snapshots])

    def summary(self) -> dict:
        lm = self.col("lambda_min")
        return {
            "m": self.m,
            "seed": self.seed,
            "lambda_0": self.lambda_0,
            "lambda_min(G(0))/lambda_0": lm[0] / self.lambda_0,
            "min_t lambda_min(G(t))/lambda_0": float(lm.min() / self.lambda_0),
            "loss(T)/loss(0)": float(self.col("loss")[-1] / self.col("loss")[0]),
            "max_t rho(A(t))": float(self.col("contraction_factor").max()),
            "evaluations": self.trajectory.rhs_evaluations,
            "max_switches_of_a_unit": int(self.col("max_switches")[-1]),
            **({"stopped": self.error} if self.error else {}),
        }


def _network(setting: dict, m: int, seed: int) -> ImplicitNetwork:
    return ImplicitNetwork.initialize(setting["d"], m, gamma=setting["gamma"], kappa=setting["kappa"], seed=seed)


COUPLING = 0xC0A1  # the coupling draw's own stream: numpy's SeedSequence([seed, COUPLING]), not torch's


def coupled_network(setting: dict, m: int, seed: int) -> ImplicitNetwork:
    """``_network(setting, m, seed)`` with u redrawn so that f(0) on the setting's inputs is
    (kappa / sqrt(m)) chol(Z Z^T) xi, one xi ~ N(0, I_n) per seed shared by every width
    (:meth:`ImplicitNetwork.with_outputs_coupled`): the same law at each width, common random
    numbers across widths. xi comes from its own stream, independent of U, A and u."""
    X = problem(**dict(_problem_key(setting)))[0]
    xi = np.random.default_rng([int(seed), COUPLING]).standard_normal(X.shape[0])
    return _network(setting, m, seed).with_outputs_coupled(X, xi)


def _run(key: tuple, m: int, seed: int, method: str, horizon: float, eta_factor: float, coupled: bool = False) -> Run:
    return _run_on(key, m, seed, method, horizon, eta_factor, str(default_device()), coupled)


@lru_cache(maxsize=512)
def _run_on(key: tuple, m: int, seed: int, method: str, horizon: float, eta_factor: float, device: str, coupled: bool = False) -> Run:
    """One run on ``device`` (cached per device: the same seed gives the same network on each);
    ``coupled``: the network of :func:`coupled_network`."""
    setting = dict(key)
    X, y, _, lam0 = problem(**setting)
    net = coupled_network(setting, m, seed) if coupled else _network(setting, m, seed)
    trainer = Trainer(net, X, y)
    st = trainer.state(net.A)
    G0, r0 = st.G.cpu().numpy(), st.r.cpu().numpy()
    eta, error = math.nan, None
    try:
        if method == "gradient_flow":
            T = horizon / lam0
            traj = trainer.gradient_flow(T, times=np.linspace(0.0, T, RECORDS), rtol=FLOW_RTOL, atol=FLOW_ATOL)
        else:
            eta = eta_factor / st.lambda_max
            steps = math.ceil(horizon / (eta * lam0))
            traj = trainer.gradient_descent(eta, steps, record_every=max(1, steps // (RECORDS - 1)))
    except TrainingError as err:
        traj, error = err.trajectory, str(err)
    traj.A = None  # the claims read the records; a cached run must not pin m^2 numbers (GPU memory)
    return Run(setting, m, seed, method, lam0, G0, r0, traj, error, setting["gamma"], eta)


PROBLEM_KEYS = ("n", "d", "gamma", "kappa", "data_seed")


def _problem_key(setting) -> tuple:
    """The problem's settings (n, d, gamma, kappa, data_seed) as a sorted, hashable key; any
    other keys of ``setting`` (a configuration's m, eta_factor) are not part of the problem."""
    return tuple(sorted((k, setting[k]) for k in PROBLEM_KEYS))


def flow(setting, m: int, seed: int, horizon: float = 5.0, *, coupled: bool = False) -> Run:
    """Gradient flow on [0, horizon / lambda_0] (cached by what it depends on); ``coupled``:
    from :func:`coupled_network` (common random numbers across widths)."""
    return _run(_problem_key(setting), int(m), int(seed), "gradient_flow", float(horizon), 0.0, bool(coupled))


def descent(setting, m: int, seed: int, eta_factor: float, horizon: float = 8.0) -> Run:
    """Gradient descent with step eta_factor / lambda_max(G(0)) for horizon / (eta lambda_0) steps (cached)."""
    return _run(_problem_key(setting), int(m), int(seed), "gradient_descent", float(horizon), float(eta_factor))


def _worst_in_time(run: Run, ratio: np.ndarray, tolerance: float, why: str, **details) -> Evidence:
    """Evidence for max_{t > 0} ratio(t) <= 1 (at t = 0 every ratio here is 1, or 0/0)."""
    if len(ratio) < 2:
        return Evidence(math.inf, 1.0, "<=", 0.0, "no record after t = 0", {**run.summary(), **details})
    k = 1 + int(np.nanargmax(ratio[1:]))
    return Evidence(float(ratio[k]), 1.0, "<=", tolerance, why, {"t": float(run.t[k]), **run.summary(), **details})
