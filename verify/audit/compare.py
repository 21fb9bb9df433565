"""The four libraries side by side: every library's grid on one problem, and the iterations and
time each solver needs for a tolerance of 1e-10 at rho = 0.9, 0.99, 0.999.

``python -m verify audit all --grid --out DIR`` (``nox -s audit``) writes ``DIR/<library>/``
(each grid's ``audit.json``/``audit.md``), ``DIR/comparison.json`` and ``DIR/comparison.md``
(the two tables of the README's "Across frameworks" section).

Timing: each contender is called once to warm up (JAX compiles its program on the first call;
that compile is excluded and said so), then ``repeats`` times; the table gives the fastest of
those calls for the forward solve and the gradient of w.f together (what a training step pays).
Each library is asked for 1e-10 in its own sense of tolerance (torchdeq: absolute residual per
row; jaxopt: the whole batch's step norm; optimistix: elementwise step against atol + rtol|y|;
the reference: relative residual per row), so the measured errors stand next to the counts.
"""

from __future__ import annotations

import time
from typing import Any

from theory.tolerances import relative_error

from .checks import AuditResult, _row_rel, audit_grid
from .problem import Problem
from .protocol import LIBRARIES, load_adapter

TOL = 1e-10
MAX = 5000
COMPARE_RHOS = (0.9, 0.99, 0.999)
_TD = {"ift": True, "f_tol": TOL, "b_tol": TOL, "f_max_iter": MAX, "b_max_iter": MAX}
# (library, label, adapter, config): each library's solvers, asked for 1e-10
CONTENDERS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("reference", "Anderson", "reference", {"tol": TOL}),
    ("torchdeq", "fixed_point_iter", "torchdeq", {**_TD, "f_solver": "fixed_point_iter", "b_solver": "fixed_point_iter"}),
    ("torchdeq", "anderson", "torchdeq", {**_TD, "f_solver": "anderson", "b_solver": "anderson"}),
    ("torchdeq", "broyden", "torchdeq", {**_TD, "f_solver": "broyden", "b_solver": "broyden"}),
    ("torchopt", "normal_cg (forward: reference)", "torchopt", {"rtol": TOL, "forward_tol": TOL}),
    ("jaxopt", "FixedPointIteration", "jaxopt", {"tol": TOL, "maxiter": MAX, "solve_tol": TOL}),
    ("jaxopt", "AndersonAcceleration", "jaxopt", {"solver": "anderson", "tol": TOL, "maxiter": MAX, "solve_tol": TOL}),
    (
        "jaxopt",
        "AndersonAcceleration ridge=0",
        "jaxopt",
        {"solver": "anderson", "ridge": 0.0, "tol": TOL, "maxiter": MAX, "solve_tol": TOL},
    ),
    ("optimistix", "FixedPointIteration", "optimistix", {"rtol": TOL, "atol": TOL, "max_steps": MAX}),
    ("optimistix", "Newton", "optimistix", {"solver": "newton", "rtol": TOL, "atol": TOL}),
    ("optimistix", "Chord", "optimistix", {"solver": "chord", "rtol": TOL, "atol": TOL}),
]


def _outcome(eq: float, grad: float | None, eq_tol: float, grad_tol: float) -> str:
    if eq <= eq_tol and grad is not None and grad <= grad_tol:
        return "exact"
    return "silent"  # returned without an exception, and wrong beyond the audit's thresholds


