"""Well-posedness of the equilibrium (docs/mathematics.md section 4, WP-1..WP-5; arXiv 2209.15562).

The paper assumes rho(A) = gamma ||A||_2 / sqrt(m) < 1 so that the layer map is a
contraction (Banach); WP-1..WP-4 are the standard consequences its proofs use, WP-5 is the
Gaussian spectral-norm tail bound that makes rho(A(0)) ~ 2 gamma < 1 at initialization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..data import sphere
from ..domains import NetworkDomain
from ..errors import ConvergenceError
from ..network import ImplicitNetwork, relu_layer, spectral_norm
from ..tolerances import EPS, REFERENCE_SOLVE, TIGHT_SOLVE, relative_error
from ._common import rho_below, rounding, row_norms, worst_row
from .base import Budget, Evidence, ExactClaim, Hypothesis, PerProfile, RateClaim, WhpClaim
from .registry import register

RHO_LT_1 = Hypothesis("rho(A) < 1", rho_below(1.0), "gamma ||A||_2 / sqrt(m) < 1")


@register
class PicardContraction(ExactClaim):
    """Solves z* to a relative residual of 1e-13 (certified error residual/(1 - rho)), then
    checks (a) ||T(Z0) - T(Zb)|| <= rho ||Z0 - Zb|| row by row and (b) every Picard iterate from
    the drawn start against rho^k ||z^0 - z*||, each with the reference's certified error and
    rounding as tolerance; the worst row is the evidence."""

    id = "WP-1"
    title = "Contraction: unique equilibrium, Picard error <= rho^k ||z^0 - z*||"
    source = "Setting of Sec. 2 (well-posedness via Banach's theorem); used in every later proof"
    statement = "rho(A) < 1 => ||T(z) - T(z')|| <= rho ||z - z'|| and ||z^k - z*|| <= rho^k ||z^0 - z*||"
    hypotheses = (RHO_LT_1,)
    domain = NetworkDomain(start=True, rho=(0.0, 0.999))

    def check(self, inst) -> Evidence:
        net = inst.net
        rho = net.contraction_factor()
        ref = net.equilibrium(inst.X, tol=REFERENCE_SOLVE)
        zs, estar = ref.Z, ref.error_bound
        H0 = net.preactivation_offset(inst.X)
        Z0 = torch.tensor(inst.Z0, dtype=torch.float64)
        scale = float(row_norms(zs).max() + row_norms(Z0).max() + row_norms(H0).max())
        rnd = rounding(net.m, scale, rho)
        items = []
        # (a) the map contracts: compare T on Z0 and on a second fixed point cloud
        Zb = torch.from_numpy(np.abs(np.random.default_rng(0).standard_normal(tuple(Z0.shape)))) * (scale / 4)
        lhs = row_norms(relu_layer(Z0, net.A, H0, net.c) - relu_layer(Zb, net.A, H0, net.c))
        rhs = rho * row_norms(Z0 - Zb)
        items.append(worst_row(lhs, rhs, rnd, "float64 rounding of one layer", part="T contracts"))
        # (b) Picard iterates approach z* at rate rho^k
        e0 = row_norms(Z0 - zs)
        steps = 1 if rho <= 0 else min(300, max(1, math.ceil(math.log(1e-9) / math.log(rho))))
        Z = Z0
        for k in range(1, steps + 1):
            Z = relu_layer(Z, net.A, H0, net.c)
            ek = row_norms(Z - zs)
            bound = rho**k * e0
            tol = estar * (1 + rho**k) + rnd
            why = "certified error of the reference z* (residual / (1 - rho)) on both sides, plus rounding"
            items.append(worst_row(ek, bound, tol, why, part="Picard rate", k=k))
        ev = Evidence.worst(items)
        ev.details.update({"rho": rho, "m": net.m, "n": zs.shape[0], "steps": steps, "reference_error": estar})
        return ev


@register
class PicardBelowTwo(ExactClaim):
    id = "WP-1/ctl-rho<2"
    control_of = "WP-1"
    title = "Picard converges whenever rho < 2"
    why_false = "Banach needs rho < 1; a nonnegative rank-one A with 1 < rho < 2 makes ReLU iterates grow like rho^k"
    source = "negative control"
    statement = "rho(A) < 2 => Picard reaches relative residual 1e-10 within 2000 iterations"
    hypotheses = (Hypothesis("rho(A) < 2", rho_below(2.0)),)
    residual_goal = 1e-10  # the relative residual the control claims Picard reaches
    domain = NetworkDomain(rho=(0.0, 1.999))

    def check(self, inst) -> Evidence:
        net = inst.net
        try:
            eq = net.equilibrium(inst.X, method="picard", tol=self.residual_goal, max_iter=2000, allow_noncontractive=True)
            residual, its = eq.residual, eq.iterations
        except ConvergenceError as err:
            residual, its = err.residual, err.iterations
        return Evidence(
            residual,
            self.residual_goal,
            "<=",
            0.0,
            "the solver's own relative-residual test",
            {"rho": net.contraction_factor(), "iterations": its, "structure": inst.structure, "m": net.m},
        )


@register
class EquilibriumNormBound(ExactClaim):
    """Solves z* and compares ||z*_i|| with sigma_u ||U x_i|| / (1 - rho) row by row; tolerance:
    the solve's certified error plus rounding."""

    id = "WP-2"
    title = "Equilibrium norm bound"
    source = "Lemma on the boundedness of z* (proof step: ||z*|| <= rho ||z*|| + sigma_u ||U x||)"
    statement = "||z*(x)|| <= sigma_u ||U x|| / (1 - rho)"
    hypotheses = (RHO_LT_1,)
    factor_power = 1.0  # the control drops the 1/(1 - rho) factor

    def check(self, inst) -> Evidence:
        net = inst.net
        rho = net.contraction_factor()
        eq = net.equilibrium(inst.X, tol=REFERENCE_SOLVE)
        lhs = row_norms(eq.Z)
        ux = row_norms(net.preactivation_offset(inst.X))  # sigma_u ||U x||
        rhs = ux / (1.0 - rho) ** self.factor_power
        tol = eq.error_bound + rounding(net.m, float(lhs.max()), rho)
        return worst_row(lhs, rhs, tol, "certified solver error plus rounding", rho=rho, m=net.m)


