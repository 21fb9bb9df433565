"""The same command timed on a quiet machine and beside a CPU-bound background load, in one sitting.

    python benchmarks/under_load.py                       # the ci catalog, 2 busy processes
    python benchmarks/under_load.py --load 2 -- python -m verify run KG-3 --out /tmp/x --overwrite

The load is ``--load`` processes, each spinning a pure-Python loop (what another job on a
shared CI runner looks like to the scheduler: always runnable, no I/O), started before the
loaded run and killed after it. On 2 cores, two such processes beside a one-thread suite leave
it a fair share of 2/3 of a core, so a well-behaved suite takes about 1.5x its quiet time;
thread pools that spin at barriers (one thread descheduled stalls the others) make it far
worse. Writes benchmarks/out/under_load.md and prints it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT = [sys.executable, "-m", "verify", "run", "--profile", "ci", "--out", "/tmp/under-load-out", "--overwrite"]


def _spin() -> None:  # pragma: no cover - killed by the parent
    x = 0
    while True:
        x = (x * 1103515245 + 12345) % 2147483648


def timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, rc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--load", type=int, default=2, help="busy background processes (default 2)")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="the command to time (after --); default: the ci catalog")
    args = p.parse_args()
    cmd = [c for c in args.cmd if c != "--"] or DEFAULT
    quiet, rc_quiet = timed(cmd)
    workers = [mp.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for w in workers:
        w.start()
    try:
        loaded, rc_loaded = timed(cmd)
    finally:
        for w in workers:
            w.kill()
    lines = [
        "# Quiet against loaded",
        "",
        f"`{' '.join(cmd)}` on {os.cpu_count()} cores, {args.load} busy background processes, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, VERIFY_THREADS={os.environ.get('VERIFY_THREADS', '(unset: 1)')}",
        "",
        "| run | seconds | exit code |",
        "|---|---|---|",
        f"| quiet | {quiet:.1f} | {rc_quiet} |",
        f"| loaded | {loaded:.1f} | {rc_loaded} |",
        "",
        f"loaded / quiet = {loaded / quiet:.2f} (fair share: {(args.load + 1) / min(args.load + 1, os.cpu_count() or 1):.2f})",
    ]
    text = "\n".join(lines) + "\n"
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "under_load.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