def time_to_tolerance(
    problem: Problem, contenders=CONTENDERS, *, repeats: int = 3, eq_tol: float = 1e-8, grad_tol: float = 1e-6
) -> list[dict]:
    """One row per contender and rho: iterations, fastest seconds of forward + gradient, errors."""
    rows = []
    for library, label, adapter, config in contenders:
        impl = load_adapter(adapter, config)
        for rho in COMPARE_RHOS:
            truth = problem.scaled[rho]
            row: dict[str, Any] = {"library": library, "label": label, "config": config, "rho": rho}
            best = float("inf")
            try:
                impl.solve(truth.net, problem.X, weights=problem.w)  # warm-up (JAX compiles here)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    s = impl.solve(truth.net, problem.X, weights=problem.w)
                    best = min(best, time.perf_counter() - t0)
            except Exception as exc:  # an honest failure: recorded, not fatal
                row.update(outcome="raised", error=f"{type(exc).__name__}: {str(exc)[:160]}")
                rows.append(row)
                continue
            eq = _row_rel(s.Z.double(), truth.Z)
            grad = None if s.grad is None else relative_error(s.grad.double(), truth.grad)
            row.update(
                iterations=s.info.get("iterations"),
                seconds=best,
                eq_error=eq,
                grad_error=grad,
                outcome=_outcome(eq, grad, eq_tol, grad_tol),
            )
            rows.append(row)
    return rows


def survey(problem: Problem, libraries=LIBRARIES, *, on_result=None, **thresholds) -> dict[str, list[AuditResult]]:
    """Every library's published grid on ``problem``."""
    out = {}
    for lib in libraries:
        grid = load_adapter(lib).grid
        out[lib] = audit_grid(lib, grid, problem, on_result=on_result, **thresholds)
    return out


def _cell(row: dict) -> str:
    if row["outcome"] == "raised":
        return "raised"
    mark = "" if row["outcome"] == "exact" else " **silent**"
    it = "-" if row["iterations"] is None else str(row["iterations"])
    return f"{it} it, {1e3 * row['seconds']:.0f} ms, eq {row['eq_error']:.0e}, grad {row['grad_error']:.0e}{mark}"


def render_comparison(grids: dict[str, list[AuditResult]], timing: list[dict], *, command: str) -> str:
    s = next(iter(grids.values()))[0].setting if grids else {}
    lines = [
        "# The implicit layer across frameworks",
        "",
        f"Reproduce: `{command}`",
        "",
        f"Problem: n = {s.get('n')}, d = {s.get('d')}, m = {s.get('m')}, gamma = {s.get('gamma')}, seed {s.get('seed')}; "
        "the contraction sweep's networks (A plus a positive spike, rescaled, so the iteration's local rate follows rho).",
        "",
        "## Which configurations are exact, which fail silently",
        "",
        "Exact: nothing flagged (equilibrium <= 1e-8, gradient <= 1e-6 relative, at every rho of the sweep or an exception). "
        "Silent: a wrong equilibrium or gradient returned without an exception somewhere.",
        "",
        "| library | configurations | exact | exact gradient at rho ~ 0.9 | silently wrong somewhere |",
        "|---|---|---|---|---|",
    ]
    for lib, results in grids.items():
        exact = [r.label for r in results if r.ok]
        grad_ok = [r.label for r in results if any(c.name == "gradient" and c.passed for c in r.checks)]
        silent = [r.label for r in results if any(c.name in ("equilibrium", "gradient", "near_contraction") for c in r.flagged)]
        lines.append(
            f"| {lib} | {len(results)} | {', '.join(f'`{x}`' for x in exact) or 'none'} | {len(grad_ok)} of {len(results)} | "
            f"{', '.join(f'`{x}`' for x in silent) or 'none'} |"
        )
    lines += [
        "",
        f"## Iterations and time to a tolerance of {TOL:g}",
        "",
        "Each solver asked for 1e-10 in its library's own sense, at most 5000 iterations; forward solve and gradient of w.f, "
        "fastest of 3 calls after a warm-up (JAX's compile excluded); eq/grad: relative errors against the reference.",
        "",
        "| library | solver | " + " | ".join(f"rho = {r}" for r in COMPARE_RHOS) + " |",
        "|---|---|" + "---|" * len(COMPARE_RHOS),
    ]
    by = {}
    for row in timing:
        by.setdefault((row["library"], row["label"]), {})[row["rho"]] = row
    for (lib, label), cells in by.items():
        lines.append(f"| {lib} | {label} | " + " | ".join(_cell(cells[r]) for r in COMPARE_RHOS) + " |")
    return "\n".join(lines) + "\n"