@register
class EquilibriumNormNoFactor(EquilibriumNormBound):
    id = "WP-2/ctl-no-factor"
    control_of = "WP-2"
    title = "Equilibrium norm bound without the 1/(1 - rho) factor"
    why_false = "the feedback c A z* adds to the input drive; nonnegative A near rho = 1 amplifies it"
    source = "negative control"
    statement = "||z*(x)|| <= sigma_u ||U x||"
    factor_power = 0.0


@register
class ResolventBound(ExactClaim):
    """Forms I - c D A for the drawn 0/1 diagonal D and compares 1/s_min (its inverse's norm, by
    SVD) with 1/(1 - rho); tolerance: the SVD's backward error on s_min."""

    id = "WP-3"
    title = "I - c D A invertible with ||(I - c D A)^{-1}||_2 <= 1/(1 - rho)"
    source = "Proof of the gradient formula (implicit function theorem at the equilibrium)"
    statement = "for every 0/1 diagonal D: ||(I - c D A)^{-1}||_2 <= 1 / (1 - rho)"
    hypotheses = (RHO_LT_1,)
    domain = NetworkDomain(mask=True)

    def rhs(self, rho: float) -> float:
        return 1.0 / (1.0 - rho)

    def check(self, inst) -> Evidence:
        net = inst.net
        rho = net.contraction_factor()
        M = torch.eye(net.m, dtype=torch.float64) - net.c * torch.tensor(inst.D)[:, None] * net.A
        smin = float(torch.linalg.svdvals(M)[-1])
        lhs = 1.0 / smin if smin > 0 else math.inf
        rhs = self.rhs(rho)
        # SVD perturbs s_min by <= ~eps m ||M||; 1/s moves by that / s^2.
        tol = 16 * EPS * net.m * (1 + rho) * rhs**2
        return Evidence(
            lhs,
            rhs,
            "<=",
            tol,
            "backward error of the SVD on s_min",
            {"rho": rho, "s_min": smin, "m": net.m, "ones_in_D": int(inst.D.sum())},
        )


