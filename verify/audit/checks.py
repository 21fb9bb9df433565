"""The audit: compare an implementation with the reference on one problem, check by check.

Every check reports measured numbers, the threshold and why; ``passed`` is True, False
(flagged) or None (not applicable: e.g. the adapter reports no residual). The thresholds:

- ``eq_tol`` (default 1e-8), relative equilibrium error max_i ||z_i - z*_i|| / ||z*_i||. The
  reference is certified to residual / (1 - rho) <= 1e-12 / (1 - rho), about 1e-11 at
  rho = 0.9 (WP-1), so 1e-8 leaves three digits for the reference's own error while any
  float64 solver run to a tolerance of 1e-9 or tighter passes. Outputs f use the same
  threshold relative to max |f|.
- ``grad_tol`` (default 1e-6), relative Frobenius error of d(w.f)/dA. The gradient's error is
  the backward solve's residual amplified by at most 1/(1 - rho) plus the forward error
  carried through D and z*; an exact implicit gradient in float64 lands near 1e-10 here
  (measured), an approximate one (phantom/Jacobian-free, truncated backward) near
  rho^k.
- The Gram from the implementation's n per-sample gradients g_i (w = e_i):
  G_ij = <g_i, g_j>_F. If every g_i has relative error <= eps then
  |dG_ij| <= (2 eps + eps^2) ||g_i|| ||g_j|| and ||dG||_2 <= n (2 eps + eps^2) ||G||_2, so
  the threshold is n (2 grad_tol + grad_tol^2). (A black box gives nothing but gradients, so
  the audit stores the n x m x m per-sample gradients here: n is small; the reference side
  uses the Hadamard form.)

The reference is ``theory.network`` (Anderson to a relative residual of 1e-12).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from theory.network import ImplicitNetwork, relu_layer
from theory.tolerances import relative_error

from .problem import Problem
from .protocol import Implementation, Solve


@dataclass
class Check:
    name: str
    passed: bool | None
    detail: str
    threshold: str = ""
    measured: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditResult:
    adapter: str
    label: str
    config: dict
    setting: dict
    checks: list[Check]
    seconds: float

    @property
    def flagged(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    @property
    def ok(self) -> bool:
        return not self.flagged

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        d["flagged"] = [c.name for c in self.flagged]
        return d


def _row_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).norm(dim=1) / b.norm(dim=1).clamp_min(1e-300)).max())


def _residuals(net: ImplicitNetwork, X, Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(abs, rel) per-row residuals ||T(z_i) - z_i|| of the returned Z, measured in float64."""
    Z = Z.to(torch.float64)
    res = (relu_layer(Z, net.A, net.preactivation_offset(X), net.c) - Z).norm(dim=1)
    return res, res / Z.norm(dim=1).clamp_min(1e-300)


def _attempt(fn):
    try:
        return fn(), None
    except Exception as exc:  # an adapter's exception is an honest failure; record it
        return None, f"{type(exc).__name__}: {exc}"


def audit(
    impl: Implementation, problem: Problem | None = None, *, eq_tol: float = 1e-8, grad_tol: float = 1e-6, label: str = "", config=None
) -> AuditResult:
    """Run every check of the module docstring on ``impl``; never raises for the adapter's sake."""
    t0 = time.perf_counter()
    p = problem or Problem()
    T = p.truth
    checks: list[Check] = []
    sol, err = _attempt(lambda: impl.solve(p.net, p.X, weights=p.w))
    if sol is None:
        checks.append(Check("runs", False, f"the implementation raised on the base problem (rho = {T.rho:.3f}): {err}"))
        return AuditResult(impl.name, label or impl.name, dict(config or {}), p.setting(), checks, time.perf_counter() - t0)
    checks.append(Check("runs", True, f"solved the base problem (rho = {T.rho:.3f})"))
    checks.append(_dtype(sol))
    checks.append(_finite(sol))
    checks += _equilibrium(p, sol, eq_tol)
    checks += _tolerance(p, sol)
    checks.append(_gradient(p, sol, grad_tol))
    if sol.grad is not None:
        checks.append(_gram(impl, p, grad_tol))
    checks.append(_uniqueness(impl, p, eq_tol))
    checks.append(_near_contraction(impl, p, eq_tol, grad_tol))
    ignored = sol.info.get("ignored_config")
    if ignored is not None:
        checks.append(
            Check(
                "config_honoured",
                not ignored,
                "every configuration key was read"
                if not ignored
                else f"keys accepted but never read (silently ignored): {', '.join(ignored)}",
                "no ignored keys",
                {"ignored": list(ignored)},
            )
        )
    return AuditResult(impl.name, label or impl.name, dict(config or {}), p.setting(), checks, time.perf_counter() - t0)


