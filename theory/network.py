"""The reference implicit network (docs/mathematics.md sections 1-2; arXiv 2209.15562).

    z*(x) = relu(c A z* + sigma_u U x),   c = gamma / sqrt(m)
    f(x)  = (kappa / sqrt(m)) u^T z*(x)
    b(x)  = D (u + c A^T b),              D = diag(1[c A z* + sigma_u U x > 0])
    df(x)/dA = (kappa gamma / m) b z*^T                          (rank one; GR-1)
    G = (kappa gamma / m)^2 (B B^T) o (Z Z^T)                     (Hadamard form; GR-2)
    dL/dA = (kappa gamma / m) B^T diag(r) Z,   r = f - y

Everything is float64, on the CPU or the network's device (``theory.device``), batched over
the rows of X (Z, B are n x m). This is the
one implementation of the layer, the forward solve, the backward solve and the Gram; every
claim, trainer and audit calls it. The n x m^2 Jacobian is never formed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch

from ._validation import DTYPE, as_tensor, check_gamma, check_int, check_max_iter, check_memory, check_positive, check_seed, check_tol
from .device import resolve
from .equilibrium import Equilibrium
from .errors import ContractionError, ConvergenceError, EquilibriumMismatchError, ShapeError
from .linalg import hadamard_gram, spectral_norm
from .solvers import FixedPointResult, default_cap, get_solver
from .tolerances import DEFAULT_SOLVE

DEFAULT_TOL = DEFAULT_SOLVE  # relative residual ||T(z) - z|| / ||z|| (theory.tolerances says why)


_NETWORK_IDS = itertools.count(1)
DEVICE_DRAW_ABOVE = 8192  # wider networks on a GPU draw their parameters there (see initialize)


def relu_layer(Z: torch.Tensor, A: torch.Tensor, H0: torch.Tensor, c: float) -> torch.Tensor:
    """T(Z) = relu(c Z A^T + H0) row-wise, H0 = sigma_u X U^T: the weight-tied layer. Up to 16
    rows, the product is (A Z^T)^T: BLAS reads a row-major A faster so (benchmarks/README.md)."""
    P = (A @ Z.mT).mT if Z.ndim == 2 and Z.shape[0] <= 16 else Z @ A.mT
    return P.mul_(c).add_(H0).relu_()


@dataclass(frozen=True, eq=False)
class ImplicitNetwork:
    """z* = relu(gamma/sqrt(m) A z* + sigma_u U x), f = kappa/sqrt(m) u^T z*; only A is trained.

    Build with :meth:`initialize` (i.i.d. N(0,1) parameters from a seed) or
    :meth:`from_arrays`. Instances are immutable and own their parameters: construction copies
    U, A, u (a caller's later in-place change cannot reach them), and what is cached (the
    contraction factor) is keyed by the parameters' version counters, so an in-place change
    through ``net.A`` itself is recomputed, never served stale. :meth:`with_A` returns a new one.

    >>> net = ImplicitNetwork.initialize(d=3, m=64, seed=0)
    >>> X = torch.nn.functional.normalize(torch.randn(5, 3, dtype=torch.float64), dim=1)
    >>> net.gram(X).shape
    torch.Size([5, 5])
    """

    U: torch.Tensor
    A: torch.Tensor
    u: torch.Tensor
    gamma: float = 0.25
    sigma_u: float = 1.0
    kappa: float = 1.0
    device: torch.device | str | None = None  # None: theory.device.default_device()
    _uid: int = field(init=False, repr=False, default=0)
    _cache: dict = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self):
        dev = resolve(self.device)
        object.__setattr__(self, "device", dev)
        U = as_tensor(self.U, "U", ndim=2, device=dev)
        m = U.shape[0]
        A = self.A
        if dev.type == "cpu" and not (isinstance(A, torch.Tensor) and A.dtype == DTYPE and A.device.type == "cpu"):
            check_memory(8.0 * m * m, f"a float64 copy of A (m = {m})")
        A = as_tensor(A, "A", ndim=2, device=dev)
        u = as_tensor(self.u, "u", ndim=1, device=dev)
        if A.shape != (m, m):
            raise ShapeError(f"A must be m x m with m = U.shape[0] = {m}, got {tuple(A.shape)}")
        if u.shape != (m,):
            raise ShapeError(f"u must have length m = {m}, got {tuple(u.shape)}")
        for name, value in (("U", U), ("A", A), ("u", u), ("gamma", check_gamma(self.gamma))):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "sigma_u", check_positive(self.sigma_u, "sigma_u"))
        object.__setattr__(self, "kappa", check_positive(self.kappa, "kappa"))
        object.__setattr__(self, "_uid", next(_NETWORK_IDS))

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def initialize(
        cls, d: int, m: int, *, gamma: float = 0.25, sigma_u: float = 1.0, kappa: float = 1.0, seed: int, device=None
    ) -> ImplicitNetwork:
        """Draw U (m x d), then A (m x m), then u (m), i.i.d. N(0,1), from ``torch.Generator(seed)``
        on the CPU, then place them on ``device`` (the same network on every device).

        ``d``, ``m`` are positive integers and ``seed`` an integer in [0, 2^63 - 1]
        (:class:`ParameterError` otherwise); a width whose parameters cannot fit in the available
        memory (A and one working copy: 16 m^2 bytes) is refused up front with
        :class:`MemoryBudgetError`."""
        d, m = check_int(d, "d", low=1), check_int(m, "m", low=1)
        seed = check_seed(seed)
        dev = resolve(device)
        # widths above DEVICE_DRAW_ABOVE on a GPU draw there (the CPU's generator needs ~20 s
        # per 10^9 numbers): another stream of the same law, so such a network differs from the
        # CPU's of the same seed; at and below it every device gets the CPU's numbers
        where = dev if dev.type != "cpu" and m > DEVICE_DRAW_ABOVE else torch.device("cpu")
        if where.type == "cpu":
            check_memory(16.0 * m * m, f"a width-{m} network (A and one working copy, 16 m^2 bytes)")
        g = torch.Generator(device=where).manual_seed(seed)
        U = torch.randn(m, d, generator=g, dtype=DTYPE, device=where)
        A = torch.randn(m, m, generator=g, dtype=DTYPE, device=where)
        u = torch.randn(m, generator=g, dtype=DTYPE, device=where)
        # drawn here, so finite and owned: no copy or finiteness pass (14% of KG-3 at m = 4096)
        scalars = (check_gamma(gamma), check_positive(sigma_u, "sigma_u"), check_positive(kappa, "kappa"))
        return cls._assemble(U.to(dev), A.to(dev), u.to(dev), *scalars, dev)

    @classmethod
    def initialize_antisymmetric(
        cls, d: int, m: int, *, gamma: float = 0.25, sigma_u: float = 1.0, kappa: float = 1.0, seed: int, device=None
    ) -> ImplicitNetwork:
        """Two copies of a width-m/2 network with opposite output weights, so f(0) = 0 (~1e-16 in
        float64): U = [U'; U'], A = diag(A', A'), u = [u'; -u'] with (U', A', u') from
        ``initialize(d, m/2, seed=seed)``. Both halves reach the same equilibrium z', so f(x) =
        (kappa/sqrt(m)) (u'^T z' - u'^T z') = 0 for every x (GE-1: the (y - f0) of the bound
        becomes y). ||A||_2 = ||A'||_2 ~ 2 sqrt(m/2): rho(A(0)) ~ sqrt(2) gamma, not 2 gamma."""
        if int(m) % 2:
            raise ShapeError(f"an antisymmetric initialization needs an even width, got m={m}")
        half = cls.initialize(d, int(m) // 2, gamma=gamma, sigma_u=sigma_u, kappa=kappa, seed=seed, device="cpu")
        A = torch.block_diag(half.A, half.A)
        U, u = torch.cat([half.U, half.U]), torch.cat([half.u, -half.u])
        return cls.from_arrays(U, A, u, gamma=gamma, sigma_u=sigma_u, kappa=kappa, device=device)

    @classmethod
    def from_arrays(cls, U, A, u, *, gamma: float, sigma_u: float = 1.0, kappa: float = 1.0, device=None) -> ImplicitNetwork:
        """A network from given U (m x d), A (m x m), u (m): numpy arrays, lists or tensors
        (copied: the network owns its parameters), placed on ``device`` (None: the default)."""
        return cls(U, A, u, gamma, sigma_u, kappa, device)

    def to(self, device) -> ImplicitNetwork:
        """The same network (same parameters) on ``device``."""
        return ImplicitNetwork.from_arrays(self.U, self.A, self.u, gamma=self.gamma, sigma_u=self.sigma_u, kappa=self.kappa, device=device)

    def with_A(self, A) -> ImplicitNetwork:
        """The same network with implicit layer ``A`` (U, u, scalars and device unchanged)."""
        return ImplicitNetwork.from_arrays(self.U, A, self.u, gamma=self.gamma, sigma_u=self.sigma_u, kappa=self.kappa, device=self.device)

    def _sharing(self, A: torch.Tensor, u: torch.Tensor | None = None) -> ImplicitNetwork:
        """This network with layer ``A`` (and ``u``) as they are: not copied, not checked for
        finiteness (~10% of a flow's evaluation). Only for an owner that never changes them in
        place: the trainer's integrator states. A non-finite A still surfaces, as the solvers'
        divergence error. Devices compare by the tensors' own ("cuda" is not equal to "cuda:0")."""
        u, m = self.u if u is None else u, self.m
        if A.shape != (m, m) or A.dtype != DTYPE or A.device != self.A.device or not A.is_contiguous() or u.shape != (m,):
            raise ShapeError(f"a shared A must be a contiguous {m} x {m} float64 tensor on {self.A.device} (and u of length {m})")
        return self._assemble(self.U, A, u, self.gamma, self.sigma_u, self.kappa, self.device)

    @classmethod
    def _assemble(cls, U, A, u, gamma: float, sigma_u: float, kappa: float, device: torch.device | str | None) -> ImplicitNetwork:
        """A network of checked scalars and parameters the caller promises are owned, finite,
        consistent float64 tensors on ``device`` (no copy, no check)."""
        net = object.__new__(cls)
        for name, value in (("U", U), ("A", A), ("u", u), ("gamma", gamma), ("sigma_u", sigma_u), ("kappa", kappa), ("device", device)):
            object.__setattr__(net, name, value)
        object.__setattr__(net, "_uid", next(_NETWORK_IDS))
        object.__setattr__(net, "_cache", {})
        return net

    def with_outputs_coupled(self, X, xi) -> ImplicitNetwork:
        """The same network with u redrawn so that f(X) = (kappa / sqrt(m)) chol(Z Z^T) xi, an
        exact draw of the same law (:func:`theory.coupling.outputs_coupled`)."""
        from .coupling import outputs_coupled

        return outputs_coupled(self, X, xi)

    # ---- scalars ------------------------------------------------------------------------
    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def d(self) -> int:
        return self.U.shape[1]

    @property
    def c(self) -> float:
        """c = gamma / sqrt(m)."""
        return self.gamma / math.sqrt(self.m)

    @property
    def source(self) -> tuple:
        """This network's identity and its parameters' version counters: what an
        :class:`Equilibrium` records, and what keys the cache (an in-place change of U, A or u
        bumps a counter, so nothing derived from the old values is served)."""
        return (self._uid, self.U._version, self.A._version, self.u._version)

    def contraction_factor(self) -> float:
        """rho(A) = gamma ||A||_2 / sqrt(m) (WP-1); ||A||_2 by :func:`spectral_norm`. Cached
        for the current values of A (recomputed after an in-place change)."""
        key = self.source
        cached = self._cache.get("rho")
        if cached is None or cached[0] != key:
            cached = (key, self.c * spectral_norm(self.A))
            self._cache["rho"] = cached
        return cached[1]

    def _check_equilibrium(self, eq: Equilibrium, X: torch.Tensor) -> Equilibrium:
        """``eq`` if it was solved by this network, with its current parameters, for exactly X."""
        if eq.source != self.source:
            why = (
                "another network"
                if not eq.source or eq.source[0] != self.source[0]
                else "this network before its parameters changed in place"
            )
            raise EquilibriumMismatchError(f"the equilibrium passed was solved for {why}; solve it again with this network")
        if eq.X is None or eq.X.shape != X.shape or not torch.equal(eq.X, X):
            shape = None if eq.X is None else tuple(eq.X.shape)
            raise EquilibriumMismatchError(
                f"the equilibrium passed was solved for other inputs (shape {shape}, here {tuple(X.shape)}); "
                "solve it for these inputs, or pass the inputs it was solved for"
            )
        return eq

    def _solved(self, X: torch.Tensor, equilibrium: Equilibrium | None, **solve) -> Equilibrium:
        return self.equilibrium(X, **solve) if equilibrium is None else self._check_equilibrium(equilibrium, X)

    # ---- forward ------------------------------------------------------------------------
    def _inputs(self, X) -> torch.Tensor:
        X = as_tensor(X, "X", device=self.device)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ShapeError(f"X must be n x d with d = {self.d}, got shape {tuple(X.shape)}")
        return X

    def preactivation_offset(self, X) -> torch.Tensor:
        """H0 = sigma_u X U^T (n x m), the input's share of the pre-activation."""
        return self.sigma_u * (self._inputs(X) @ self.U.T)

    def equilibrium(
        self,
        X,
        *,
        method: str = "auto",
        tol: float = DEFAULT_TOL,
        max_iter: int | None = None,
        Z0=None,
        allow_noncontractive: bool = False,
        certify: bool = True,
    ) -> Equilibrium:
        """Solve z_i = relu(c A z_i + sigma_u U x_i) for every row x_i of X.

        ``method``: ``"auto"`` (default: Picard, then Anderson if Picard has not converged after
        60 steps; :mod:`theory.solvers`), ``"picard"`` or ``"anderson"``. ``tol``: relative residual
        ``||T(z) - z|| / ||z||`` every row must reach. ``max_iter``: evaluation cap; by default
        ``2 log(tol/2) / log(rho) + 100`` (twice what Picard needs from z0 = 0), at most 10^5.
        ``Z0``: warm start (default zeros). Raises :class:`ContractionError` when rho >= 1
        unless ``allow_noncontractive``, and :class:`ConvergenceError` (carrying the residual
        and the partial result) when the tolerance is not met. ``certify=False`` skips the
        spectral norm (a trainer's inner loop checks it at its own times): no
        ContractionError, ``error_bound`` is inf, the default cap is 10^4 evaluations.
        """
        X = self._inputs(X)
        tol, max_iter = check_tol(tol), check_max_iter(max_iter)
        H0 = self.sigma_u * (X @ self.U.T)
        rho = self.contraction_factor() if certify else math.nan
        if rho >= 1.0 and not allow_noncontractive:
            raise ContractionError(rho)
        if max_iter is None:
            max_iter = default_cap(rho, tol)
        n = H0.shape[0]
        z0 = torch.zeros(n, self.m, dtype=DTYPE, device=self.device) if Z0 is None else as_tensor(Z0, "Z0", ndim=2, device=self.device)
        if z0.shape != (n, self.m):
            raise ShapeError(f"Z0 must be {n} x {self.m}, got {tuple(z0.shape)}")
        A, c = self.A, self.c
        res = get_solver(method)(lambda Z: relu_layer(Z, A, H0, c), z0, tol=tol, max_iter=max_iter)
        eq = self._package(res, H0, rho, X)
        if not res.converged:
            raise ConvergenceError(
                f"equilibrium solve ({res.method}, rho = {rho:.4g}) did not converge",
                residual=res.residual,
                iterations=res.iterations,
                tol=tol,
                result=eq,
            )
        return eq

    def _package(self, res: FixedPointResult, H0: torch.Tensor, rho: float, X: torch.Tensor) -> Equilibrium:
        Z = res.x
        # D = 1[c A z + sigma_u U x > 0] = 1[relu(...) > 0] = 1[T(z) > 0]: the solver already has T(z)
        pre = res.fx if res.fx is not None else self.c * (Z @ self.A.T) + H0
        mask = (pre > 0).to(DTYPE)
        bound = float(res.residuals.max()) / (1.0 - rho) if rho < 1.0 else float("inf")  # nan < 1 is False
        return Equilibrium(Z, mask, res.iterations, res.residual, res.residuals, rho, bound, res.method, res.trace, X, self.source)

    def unrolled(self, X, depth: int) -> torch.Tensor:
        """The weight-tied depth-L network: z^0 = 0, z^l = relu(c A z^{l-1} + sigma_u U x) (WP-6)."""
        H0 = self.preactivation_offset(X)
        Z = torch.zeros_like(H0)
        for _ in range(check_int(depth, "depth", low=0)):
            Z = relu_layer(Z, self.A, H0, self.c)
        return Z

    def output(self, X, *, equilibrium: Equilibrium | None = None, **solve) -> torch.Tensor:
        """f(x_i) = (kappa / sqrt(m)) u^T z*(x_i), a vector of length n. ``equilibrium``: one
        this network solved for exactly these X (anything else is an
        :class:`EquilibriumMismatchError`)."""
        eq = self._solved(self._inputs(X), equilibrium, **solve)
        return (self.kappa / math.sqrt(self.m)) * (eq.Z @ self.u)

    # ---- backward -----------------------------------------------------------------------
    def backward_vectors(
        self,
        X,
        *,
        equilibrium: Equilibrium | None = None,
        method: str = "auto",
        tol: float = DEFAULT_TOL,
        max_iter: int | None = None,
        B0: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """B (n x m), rows b_i = D_i (I - c A^T D_i)^{-1} u, i.e. b = D (u + c A^T b).

        Solved by the same batched fixed-point solvers as the forward pass (its map is a
        contraction with factor <= rho), not by batched LU. Same ``tol`` semantics. ``B0``:
        a warm start (e.g. the previous step's B during training); default D u.
        """
        tol, max_iter = check_tol(tol), check_max_iter(max_iter)
        eq = self._solved(self._inputs(X), equilibrium, method=method, tol=tol, max_iter=max_iter)
        rho = eq.contraction_factor
        if max_iter is None:
            max_iter = default_cap(rho, tol)
        mask, A, c, u = eq.mask, self.A, self.c, self.u
        if B0 is not None:
            B0 = as_tensor(B0, "B0", ndim=2, device=self.device)
            if B0.shape != mask.shape:
                raise ShapeError(f"B0 must be {tuple(mask.shape)}, got {tuple(B0.shape)}")
        start = mask * (u if B0 is None else B0)
        # D (u + c B A) row-wise, in place on the fresh product (the same arithmetic, no temporaries)
        res = get_solver(method)(lambda B: (B @ A).mul_(c).add_(u).mul_(mask), start, tol=tol, max_iter=max_iter)
        if not res.converged:
            raise ConvergenceError(
                f"backward solve b = D(u + c A^T b) ({res.method}, rho = {rho:.4g}) did not converge",
                residual=res.residual,
                iterations=res.iterations,
                tol=tol,
                result=res,
            )
        return res.x

    @property
    def gradient_scale(self) -> float:
        """kappa gamma / m: df(x)/dA = (kappa gamma / m) b z*^T."""
        return self.kappa * self.gamma / self.m

    def features(
        self, X, *, equilibrium: Equilibrium | None = None, method: str = "auto", tol: float = DEFAULT_TOL
    ) -> tuple[torch.Tensor, torch.Tensor, Equilibrium]:
        """(B, Z, equilibrium): the two factors of every per-sample gradient b_i z_i^T."""
        X = self._inputs(X)
        eq = self._solved(X, equilibrium, method=method, tol=tol)
        B = self.backward_vectors(X, equilibrium=eq, method=method, tol=tol)
        return B, eq.Z, eq

    def gram(self, X, **solve) -> torch.Tensor:
        """G = (kappa gamma / m)^2 (B B^T) o (Z Z^T), the n x n NTK w.r.t. A (GR-2). O(n^2 m).

        ``solve``: ``equilibrium``, ``method``, ``tol`` as in :meth:`features`.
        """
        B, Z, _ = self.features(X, **solve)
        return self.gram_of(B, Z)

    def gram_of(self, B: torch.Tensor, Z: torch.Tensor, B2: torch.Tensor | None = None, Z2: torch.Tensor | None = None) -> torch.Tensor:
        """(kappa gamma / m)^2 (B B2^T) o (Z Z2^T) from features (:meth:`features`): the Gram
        when (B2, Z2) is omitted, else the tangent kernel between two sets of points. The one
        Hadamard-form implementation; everything else calls it."""
        return hadamard_gram(B, Z, self.gradient_scale, B2, Z2)

    def weighted_gradient(self, B: torch.Tensor, Z: torch.Tensor, w: torch.Tensor, *, out: torch.Tensor | None = None) -> torch.Tensor:
        """d(sum_i w_i f(x_i))/dA = (kappa gamma / m) B^T diag(w) Z (m x m) from features: the
        backward pass with output cotangent ``w`` (the loss gradient is the case w = r). The one
        implementation; the loss gradient, the trainer and the audits call it. ``out``: an m x m
        tensor to write it into (the same arithmetic, without a temporary)."""
        if out is None:
            return self.gradient_scale * ((B * w[:, None]).T @ Z)
        torch.mm((B * w[:, None]).T, Z, out=out)
        return out.mul_(self.gradient_scale)

    def loss_gradient(self, X, y, **solve) -> tuple[torch.Tensor, float, torch.Tensor]:
        """(dL/dA, L, r) for L = 1/2 ||f - y||^2: dL/dA = (kappa gamma / m) B^T diag(r) Z (m x m)."""
        B, Z, eq = self.features(X, **solve)
        y = as_tensor(y, "y", ndim=1, device=self.device)
        if y.shape[0] != Z.shape[0]:
            raise ShapeError(f"y must have length n = {Z.shape[0]}, got {y.shape[0]}")
        r = self.output(X, equilibrium=eq) - y
        return self.weighted_gradient(B, Z, r), 0.5 * float(r @ r), r