@register
class ResolventFirstOrder(ResolventBound):
    id = "WP-3/ctl-first-order"
    control_of = "WP-3"
    title = "Resolvent bounded by its first-order Neumann truncation 1 + rho"
    why_false = "(I - M)^{-1} = I + M + M^2 + ...; for M = rho v v^T every term counts"
    source = "negative control"
    statement = "||(I - c D A)^{-1}||_2 <= 1 + rho"

    def rhs(self, rho: float) -> float:
        return 1.0 + rho


@register
class EquilibriumLipschitz(ExactClaim):
    """Solves z* for A and the nearby A' and compares ||z*(A) - z*(A')|| with c ||A - A'||_2
    ||z*(A')|| / (1 - rho(A)) row by row; tolerance: both certified errors plus rounding."""

    id = "WP-4"
    title = "The equilibrium is Lipschitz in A"
    source = "Perturbation step in the proof of global convergence (bounding the Gram's drift)"
    statement = "||z*(A) - z*(A')|| <= c ||A - A'||_2 ||z*(A')|| / (1 - rho(A))"
    hypotheses = (
        RHO_LT_1,
        Hypothesis("rho(A') < 1", lambda inst: inst.net2.contraction_factor() < 1.0),
    )
    domain = NetworkDomain(perturbation=True)
    factor_power = 1.0

    def check(self, inst) -> Evidence:
        net, net2 = inst.net, inst.net2
        rho = net.contraction_factor()
        eq, eq2 = net.equilibrium(inst.X, tol=REFERENCE_SOLVE), net2.equilibrium(inst.X, tol=REFERENCE_SOLVE)
        dA = spectral_norm(net.A - net2.A)
        lhs = row_norms(eq.Z - eq2.Z)
        rhs = net.c * dA * row_norms(eq2.Z) / (1.0 - rho) ** self.factor_power
        tol = eq.error_bound + eq2.error_bound * (1 + net.c * dA / (1 - rho)) + rounding(net.m, float(row_norms(eq.Z).max()), rho)
        return worst_row(lhs, rhs, tol, "certified errors of both equilibria plus rounding", rho=rho, dA_2=dA, m=net.m)


@register
class EquilibriumLipschitzNoFactor(EquilibriumLipschitz):
    id = "WP-4/ctl-no-factor"
    control_of = "WP-4"
    title = "Equilibrium Lipschitz in A without the 1/(1 - rho) factor"
    why_false = "a change of A is fed back through (I - c D A)^{-1}, whose norm reaches 1/(1 - rho)"
    source = "negative control"
    statement = "||z*(A) - z*(A')|| <= c ||A - A'||_2 ||z*(A')||"
    factor_power = 0.0


@dataclass(frozen=True, eq=False)
class GaussianLayer:
    """One draw of WP-5: an m x m layer of i.i.d. N(0,1) entries and the deviation t tested."""

    A: torch.Tensor
    m: int
    t: float