def _dtype(sol: Solve) -> Check:
    dts = {"Z": str(sol.Z.dtype), "f": str(sol.f.dtype)}
    if sol.grad is not None:
        dts["grad"] = str(sol.grad.dtype)
    ok = all(v == "torch.float64" for v in dts.values())
    return Check("dtype", ok, "float64 throughout" if ok else f"returned {dts}: the reference mathematics is float64", "float64", dts)


def _finite(sol: Solve) -> Check:
    parts = [sol.Z, sol.f] + ([sol.grad] if sol.grad is not None else [])
    ok = all(bool(torch.isfinite(t).all()) for t in parts)
    return Check("finite", ok, "no NaN or infinity" if ok else "non-finite values returned", "all finite")


def _equilibrium(p: Problem, sol: Solve, eq_tol: float) -> list[Check]:
    T = p.truth
    res_abs, _ = _residuals(p.net, p.X, sol.Z)
    err = _row_rel(sol.Z.to(torch.float64), T.Z)
    # WP-1: ||z - z*|| <= ||T(z) - z|| / (1 - rho); the measured error must respect it
    bound = float((res_abs / ((1 - T.rho) * T.Z.norm(dim=1))).max())
    measured = {"error": err, "certified_bound": bound, "residual_abs": float(res_abs.max()), "rho": T.rho}
    eq = Check(
        "equilibrium",
        err <= eq_tol,
        f"max relative error {err:.2e} (certified bound from its residual: {bound:.2e})",
        f"<= {eq_tol:g} relative",
        measured,
    )
    f_err = float((sol.f.to(torch.float64) - T.f).abs().max() / T.f.abs().max())
    out = Check("outputs", f_err <= eq_tol, f"max |f - f_ref| / max |f_ref| = {f_err:.2e}", f"<= {eq_tol:g}", {"error": f_err})
    return [eq, out]


def _tolerance(p: Problem, sol: Solve) -> list[Check]:
    info = sol.info
    if "tol" not in info:
        return [Check("tolerance_honoured", None, "the adapter reports no stopping tolerance")]
    res_abs, res_rel = _residuals(p.net, p.X, sol.Z)
    kind = info.get("tol_kind", "abs")
    measured_res = float((res_rel if kind == "rel" else res_abs).max())
    tol = float(info["tol"])
    # one evaluation of T rounds at ~1e-16 sqrt(m) ||z||: below that a residual is not measurable
    floor = 1e-15 * math.sqrt(p.m) * float(sol.Z.norm(dim=1).max() if kind == "abs" else 1.0)
    checks = [
        Check(
            "tolerance_honoured",
            measured_res <= tol + floor,
            f"asked for a {kind} residual <= {tol:.1e}; the returned equilibrium has {measured_res:.2e}",
            f"<= {tol:.1e} ({kind})",
            {"tol": tol, "tol_kind": kind, "residual": measured_res, "iterations": info.get("iterations")},
        )
    ]
    if "reported_residual" in info:
        rep = float(info["reported_residual"])
        ok = measured_res <= rep * (1 + 1e-6) + floor
        checks.append(
            Check(
                "best_iterate",
                ok,
                f"returned iterate's residual {measured_res:.2e} vs the best the solver reports, {rep:.2e}"
                + ("" if ok else ": the returned iterate is not the best one"),
                "returned residual <= reported lowest",
                {"returned": measured_res, "reported": rep},
            )
        )
    return checks


def _gradient(p: Problem, sol: Solve, grad_tol: float) -> Check:
    T = p.truth
    if sol.grad is None:
        return Check("gradient", False, "no gradient path: the returned equilibrium does not depend on A for autograd", f"<= {grad_tol:g}")
    g = sol.grad.to(torch.float64)
    rel = relative_error(g, T.grad)
    cos = float((g * T.grad).sum() / (g.norm() * T.grad.norm()).clamp_min(1e-300))
    return Check(
        "gradient",
        rel <= grad_tol,
        f"relative error {rel:.2e}, cosine {cos:.10f} against the exact implicit gradient",
        f"<= {grad_tol:g} relative (Frobenius)",
        {"rel_error": rel, "cosine": cos, "norm_ratio": float(g.norm() / T.grad.norm())},
    )


