"""neural-tangents' empirical NTK on the same unrolled network: a comparison, never a dependency.

neural-tangents pins an older jax and numpy < 2, so it runs in its own environment
(``nox -s bench-nt``, or a venv with ``neural-tangents==0.6.5 jax==0.4.23 jaxlib==0.4.23
'numpy<2' 'scipy<1.13'``). It reads the problems that ``python benchmarks/bench.py``
wrote to benchmarks/out/nt/ (parameters, inputs, unrolled depth, our Hadamard Gram and its time, from
the same run), computes ``nt.empirical_ntk_fn`` of f(A, x) = kappa/sqrt(m) u^T z_L with
z_l = relu(c A z_{l-1} + sigma_u U x) in float64 (every implementation it offers), and writes
benchmarks/out/neural_tangents.json and .md.

    python benchmarks/ntk_neural_tangents.py [benchmarks/out/nt]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

import jax.numpy as jnp  # noqa: E402
import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402


def ntk(problem: dict, implementation: int) -> tuple[np.ndarray, float]:
    U, u, X = (jnp.asarray(problem[k]) for k in ("U", "u", "X"))
    c, s, sigma_u, depth = (float(problem[k]) for k in ("c", "s", "sigma_u", "depth"))

    def f(params, x):  # x: (batch, d) -> (batch, 1)
        h0 = sigma_u * x @ U.T
        z = jnp.zeros_like(h0)
        for _ in range(int(depth)):
            z = jax.nn.relu(c * z @ params["A"].T + h0)
        return s * (z @ u)[:, None]

    fn = jax.jit(nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=implementation))
    params = {"A": jnp.asarray(problem["A"])}
    G = np.asarray(fn(X, None, params)).reshape(X.shape[0], X.shape[0])  # compile + run
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(X, None, params))
        best = min(best, time.perf_counter() - t0)
    return G, best


def main(folder: str) -> None:
    rows = []
    for path in sorted(Path(folder).glob("problem_m*.npz"), key=lambda p: int(p.stem.split("_m")[1])):
        problem = dict(np.load(path))
        m = problem["A"].shape[0]
        # JACOBIAN_CONTRACTION, NTK_VECTOR_PRODUCTS; STRUCTURED_DERIVATIVES only at the smallest
        # width (measured at m = 128: 8.3 s per call after 44 s of compiling, 27x the others)
        for impl in (1, 2, 3) if m <= 128 else (1, 2):
            try:
                G, t = ntk(problem, impl)
                err = float(np.linalg.norm(G - problem["G_hadamard"]) / np.linalg.norm(problem["G_hadamard"]))
                row = {
                    "m": int(m),
                    "n": int(problem["X"].shape[0]),
                    "implementation": impl,
                    "nt_s": t,
                    "hadamard_s": float(problem["hadamard_s"]),
                }
                row.update({"speedup_of_hadamard": t / row["hadamard_s"], "relative_difference": err})
            except Exception as exc:  # e.g. out of memory: where it stops
                row = {"m": int(m), "implementation": impl, "error": f"{type(exc).__name__}: {str(exc)[:100]}"}
            rows.append(row)
            print(row, flush=True)
    out = Path(__file__).parent / "out"
    (out / "neural_tangents.json").write_text(
        json.dumps({"jax": jax.__version__, "neural_tangents": nt.__version__, "rows": rows}, indent=1)
    )
    lines = [
        f"# neural-tangents {nt.__version__} (jax {jax.__version__}) against the Hadamard Gram",
        "",
        "| n | m | implementation | neural-tangents (s) | Hadamard (s) | Hadamard faster by | rel. difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| - | {r['m']} | {r['implementation']} | {r['error']} | | | |")
        else:
            lines.append(
                f"| {r['n']} | {r['m']} | {r['implementation']} | {r['nt_s']:.3f} | {r['hadamard_s']:.4f} | "
                f"{r['speedup_of_hadamard']:.0f}x | {r['relative_difference']:.1e} |"
            )
    (out / "neural_tangents.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent / "out" / "nt"))