@register
class SpectralNormTail(WhpClaim):
    """Draws an m x m Gaussian layer per seed and counts draws with ||A||_2 > 2 sqrt(m) + t; the
    violation rate is tested against delta = exp(-t^2/2)."""

    id = "WP-5"
    title = "Gaussian spectral-norm tail: rho(A(0)) <= 2 gamma + gamma t / sqrt(m)"
    source = "Initialization lemma (Davidson-Szarek / Gordon bound with Gaussian concentration)"
    statement = "P(||A(0)||_2 >= 2 sqrt(m) + t) <= exp(-t^2/2)"
    constant = 2.0
    # t = 2 and 3 make delta = exp(-t^2/2) = 0.135 and 0.011: the claim says something there
    # (at t = 0.25 or 1, delta = 0.97 or 0.61 is nearly vacuous)
    budget = PerProfile(
        ci=Budget(configs=tuple({"m": m, "t": t} for m in (16, 64, 256) for t in (2.0, 3.0)), draws=200),
        thorough=Budget(configs=tuple({"m": m, "t": t} for m in (16, 64, 256, 1024) for t in (1.0, 2.0, 3.0, 4.0)), draws=2000),
    )

    def delta(self, config) -> float:
        return math.exp(-(config["t"] ** 2) / 2)

    def sample(self, config, seed: int) -> GaussianLayer:
        g = torch.Generator().manual_seed(int(seed))
        return GaussianLayer(torch.randn(config["m"], config["m"], generator=g, dtype=torch.float64), config["m"], config["t"])

    def check(self, inst: GaussianLayer) -> Evidence:
        m = inst.m
        norm = spectral_norm(inst.A)
        bound = self.constant * math.sqrt(m) + inst.t
        return Evidence(
            norm,
            bound,
            "<=",
            0.0,
            "{||A|| = bound} has probability 0; the SVD's ~eps ||A|| error is immaterial",
            {"m": m, "rho_at_gamma_1/4": 0.25 * norm / math.sqrt(m)},
        )


@register
class SpectralNormTailWrongConstant(SpectralNormTail):
    id = "WP-5/ctl-sqrt-m"
    control_of = "WP-5"
    title = "Spectral norm concentrates at 1.5 sqrt(m)"
    why_false = "||A||_2 / sqrt(m) -> 2 (Bai-Yin); 1.5 sqrt(m) is below the bulk edge"
    source = "negative control"
    statement = "P(||A(0)||_2 >= 1.5 sqrt(m) + t) <= exp(-t^2/2)"
    constant = 1.5
    draws_of = "WP-5"


def near_identity_network(m: int, d: int, gamma: float, rho: float, seed: int) -> ImplicitNetwork:
    """A near-identity layer scaled to contraction factor ``rho`` exactly: there the bound rho^L
    is attained (for a Gaussian layer the measured rate is far below rho, so it would test nothing)."""
    g = torch.Generator().manual_seed(int(seed))
    U = torch.randn(m, d, generator=g, dtype=torch.float64)
    A = torch.eye(m, dtype=torch.float64) + 0.01 * torch.randn(m, m, generator=g, dtype=torch.float64) / math.sqrt(m)
    u = torch.randn(m, generator=g, dtype=torch.float64)
    A = A * (rho * math.sqrt(m) / (gamma * spectral_norm(A)))
    return ImplicitNetwork.from_arrays(U, A, u, gamma=gamma)


@lru_cache(maxsize=256)
def _depth_errors(setting: tuple, depth: int, seed: int) -> tuple[float, float]:
    """WP-6's two errors at one depth, cached by what they depend on: (m, n, d, gamma, rho)."""
    from .gradients import unrolled_jacobian

    m, n, d, gamma, rho = setting
    net, X = near_identity_network(m, d, gamma, rho, seed), sphere(n, d, 7)
    eq = net.equilibrium(X, tol=TIGHT_SOLVE)
    fwd = float((row_norms(net.unrolled(X, depth) - eq.Z) / row_norms(eq.Z)).max())
    B = net.backward_vectors(X, equilibrium=eq, tol=TIGHT_SOLVE)
    J_star = net.gradient_scale * torch.einsum("nm,nk->nmk", B, eq.Z).reshape(X.shape[0], -1)
    return fwd, relative_error(unrolled_jacobian(net, X, depth), J_star)


