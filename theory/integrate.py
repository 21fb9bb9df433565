"""An adaptive explicit Runge-Kutta stepper whose state stays a torch tensor on its device.

The gradient flow's state is A itself (m^2 numbers, and u when it is trained): scipy's steppers
hold it as a host array, so on a GPU every evaluation moved A to the host and back (at
m = 4096 that, not the solves, bounded the scale profile's training sweeps). :class:`Stepper`
is scipy's ``RK45`` / ``RK23`` (Hairer, Norsett & Wanner, *Solving ODEs I*, II.4) with the
same tableaux (read from scipy's classes, so there is one copy of the coefficients), the same
initial step selection, the same error norm (RMS of the embedded error over
``atol + max(|y|, |y_new|) rtol``), the same step-size control (safety 0.9, factors in
[0.2, 10], no growth right after a rejection) and the same dense output, written with torch
operations on the state's device. Same arithmetic up to the order of summation, which matters in
one place: the embedded error estimate E @ K cancels about seven digits, so step sizes differ
from scipy's by ~1e-9 relative (tests/test_integrate.py holds the steps to 1e-7 and the states
to 1e-8 relative). The training sweep's flows took the same number of evaluations as under
scipy and their records agree to 1e-13 (benchmarks/README.md).

Memory: the stages K (n_stages + 1 rows) and two state-sized temporaries for the error; with
the trainer's own copies of A a gradient flow peaked at 21 copies of the m^2 state (46 GB at
m = 16384, measured on an H200).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy.integrate import RK23, RK45

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0  # scipy.integrate._ivp.rk's constants
TABLEAUX = {cls.__name__: cls for cls in (RK45, RK23)}


def _rms(x: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(x)) / math.sqrt(x.numel())


class Stepper:
    """Integrate dy/dt = fun(t, y) from (t0, y0) towards ``t_bound`` (> t0), one accepted step per
    :meth:`step`; ``y0`` a 1-D float64 tensor (its device is where everything runs).
    ``status``: "running", "finished" or "failed"."""

    def __init__(
        self, fun: Callable[[float, torch.Tensor], torch.Tensor], t0: float, y0: torch.Tensor, t_bound: float, *,
        rtol: float, atol: float, method: str = "RK45",
    ):  # fmt: skip
        if method not in TABLEAUX:
            raise ValueError(f"unknown integrator {method!r}; choose one of {sorted(TABLEAUX)}")
        if not t_bound > t0:
            raise ValueError(f"t_bound must exceed t0, got t0 = {t0}, t_bound = {t_bound}")
        tab = TABLEAUX[method]
        dev, dt = y0.device, y0.dtype
        self.A, self.B, self.E, self.P = (torch.as_tensor(np.asarray(x), dtype=dt, device=dev) for x in (tab.A, tab.B, tab.E, tab.P))
        self.C = [float(c) for c in tab.C]
        self.exponent = -1.0 / (tab.error_estimator_order + 1)
        self.fun, self.t, self.y, self.t_bound = fun, float(t0), y0, float(t_bound)
        self.rtol, self.atol = float(rtol), float(atol)
        self.t_old: float = math.nan
        self.y_old: torch.Tensor | None = None
        self.status = "running"
        self.f = fun(self.t, y0)
        self.K = torch.empty((tab.n_stages + 1, y0.numel()), dtype=dt, device=dev)
        self.h_abs = self._initial_step(tab.error_estimator_order)

    def _initial_step(self, order: int) -> float:
        """scipy's ``select_initial_step`` (Hairer et al. II.4)."""
        y0, f0, length = self.y, self.f, self.t_bound - self.t
        scale = self.atol + y0.abs() * self.rtol
        d0, d1 = _rms(y0 / scale), _rms(f0 / scale)
        h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
        h0 = min(h0, length)
        f1 = self.fun(self.t + h0, y0 + h0 * f0)
        d2 = _rms((f1 - f0) / scale) / h0
        h1 = max(1e-6, h0 * 1e-3) if d1 <= 1e-15 and d2 <= 1e-15 else (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
        return min(100 * h0, h1, length)

    def _combine(self, weights: torch.Tensor, rows: torch.Tensor, h: float, base: torch.Tensor) -> torch.Tensor:
        """base + h (weights @ rows), in place on one new tensor (scipy's order of operations)."""
        out = weights @ rows
        return out.mul_(h).add_(base)

    def _rk_step(self, h: float) -> tuple[torch.Tensor, torch.Tensor]:
        K, t, y = self.K, self.t, self.y
        K[0] = self.f
        for s in range(1, len(self.C)):
            K[s] = self.fun(t + self.C[s] * h, self._combine(self.A[s, :s], K[:s], h, y))
        y_new = self._combine(self.B, K[:-1], h, y)
        f_new = self.fun(t + h, y_new)
        K[-1] = f_new
        return y_new, f_new

    def _error_norm(self, y_new: torch.Tensor, h: float) -> float:
        """RMS of the embedded error h (E @ K) over atol + max(|y|, |y_new|) rtol (two temporaries)."""
        scale = self.y.abs()
        torch.maximum(scale, y_new.abs(), out=scale)
        scale.mul_(self.rtol).add_(self.atol)
        return _rms((self.E @ self.K).mul_(h).div_(scale))

    def step(self) -> str | None:
        """Take one accepted step (shrinking the step until the error is below tolerance); a
        message when the step became too small (``status`` "failed")."""
        if self.status != "running":
            raise RuntimeError(f"step() on a {self.status} integrator")
        t = self.t
        min_step = 10 * abs(np.nextafter(t, np.inf) - t)
        h_abs = max(self.h_abs, min_step)
        rejected = False
        while True:
            if h_abs < min_step:
                self.status = "failed"
                return "Required step size is less than spacing between numbers."
            t_new = min(t + h_abs, self.t_bound)
            h = t_new - t
            h_abs = abs(h)
            y_new, f_new = self._rk_step(h)
            error = self._error_norm(y_new, h)
            if error < 1:
                factor = MAX_FACTOR if error == 0 else min(MAX_FACTOR, SAFETY * error**self.exponent)
                h_abs *= min(1.0, factor) if rejected else factor
                break
            h_abs *= max(MIN_FACTOR, SAFETY * error**self.exponent)
            rejected = True
        self.t_old, self.y_old = t, self.y
        self.t, self.y, self.f, self.h_abs = t_new, y_new, f_new, h_abs
        if t_new >= self.t_bound:
            self.status = "finished"
        return None

    def dense(self, t: float) -> torch.Tensor:
        """The state at ``t`` in the last step [t_old, t] from its interpolant (scipy's
        ``RkDenseOutput``: y_old + h sum_j (P p(x))_j K_j, p(x) = (x, x^2, ...), x = (t - t_old)/h)."""
        assert self.y_old is not None, "no step taken yet"
        h = self.t - self.t_old
        x = (t - self.t_old) / h
        p = torch.tensor([x ** (k + 1) for k in range(self.P.shape[1])], dtype=self.y.dtype, device=self.y.device)
        return self._combine(self.P @ p, self.K, h, self.y_old)
