"""Positive definiteness of the limiting Gram (docs/mathematics.md sections 3-4: KG-2 under
assumption A1, and KG-6, positive definiteness for any distinct inputs, antipodal pairs
included; arXiv 2209.15562)."""

from __future__ import annotations

import math
from typing import ClassVar

import torch

from .._validation import check_not_parallel
from ..domains import KernelDomain
from ..errors import DegenerateInputError
from ..instances import KernelInstance
from ..kernel import limiting_gram, two_layer_ntk
from ..tolerances import RESOLVABLE_ANGLE, eigenvalue_floor
from .base import Evidence, ExactClaim, Hypothesis
from .registry import register


def _min_eig_evidence(G: torch.Tensor, diag: float, what: str) -> Evidence:
    lam = float(torch.linalg.eigvalsh(G)[0])
    floor = eigenvalue_floor(G)
    return Evidence(
        lam / diag,
        floor / diag,
        ">=",
        0.0,
        f"lambda_min({what}) / diag against 16 n eps ||G|| / diag (eigvalsh backward error): certified positive",
        {"lambda_min": lam, "diag": diag, "n": G.shape[0]},
    )


def _odd_even_parts(G: torch.Tensor) -> dict:
    """On X = [P; -P] a kernel's Gram is [[E + O, E - O], [E - O, E + O]] with E, O its even
    and odd parts on P, so its spectrum is eig(2E) and eig(2O): antipodal pairs are
    separated exactly by the odd part. Returns both smallest eigenvalues over the diagonal."""
    k = G.shape[0] // 2
    P, Q = G[:k, :k], G[:k, k:]
    diag = float(G[0, 0])
    return {
        "pairs": k,
        "lambda_min_odd_part/diag": float(torch.linalg.eigvalsh(P - Q)[0]) / diag,
        "lambda_min_even_part/diag": float(torch.linalg.eigvalsh(P + Q)[0]) / diag,
    }


def _a1_resolvable(inst: KernelInstance) -> bool:
    try:
        check_not_parallel(torch.tensor(inst.X), min_angle=RESOLVABLE_ANGLE)
        return True
    except DegenerateInputError:
        return False


def _distinct(inst: KernelInstance) -> bool:
    X = torch.tensor(inst.X)
    D = torch.cdist(X, X)
    D.fill_diagonal_(float("inf"))
    return bool(D.min() > RESOLVABLE_ANGLE) if X.shape[0] > 1 else True


@register
class LimitGramPositiveDefinite(ExactClaim):
    """Computes lambda_min(G_inf) / G_ii and compares it with eigvalsh's certified floor 16 n
    eps ||G|| / G_ii: above it the Gram is certified positive definite in float64. The search
    steers toward the smallest ratio (log scale)."""

    id = "KG-2"
    title = "Under A1 the limiting Gram is positive definite (lambda_0 > 0)"
    source = "Assumption A1 and the positive-definiteness lemma for G_inf (Sec. 3)"
    statement = "x_i != +-x_j for i != j => lambda_min(G_inf) > 0"
    hypotheses: ClassVar[tuple[Hypothesis, ...]] = (
        Hypothesis("A1 (resolvable)", _a1_resolvable, "every pair at angle >= 1e-8 from +-x_j: float64 can certify"),
    )
    domain = KernelDomain(degenerate=True, min_eps=RESOLVABLE_ANGLE)

    def check(self, inst) -> Evidence:
        # the hypothesis decides A1 here (the control drops it), so the kernel may see degenerate inputs
        G = limiting_gram(inst.X, gamma=inst.gamma, sigma_u=inst.sigma_u, kappa=inst.kappa, allow_degenerate=True)
        ev = _min_eig_evidence(G, float(G[0, 0]), "G_inf")
        ev.details["gamma"] = inst.gamma
        return ev

    def target(self, evidence: Evidence) -> float:
        return math.log10(max(evidence.lhs, 1e-300)) if evidence.lhs > 0 else -400.0 + evidence.lhs


@register
class LimitGramPDAnyInputs(LimitGramPositiveDefinite):
    id = "KG-2/ctl-any-inputs"
    control_of = "KG-2"
    title = "The limiting Gram is positive definite for any inputs"
    why_false = "a repeated input gives two equal rows of G_inf"
    source = "negative control"
    statement = "lambda_min(G_inf) > 0 for all unit inputs"
    hypotheses = ()
    domain = KernelDomain(degenerate=True)


@register
class AntipodalPositiveDefinite(LimitGramPositiveDefinite):
    """The KG-2 check on sets of d + k antipodal pairs, reporting also the smallest eigenvalues
    of the kernel's odd and even parts (on [P; -P] the spectrum is eig(2E) and eig(2O))."""

    id = "KG-6"
    conjecture = True
    title = "Conjecture: G_inf is positive definite for any distinct inputs, antipodal pairs included"
    source = "not in the paper; cf. Gao, Huo, Liu, Gao (NeurIPS 2023, arXiv 2310.10767) for the DEQ NNGP"
    statement = "x_i != x_j for i != j (x_j = -x_i allowed) => lambda_min(G_inf) > 0"
    hypotheses = (Hypothesis("distinct inputs", _distinct, "pairwise distance > 1e-8"),)
    domain = KernelDomain(antipodal=True, d=(2, 6), pairs_beyond_d=(1, 8), radius=(0.05, math.pi))
    effort = 8.0  # the flagship search: 480 point sets under ci, 8000 under thorough

    def check(self, inst) -> Evidence:
        ev = super().check(inst)
        ev.details.update(_odd_even_parts(self.gram(inst)))
        return ev

    def gram(self, inst) -> torch.Tensor:
        return limiting_gram(inst.X, gamma=inst.gamma, sigma_u=inst.sigma_u, kappa=inst.kappa, allow_degenerate=True)


@register
class AntipodalTwoLayerNTK(AntipodalPositiveDefinite):
    id = "KG-6/ctl-two-layer-ntk"
    control_of = "KG-6"
    conjecture = False
    title = "The explicit two-layer ReLU NTK is positive definite on the same antipodal sets"
    why_false = "its odd part is the linear kernel <x,x'>/4 alone: rank <= d on the odd subspace of > d antipodal pairs"
    source = "negative control (contrast kernel)"
    statement = "lambda_min(<x,x'> (pi - arccos<x,x'>) / 2pi) > 0 on d + k antipodal pairs"

    def check(self, inst) -> Evidence:
        H = self.gram(inst)
        ev = _min_eig_evidence(H, 0.5, "two-layer NTK")
        ev.details.update(_odd_even_parts(H))
        return ev

    def gram(self, inst) -> torch.Tensor:
        return two_layer_ntk(inst.X, allow_degenerate=True)
