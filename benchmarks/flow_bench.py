"""One gradient flow of the training sweep (TD-3.rate, TD-5, TD-6: n = 4, T = 3/lambda_0) per
width on ``--device``: evaluations, seconds, seconds per evaluation and (on a GPU) peak memory.

    python benchmarks/flow_bench.py --device cuda --widths 1024 4096 16384 --out DIR
    python benchmarks/flow_bench.py --widths 256 512 1024            # the CPU, one thread

Writes DIR/flow_bench.json when --out is given.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from theory.claims.training_runs import SETTING, flow
from theory.device import resolve, using


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--widths", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    dev = resolve(args.device)
    rows = []
    with using(dev):
        for m in args.widths:
            if dev.type == "cuda":
                torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            run = flow(SETTING, m, args.seed, 3.0)
            seconds = time.perf_counter() - t0
            evals = run.trajectory.rhs_evaluations
            row = {"m": m, "device": str(dev), "seconds": seconds, "evaluations": evals, "ms_per_evaluation": 1e3 * seconds / max(evals, 1)}
            row["move_fro(T)"] = float(run.col("move_fro")[-1])
            if run.error:
                row["stopped"] = run.error
            if dev.type == "cuda":
                row["peak_gpu_gib"] = torch.cuda.max_memory_allocated(dev) / 2**30
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        Path(args.out, "flow_bench.json").write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
