"""The implicit gradient and its Gram (docs/mathematics.md section 2 and section 4, GR-1, GR-2).

df(x)/dA = (kappa gamma / m) b z*^T with b = D (I - c A^T D)^{-1} u: the implicit function
theorem at the equilibrium (the paper's gradient formula). Checked against two independent
routes: central finite differences of the equilibrium output, and autograd through a
weight-tied network unrolled until it matches the equilibrium to rounding. The negative
controls use the "Jacobian-free" gradient b ~ D u (Fung et al. 2022), which drops the
resolvent: a popular approximation, not the gradient.
"""

from __future__ import annotations

import math

import torch

from ..domains import NetworkDomain
from ..network import ImplicitNetwork
from ..tolerances import AUTOGRAD_AGREEMENT, EPS, relative_error
from ..tolerances import TIGHT_SOLVE as SOLVE_TOL
from ._common import rho_below
from .base import Evidence, ExactClaim, Hypothesis, NotApplicable
from .registry import register


def unrolled_depth(rho: float, target: float = 1e-15) -> int:
    """Depth L with L rho^L <= target: autograd through L layers then matches the implicit
    gradient to ``target`` relative (the unrolled derivative error is ~ L rho^L)."""
    if rho <= 0:
        return 2
    L = 1
    while L * rho**L > target and L < 5000:
        L += 1
    return L + 5


def unrolled_jacobian(net: ImplicitNetwork, X, depth: int) -> torch.Tensor:
    """Per-sample gradients df(x_i)/dA (n x m^2) by autograd through ``depth`` weight-tied
    layers from z = 0. Independent of the implicit formula; only for small m (n x m^2)."""
    H0 = net.preactivation_offset(X)
    rows = []
    for h0 in H0:
        A = net.A.clone().requires_grad_(True)
        z = torch.zeros(net.m, dtype=torch.float64)
        for _ in range(depth):
            z = torch.relu(net.c * (A @ z) + h0)
        f = net.kappa / math.sqrt(net.m) * (net.u @ z)
        (g,) = torch.autograd.grad(f, A)
        rows.append(g.reshape(-1))
    return torch.stack(rows)


def backward_vectors(net: ImplicitNetwork, X, eq, jacobian_free: bool) -> torch.Tensor:
    if jacobian_free:
        return eq.mask * net.u  # b ~ D u: the resolvent (I - c A^T D)^{-1} dropped
    return net.backward_vectors(X, equilibrium=eq, tol=SOLVE_TOL)


RHO_LT_095 = Hypothesis("rho(A) <= 0.95", rho_below(0.95), "keeps unrolled autograd under 700 layers")


