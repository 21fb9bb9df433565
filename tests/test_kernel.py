"""The limiting kernel against a 50-digit independent implementation and its closed forms."""

import math

import mpmath
import numpy as np
import pytest
import torch

from theory import DegenerateInputError, ImplicitNetwork, lambda_0, limiting_gram, limiting_gram_diagonal, two_layer_ntk

from .conftest import unit_rows


def reference_entry(x, y, gamma, sigma_u=1.0, kappa=1.0, dps=50):
    """G_inf(x, y) by plain fixed-point iteration on p at ``dps`` digits (docs/mathematics.md section 3)."""
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(float(a)) for a in x]
        ys = [mpmath.mpf(float(b)) for b in y]
        nx, ny = mpmath.sqrt(mpmath.fsum(a * a for a in xs)), mpmath.sqrt(mpmath.fsum(b * b for b in ys))
        s = mpmath.fsum(a * b for a, b in zip(xs, ys, strict=True)) / (nx * ny)  # cosine of the directions
        s = min(max(s, mpmath.mpf(-1)), mpmath.mpf(1))
        g2 = mpmath.mpf(gamma) ** 2
        p = s
        for _ in range(400):
            p = g2 / (2 * mpmath.pi) * (mpmath.sqrt(max(1 - p**2, 0)) + (mpmath.pi - mpmath.acos(p)) * p) + (1 - g2 / 2) * s
            p = min(p, mpmath.mpf(1))
        theta = mpmath.acos(p)
        k = mpmath.mpf(sigma_u) ** 2 / (1 - g2 / 2)
        sigma = k / (2 * mpmath.pi) * (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta))
        edot = (mpmath.pi - theta) / (2 * mpmath.pi)
        return float(mpmath.mpf(kappa) ** 2 * g2 * sigma * edot / (1 - g2 * edot))


