"""A complete example: the implicit-layer audit inside your own project's pytest suite.

Your project has a DEQ layer (here: the recipe of the "Deep Implicit Layers" tutorial, a forward
fixed-point solve without autograd, one re-attached step, and a backward hook that solves the
adjoint equation by fixed-point iteration). To audit it, write an adapter (one ``solve`` method,
see ``verify/audit/protocol.py``) and mark a test with ``audit_implicit``; the
``implicit_audit`` fixture runs the audit and the test fails with the audit's lines when a check
you did not allow is flagged. Installing implicit-verify registers the marker and the fixture.

Run: ``pytest docs/examples/test_audit_my_deq.py`` (implicit-verify's own tests run it).
"""

import math

import pytest
import torch

from verify.audit import Solve


class MyDEQ(torch.nn.Module):
    """The layer under test: z* = relu(c z* A^T + H0), with the tutorial's implicit backward."""

    def __init__(self, A: torch.Tensor, c: float, tol: float = 1e-12, max_iter: int = 5000):
        super().__init__()
        self.A = torch.nn.Parameter(A.clone())
        self.c, self.tol, self.max_iter = c, tol, max_iter

    def layer(self, z, H0):
        return torch.relu(self.c * (z @ self.A.T) + H0)

    def _iterate(self, step, z):
        for _ in range(self.max_iter):
            z_next = step(z)
            if float((z_next - z).norm(dim=1).max()) <= self.tol * float(z_next.norm(dim=1).max()):
                return z_next
            z = z_next
        raise RuntimeError(f"no convergence in {self.max_iter} iterations")  # never return silently

    def forward(self, H0, z0):
        with torch.no_grad():
            z_star = self._iterate(lambda z: self.layer(z, H0), z0)
        z = self.layer(z_star, H0)  # one step with autograd: its graph gives the VJPs below
        if z.requires_grad:
            z0_ = z_star.clone().requires_grad_()
            f0 = self.layer(z0_, H0)

            def backward_hook(grad):  # g = J^T g + grad, the adjoint of the implicit function
                def step(g):
                    return torch.autograd.grad(f0, z0_, g, retain_graph=True)[0] + grad

                return self._iterate(step, grad)

            z.register_hook(backward_hook)
        return z


class MyAdapter:
    """The audit's view of MyDEQ: our parameters in, equilibria, outputs and the gradient out."""

    name = "my-deq"

    def solve(self, net, X, *, weights=None, Z0=None):
        deq = MyDEQ(net.A, net.c)
        H0 = net.preactivation_offset(X)
        z = deq(H0, torch.zeros_like(H0) if Z0 is None else Z0)
        f = (net.kappa / math.sqrt(net.m)) * (z @ net.u)
        grad = None
        if weights is not None:
            (grad,) = torch.autograd.grad((weights * f).sum(), deq.A)
        return Solve(z.detach(), f.detach(), grad, {"tol": deq.tol, "tol_kind": "rel"})


@pytest.mark.audit_implicit(MyAdapter(), rhos=(0.5, 0.9, 0.99))
def test_my_deq_is_exact(implicit_audit):
    # the fixture has already failed the test if anything was flagged; the numbers are yours
    assert implicit_audit.check("gradient").measured["rel_error"] < 1e-9


@pytest.mark.audit_implicit(
    "torchdeq", config={"ift": True}, allow=("equilibrium", "outputs", "gradient", "uniqueness", "near_contraction")
)
def test_a_library_with_known_flags(implicit_audit):
    # torchdeq with its default tolerances is flagged; allowing those checks records them in
    # the report without failing, and the test can still pin what it relies on
    assert implicit_audit.check("dtype").passed
