"""Benchmarks (issue 9), measured side by side in one run; writes benchmarks/out/bench.{json,md}.

- gram: the Hadamard-form Gram (ImplicitNetwork.gram: two batched fixed-point solves, then
  (B B^T) o (Z Z^T)) against the generic empirical NTK that tools like torch.func build:
  per-sample Jacobians by vmap(jacrev) through an unrolled fixed-point iteration deep enough
  to reach the same tolerance (L rho^L <= 1e-12), then J J^T with J of size n x m^2.
- limiting_gram: G_inf for n = 2000 points.
- equilibrium: Picard against Anderson against torchdeq's solvers (fixed_point_iter, anderson
  with its default and with lam = 0, broyden), iterations and time to a 1e-10 residual, timed
  in turns; and the achieved FLOP rate of a Picard sweep against one plain matrix product of
  the same shapes.

    python benchmarks/bench.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import torch

from theory import ImplicitNetwork, limiting_gram
from theory.claims.gradients import unrolled_depth


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def unit(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


def generic_ntk(net: ImplicitNetwork, X: torch.Tensor) -> torch.Tensor:
    from torch.func import jacrev, vmap

    depth = unrolled_depth(net.contraction_factor(), 1e-12)
    U, u, c, s = net.U, net.u, net.c, net.kappa / math.sqrt(net.m)

    def f(A, x):
        h0 = net.sigma_u * (U @ x)
        z = torch.zeros_like(h0)
        for _ in range(depth):
            z = torch.relu(c * (A @ z) + h0)
        return s * (u @ z)

    J = vmap(jacrev(f), in_dims=(None, 0))(net.A, X).reshape(X.shape[0], -1)
    return J @ J.T


def export_for_neural_tangents(net: ImplicitNetwork, X: torch.Tensor, hadamard_s: float) -> None:
    """The problem for benchmarks/ntk_neural_tangents.py (run in its own environment)."""
    import numpy as np

    folder = Path(__file__).parent / "out" / "nt"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / f"problem_m{net.m}.npz",
        U=net.U.numpy(),
        A=net.A.numpy(),
        u=net.u.numpy(),
        X=X.numpy(),
        c=net.c,
        s=net.kappa / math.sqrt(net.m),
        sigma_u=net.sigma_u,
        depth=unrolled_depth(net.contraction_factor(), 1e-12),
        G_hadamard=net.gram(X).numpy(),
        hadamard_s=hadamard_s,
    )


def bench_gram(widths, n=64, d=8):
    rows = []
    X = unit(n, d)
    for m in widths:
        net = ImplicitNetwork.initialize(d, m, gamma=0.25, seed=1)
        net.contraction_factor()  # the spectral norm is cached; both methods need rho
        t_h = best_of(lambda net=net: net.gram(X))
        export_for_neural_tangents(net, X, t_h)  # for the neural-tangents comparison (nox -s bench-nt)
        row = {"n": n, "m": m, "hadamard_s": t_h}
        try:
            t_g = best_of(lambda net=net: generic_ntk(net, X), repeat=1)
            err = (
                float(torch.linalg.matrix_norm(generic_ntk(net, X) - net.gram(X)) / torch.linalg.matrix_norm(net.gram(X)))
                if m <= 256
                else None
            )
            row.update({"generic_s": t_g, "speedup": t_g / t_h, "relative_difference": err})
        except RuntimeError as exc:  # out of memory: where the generic method stops
            row.update({"generic_s": None, "generic_error": str(exc)[:120]})
        rows.append(row)
        print(row, flush=True)
    return rows


TORCHDEQ_SOLVERS = {  # label: (torchdeq solver, its keyword arguments)
    "fixed_point_iter": ("fixed_point_iter", {}),
    "anderson": ("anderson", {}),
    "anderson_lam0": ("anderson", {"lam": 0.0}),
    "broyden": ("broyden", {"LBFGS_thres": 30}),  # its default stores max_iter rank-one updates: n x m x max_iter floats
}


def round_robin(fns: dict, repeat: int = 5) -> dict:
    """Best-of-``repeat`` wall time of each callable, timed in turns (one of each per round) so
    that a change of machine load during the run hits every candidate alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def torchdeq_solvers(net: ImplicitNetwork, X: torch.Tensor, tol: float, max_iter: int = 300) -> tuple[dict, dict]:
    """torchdeq's solvers on the same map with stop_mode 'rel' (worst row of
    ||f(z) - z|| / ||f(z)|| < tol, our criterion up to O(tol)); the residual reached is
    re-measured by us. Returns (callables, facts)."""
    try:
        from torchdeq.solver import get_solver
    except ImportError:
        return {}, {}
    from theory.network import relu_layer

    H0, A, c = net.preactivation_offset(X), net.A, net.c

    def layer(Z):
        return relu_layer(Z, A, H0, c)

    fns, facts = {}, {}
    for label, (name, kwargs) in TORCHDEQ_SOLVERS.items():
        solver = get_solver(name)

        def solve(solver=solver, kwargs=kwargs):
            with torch.no_grad():
                return solver(layer, torch.zeros_like(H0), max_iter=max_iter, tol=tol, stop_mode="rel", **kwargs)

        Z, _, info = solve()
        reached = float(((layer(Z) - Z).norm(dim=1) / Z.norm(dim=1)).max())
        facts[f"torchdeq_{label}_iterations"] = int(info["nstep"].max())
        facts[f"torchdeq_{label}_residual"] = reached
        fns[f"torchdeq_{label}"] = solve
    return fns, facts