def _gram(impl: Implementation, p: Problem, grad_tol: float) -> Check:
    T = p.truth
    n = p.n
    grads = []
    for i in range(n):
        e = torch.zeros(n, dtype=torch.float64)
        e[i] = 1.0
        s, err = _attempt(lambda e=e: impl.solve(p.net, p.X, weights=e))
        if s is None or s.grad is None:
            return Check("gram", False, f"per-sample gradient {i} unavailable: {err or 'no gradient path'}")
        grads.append(s.grad.to(torch.float64).reshape(-1))
    J = torch.stack(grads)
    G = J @ J.T
    G_ref = T.gram
    rel = float(torch.linalg.matrix_norm(G - G_ref, 2) / torch.linalg.matrix_norm(G_ref, 2))
    lam, lam_ref = float(torch.linalg.eigvalsh(G)[0]), float(torch.linalg.eigvalsh(G_ref)[0])
    tol = n * (2 * grad_tol + grad_tol**2)
    return Check(
        "gram",
        rel <= tol,
        f"||G - G_ref||_2 / ||G_ref||_2 = {rel:.2e}; lambda_min {lam:.4e} vs {lam_ref:.4e}",
        f"<= n (2 grad_tol + grad_tol^2) = {tol:.1e}",
        {"rel_error": rel, "lambda_min": lam, "lambda_min_ref": lam_ref},
    )


def _uniqueness(impl: Implementation, p: Problem, eq_tol: float) -> Check:
    errs, raised = [], []
    for k, Z0 in enumerate(p.Z0s):
        s, err = _attempt(lambda Z0=Z0: impl.solve(p.net, p.X, Z0=Z0))
        if s is None:
            raised.append(f"start {k}: {err}")
        else:
            errs.append(_row_rel(s.Z.to(torch.float64), p.truth.Z))
    worst = max(errs) if errs else float("nan")
    ok = not raised and worst <= eq_tol
    return Check(
        "uniqueness",
        ok,
        f"from {len(p.Z0s)} far-off starting points: worst relative distance to the unique fixed point {worst:.2e}"
        + (f"; raised: {'; '.join(raised)}" if raised else ""),
        f"<= {eq_tol:g}",
        {"errors": errs, "raised": raised},
    )


def _near_contraction(impl: Implementation, p: Problem, eq_tol: float, grad_tol: float) -> Check:
    """Rescale A so that rho = 0.5 ... 0.999: an implementation may fail loudly (raise) as rho -> 1,
    but it must not return a wrong equilibrium or gradient without saying so."""
    rows, silent = [], []
    for target, T in p.scaled.items():
        s, err = _attempt(lambda T=T: impl.solve(T.net, p.X, weights=p.w))
        if s is None:
            rows.append({"rho": target, "raised": err})
            continue
        row = {"rho": target, "eq_error": _row_rel(s.Z.to(torch.float64), T.Z), "iterations": s.info.get("iterations")}
        row["reported_residual"], row["tol"] = s.info.get("reported_residual"), s.info.get("tol")
        row["grad_error"] = None if s.grad is None else relative_error(s.grad.to(torch.float64), T.grad)
        row["reference_error_bound"] = T.error_bound / float(T.Z.norm(dim=1).min())
        bad_grad = row["grad_error"] is not None and not row["grad_error"] <= grad_tol
        if not row["eq_error"] <= eq_tol or bad_grad:
            silent.append(target)
        rows.append(row)
    parts = []
    for r in rows:
        if "raised" in r:
            parts.append(f"rho {r['rho']}: raised ({r['raised'][:80]})")
            continue
        g = "-" if r["grad_error"] is None else f"{r['grad_error']:.1e}"
        text = f"rho {r['rho']}: eq {r['eq_error']:.1e}, grad {g}"
        if r["rho"] in silent and r["reported_residual"] is not None and r["tol"] is not None and r["reported_residual"] > r["tol"]:
            text += (
                f" (its own statistics say residual {r['reported_residual']:.1e} > tol {r['tol']:.0e}, but it returned without an error)"
            )
        parts.append(text)
    return Check(
        "near_contraction",
        not silent,
        "; ".join(parts) + (f". Silently inaccurate at rho = {', '.join(map(str, silent))}" if silent else ""),
        f"exact (eq <= {eq_tol:g}, grad <= {grad_tol:g}) or an exception, at every rho",
        {"rows": rows, "silent": silent},
    )


def failure_text(result: AuditResult) -> str:
    """One line per flagged check, for terminals and test failures."""
    return "\n".join(f"  {c.name}: {c.detail}" for c in result.flagged) or "  (nothing flagged)"


def audit_grid(
    adapter: str, configs: dict[str, dict], problem: Problem | None = None, *, on_result=None, **thresholds
) -> list[AuditResult]:
    """Audit ``adapter`` under each labelled configuration on one shared problem."""
    from .protocol import load_adapter

    p = problem or Problem()
    results = []
    for label, cfg in configs.items():
        r = audit(load_adapter(adapter, cfg), p, label=label, config=cfg, **thresholds)
        results.append(r)
        if on_result:
            on_result(r)
    return results
