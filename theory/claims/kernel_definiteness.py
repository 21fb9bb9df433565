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
from ..kernel import kernel_parts, limiting_gram, two_layer_ntk
from ..tolerances import EPS, RESOLVABLE_ANGLE, eigenvalue_floor
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
    title = "G_inf is positive definite for any distinct inputs, antipodal pairs included (a theorem: steps KG-6.i-iii)"
    source = (
        "not in the paper (a conjecture here before; now proven in docs/mathematics.md section 4 by the steps KG-6.i-iii); "
        "cf. Gao, Huo, Liu, Gao (NeurIPS 2023, arXiv 2310.10767) for the DEQ NNGP"
    )
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


# ---- KG-6's proof, step by step (docs/mathematics.md section 4) ---------------------------------
_ANTIPODAL = KernelDomain(antipodal=True, d=(2, 6), pairs_beyond_d=(1, 8), radius=(0.05, math.pi))


class _ProofStep(ExactClaim):
    """A step of KG-6's proof, checked on the same antipodal sets as KG-6."""

    hypotheses = (Hypothesis("distinct inputs", _distinct, "pairwise distance > 1e-8"),)
    domain = _ANTIPODAL
    effort = 2.0
    gamma_zero = False  # the two-layer contrast: gamma -> 0, where K = sigma_u^2 <x, x'>

    def parts(self, inst: KernelInstance) -> dict[str, torch.Tensor]:
        if self.gamma_zero:
            X = torch.tensor(inst.X)
            P = X @ X.T  # the gamma -> 0 limit of the correlation fixed point
            return {"q": 1 - P, "P": P}
        parts = kernel_parts(inst.X, gamma=inst.gamma, sigma_u=inst.sigma_u, allow_degenerate=True)
        return {**parts, "P": 1 - parts["q"]}

    target = LimitGramPositiveDefinite.target  # steer toward small eigenvalues on a log scale


@register
class CorrelationBelowOne(_ProofStep):
    """Computes the correlation p = 1 - q of every pair of distinct inputs from the fixed point
    and its smallest margin min(1 - p, 1 + p) = min(q, 2 - q), against 64 eps (q is accurate to
    a few ulps, from the angle by Kahan's formula)."""

    id = "KG-6.i"
    title = "KG-6, step (i): the correlation fixed point gives |p(x, x')| < 1 for distinct inputs"
    source = "docs/mathematics.md section 4, KG-6 step (i): p = 1 forces <x,x'> = 1; p = -1 would need (1 - gamma^2/2)<x,x'> = -1"
    statement = "x != x' => |p(x, x')| < 1 (antipodal pairs included)"

    def check(self, inst: KernelInstance) -> Evidence:
        q = self.parts(inst)["q"]
        n = q.shape[0]
        off = ~torch.eye(n, dtype=torch.bool)
        margin = torch.minimum(q, 2 - q)[off].min() if n > 1 else torch.tensor(1.0)
        return Evidence(
            float(margin),
            64 * EPS,
            ">=",
            0.0,
            "q is computed to a few ulps; above 64 eps the margin is certified",
            {"gamma": inst.gamma, "n": n},
        )


@register
class CorrelationBelowOneTwoLayer(CorrelationBelowOne):
    id = "KG-6.i/ctl-gamma0"
    control_of = "KG-6.i"
    title = "At gamma = 0 (the two-layer kernel) |p| < 1 for distinct inputs"
    why_false = "at gamma = 0, p = <x, x'>, which is -1 for an antipodal pair: step (i) fails exactly there"
    source = "negative control (the two-layer kernel)"
    statement = "gamma = 0, x != x' => |<x, x'>| < 1"
    gamma_zero = True


