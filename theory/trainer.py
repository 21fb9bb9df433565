"""The reference trainer: full-batch square loss, only the implicit layer A trained (the
paper's setting), in float64 (docs/mathematics.md section 2; arXiv 2209.15562).

- :meth:`Trainer.gradient_flow`: dA/dt = -dL/dA = -(kappa gamma/m) B^T diag(r) Z, integrated
  by one adaptive stepper over all of [0, T] (:class:`theory.integrate.Stepper`: scipy's RK45
  by default, in torch on the network's device; rtol 1e-6, atol 1e-9 on the entries of A), the
  record times read from its dense output (the step size
  is never cut at a record time: restarting the integrator at each of the 10 record
  intervals cost twice the evaluations at m = 1024), with one more state I(t) = int_0^t
  lambda_min(G(s)) ds integrated under the same error control (TD-1's trajectory-wise
  bound). Each equilibrium solve is warm-started from the previous one.

  Cost: the vector field jumps where a pre-activation crosses 0 (relu'(0) = 0), and the flow
  can slide along such a kink, flipping one unit back and forth; adaptive RK then shrinks its
  steps. Wide networks (few kinks crossed, as the kernel regime predicts) are cheap; narrow
  ones are not (evaluation counts in benchmarks/README.md).
- :meth:`Trainer.gradient_descent`: A <- A - eta dL/dA.
- ``train_u=True`` also trains the output layer u (a contrast, never the default) and records
  how much of the total Gram trace the output block kappa^2/m Z Z^T contributes.

At every record time the trainer stores the loss, the residual r, lambda_min and lambda_max
of G(t), ||A(t) - A(0)||_F and ||A(t) - A(0)||_2, the contraction factor and the outputs.
If the contraction is lost (rho >= 1 at a record time), a solve fails or the budget of
``max_evaluations`` states runs out (a flow sliding along a kink must not hang), it raises
:class:`TrainingError` carrying the trajectory so far.

Tolerance of the flow: across the kinks, where the field jumps, the global error is first
order, about 20 rtol (``theory.tolerances.INTEGRATOR`` says how it was measured).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ._validation import as_tensor
from .errors import ShapeError, TheoryError
from .integrate import TABLEAUX, Stepper
from .linalg import top_right_singular_vector
from .network import Equilibrium, ImplicitNetwork, spectral_norm

METHODS = tuple(TABLEAUX)  # explicit steppers with dense output (scipy's tableaux, in torch)
SOLVE_TOL = 1e-12  # descents and single states: plain arithmetic on the solves (TD-2 allows 1e-9)
FLOW_SOLVE_RATIO = 1e-6  # a flow's solves: six orders below the integrator's rtol (at least 1e-12)


class TrainingError(TheoryError):
    """Training stopped: contraction lost or a solve failed; ``trajectory`` holds what was done."""

    def __init__(self, message: str, trajectory: Trajectory):
        super().__init__(message)
        self.trajectory = trajectory


@dataclass(frozen=True, eq=False)
class State:
    """Everything at one parameter point (A, u): the network, its equilibrium, the backward
    vectors B, outputs f and residual r = f - y, the gradients, the Gram(s) and the extreme
    eigenvalues of G. With ``train_u``, ``G`` is G_A + G_u and ``grad_u``/``G_u`` are set."""

    net: ImplicitNetwork
    eq: Equilibrium
    B: torch.Tensor
    f: torch.Tensor
    r: torch.Tensor
    G_A: torch.Tensor
    grad_A: torch.Tensor
    G: torch.Tensor
    lambda_min: float
    lambda_max: float
    grad_u: torch.Tensor | None = None
    G_u: torch.Tensor | None = None


@dataclass
class Snapshot:
    t: float
    loss: float
    residual: np.ndarray
    outputs: np.ndarray
    lambda_min: float
    lambda_max: float
    move_fro: float
    move_op: float
    contraction_factor: float
    lambda_integral: float = math.nan  # int_0^t lambda_min(G(s)) ds (gradient flow only)
    # extremes of lambda_min / lambda_max over every state evaluated on [0, t] (the integrator's
    # stages included), a finer net than the record times for TD-3's Lmin and Lmax
    lambda_min_seen: float = math.nan
    lambda_max_seen: float = math.nan
    # the largest contraction factor over every state evaluated on [0, t] (the integrator's stages
    # included), each by two steps of power iteration on A^T A warm-started from the previous
    # state's vector, the first state's from A(0)'s exact top singular vector (A changes little
    # between states, so the iteration stays converged); the records carry the exact factor (TD-4)
    rho_seen: float = math.nan
    output_layer_share: float = math.nan  # trace(G_u) / trace(G_A + G_u) when u is trained
    # min_ij |h_ij|: how close the nearest unit is to its ReLU kink
    kink_distance: float = math.nan
    # the most times any one unit switched on or off between consecutive evaluated states on
    # [0, t]: a clean crossing switches it a few times (integrator stages straddle it); a flow
    # sliding along a kink (a Filippov sliding mode) switches it at almost every stage
    max_switches: int = 0


@dataclass
class Trajectory:
    method: str
    snapshots: list[Snapshot] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    A: torch.Tensor | None = None  # the last layer reached
    rhs_evaluations: int = 0

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in self.snapshots])

    @property
    def times(self) -> np.ndarray:
        return self.column("t")


class Trainer:
    """Trains ``net`` on (X, y); see the module docstring. ``tol``: relative residual of the
    forward and backward solves; by default 1e-12 for descents and :meth:`state`, and for a flow
    six orders below the integrator's rtol, at least 1e-12 (1e-10 at the catalog's rtol 1e-4,
    whose global error is ~2e-3: the looser solves move the records only within that error,
    and save 12.5% of a flow; benchmarks/README.md, "Session 13"). ``method``:
    their solver; Picard by default, because every solve is warm-started from the previous
    state and then needs few steps, which Anderson's bookkeeping makes dearer, not fewer (the
    same trajectory to 10 digits; timings in benchmarks/README.md)."""

    def __init__(
        self,
        net: ImplicitNetwork,
        X,
        y,
        *,
        train_u: bool = False,
        tol: float | None = None,
        method: str = "picard",
        max_evaluations: int = 50_000,
    ):
        self.net0 = net
        self.device = net.device  # the trainer computes where its network lives
        self.X = as_tensor(X, "X", ndim=2, device=self.device)
        self.y = as_tensor(y, "y", ndim=1, device=self.device)
        if self.y.shape[0] != self.X.shape[0]:
            raise ShapeError(f"y must have length n = {self.X.shape[0]}, got {self.y.shape[0]}")
        self.train_u = train_u
        self.tol = tol
        self._tol = self._solve_tol()  # what the current run solves to
        self.method = method
        self.max_evaluations = max_evaluations  # a budget, so that a sliding flow cannot hang
        self._Z: torch.Tensor | None = None  # warm starts
        self._B: torch.Tensor | None = None
        self._mask: torch.Tensor | None = None
        self._switches = torch.zeros(self.X.shape[0], net.m, dtype=torch.int64, device=self.device)
        self.evaluations = 0
        self._seen = [math.inf, -math.inf]
        self._rho_seen: float = -math.inf
        self._v: torch.Tensor | None = None

    def _solve_tol(self, rtol: float | None = None) -> float:
        """The solves' tolerance: the one given, else 1e-12, or for a flow of tolerance ``rtol``
        six orders below it (at least 1e-12)."""
        if self.tol is not None:
            return self.tol
        return SOLVE_TOL if rtol is None else max(SOLVE_TOL, FLOW_SOLVE_RATIO * rtol)

    # ---- one state -------------------------------------------------------------------
    def _net(self, A: torch.Tensor, u: torch.Tensor | None = None) -> ImplicitNetwork:
        n0 = self.net0
        return ImplicitNetwork(n0.U, A, n0.u if u is None else u, n0.gamma, n0.sigma_u, n0.kappa, n0.device)

    def state(self, A: torch.Tensor, u: torch.Tensor | None = None, *, certify: bool = False) -> State:
        """Everything at parameters (A, u): r, outputs, gradients, the Gram(s), its extreme
        eigenvalues (a :class:`State`). A and u are copied (the state's network owns them)."""
        self._tol = self._solve_tol()
        return self._evaluate(self._net(A, u), certify=certify)

    def _evaluate(self, net: ImplicitNetwork, *, certify: bool = False, grad_out: torch.Tensor | None = None) -> State:
        """:meth:`state` of ``net``; the trainer's own loops pass a network that shares their A
        (:meth:`ImplicitNetwork._sharing`), and the flow's right-hand side ``grad_out``, where
        the gradient is written instead of a new tensor."""
        if self.evaluations >= self.max_evaluations:
            raise TheoryError(f"evaluation budget of {self.max_evaluations} states exhausted (the flow may be sliding along a ReLU kink)")
        eq = net.equilibrium(self.X, method=self.method, tol=self._tol, Z0=self._Z, certify=certify)
        B = net.backward_vectors(self.X, equilibrium=eq, method=self.method, tol=self._tol, B0=self._B)
        self._Z, self._B = eq.Z, B
        if self._mask is not None:
            self._switches += (eq.mask != self._mask).to(torch.int64)
        self._mask = eq.mask
        f = net.output(self.X, equilibrium=eq)
        r = f - self.y
        G_A = net.gram_of(B, eq.Z)
        grad_u = G_u = None
        G = G_A
        if self.train_u:
            k = net.kappa / math.sqrt(net.m)
            grad_u = k * (eq.Z.T @ r)
            G_u = k**2 * (eq.Z @ eq.Z.T)
            G = G_A + G_u
        ev = torch.linalg.eigvalsh(G)
        lo, hi = float(ev[0]), float(ev[-1])
        self._seen = [min(self._seen[0], lo), max(self._seen[1], hi)]
        self._rho_seen = max(self._rho_seen, net.c * self._power_norm(net.A))
        self.evaluations += 1
        return State(net, eq, B, f, r, G_A, net.weighted_gradient(B, eq.Z, r, out=grad_out), G, lo, hi, grad_u, G_u)

    def _power_norm(self, A: torch.Tensor, steps: int = 2) -> float:
        """||A||_2 by power iteration on A^T A (a lower estimate), warm-started from the previous
        state's vector; a run starts it from A(0)'s top singular vector (:meth:`_reset`). Two
        steps: along a flow at m = 512 the estimate after two steps was within 8e-8 (relative)
        of the estimate after eight, at every state past the first few; with the old start
        (the all-ones vector) the first states were up to 4% low, now they are exact."""
        v = self._v
        if v is None:
            v = torch.ones(A.shape[1], dtype=A.dtype, device=A.device) / math.sqrt(A.shape[1])
        for _ in range(steps):
            w = A.T @ (A @ v)
            v = w / torch.linalg.vector_norm(w)
        self._v = v
        return float(torch.linalg.vector_norm(A @ v))

    def _snapshot(self, t: float, A, u, A0, integral: float) -> Snapshot:
        st = self._evaluate(self.net0._sharing(A, u), certify=True)
        share = math.nan
        if st.G_u is not None:
            share = float(torch.trace(st.G_u) / torch.trace(st.G))
        dA = A - A0
        net, Z = st.net, st.eq.Z
        H = net.c * (Z @ net.A.T) + net.preactivation_offset(self.X)
        return Snapshot(
            t=float(t),
            loss=0.5 * float(st.r @ st.r),
            residual=st.r.cpu().numpy().copy(),
            outputs=st.f.cpu().numpy().copy(),
            lambda_min=st.lambda_min,
            lambda_max=st.lambda_max,
            move_fro=float(torch.linalg.matrix_norm(dA)),
            move_op=spectral_norm(dA),
            contraction_factor=st.eq.contraction_factor,
            lambda_integral=integral,
            lambda_min_seen=self._seen[0],
            lambda_max_seen=self._seen[1],
            rho_seen=self._rho_seen,
            output_layer_share=share,
            kink_distance=float(H.abs().min()),
            max_switches=int(self._switches.max()),
        )

    def _reset(self, A0: torch.Tensor) -> None:
        self._Z = self._B = self._mask = None
        self._switches = torch.zeros(self.X.shape[0], self.net0.m, dtype=torch.int64, device=self.device)
        self._seen = [math.inf, -math.inf]
        self._rho_seen, self._v = -math.inf, top_right_singular_vector(A0)
        self.evaluations = 0

    @contextmanager
    def _guard(self, traj: Trajectory):
        """Turn any failed solve into a TrainingError carrying the trajectory so far. Runs torch
        and numpy's BLAS on one thread: the solves are small (n x m times m x m), and thread pools
        spinning between them made flows several times slower on 2 cores, and doubled the CPU
        time even on a quiet machine (benchmarks/README.md)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        blas = threadpool_limits(limits=1)
        try:
            yield
        except TrainingError:
            raise
        except TheoryError as err:
            raise TrainingError(f"a solve failed during training: {err}", traj) from err
        finally:
            torch.set_num_threads(threads)
            blas.restore_original_limits()
            traj.rhs_evaluations = self.evaluations

    def _record(self, traj: Trajectory, t: float, A, u, A0, integral: float) -> None:
        """Append a snapshot at time t; stop if the contraction is lost there."""
        traj.A = A
        snap = self._snapshot(t, A, u, A0, integral)
        traj.snapshots.append(snap)
        if not snap.contraction_factor < 1.0:
            raise TrainingError(f"contraction lost at t = {t}: rho = {snap.contraction_factor:.4g}", traj)

    # ---- gradient flow ---------------------------------------------------------------
    def gradient_flow(self, T: float, *, times=None, rtol: float = 1e-6, atol: float = 1e-9, method: str = "RK45") -> Trajectory:
        """Integrate gradient flow on [0, T], recording at ``times`` (default 21 equispaced)."""
        times = np.linspace(0.0, T, 21) if times is None else np.asarray(times, dtype=float)
        m = self.net0.m
        A0, u0 = self.net0.A.clone(), self.net0.u.clone()
        self._tol = self._solve_tol(rtol)
        settings = {"T": T, "rtol": rtol, "atol": atol, "method": method, "train_u": self.train_u, "solve_tol": self._tol}
        traj = Trajectory("gradient_flow", settings=settings)
        # the state (A, u, int lambda_min) stays one flat tensor on the network's device
        y = torch.cat([A0.ravel(), u0 if self.train_u else A0.new_empty(0), A0.new_zeros(1)])

        def unpack(vec):  # views: the network built from them copies
            return vec[: m * m].view(m, m), (vec[m * m : m * m + m] if self.train_u else None)

        def rhs(_t, vec):
            # -dL/dA written straight into the derivative's vector: st.grad_A is a view of
            # `out`, negated in place (exactly: negation commutes with the rounding), and st is
            # not kept
            out = torch.empty_like(vec)
            st = self._evaluate(self.net0._sharing(*unpack(vec)), grad_out=out[: m * m].view(m, m))
            out[: m * m].neg_()
            if st.grad_u is not None:
                torch.neg(st.grad_u, out=out[m * m : m * m + m])
            out[-1] = st.lambda_min
            return out

        if method not in METHODS:
            raise ValueError(f"unknown integrator {method!r}; choose one of {sorted(METHODS)}")
        with self._guard(traj):
            self._reset(A0)  # inside the guard: its singular vector on one thread, like every solve
            traj.snapshots.append(self._snapshot(0.0, A0, u0 if self.train_u else None, A0, 0.0))
            solver = Stepper(rhs, 0.0, y, float(times[-1]), rtol=rtol, atol=atol, method=method)
            pending = [float(t) for t in times[1:]]
            while pending:
                if solver.status != "running":
                    raise TrainingError(f"integrator stopped at t = {solver.t:.6g} before {pending[0]:.6g}: {solver.status}", traj)
                message = solver.step()
                if solver.status == "failed":
                    raise TrainingError(f"integrator failed at t = {solver.t:.6g}: {message}", traj)
                while pending and pending[0] <= solver.t:
                    t1 = pending.pop(0)
                    yt = solver.y if t1 == solver.t else solver.dense(t1)
                    A, u = unpack(yt)
                    self._record(traj, t1, A, u, A0, float(yt[-1]))
        return traj

    # ---- gradient descent ------------------------------------------------------------
    def gradient_descent(self, eta: float, steps: int, *, record_every: int = 1) -> Trajectory:
        """A_{k+1} = A_k - eta dL/dA (and u likewise when ``train_u``), recording every
        ``record_every`` steps (t = k)."""
        A0 = self.net0.A.clone()
        A, u = A0.clone(), (self.net0.u.clone() if self.train_u else None)
        self._tol = self._solve_tol()
        settings = {"eta": eta, "steps": steps, "train_u": self.train_u, "solve_tol": self._tol}
        traj = Trajectory("gradient_descent", settings=settings)
        with self._guard(traj):
            self._reset(A0)
            traj.snapshots.append(self._snapshot(0, A, u, A0, math.nan))
            for k in range(1, steps + 1):
                st = self._evaluate(self.net0._sharing(A, u))
                A = A - eta * st.grad_A
                if st.grad_u is not None:
                    assert u is not None  # grad_u exists only when u is trained
                    u = u - eta * st.grad_u
                traj.A = A
                if k % record_every == 0 or k == steps:
                    self._record(traj, k, A, u, A0, math.nan)
        return traj
