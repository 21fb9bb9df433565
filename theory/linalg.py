"""Norms the mathematics needs, computed one way everywhere."""

from __future__ import annotations

import numpy as np
import torch

from .errors import ShapeError

__all__ = ["hadamard_gram", "lanczos_norm", "spectral_norm", "top_right_singular_vector"]


def hadamard_gram(
    B: torch.Tensor, Z: torch.Tensor, scale: float, B2: torch.Tensor | None = None, Z2: torch.Tensor | None = None
) -> torch.Tensor:
    """scale^2 (B B2^T) o (Z Z2^T): the Gram of per-sample gradients scale * b_i z_i^T
    (docs/mathematics.md section 2, GR-2) from their factors, over any leading batch
    dimensions; (B2, Z2) defaults to (B, Z). The one implementation of the Hadamard form
    (:meth:`theory.network.ImplicitNetwork.gram_of` calls it); the n x m^2 Jacobian is never
    built."""
    B2 = B if B2 is None else B2
    Z2 = Z if Z2 is None else Z2
    return scale**2 * ((B @ B2.mT) * (Z @ Z2.mT))


def spectral_norm(A: torch.Tensor) -> float:
    """||A||_2, the largest singular value.

    On a GPU: :func:`lanczos_norm` (ARPACK and LAPACK need the matrix on the host). On the CPU:
    m <= 256: LAPACK SVD (``torch.linalg.matrix_norm(A, 2)``). Larger: the square root of the
    top eigenvalue of A^T A (or A A^T, the smaller) by ARPACK's Lanczos (``eigsh``, k=1, to
    machine precision, fixed start vector), which agrees with the full SVD to ~1e-15 relative
    at m = 512..4096 and is several times faster for large m (benchmarks/README.md); on ARPACK
    failure it falls back to the full SVD. (``svds`` runs the same iteration with its tolerance
    squared, 1e-24 for 1e-12, below machine precision: 151 products at m = 1024 where machine
    precision takes 111, for the same value to 1e-15.)
    """
    if A.ndim != 2:
        raise ShapeError(f"spectral_norm needs a matrix, got shape {tuple(A.shape)}")
    if A.device.type != "cpu":
        return lanczos_norm(A)
    if min(A.shape) <= 256:
        return float(torch.linalg.matrix_norm(A, ord=2))
    top = _arpack_top(A.numpy(), vector=False)
    return top[0] if top is not None else float(torch.linalg.matrix_norm(A, ord=2))


def top_right_singular_vector(A: torch.Tensor) -> torch.Tensor:
    """A unit vector v with ||A v|| = ||A||_2: a start for power iterations that track ||A(t)||_2
    along a path (the trainer's contraction factor at every evaluated state). On the CPU the
    LAPACK SVD for min(shape) <= 64, above it ARPACK as in :func:`spectral_norm` (2 ms against
    the SVD's 8 ms at m = 256); on a GPU the Lanczos Ritz vector. Its sign is arbitrary."""
    if A.ndim != 2:
        raise ShapeError(f"top_right_singular_vector needs a matrix, got shape {tuple(A.shape)}")
    if A.device.type != "cpu":
        v = _lanczos(A, vector=True)[1]
        assert v is not None  # asked for
        return v
    top = _arpack_top(A.numpy(), vector=True) if min(A.shape) > 64 else None
    if top is None:
        return torch.linalg.svd(A, full_matrices=False).Vh[0].contiguous()
    assert top[1] is not None  # asked for
    return torch.from_numpy(top[1])


def _arpack_top(M: np.ndarray, *, vector: bool) -> tuple[float, np.ndarray | None] | None:
    """(||M||_2, its right singular vector if ``vector``) by ARPACK's Lanczos on the smaller of
    M^T M and M M^T, to machine precision from a fixed start; None if ARPACK fails."""
    from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

    k = min(M.shape)
    if not M.any():  # ARPACK fails on a zero operator (the trainer's A(0) - A(0)), and the SVD took 0.26 s at m = 1024
        e1 = np.zeros(M.shape[1])
        e1[0] = 1.0
        return 0.0, (e1 if vector else None)
    right = M.shape[1] == k  # the Gram is M^T M, whose eigenvectors are right singular vectors
    gram = (lambda x: M.T @ (M @ x)) if right else (lambda x: M @ (M.T @ x))
    v0 = np.random.default_rng(0).standard_normal(k)
    try:
        out = eigsh(LinearOperator((k, k), matvec=gram, dtype=M.dtype), k=1, which="LA", tol=0.0, v0=v0, return_eigenvectors=vector)
    except ArpackError:
        return None
    if not vector:
        return float(np.sqrt(max(float(out[0]), 0.0))), None
    w, V = out
    v = V[:, 0] if right else M.T @ V[:, 0]
    return float(np.sqrt(max(float(w[0]), 0.0))), np.ascontiguousarray(v / np.linalg.norm(v))