def bench_equilibrium(n=256, widths=(512, 2048), gammas=(0.25, 0.45), tol=1e-10):
    rows = []
    for m in widths:
        X = unit(n, 8)
        for gamma in gammas:
            net = ImplicitNetwork.initialize(8, m, gamma=gamma, seed=2)
            row = {"n": n, "m": m, "gamma": gamma, "rho": net.contraction_factor()}
            fns = {}
            for method in ("picard", "anderson"):
                eq = net.equilibrium(X, method=method, tol=tol)
                row[f"{method}_iterations"] = eq.iterations
                row[f"{method}_residual"] = eq.residual
                fns[method] = lambda method=method, net=net, X=X: net.equilibrium(X, method=method, tol=tol)
            td_fns, facts = torchdeq_solvers(net, X, tol)
            row.update(facts)
            # roofline: a Picard sweep is one (n x m)(m x m) product plus elementwise work
            Z = torch.rand(n, m, dtype=torch.float64)
            fns["matmul"] = lambda Z=Z, net=net: Z @ net.A.T
            times = round_robin({**fns, **td_fns})
            for name, t in times.items():
                row[f"{name}_s"] = t
            row["matmul_gflops"] = 2 * n * m * m / times["matmul"] / 1e9
            row["picard_fraction_of_matmul"] = times["matmul"] / (times["picard"] / row["picard_iterations"])
            td = {k: v for k, v in times.items() if k.startswith("torchdeq_") and row[f"{k}_residual"] <= 10 * tol}
            if td:
                fastest = min(td, key=td.get)
                row["torchdeq_fastest"] = fastest
                row["picard_vs_torchdeq_fastest"] = td[fastest] / times["picard"]
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = p.parse_args()
    widths = (128, 256) if args.quick else (128, 256, 512, 1024)
    out = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        "gram": bench_gram(widths),
        "gram_large": {"n": 256, "m": 4096, "hadamard_s": None},
        "limiting_gram_n2000_s": best_of(lambda: limiting_gram(unit(2000, 10), gamma=0.25)),
        "equilibrium": bench_equilibrium(widths=(512,) if args.quick else (512, 2048)),
    }
    if not args.quick:
        net = ImplicitNetwork.initialize(10, 4096, gamma=0.25, seed=3)
        X = unit(256, 10)
        t0 = time.perf_counter()
        net.gram(X)
        out["gram_large"]["hadamard_s"] = time.perf_counter() - t0  # includes the spectral norm
    folder = Path(__file__).parent / "out"
    folder.mkdir(exist_ok=True)
    (folder / "bench.json").write_text(json.dumps(out, indent=1))
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {out['machine']}",
        "",
        "## Gram: Hadamard form against vmap(jacrev) through the unrolled iteration",
        "",
    ]
    lines += ["| n | m | Hadamard (s) | generic (s) | speedup | rel. difference |", "|---|---|---|---|---|---|"]
    for r in out["gram"]:
        lines.append(
            f"| {r['n']} | {r['m']} | {r['hadamard_s']:.4f} | {r.get('generic_s') or '-'} | {r.get('speedup') and round(r['speedup'], 1)} | {r.get('relative_difference')} |"
        )
    lines += ["", f"Hadamard Gram at n = 256, m = 4096 (spectral norm included): {out['gram_large']['hadamard_s']} s", ""]
    lines += [f"limiting_gram, n = 2000: {out['limiting_gram_n2000_s']:.3f} s", "", "## Equilibrium to a 1e-10 residual", ""]
    names = ["picard", "anderson"] + [f"torchdeq_{k}" for k in TORCHDEQ_SOLVERS]
    lines += [
        "Iterations and best-of-5 time (s), timed in turns. torchdeq's solvers are called directly on the same map "
        "(stop_mode 'rel'); a time is shown only where the residual we re-measure is within 10x the tolerance.",
        "",
        "| n | m | gamma | rho | " + " | ".join(names) + " | Picard vs torchdeq's fastest | matmul GFLOP/s | Picard sweep / matmul |",
        "|---" * (len(names) + 7) + "|",
    ]
    for r in out["equilibrium"]:
        cells = []
        for k in names:
            if f"{k}_iterations" not in r:
                cells.append("-")
                continue
            ok = r.get(f"{k}_residual", 0.0) <= 1e-9
            cells.append(f"{r[f'{k}_iterations']} it, {r[f'{k}_s']:.3f}" if ok else f"{r[f'{k}_iterations']} it, not converged")
        vs = r.get("picard_vs_torchdeq_fastest")
        versus = "-" if vs is None else f"{vs:.2f}x ({r['torchdeq_fastest']})"
        lines.append(
            f"| {r['n']} | {r['m']} | {r['gamma']} | {r['rho']:.3f} | "
            + " | ".join(cells)
            + f" | {versus} | {r['matmul_gflops']:.1f} | {r['picard_fraction_of_matmul']:.2f} |"
        )
    (folder / "bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
