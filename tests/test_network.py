"""The reference network against independent computations (autograd, finite differences)."""

import math

import numpy as np
import pytest
import torch

from theory import ImplicitNetwork, relu_layer
from theory.claims.gradients import unrolled_jacobian
from theory.errors import ConvergenceError, ShapeError
from theory.linalg import _lanczos, spectral_norm, top_right_singular_vector
from theory.solvers import AUTO_PICARD, anderson, auto, picard

from .conftest import unit_rows


def unrolled_output(net: ImplicitNetwork, A: torch.Tensor, x: torch.Tensor, depth: int) -> torch.Tensor:
    """f(x) through ``depth`` weight-tied layers from z = 0, differentiable in A (autograd path)."""
    z = torch.zeros(net.m, dtype=torch.float64)
    h0 = net.sigma_u * (net.U @ x)
    for _ in range(depth):
        z = torch.relu(net.c * (A @ z) + h0)
    return net.kappa / math.sqrt(net.m) * (net.u @ z)


def autograd_jacobian(net: ImplicitNetwork, X: torch.Tensor, depth: int = 200) -> torch.Tensor:
    """Per-sample gradients by autograd through ``depth`` unrolled layers (the GR-2 route)."""
    return unrolled_jacobian(net, X, depth)


def test_initialize_is_reproducible_and_gaussian():
    a = ImplicitNetwork.initialize(d=3, m=50, seed=7)
    b = ImplicitNetwork.initialize(d=3, m=50, seed=7)
    c = ImplicitNetwork.initialize(d=3, m=50, seed=8)
    assert torch.equal(a.A, b.A) and torch.equal(a.U, b.U) and torch.equal(a.u, b.u)
    assert not torch.equal(a.A, c.A)
    big = ImplicitNetwork.initialize(d=3, m=400, seed=1)
    # 160000 N(0,1) entries: mean within 5 standard errors (0.0125) of 0, variance within 2%
    assert abs(float(big.A.mean())) < 0.0125
    assert abs(float(big.A.var()) - 1) < 0.02


def test_from_arrays_accepts_numpy_and_matches(small_net, X4):
    twin = ImplicitNetwork.from_arrays(small_net.U.numpy(), small_net.A.numpy(), small_net.u.numpy(), gamma=0.3, sigma_u=1.3, kappa=0.7)
    assert torch.equal(twin.output(X4), small_net.output(X4))


def test_contraction_factor_is_exact_spectral_norm():
    for m in (30, 300):  # both code paths: LAPACK SVD and ARPACK
        net = ImplicitNetwork.initialize(d=2, m=m, gamma=0.2, seed=m)
        s = np.linalg.svd(net.A.numpy(), compute_uv=False)[0]
        assert net.contraction_factor() == pytest.approx(0.2 * s / math.sqrt(m), rel=1e-13)


