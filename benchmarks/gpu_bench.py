"""The GPU side by side: equilibrium and Gram on ``--device`` against the CPU (same network, same
inputs) and against torchdeq's solvers on the same device, up to n = 1024, m = 65536.

    python benchmarks/gpu_bench.py --device cuda --out DIR     # what benchmarks/gpu_check.sh runs
    python benchmarks/gpu_bench.py --device cpu --quick        # a smoke run anywhere

Each row: the Gram G = (kappa gamma/m)^2 (B B^T) o (Z Z^T) (forward and backward solves,
Anderson to 1e-12, then the Hadamard form; the n x m^2 Jacobian is never formed), best of 3
after a warm-up, with the device synchronized; and, like for like with torchdeq's solvers
(where m <= 4096), our forward solve alone (Picard and Anderson, from zero to a relative
residual of 1e-10, no certificate) on the same map and device. The CPU is timed only where it finishes in
seconds (m <= 4096), with one thread per the suite's policy and with all cores; the relative
difference of the two Grams is reported next to the times. Writes DIR/gpu_bench.json and .md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from theory.device import resolve
from theory.network import ImplicitNetwork

SIZES = ((64, 1024), (256, 4096), (256, 16384), (1024, 32768), (1024, 65536))
QUICK = ((16, 256), (32, 512))


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(fn, dev: torch.device, repeat: int = 3) -> tuple[float, object]:
    out = fn()  # warm-up (kernels, allocator)
    best = float("inf")
    for _ in range(repeat):
        _sync(dev)
        t0 = time.perf_counter()
        out = fn()
        _sync(dev)
        best = min(best, time.perf_counter() - t0)
    return best, out


def inputs(n: int, d: int, dev) -> torch.Tensor:
    g = torch.Generator().manual_seed(n)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1).to(dev)


def torchdeq_time(net: ImplicitNetwork, X: torch.Tensor, dev, tol: float = 1e-10) -> dict:
    """torchdeq's Anderson and Broyden on the same map on the same device (forward only)."""
    try:
        from torchdeq.solver import get_solver
    except ImportError:
        return {}
    from theory.network import relu_layer

    H0, A, c = net.preactivation_offset(X), net.A, net.c
    out = {}
    for name, kw in (("anderson", {"lam": 0.0}), ("broyden", {"LBFGS_thres": 30})):
        solver = get_solver(name)

        def run(solver=solver, kw=kw):
            with torch.no_grad():
                return solver(lambda Z: relu_layer(Z, A, H0, c), torch.zeros_like(H0), max_iter=300, tol=tol, stop_mode="rel", **kw)

        t, res = timed(run, dev)
        out[f"torchdeq_{name}_s"] = t
        out[f"torchdeq_{name}_iterations"] = int(res[2]["nstep"].max())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default="benchmarks/out/gpu")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    dev = resolve(args.device)
    rows = []
    for n, m in QUICK if args.quick else SIZES:
        d = 8
        X = inputs(n, d, dev)
        net = ImplicitNetwork.initialize(d, m, gamma=0.45, seed=0, device=dev)
        t_dev, G = timed(lambda net=net, X=X: net.gram(X), dev)
        row = {"n": n, "m": m, "device": str(dev), "gram_s": t_dev, "rho": net.contraction_factor()}
        if m <= 4096:
            cpu_net = net.to("cpu")
            Xc = X.cpu()
            for threads in (1, torch.get_num_threads()):
                before = torch.get_num_threads()
                torch.set_num_threads(threads)
                t_cpu, G_cpu = timed(lambda cpu_net=cpu_net, Xc=Xc: cpu_net.gram(Xc), torch.device("cpu"), repeat=1)
                torch.set_num_threads(before)
                row[f"cpu_{threads}t_gram_s"] = t_cpu
            row["gram_rel_diff_vs_cpu"] = float((G.cpu() - G_cpu).norm() / G_cpu.norm())
            for method in ("picard", "anderson"):
                t_eq, eq = timed(lambda net=net, X=X, method=method: net.equilibrium(X, method=method, tol=1e-10, certify=False), dev)
                row[f"ours_{method}_s"], row[f"ours_{method}_iterations"] = t_eq, eq.iterations
            row.update(torchdeq_time(net, X, dev))
        if dev.type == "cuda":
            row["peak_gpu_gib"] = torch.cuda.max_memory_allocated(dev) / 2**30
            torch.cuda.reset_peak_memory_stats(dev)
        rows.append(row)
        print(json.dumps(row), flush=True)
        del net, G
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_bench.json").write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=1))
    lines = [
        "| n | m | device Gram (s) | CPU 1 thread (s) | CPU all threads (s) | rel. diff vs CPU | our picard / anderson fwd (s) "
        "| torchdeq anderson / broyden fwd (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cpu1 = r.get("cpu_1t_gram_s")
        cpun = next((v for k, v in r.items() if k.startswith("cpu_") and k != "cpu_1t_gram_s"), None)
        td = r.get("torchdeq_anderson_s"), r.get("torchdeq_broyden_s")
        ours = r.get("ours_picard_s"), r.get("ours_anderson_s")
        lines.append(
            f"| {r['n']} | {r['m']} | {r['gram_s']:.3f} | {'-' if cpu1 is None else f'{cpu1:.3f}'} | "
            f"{'-' if cpun is None else f'{cpun:.3f}'} | {r.get('gram_rel_diff_vs_cpu', float('nan')):.1e} | "
            f"{'-' if ours[0] is None else f'{ours[0]:.3f} / {ours[1]:.3f}'} | "
            f"{'-' if td[0] is None else f'{td[0]:.3f} / {td[1]:.3f}'} |"
        )
    (out / "gpu_bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