def lanczos_norm(A: torch.Tensor, *, tol: float = 1e-13, max_steps: int = 400, check_every: int = 10) -> float:
    """||A||_2 by Golub-Kahan-Lanczos bidiagonalization with full reorthogonalization, on A's
    device (for matrices too large for a dense SVD there): k steps give a k x k bidiagonal
    B_k whose largest singular value increases to ||A||_2 (a lower bound at every k); stop when
    it changes by less than ``tol`` relative over ``check_every`` steps. Fixed start vector
    (seeded on the CPU, so every device starts alike). Agrees with ARPACK to ~1e-14 relative on
    Gaussian matrices (tests/test_device.py)."""
    return _lanczos(A, tol=tol, max_steps=max_steps, check_every=check_every)[0]


def _lanczos(
    A: torch.Tensor, *, tol: float = 1e-13, max_steps: int = 400, check_every: int = 10, vector: bool = False
) -> tuple[float, torch.Tensor | None]:
    """:func:`lanczos_norm`'s iteration; with ``vector``, also the top Ritz vector V_k q_1 (q_1
    the bidiagonal's top right singular vector), a unit vector in A's row space."""
    m, n = A.shape
    steps = min(max_steps, m, n)
    g = torch.Generator().manual_seed(0)
    v = torch.randn(n, generator=g, dtype=A.dtype).to(A.device)
    V = torch.empty(steps + 1, n, dtype=A.dtype, device=A.device)  # the bases, filled in place
    U = torch.empty(steps, m, dtype=A.dtype, device=A.device)
    V[0] = v / torch.linalg.vector_norm(v)
    alphas: list[float] = []
    betas: list[float] = []
    beta, last = 0.0, 0.0
    for k in range(steps):
        p = A @ V[k]
        if k:
            p = p - beta * U[k - 1]
            p = p - U[:k].T @ (U[:k] @ p)
        alpha = float(torch.linalg.vector_norm(p))
        if alpha == 0.0:
            break
        U[k] = p / alpha
        alphas.append(alpha)
        r = A.T @ U[k] - alpha * V[k]
        r = r - V[: k + 1].T @ (V[: k + 1] @ r)
        beta = float(torch.linalg.vector_norm(r))
        if (k + 1) % check_every == 0 or beta == 0.0:
            est = _bidiagonal_norm(alphas, betas)
            if beta == 0.0 or abs(est - last) <= tol * est:
                return _ritz(alphas, betas, V, vector)
            last = est
        betas.append(beta)
        V[k + 1] = r / beta
    return _ritz(alphas, betas, V, vector)


def _bidiagonal(alphas: list[float], betas: list[float]) -> np.ndarray:
    """The bidiagonal matrix with ``alphas`` on the diagonal and the first len(alphas) - 1
    ``betas`` above it."""
    k = len(alphas)
    B = np.diag(alphas)
    if k > 1:
        B = B + np.diag(betas[: k - 1], 1)
    return B


def _bidiagonal_norm(alphas: list[float], betas: list[float]) -> float:
    return float(np.linalg.norm(_bidiagonal(alphas, betas), 2))


def _ritz(alphas: list[float], betas: list[float], V: torch.Tensor, vector: bool) -> tuple[float, torch.Tensor | None]:
    if not vector:
        return _bidiagonal_norm(alphas, betas), None
    _, s, Qt = np.linalg.svd(_bidiagonal(alphas, betas))
    k = len(alphas)
    v = torch.as_tensor(Qt[0], dtype=V.dtype, device=V.device) @ V[:k]
    return float(s[0]), v / torch.linalg.vector_norm(v)
