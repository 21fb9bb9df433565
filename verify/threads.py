"""The suite's thread policy: one compute thread per process, parallelism across processes.

Every check here is a chain of small, memory-bound products (n x m rows against an m x m
layer) and numpy reductions over at most a few million entries. Measured on the 2-core
development machine (benchmarks/README.md, "Under load"): a gradient flow at m = 1024 took
6.3 s wall and 12.4 s of CPU with the default thread pools (OpenBLAS and OpenMP threads
spinning between the calls) and 5.7 s wall, 5.7 s CPU with one thread; with two CPU-bound
processes beside it, spinning pools make every barrier wait for a descheduled thread, which
is how a loaded machine turned a 6-minute run into an hour. So:

- torch's intra-op pool and every BLAS/OpenMP pool threadpoolctl can see are set to
  ``threads`` (default 1; ``python -m verify --threads N`` or ``VERIFY_THREADS``);
- ``OMP_WAIT_POLICY=PASSIVE`` is put in the environment before numpy or torch is imported
  (``verify/__main__.py``, the nox sessions): an idle OpenMP thread sleeps instead of
  spinning (the policy is read once, when the runtime starts);
- ``--jobs N`` runs N worker processes, each under the same policy (``verify.distributed``).
"""

from __future__ import annotations

import os

from .errors import UsageError

ENV = "VERIFY_THREADS"
WAIT_POLICY = {"OMP_WAIT_POLICY": "PASSIVE"}


def preset_environment() -> None:
    """Put the wait policy in the environment (call before importing numpy or torch; a value
    the user set wins)."""
    for key, value in WAIT_POLICY.items():
        os.environ.setdefault(key, value)


def requested(threads: int | None = None) -> int:
    """The thread count asked for: ``threads``, else ``$VERIFY_THREADS``, else 1."""
    raw = threads if threads is not None else os.environ.get(ENV, "1")
    try:
        n = int(raw)
    except ValueError:
        raise UsageError(f"{ENV} must be a positive integer, got {raw!r}") from None
    if n < 1:
        raise UsageError(f"the thread count must be at least 1, got {n}")
    return n


def apply(threads: int | None = None) -> int:
    """Set torch's intra-op pool and every BLAS/OpenMP pool to :func:`requested` threads;
    returns the count."""
    import torch
    from threadpoolctl import threadpool_limits

    n = requested(threads)
    torch.set_num_threads(n)
    threadpool_limits(limits=n)
    return n
