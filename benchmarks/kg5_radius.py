"""KG-5's radius per width and seed, and how R*/sqrt(m) settles (session 11: means 1.26, 1.31,
1.35, 1.31, 1.33 at m = 64..1024 over 12 seeds; local slopes 0.56, 0.54, 0.46, 0.52; about a
minute on one core). ``--profile`` also prints lambda_min(G)/lambda_min(G(0)) and rho along
the claim's direction at R = s sqrt(m): the Gram, not the contraction, sets the radius.

    python benchmarks/kg5_radius.py [--widths 64,128,256,512,1024] [--seeds 12] [--profile]
"""

import argparse
import math

import numpy as np
import torch

from theory.claims.registry import get
from theory.network import ImplicitNetwork


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="64,128,256,512,1024")
    ap.add_argument("--seeds", type=int, default=12)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    claim = get("KG-5")
    widths = [int(w) for w in args.widths.split(",")]
    means = []
    for m in widths:
        R = np.array([claim.measure(m, s) for s in range(args.seeds)])
        means.append(np.mean(np.log(R)))
        print(f"m = {m}: R*/sqrt(m) = {np.round(R / math.sqrt(m), 3).tolist()}", flush=True)
        if args.profile:
            net = ImplicitNetwork.initialize(claim.d, m, gamma=claim.gamma, seed=0)
            V, lam0 = claim.direction(net, 0), float(torch.linalg.eigvalsh(net.gram(claim.inputs))[0])
            for s in (0.5, 1.0, 2.0, 4.0):
                moved = net.with_A(net.A + s * math.sqrt(m) * V)
                lam = float(torch.linalg.eigvalsh(moved.gram(claim.inputs))[0]) / lam0
                print(f"  R = {s} sqrt(m): lambda_min / lambda_min(G(0)) = {lam:.3f}, rho = {moved.contraction_factor():.3f}")
    local = np.diff(means) / np.diff(np.log(widths))
    print("local slopes:", np.round(local, 3).tolist())


if __name__ == "__main__":
    main()
