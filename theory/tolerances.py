"""Every tolerance of the catalog in one table, each with its reason (neural-tangents keeps its
``RTOL``/``ATOL`` in one place; so do we).

Solver tolerances are relative residuals ``||T(z) - z|| / ||z||``; the certified error of an
equilibrium is that residual over ``1 - rho`` (WP-1). Comparison tolerances say how far two
computed numbers may differ before the difference counts as a violation.
"""

from __future__ import annotations

import numpy as np
import torch

#: float64 machine epsilon.
EPS = float(np.finfo(np.float64).eps)

# ---- solves ------------------------------------------------------------------------------
#: The network's default forward/backward residual: one evaluation of T rounds at about
#: 1e-16 sqrt(m) ||z||, so 1e-12 is reachable up to m ~ 1e6 with 4 digits of margin.
DEFAULT_SOLVE = 1e-12
#: Reference equilibria of the well-posedness checks (WP-1..4): their error is certified and
#: added to both sides' tolerance.
REFERENCE_SOLVE = 1e-13
#: Solves behind the gradient checks (GR-1, GR-2, WP-6), which compare against finite
#: differences and autograd at 1e-10: the solve's error must sit far below that.
TIGHT_SOLVE = 1e-14

# ---- comparisons ------------------------------------------------------------------------
#: Rows of an input count as unit-norm within this: normalizing in float64 leaves ~1e-16,
#: 1e-10 admits data saved with fewer digits and refuses real mistakes.
UNIT_NORM = 1e-10
#: Autograd through L unrolled layers against the implicit formula (GR-1, GR-2), relative
#: Frobenius: the truncation L rho^L is <= 1e-15 by the choice of L, rounding over L layers adds
#: ~L eps; 1e-10 leaves a wide margin and is far below any real error (Jacobian-free: ~rho).
AUTOGRAD_AGREEMENT = 1e-10
#: Spectral norms (LAPACK SVD, or ARPACK at tol 1e-12) are accurate to ~1e-12 relative;
#: differences of contraction factors are compared within 1e-10 (TD-4).
SPECTRAL_NORM = 1e-10
#: Symbolic identities: sympy residuals are exactly 0 when proven; 40-digit quadrature is good
#: to ~1e-35 (KG-1).
HIGH_PRECISION = 1e-30
#: Inputs closer than this (angle, or distance) cannot be certified distinct or non-parallel by
#: float64 kernels (KG-2, KG-6 hypotheses).
RESOLVABLE_ANGLE = 1e-8

# ---- training ---------------------------------------------------------------------------
#: RK45 relative and absolute tolerance of the TD flows (on the entries of A).
FLOW_RTOL = 1e-4
FLOW_ATOL = 1e-7
#: Across ReLU kinks the vector field jumps and the flow's global error is first order:
#: measured at about 20 rtol relative in the loss (rtol 1e-4 against 1e-5), so checks that
#: compare integrated quantities allow 20 rtol.
INTEGRATOR = 20 * FLOW_RTOL
INTEGRATOR_WHY = "RK45 global error across ReLU kinks, measured ~20 rtol relative (rtol 1e-4 vs 1e-5)"
#: Gradient descent is plain arithmetic on 1e-12-accurate solves (TD-2).
DESCENT_ROUNDING = 1e-9


def eigenvalue_floor(G: torch.Tensor) -> float:
    """16 n eps ||G||_2: eigvalsh's backward error bound with a safety factor. An eigenvalue
    above it is certified positive in float64; below it, singularity cannot be excluded."""
    return 16 * G.shape[0] * EPS * float(torch.linalg.matrix_norm(G, 2))


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||b|| over all entries (Frobenius for matrices): the one matrix-closeness
    measure of the catalog."""
    return float(torch.linalg.vector_norm(a - b)) / (float(torch.linalg.vector_norm(b)) + 1e-300)