@pytest.mark.parametrize("shape", [(40, 40), (120, 200), (200, 120), (600, 600), (300, 700), (700, 300)])
def test_spectral_norm_and_its_top_singular_vector(shape):
    """Both CPU paths (LAPACK, ARPACK on the smaller Gram: the norm above 256, the vector above 64), square
    and not, against the full SVD; the vector attains the norm (||A v|| = ||A||_2, ||v|| = 1),
    and so does the GPU's Lanczos Ritz vector, run here on the CPU."""
    A = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=torch.float64)
    s = float(np.linalg.svd(A.numpy(), compute_uv=False)[0])
    assert spectral_norm(A) == pytest.approx(s, rel=1e-13)
    for v in (top_right_singular_vector(A), _lanczos(A, vector=True)[1]):
        assert v.shape == (shape[1],) and float(v.norm()) == pytest.approx(1.0, rel=1e-13)
        assert float(torch.linalg.vector_norm(A @ v)) == pytest.approx(s, rel=1e-12)
    # a vector that misses the top direction falls short: the check above has teeth
    w = top_right_singular_vector(A)
    other = torch.randn(shape[1], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    other = other - (other @ w) * w
    assert float(torch.linalg.vector_norm(A @ other)) < 0.999 * s * float(other.norm())
    # the zero matrix (a trainer's A(0) - A(0)), on which ARPACK fails: 0, not a slow fallback
    zero = torch.zeros(*shape, dtype=torch.float64)
    assert spectral_norm(zero) == 0.0 and float(top_right_singular_vector(zero).norm()) == pytest.approx(1.0)


def test_a_shared_layer_is_refused_unless_it_fits_and_a_non_finite_one_surfaces(small_net, X4):
    """The trainer's uncopied network (:meth:`ImplicitNetwork._sharing`): a layer of the wrong
    shape, dtype or layout is a ShapeError; a non-finite one, which is not checked up front,
    still ends as a typed error (the solver's divergence check), never a silent NaN."""
    A = small_net.A.clone()
    net = small_net._sharing(A)
    assert net.A is A and torch.equal(net.output(X4), small_net.output(X4))
    for bad in (A[:-1], A.to(torch.float32), A.T):
        with pytest.raises(ShapeError):
            small_net._sharing(bad)
    A[0, 0] = float("nan")
    with pytest.raises(ConvergenceError, match="non-finite"):
        small_net._sharing(A).equilibrium(X4, certify=False)


@pytest.mark.parametrize("method", ["picard", "anderson"])
def test_equilibrium_residual_and_certificate(small_net, X4, method):
    eq = small_net.equilibrium(X4, method=method, tol=1e-13)
    T = relu_layer(eq.Z, small_net.A, small_net.preactivation_offset(X4), small_net.c)
    res = torch.linalg.vector_norm(T - eq.Z, dim=1)
    assert float((res / torch.linalg.vector_norm(eq.Z, dim=1)).max()) <= 1e-13
    assert eq.residual <= 1e-13
    assert eq.error_bound == pytest.approx(float(res.max()) / (1 - eq.contraction_factor), rel=1e-6)
    assert eq.iterations == len(eq.trace)


def test_equilibrium_unique_from_many_starts(small_net, X4, rng):
    ref = small_net.equilibrium(X4, tol=1e-14)
    for k in range(5):
        Z0 = torch.from_numpy(rng.standard_normal((X4.shape[0], small_net.m)) * 10.0**k)
        for method in ("picard", "anderson"):
            eq = small_net.equilibrium(X4, method=method, Z0=Z0, tol=1e-14)
            # both are within their certified error bounds of the unique fixed point
            assert float((eq.Z - ref.Z).norm(dim=1).max()) <= eq.error_bound + ref.error_bound + 1e-14


def test_anderson_beats_picard_near_the_edge():
    # rho close to 1: Picard needs many iterations, Anderson far fewer
    net = ImplicitNetwork.initialize(d=3, m=40, gamma=0.45, seed=0)
    A = net.A * (0.97 / net.contraction_factor())
    net = net.with_A(A)
    X = unit_rows(4, 3, 0)
    p = net.equilibrium(X, method="picard")
    a = net.equilibrium(X, method="anderson")
    assert torch.allclose(p.Z, a.Z, rtol=0, atol=10 * (p.error_bound + a.error_bound))
    assert a.iterations < p.iterations


def test_solvers_return_best_iterate_and_trace():
    f = lambda x: 0.5 * x + 1.0  # fixed point 2
    x0 = torch.zeros(3, 4, dtype=torch.float64)
    for solver in (picard, anderson):
        r = solver(f, x0, tol=1e-12, max_iter=500)
        assert r.converged and torch.allclose(r.x, torch.full_like(x0, 2.0), atol=1e-11)
        assert min(r.trace) == pytest.approx(r.residual) or r.residual <= min(r.trace)


def test_auto_is_picard_where_picard_is_quick_and_hands_a_slow_map_to_anderson():
    """The network's default solver: a fast contraction stays Picard (the same answer, step for
    step); a slow one (rate 0.99: Picard needs ~2700 steps to 1e-12) goes to Anderson after
    AUTO_PICARD steps and converges in far fewer evaluations than Picard alone."""
    x0 = torch.zeros(3, 4, dtype=torch.float64)
    fast = lambda x: 0.5 * x + 1.0  # noqa: E731
    a, p = auto(fast, x0), picard(fast, x0)
    assert a.method == "picard" and torch.equal(a.x, p.x) and a.iterations == p.iterations
    slow = lambda x: 0.99 * x + 1.0  # noqa: E731  fixed point 100
    a, p = auto(slow, x0, max_iter=10_000), picard(slow, x0, max_iter=10_000)
    assert a.method.startswith("picard+anderson") and a.converged and p.converged
    assert torch.allclose(a.x, torch.full_like(x0, 100.0), rtol=1e-10)
    assert AUTO_PICARD < a.iterations < p.iterations / 10


def test_gradient_matches_central_differences(small_net, X4, rng):
    """GR-1: df/dA = (kappa gamma/m) b z^T, against central differences away from kinks."""
    B, Z, eq = small_net.features(X4, tol=1e-14)
    h = 1e-5
    checked = 0
    for _ in range(6):
        V = torch.from_numpy(rng.standard_normal((small_net.m, small_net.m)))
        plus, minus = small_net.with_A(small_net.A + h * V), small_net.with_A(small_net.A - h * V)
        ep, em = plus.equilibrium(X4, tol=1e-14), minus.equilibrium(X4, tol=1e-14)
        same = (ep.mask == eq.mask).all(dim=1) & (em.mask == eq.mask).all(dim=1)  # no kink crossed
        fd = (plus.output(X4, equilibrium=ep) - minus.output(X4, equilibrium=em)) / (2 * h)
        exact = small_net.gradient_scale * torch.einsum("nm,mk,nk->n", B, V, Z)
        # truncation O(h^2) ~ 1e-10 and rounding ~ tol/h ~ 1e-9 relative: 1e-7 leaves margin
        rel = (fd - exact).abs() / exact.abs().clamp(min=1e-12)
        assert bool((rel[same] < 1e-7).all()), rel
        checked += int(same.sum())
    assert checked >= 20  # kinks are rare; most samples are genuinely checked


def test_gram_equals_jjt_from_autograd(small_net, X4):
    """GR-2: the Hadamard form against J J^T with J from autograd through 200 layers."""
    J = autograd_jacobian(small_net, X4)
    G = small_net.gram(X4, tol=1e-14)
    assert torch.allclose(G, J @ J.T, rtol=1e-9, atol=0)


def test_loss_gradient_matches_autograd(small_net, X4):
    y = torch.linspace(-1, 1, X4.shape[0], dtype=torch.float64)
    grad, loss, r = small_net.loss_gradient(X4, y, tol=1e-14)
    A = small_net.A.clone().requires_grad_(True)
    f = torch.stack([unrolled_output(small_net, A, x, 200) for x in X4])
    L = 0.5 * ((f - y) ** 2).sum()
    (gA,) = torch.autograd.grad(L, A)
    assert loss == pytest.approx(float(L.detach()), rel=1e-12)
    assert torch.allclose(grad, gA, rtol=1e-9, atol=1e-15 * float(gA.abs().max()))


def test_unrolled_approaches_equilibrium_geometrically(small_net, X4):
    eq = small_net.equilibrium(X4, tol=1e-14)
    rho = small_net.contraction_factor()
    zs = eq.Z.norm(dim=1)
    for L in (1, 5, 10, 20):
        err = (small_net.unrolled(X4, L) - eq.Z).norm(dim=1)
        assert bool((err <= rho**L * zs + 1e-12).all())


def test_output_scale_and_backward_definition(small_net, X4):
    B, Z, eq = small_net.features(X4, tol=1e-14)
    f = small_net.output(X4, equilibrium=eq)
    assert torch.allclose(f, 0.7 / math.sqrt(24) * Z @ small_net.u, rtol=1e-15)
    # b = D (I - c A^T D)^{-1} u, solved directly for one row (a single, unbatched solve)
    D = torch.diag(eq.mask[0])
    b = D @ torch.linalg.solve(torch.eye(24, dtype=torch.float64) - small_net.c * small_net.A.T @ D, small_net.u)
    assert torch.allclose(B[0], b, rtol=1e-11, atol=1e-13)


def test_coupled_outputs_set_f_and_keep_the_law_of_u():
    """with_outputs_coupled: f(X) = (kappa/sqrt m) chol(Z Z^T) xi exactly, U and A untouched, and
    over many draws (xi ~ N(0, I) independent of the network) u' ~ N(0, I_m): mean and
    covariance within 5 standard errors (a formula that kept only the row-space part, or
    dropped the Cholesky factor, is off by order one)."""
    import math

    import numpy as np
    import torch

    from theory.network import ImplicitNetwork

    X = torch.tensor([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])
    net = ImplicitNetwork.initialize(3, 32, gamma=0.3, kappa=2.0, seed=5)
    xi = np.array([0.7, -1.2])
    c = net.with_outputs_coupled(X, xi)
    Z = net.equilibrium(X).Z
    want = (2.0 / math.sqrt(32)) * torch.linalg.cholesky(Z @ Z.T) @ torch.tensor(xi)
    assert torch.allclose(c.output(X), want, atol=1e-12, rtol=0)
    assert torch.equal(c.A, net.A) and torch.equal(c.U, net.U)

    m, N = 24, 3000  # wide enough that no input leaves every unit off (2^-24 per draw)
    rng = np.random.default_rng(0)
    us = np.stack(
        [ImplicitNetwork.initialize(3, m, gamma=0.3, seed=s).with_outputs_coupled(X, rng.standard_normal(2)).u.numpy() for s in range(N)]
    )
    assert np.abs(us.mean(0)).max() < 5 / math.sqrt(N)
    assert np.abs(np.cov(us.T) - np.eye(m)).max() < 5 * math.sqrt(2 / N)


def test_coupled_outputs_refuse_a_singular_output_gram():
    import pytest
    import torch

    from theory.errors import DegenerateInputError, ShapeError
    from theory.network import ImplicitNetwork

    net = ImplicitNetwork.initialize(3, 2, gamma=0.3, seed=1)
    X = torch.randn(3, 3, generator=torch.Generator().manual_seed(0))
    with pytest.raises(DegenerateInputError, match="not positive definite"):
        net.with_outputs_coupled(X, [0.0, 1.0, 2.0])  # n = 3 > m = 2: Z Z^T has rank 2
    with pytest.raises(ShapeError, match="one entry per row"):
        net.with_outputs_coupled(X, [0.0, 1.0])