@register
class CovariancePositiveDefinite(_ProofStep):
    """Computes lambda_min of the correlation matrix K / k and of Sigma / Sigma_ii and compares
    the smaller with eigvalsh's certified floor 16 n eps ||.||."""

    id = "KG-6.ii"
    title = "KG-6, step (ii): the pre-activation covariance K and the NNGP kernel Sigma are positive definite"
    source = "docs/mathematics.md section 4, KG-6 step (ii): pairwise non-parallel w_i make sum_i v_i relu(<w_i, g>) = 0 force v = 0"
    statement = "x_i distinct => lambda_min(K) > 0 and lambda_min(Sigma) > 0"
    # Sigma is a smooth kernel: on many points in a small cap its smallest eigenvalue falls below
    # what float64 can certify (~1e-13 of its diagonal) although it is positive. The search
    # therefore keeps caps of radius >= 0.5, where certification is possible; KG-6 itself (whose
    # Gram is better conditioned) searches the small caps.
    domain = KernelDomain(antipodal=True, d=(2, 6), pairs_beyond_d=(1, 6), radius=(0.5, math.pi))

    def check(self, inst: KernelInstance) -> Evidence:
        parts = self.parts(inst)
        P = parts["P"]
        items = [_min_eig_evidence(P, 1.0, "K / k")]
        if "Sigma" in parts:
            S = parts["Sigma"]
            items.append(_min_eig_evidence(S, float(S[0, 0]), "Sigma"))
        return Evidence.worst(items)


@register
class CovariancePositiveDefiniteTwoLayer(CovariancePositiveDefinite):
    id = "KG-6.ii/ctl-gamma0"
    control_of = "KG-6.ii"
    title = "At gamma = 0 the input covariance sigma_u^2 <x, x'> is positive definite on distinct inputs"
    why_false = "<x, x'> has rank <= d, and a set of d + k antipodal pairs has 2(d + k) > d inputs"
    source = "negative control (the two-layer kernel)"
    statement = "gamma = 0: lambda_min(<x_i, x_j>) > 0"
    gamma_zero = True


@register
class SchurStep(_ProofStep):
    """Checks that Pi is positive semidefinite with a positive diagonal (lambda_min(Pi) against
    minus eigvalsh's floor) and the Schur product bound lambda_min(Sigma o Pi) >= lambda_min(Sigma)
    min_i Pi_ii, within eigvalsh's backward error on both sides."""

    id = "KG-6.iii"
    title = "KG-6, step (iii): Pi is positive semidefinite and lambda_min(Sigma o Pi) >= lambda_min(Sigma) min_i Pi_ii (Schur)"
    source = "docs/mathematics.md section 4, KG-6 step (iii): Pi = sum_k gamma^(2k) Edot^(o(k+1)); Schur product theorem"
    statement = "lambda_min(Pi) >= 0, Pi_ii > 0, lambda_min(Sigma o Pi) >= lambda_min(Sigma) min_i Pi_ii"

    def check(self, inst: KernelInstance) -> Evidence:
        parts = self.parts(inst)
        S, Pi = parts["Sigma"], parts["Pi"]
        lam_pi = float(torch.linalg.eigvalsh(Pi)[0])
        psd = Evidence(
            lam_pi / float(Pi[0, 0]),
            -eigenvalue_floor(Pi) / float(Pi[0, 0]),
            ">=",
            0.0,
            "lambda_min(Pi)/Pi_ii above minus eigvalsh's floor",
            {"part": "Pi PSD"},
        )
        factor = float(Pi.diagonal().min())
        lhs = float(torch.linalg.eigvalsh(S * Pi)[0])
        rhs = float(torch.linalg.eigvalsh(S)[0]) * factor
        tol = eigenvalue_floor(S * Pi) + eigenvalue_floor(S) * factor
        schur = Evidence(lhs, rhs, ">=", tol, "eigvalsh's backward error on both sides", {"part": "Schur bound", "factor": factor})
        return Evidence.worst([psd, schur])


@register
class SchurStepPiDefinite(SchurStep):
    id = "KG-6.iii/ctl-pi-half"
    control_of = "KG-6.iii"
    title = "Pi is uniformly positive definite: lambda_min(Pi) >= min_i Pi_ii / 2"
    why_false = "Pi is only positive semidefinite in general: for clustered inputs it is close to rank one, lambda_min(Pi) << Pi_ii"
    source = "negative control (a false strengthening of step (iii))"
    statement = "lambda_min(Pi) >= min_i Pi_ii / 2"

    def check(self, inst: KernelInstance) -> Evidence:
        Pi = self.parts(inst)["Pi"]
        return Evidence(
            float(torch.linalg.eigvalsh(Pi)[0]), float(Pi.diagonal().min()) / 2, ">=", 0.0, "an eigenvalue against half the diagonal"
        )
