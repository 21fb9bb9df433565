"""Benchmarks (issue 9), measured side by side in one run; writes benchmarks/out/bench.{json,md}.

- gram: the Hadamard-form Gram (ImplicitNetwork.gram: two batched fixed-point solves, then
  (B B^T) o (Z Z^T)) against the generic empirical NTK that tools like torch.func build:
  per-sample Jacobians by vmap(jacrev) through an unrolled fixed-point iteration deep enough
  to reach the same tolerance (L rho^L <= 1e-12), then J J^T with J of size n x m^2.
- limiting_gram: G_inf for n = 2000 points.
- equilibrium: Picard against Anderson (iterations and time to a 1e-10 residual), and the
  achieved FLOP rate of a Picard sweep against one plain matrix product of the same shapes.

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


def bench_gram(widths, n=64, d=8):
    rows = []
    X = unit(n, d)
    for m in widths:
        net = ImplicitNetwork.initialize(d, m, gamma=0.25, seed=1)
        net.contraction_factor()  # the spectral norm is cached; both methods need rho
        t_h = best_of(lambda: net.gram(X))
        row = {"n": n, "m": m, "hadamard_s": t_h}
        try:
            t_g = best_of(lambda: generic_ntk(net, X), repeat=1)
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


def bench_equilibrium(n=256, widths=(512, 2048), gammas=(0.25, 0.45)):
    rows = []
    for m in widths:
        X = unit(n, 8)
        for gamma in gammas:
            net = ImplicitNetwork.initialize(8, m, gamma=gamma, seed=2)
            net.contraction_factor()
            row = {"n": n, "m": m, "gamma": gamma, "rho": net.contraction_factor()}
            for method in ("picard", "anderson"):
                eq = net.equilibrium(X, method=method, tol=1e-10)
                row[f"{method}_iterations"] = eq.iterations
                row[f"{method}_s"] = best_of(lambda method=method: net.equilibrium(X, method=method, tol=1e-10))
            # roofline: a Picard sweep is one (n x m)(m x m) product plus elementwise work
            Z = torch.rand(n, m, dtype=torch.float64)
            t_mm = best_of(lambda: Z @ net.A.T, repeat=5)
            t_sweep = row["picard_s"] / row["picard_iterations"]
            row["matmul_gflops"] = 2 * n * m * m / t_mm / 1e9
            row["picard_fraction_of_matmul"] = t_mm / t_sweep
            rows.append(row)
            print(row, flush=True)
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
    lines += [
        "| n | m | gamma | rho | Picard it | Picard (s) | Anderson it | Anderson (s) | matmul GFLOP/s | Picard sweep / matmul |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in out["equilibrium"]:
        lines.append(
            f"| {r['n']} | {r['m']} | {r['gamma']} | {r['rho']:.3f} | {r['picard_iterations']} | {r['picard_s']:.3f} | {r['anderson_iterations']} | {r['anderson_s']:.3f} | {r['matmul_gflops']:.1f} | {r['picard_fraction_of_matmul']:.2f} |"
        )
    (folder / "bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