@register
class ImplicitGradient(ExactClaim):
    """Compares <df/dA, V> from the implicit formula with central differences at h and h/2
    (tolerance: the Richardson estimate |D(h) - D(h/2)| plus solver error over h; rows whose
    masks change within the step are skipped) and the whole gradient with autograd through L
    unrolled layers (relative Frobenius error within 1e-10)."""

    id = "GR-1"
    title = "Implicit gradient = central differences = autograd through many layers"
    source = "Gradient formula of Sec. 3 (implicit function theorem at z*)"
    statement = "<df(x)/dA, V> = (kappa gamma/m) b^T V z* for every direction V (away from ReLU kinks)"
    hypotheses = (RHO_LT_095,)
    domain = NetworkDomain(m=(2, 24), n=(1, 3), rho=(0.0, 0.95), direction=True)
    jacobian_free = False

    def check(self, inst) -> Evidence:
        net = inst.net
        X, V = inst.X, torch.tensor(inst.V)
        eq = net.equilibrium(X, tol=SOLVE_TOL)
        B = backward_vectors(net, X, eq, self.jacobian_free)
        exact = net.gradient_scale * torch.einsum("nm,mk,nk->n", B, V, eq.Z)
        # central differences at h and h/2; the difference of the two estimates the
        # truncation error of the coarse one (Richardson), which bounds the fine one's.
        h = 1e-5 * float(torch.linalg.matrix_norm(net.A, 2)) / float(torch.linalg.matrix_norm(V, 2))
        h = max(h, 1e-7)
        same = torch.ones(eq.Z.shape[0], dtype=torch.bool)
        d = {}
        for step in (h, h / 2):
            outs = []
            for sign in (1, -1):
                other = net.with_A(net.A + sign * step * V)
                e2 = other.equilibrium(X, tol=SOLVE_TOL)
                same &= (e2.mask == eq.mask).all(dim=1)
                outs.append(other.output(X, equilibrium=e2))
            d[step] = (outs[0] - outs[1]) / (2 * step)
        if not bool(same.any()):
            raise NotApplicable("every row crosses a ReLU kink within the difference step")
        f = net.output(X, equilibrium=eq).abs()
        rounding = 4 * (SOLVE_TOL * 10 + EPS) * (f + 1e-300) / (h / 2)
        items = []
        for i in torch.nonzero(same).flatten().tolist():
            tol = float((d[h][i] - d[h / 2][i]).abs() + rounding[i])
            items.append(
                Evidence(
                    d[h / 2][i],
                    exact[i],
                    "==",
                    tol,
                    "Richardson estimate |D(h) - D(h/2)| of the difference truncation error plus solver/rounding error / h",
                    {"part": "finite differences", "row": i, "fd": float(d[h / 2][i]), "formula": float(exact[i]), "h": h},
                )
            )
        # autograd through L unrolled layers, full gradient of a weighted sum of the outputs
        L = unrolled_depth(eq.contraction_factor)
        J = unrolled_jacobian(net, X, L)
        G_formula = net.gradient_scale * torch.einsum("nm,nk->nmk", B, eq.Z).reshape(J.shape)
        items.append(
            Evidence(
                relative_error(G_formula, J),
                0.0,
                "==",
                AUTOGRAD_AGREEMENT,
                "L rho^L <= 1e-15 truncation plus rounding over L layers",
                {"part": "autograd (relative Frobenius error)", "depth": L},
            )
        )
        ev = Evidence.worst(items)
        ev.details.update({"rho": eq.contraction_factor, "m": net.m, "rows_checked": int(same.sum()), "rows_at_kink": int((~same).sum())})
        return ev


@register
class JacobianFreeGradient(ImplicitGradient):
    id = "GR-1/ctl-jacobian-free"
    control_of = "GR-1"
    title = "The Jacobian-free gradient (b = D u) is the gradient"
    why_false = "it drops the resolvent (I - c A^T D)^{-1}, an O(rho) relative error"
    source = "negative control (Jacobian-free backpropagation, Fung et al. 2022)"
    statement = "<df(x)/dA, V> = (kappa gamma/m) (D u)^T V z*"
    jacobian_free = True


@register
class HadamardGram(ExactClaim):
    """Compares (kappa gamma/m)^2 (B B^T) o (Z Z^T) with J J^T from per-sample gradients by
    autograd through L unrolled layers (L rho^L <= 1e-15); relative Frobenius error within
    1e-10."""

    id = "GR-2"
    title = "The Hadamard-form Gram equals J J^T of materialized per-sample gradients"
    source = "Gram / NTK w.r.t. A (docs/mathematics.md section 2)"
    statement = "(kappa gamma/m)^2 (B B^T) o (Z Z^T) = J J^T, J from autograd (n x m^2)"
    hypotheses = (RHO_LT_095,)
    domain = NetworkDomain(m=(2, 16), n=(1, 5), rho=(0.0, 0.95))
    jacobian_free = False

    def check(self, inst) -> Evidence:
        net = inst.net
        X = inst.X
        eq = net.equilibrium(X, tol=SOLVE_TOL)
        B = backward_vectors(net, X, eq, self.jacobian_free)
        G = net.gram_of(B, eq.Z)
        J = unrolled_jacobian(net, X, unrolled_depth(eq.contraction_factor))
        K = J @ J.T
        return Evidence(
            relative_error(G, K),
            0.0,
            "==",
            AUTOGRAD_AGREEMENT,
            "relative Frobenius error; unrolled truncation L rho^L <= 1e-15 plus rounding",
            {"rho": eq.contraction_factor, "m": net.m, "n": G.shape[0]},
        )


@register
class JacobianFreeGram(HadamardGram):
    id = "GR-2/ctl-jacobian-free"
    control_of = "GR-2"
    title = "The Gram built from Jacobian-free vectors D u equals J J^T"
    why_false = "the backward vectors lose the resolvent, so every entry is off by O(rho)"
    source = "negative control"
    statement = "(kappa gamma/m)^2 ((D u)(D u)^T) o (Z Z^T) = J J^T"
    jacobian_free = True
