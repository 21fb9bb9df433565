"""The gradient of lambda_min(G) with respect to A, and KG-5's use of it."""

import math

import pytest
import torch

from theory import ImplicitNetwork
from theory.claims.registry import get
from theory.errors import ContractionError
from theory.sensitivity import smallest_eigenvalue_gradient

from .conftest import unit_rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_central_differences(seed):
    # the masks are locally constant, so a step of 1e-6 crosses no kink on these draws and the
    # central difference is exact to O(h^2) ~ 1e-12 plus rounding ~ 1e-16 / h: 1e-6 relative is loose
    X = unit_rows(4, 3, seed=seed)
    net = ImplicitNetwork.initialize(3, 48, gamma=0.3, seed=seed)
    lam, grad = smallest_eigenvalue_gradient(net, X)
    assert lam == pytest.approx(float(torch.linalg.eigvalsh(net.gram(X))[0]), rel=1e-12)
    E = torch.randn(48, 48, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    h = 1e-6

    def lam_at(t):
        return float(torch.linalg.eigvalsh(net.with_A(net.A + t * E).gram(X))[0])

    fd = (lam_at(h) - lam_at(-h)) / (2 * h)
    assert float((grad * E).sum()) == pytest.approx(fd, rel=1e-6)


def test_gradient_has_rank_at_most_2n():
    X = unit_rows(3, 4, seed=5)
    _, grad = smallest_eigenvalue_gradient(ImplicitNetwork.initialize(4, 64, gamma=0.25, seed=5), X)
    s = torch.linalg.svdvals(grad)
    assert float(s[6] / s[0]) < 1e-12 < float(s[5] / s[0])


def test_kg5_radius_is_set_by_the_gram_not_the_contraction():
    """Along KG-5's direction lambda_min(G) halves at R* ~ 1.3 sqrt(m) while rho stays near its
    initial 0.5: the measured radius is the Gram's."""
    claim = get("KG-5")
    m, seed = 128, 3
    R = claim.measure(m, seed)
    net = ImplicitNetwork.initialize(claim.d, m, gamma=claim.gamma, seed=seed)
    V = claim.direction(net, seed)
    lam0 = float(torch.linalg.eigvalsh(net.gram(claim.inputs))[0])
    beyond = net.with_A(net.A + 1.05 * R * V)
    assert beyond.contraction_factor() < 0.7
    assert float(torch.linalg.eigvalsh(beyond.gram(claim.inputs))[0]) < lam0 / 2
    assert 0.5 < R / math.sqrt(m) < 3


def test_kg5_refuses_a_radius_the_contraction_sets():
    """The direction KG-5 used before session 11 (a gradient-flow step for random residuals)
    raises lambda_min(G) instead, so its radius was where rho reached 1: the claim now refuses
    such a measurement instead of fitting it."""
    claim = get("KG-5")

    class OldDirection(type(claim)):
        def direction(self, net, seed):
            B, Z, _ = net.features(self.inputs)
            r = torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=torch.float64)
            V = (B * r[:, None]).T @ Z
            return V / torch.linalg.matrix_norm(V)

    with pytest.raises(ContractionError, match="before lambda_min"):
        OldDirection().measure(64, 0)
