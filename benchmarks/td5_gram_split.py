"""Where TD-5's order comes from: the Gram's change along the linearized path, split into the
part with the activation pattern frozen and the part from units switching (docs/mathematics.md,
TD-5). On TD-5's setting (n = 4, d = 3, gamma = 0.45, kappa = 4), per width and seed:

    A1 = A(0) - J^T c(T),  c(T) = G(0)^-1 (I - e^{-G(0) T}) r0,  T = 3 / lambda_0

(where the linearized flow has moved A by time T), and

- ``total``: ||G(A1) - G(0)||_2;
- ``frozen``: ||G_D(A1) - G(0)||_2, G_D from z = D (c A1 z + h0) and b = D (u + c A1^T b) with
  D the initial activation pattern (smooth in A1: the O(1/m) part);
- ``switching``: ||G(A1) - G_D(A1)||_2 (units whose pre-activation crossed zero);
- ``switched``: units whose activation differs from the initial one, per input.

    python benchmarks/td5_gram_split.py --widths 256 1024 4096 --seeds 20 20 10

Measured (session 10, this 2-core machine, 1.5 minutes for m = 4096): total 0.234 / 0.072 /
0.038, frozen 0.121 / 0.016 / 0.0057, switching 0.149 / 0.064 / 0.036, switched 7.6 / 14.3 /
38.5 at m = 256 / 1024 / 4096.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from theory.claims.training_runs import PROBLEM_KEYS, SETTING, _network, problem
from theory.generalization import flow_move
from theory.solvers import picard


def split(m: int, seed: int) -> dict:
    X, y, _, lam0 = problem(**{k: SETTING[k] for k in PROBLEM_KEYS})
    net = _network(SETTING, m, seed)
    eq = net.equilibrium(X, certify=False)
    B = net.backward_vectors(X, equilibrium=eq)
    G0 = net.gram_of(B, eq.Z)
    r0 = net.output(X, equilibrium=eq) - y
    c, _ = flow_move(G0, r0, 3.0 / lam0)
    moved = net.with_A(net.A - net.weighted_gradient(B, eq.Z, c))
    eq1 = moved.equilibrium(X, certify=False)
    G1 = moved.gram_of(moved.backward_vectors(X, equilibrium=eq1), eq1.Z)
    D, H0, k, A1 = eq.mask.to(torch.float64), moved.preactivation_offset(X), moved.c, moved.A
    Zf = picard(lambda Z: D * (k * (Z @ A1.T) + H0), torch.zeros_like(H0)).x
    Bf = picard(lambda Bv: D * (moved.u[None, :] + k * (Bv @ A1)), torch.zeros_like(H0)).x
    Gf = moved.gram_of(Bf, Zf)
    norm = lambda M: float(torch.linalg.matrix_norm(M, 2))  # noqa: E731
    return {
        "total": norm(G1 - G0),
        "frozen": norm(Gf - G0),
        "switching": norm(G1 - Gf),
        "switched": float((eq1.mask != eq.mask).sum(dim=1).double().mean()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--seeds", type=int, nargs="+", default=[20, 20, 10], help="seeds per width (0, 1, ...)")
    args = ap.parse_args()
    if len(args.seeds) != len(args.widths):
        ap.error("give one seed count per width")
    torch.set_num_threads(1)
    rows = []
    for m, S in zip(args.widths, args.seeds, strict=True):
        parts = [split(m, s) for s in range(S)]
        row = {"m": m, "seeds": S, **{k: float(np.mean([p[k] for p in parts])) for k in parts[0]}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    for a, b in zip(rows, rows[1:], strict=False):
        slope = {k: float(np.log(b[k] / a[k]) / np.log(b["m"] / a["m"])) for k in ("total", "frozen", "switching")}
        print(f"slopes {a['m']} -> {b['m']}: {json.dumps(slope)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