@register
class DepthConvergence(RateClaim):
    """On a near-identity layer scaled to rho = 0.6, measures the forward relative error
    max_i ||z^L_i - z*_i|| / ||z*_i|| at each depth L and fits its log-rate against log rho."""

    id = "WP-6"
    title = "Depth-L weight-tied networks approach the equilibrium at rate rho^L"
    source = "'Infinitely many layers' (Sec. 2): Banach iteration from z^0 = 0"
    statement = "||z^L - z*|| / ||z*|| = O(rho^L)"
    fit = "geometric"
    variable = "L"
    rho = 0.6
    exponent = math.log(0.6)
    exponent_tol = 0.02
    exponent_tol_why = "the near-identity layer attains rho on its active coordinates; 0.02 covers the first layers' transient"
    budget = PerProfile(
        ci=Budget(grid=(4, 8, 12, 16, 20, 24, 28, 32), seeds=4),
        thorough=Budget(grid=(4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44), seeds=12),
    )
    m, n, d, gamma = 48, 4, 5, 0.25

    def errors(self, depth: int, seed: int) -> tuple[float, float]:
        """(forward relative error, relative Frobenius error of the unrolled-autograd Jacobian),
        cached by depth and seed (WP-6, WP-6.grad and their controls read the same numbers)."""
        return _depth_errors((self.m, self.n, self.d, self.gamma, self.rho), int(depth), int(seed))

    def measure(self, x: int, seed: int) -> float:
        return self.errors(x, seed)[0]

    def describe_setting(self) -> dict:
        return {
            "m": self.m,
            "n": self.n,
            "gamma": self.gamma,
            "rho": self.rho,
            "layer": "near-identity, scaled",
            "log_rho": math.log(self.rho),
        }


@register
class DepthConvergenceSquared(DepthConvergence):
    id = "WP-6/ctl-rho-squared"
    control_of = "WP-6"
    title = "Depth-L networks approach the equilibrium at rate rho^(2L)"
    why_false = "for a near-identity layer the contraction rho is attained on the active coordinates"
    source = "negative control"
    statement = "||z^L - z*|| / ||z*|| = O(rho^(2L))"
    exponent = 2 * math.log(0.6)
    draws_of = "WP-6"


@register
class DepthGradientConvergence(DepthConvergence):
    """The relative Frobenius error of the Jacobian by autograd through L unrolled layers
    against the implicit one, divided by L, fitted against log rho: the unrolled backward pass
    sums L terms, each off by a power of rho, so the error itself is of order L rho^L."""

    id = "WP-6.grad"
    title = "Gradients through L unrolled layers approach the implicit gradient at rate L rho^L"
    source = "'Infinitely many layers' (Sec. 2): the derivative of the Banach iteration"
    statement = "||J_L - J*||_F / ||J*||_F = O(L rho^L), i.e. (error / L) = O(rho^L)"
    exponent_tol_why = "the near-identity layer attains rho on its active coordinates; 0.02 covers the first layers' transient"

    def measure(self, x: int, seed: int) -> float:
        return self.errors(x, seed)[1] / x


@register
class DepthGradientWithoutL(DepthGradientConvergence):
    id = "WP-6.grad/ctl-no-L"
    control_of = "WP-6.grad"
    title = "Unrolled gradients approach the implicit gradient at rate rho^L (no factor L)"
    why_false = (
        "the L terms of the unrolled backward pass add up: the error is L rho^L, whose log-rate over L = 4..32 sits ~0.06 above log rho"
    )
    source = "negative control (the form stated before revision 2 of the mathematics)"
    statement = "||J_L - J*||_F / ||J*||_F = O(rho^L)"

    def measure(self, x: int, seed: int) -> float:
        return self.errors(x, seed)[1]
