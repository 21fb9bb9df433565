"""m times the excess kurtosis of f(x) at NG-2's input, from many initializations per width:
the pre-asymptotic bend NG-2's tolerance must cover (session 11: 16.05, 15.68, 15.63, 15.95,
15.97 at m = 32..512 with 6000 each, standard errors of 1.2-2%; about 9 minutes on one core).

    python benchmarks/ng2_kurtosis.py [--widths 32,64,128,256,512] [--draws 6000]
"""

import argparse
import time

import numpy as np
import torch

from theory.claims import gaussian_process as gp
from theory.network import ImplicitNetwork


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="32,64,128,256,512")
    ap.add_argument("--draws", type=int, default=6000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    x = gp._inputs()[:1]
    for m in (int(w) for w in args.widths.split(",")):
        t0 = time.time()
        k = np.array(
            [
                float(gp.forward_kernel(ImplicitNetwork.initialize(gp.D, m, gamma=gp.GAMMA, seed=10_000_000 + s), x)[0, 0])
                for s in range(args.draws)
            ]
        )
        ek = 3 * k.var(ddof=1) / k.mean() ** 2  # the claim's Rao-Blackwellized estimator (NG-2)
        batches = np.array([3 * b.var(ddof=1) / b.mean() ** 2 for b in np.array_split(k, 20)])
        se = batches.std(ddof=1) / np.sqrt(20) / ek  # relative standard error, from 20 batch means
        print(f"m = {m}: m * excess kurtosis = {m * ek:.3f} (relative se {se:.3f}), {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