def pair(angle: float, d: int = 4, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(d)
    x /= np.linalg.norm(x)
    w = rng.standard_normal(d)
    w -= (w @ x) * x
    w /= np.linalg.norm(w)
    return torch.from_numpy(np.stack([x, math.cos(angle) * x + math.sin(angle) * w]))


@pytest.mark.parametrize("gamma,sigma_u,kappa", [(0.25, 1.0, 1.0), (0.05, 2.0, 0.3), (0.49, 0.5, 3.0)])
def test_matches_50_digit_reference_on_unseen_points(gamma, sigma_u, kappa):
    X = unit_rows(7, 5, seed=int(gamma * 1000))
    G = limiting_gram(X, gamma=gamma, sigma_u=sigma_u, kappa=kappa)
    for i in range(7):
        for j in range(7):
            ref = reference_entry(X[i], X[j], gamma, sigma_u, kappa)
            assert float(G[i, j]) == pytest.approx(ref, rel=1e-12, abs=1e-15 * abs(float(G[i, i])))


@pytest.mark.parametrize("angle", [1e-9, 1e-7, 1e-4, 1e-2, math.pi - 1e-6, math.pi / 2])
def test_stable_for_nearly_parallel_and_antipodal_pairs(angle):
    X = pair(angle)
    G = limiting_gram(X, gamma=0.3)
    ref = reference_entry(X[0], X[1], 0.3)
    assert float(G[0, 1]) == pytest.approx(ref, rel=1e-12)
    # the gap to the diagonal is what a Gram's small eigenvalue is made of: keep its digits
    gap = float(G[0, 0] - G[0, 1])
    ref_gap = limiting_gram_diagonal(gamma=0.3) - ref
    if angle < 1e-3:
        with mpmath.workdps(50):  # compute the reference gap without cancellation
            ref_gap = float(mpmath.mpf(limiting_gram_diagonal(gamma=0.3)) - mpmath.mpf(ref))
        assert gap > 0
        # the float64 reference entry itself carries ~1e-17 absolute error
        assert gap == pytest.approx(ref_gap, rel=1e-3, abs=4e-17)


@pytest.mark.parametrize("gamma,sigma_u,kappa", [(0.25, 1.0, 1.0), (0.1, 3.0, 0.5), (0.45, 0.7, 2.0)])
def test_diagonal_closed_form_to_1e12(gamma, sigma_u, kappa):
    X = unit_rows(20, 6, seed=1)
    G = limiting_gram(X, gamma=gamma, sigma_u=sigma_u, kappa=kappa)
    closed = kappa**2 * gamma**2 * sigma_u**2 / (2 - gamma**2) ** 2
    assert limiting_gram_diagonal(gamma=gamma, sigma_u=sigma_u, kappa=kappa) == closed
    assert float(((G.diagonal() - closed).abs() / closed).max()) <= 1e-12


def test_symmetric_and_positive_definite_under_a1():
    for seed in range(5):
        X = unit_rows(30, 4, seed=seed)
        G = limiting_gram(X, gamma=0.25)
        assert torch.equal(G, G.T)
        assert lambda_0(X, gamma=0.25) > 0


def test_repeated_input_is_refused_unless_allowed_and_then_singular():
    X = unit_rows(5, 3, seed=2)
    for bad in (X[:1], -X[:1]):
        Y = torch.cat([X, bad])
        for entry in (lambda_0, limiting_gram):
            with pytest.raises(DegenerateInputError, match="rows 0 and 5|rows 5 and 0"):
                entry(Y, gamma=0.25)
        with pytest.raises(DegenerateInputError):
            two_layer_ntk(Y)
    Y = torch.cat([X, X[:1]])
    assert abs(lambda_0(Y, gamma=0.25, allow_degenerate=True)) < 1e-15


def test_scale_parameters_enter_as_stated():
    X = unit_rows(6, 3, seed=4)
    base = limiting_gram(X, gamma=0.3)
    assert torch.allclose(limiting_gram(X, gamma=0.3, sigma_u=2.0, kappa=0.5), base * 4.0 * 0.25, rtol=1e-14)


def test_seed_mean_of_finite_width_gram_approaches_the_limit():
    """docs/mathematics.md section 3: E G(0) -> G_inf. Entry-wise t-statistics of the seed mean against
    the limit, with the spread estimated from the same seeds: |t| <= 5 for 16 seeds
    (a t_15 variable exceeds 5 with probability 1.6e-4; the O(1/m) bias is ~20x smaller than
    the standard error at m = 1000). A 10% scale error in G would give |t| ~ 8 here."""
    X = unit_rows(4, 3, seed=9)
    Ginf = limiting_gram(X, gamma=0.3)
    Gs = torch.stack([ImplicitNetwork.initialize(3, 1000, gamma=0.3, seed=s).gram(X) for s in range(16)])
    mean, se = Gs.mean(0), Gs.std(0) / 4.0
    t = (mean - Ginf) / se
    assert float(t.abs().max()) <= 5.0, t
    t_wrong = (mean - 1.1 * Ginf) / se
    assert float(t_wrong.abs().max()) > 5.0  # the test has the power it claims


def test_depth_recursion_matches_40_digit_quadrature():
    """nngp_depth against the same recursion at 40 digits with the Gaussian expectations by
    quadrature (KG-1's gaussian_expectations), and its limit against kernel_parts' Sigma."""
    from theory import kernel_parts, nngp_depth
    from theory.claims.kernels import gaussian_expectations

    X = unit_rows(3, 3, seed=9)
    gamma, sigma_u = 0.4, 1.3
    G = [[mpmath.mpf(float(v)) for v in row] for row in (X @ X.T).tolist()]
    with mpmath.workdps(40):
        S = [[sigma_u**2 * G[i][j] for j in range(3)] for i in range(3)]
        K = [row[:] for row in S]

        def relu_exp(K):
            out = [[None] * 3 for _ in range(3)]
            for i in range(3):
                for j in range(3):
                    di, dj = mpmath.sqrt(K[i][i]), mpmath.sqrt(K[j][j])
                    out[i][j] = K[i][i] / 2 if i == j else di * dj * gaussian_expectations(K[i][j] / (di * dj))[0]
            return out

        for depth in range(1, 5):
            Sig = relu_exp(K)
            got = nngp_depth(X, depth, gamma=gamma, sigma_u=sigma_u)
            err = max(abs(float(Sig[i][j]) - float(got[i, j])) for i in range(3) for j in range(3))
            assert err < 1e-13, (depth, err)
            K = [[gamma**2 * Sig[i][j] + S[i][j] for j in range(3)] for i in range(3)]
    limit = kernel_parts(X, gamma=gamma, sigma_u=sigma_u)["Sigma"]
    assert float((nngp_depth(X, 40, gamma=gamma, sigma_u=sigma_u) - limit).abs().max()) < 1e-13
