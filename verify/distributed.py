"""Running claims on a Dask cluster (``run --jobs N`` or ``--scheduler ADDRESS``).

Two kinds of task: the fine-grained units of :mod:`verify.prefetch` (a rate claim's grid point,
a batch of a whp or distribution claim's draws) run first and in parallel; then each claim
with its controls runs as one task on the values its units computed (exact and symbolic
claims search or prove in that task). Every number is a
function of (claim, profile, seed, alpha) only, and workers mirror the submitting process's
torch and BLAS thread counts, so a distributed run gives the serial run's verdicts and
numbers bit for bit (tested). A group whose worker dies (``KilledWorker`` after Dask's
retries, or any other failure of the task itself) becomes ``error`` records for its claims;
every other group's records are kept. With an output folder, each rate grid point's values are
journaled as its unit finishes (``measures.jsonl``, as a serial run does), and ``--resume``
hands the journaled points to their groups instead of computing them again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from theory.claims import Claim, get

from .context import Context
from .errors import UsageError, require
from .records import ERROR, Result
from .store import RunFolder


def groups(claims: list[Claim]) -> list[list[str]]:
    """Each claim with the controls selected after it (controls share their claim's caches)."""
    out: list[list[str]] = []
    for c in claims:
        if c.is_control and out and c.control_of in out[-1]:
            out[-1].append(c.id)
        else:
            out.append([c.id])
    return out


def thread_counts() -> dict:
    """This process's torch and BLAS thread counts."""
    import torch
    from threadpoolctl import threadpool_info

    return {"torch": torch.get_num_threads(), "blas": {i["internal_api"]: i["num_threads"] for i in threadpool_info()}}


def _mirror(imports, threads) -> None:
    """Import the user's claim modules and mirror the submitting process's torch and BLAS thread
    counts (Dask starts workers with one BLAS thread, and a reduction split over another number
    of threads rounds differently)."""
    import importlib

    import torch
    from threadpoolctl import threadpool_limits

    for mod in imports:
        importlib.import_module(mod)
    if threads:
        torch.set_num_threads(threads["torch"])
        threadpool_limits(limits=threads["blas"])  # keyed by internal API (openblas, openmp, ...)


QUIET_WORKER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


def _worker_environment():
    """Dask's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (so that a long-lived
    worker hands freed memory back to the system). Every solve here allocates and frees
    n x m and m x m temporaries, and with that threshold glibc returns them and faults them in
    again: a gradient flow ran 1.7x slower in a worker than in a plain process (measured: 4.85 s
    against 2.83 s; 2.76-3.05 s with the variable left out). The workers of a local cluster are
    as short-lived as the run, so they start without it; the thread variables stay at 1.

    Nor do they wake their event loop every few milliseconds for what this cluster does not
    use: the statistical profiler (a stack sample of every thread each 10 ms, for a dashboard
    that is not opened), the 20 ms tick that detects a blocked loop, the 100 ms memory and
    500 ms system monitors (1 s and 5 s here). Each wake-up takes the GIL from the task, whose
    Python-bound work (a Picard step at m = 256 is ~13 small torch operations) pays for it: four
    gradient flows at m = 256 took 6.1-6.5 s in a worker with Dask's defaults, 5.5-5.7 s
    without those wake-ups and 5.3 s in a plain process."""
    import dask

    env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items() if k != "MALLOC_TRIM_THRESHOLD_"}
    return dask.config.set({"distributed.nanny.pre-spawn-environ": env, **QUIET_WORKER})


def run_unit(unit, imports=(), threads=None, device="cpu") -> dict:
    """One fine-grained task (:mod:`verify.prefetch`): the values of a grid point or draw batch."""
    from .prefetch import compute

    _mirror(imports, threads)
    return compute(unit, device)


def run_group(ids, profile, seed, alpha, out, imports=(), threads=None, parts=(), device="cpu") -> list[dict]:
    """A claim with its controls, in a fresh context holding the values ``parts`` (the results
    of its units) computed; plain dicts come back."""
    from .runner import run_claim

    _mirror(imports, threads)
    # counterexamples only: the submitting process holds the folder's lock and writes the records
    ctx = Context.create(profile, seed, alpha, Path(out) if out else None, device)
    for part in parts:
        ctx.cache.update(part)
    return [run_claim(get(cid), ctx).to_dict() for cid in ids]


def _lost(cid: str, exc: BaseException) -> Result:
    from .runner import expected_status

    claim = get(cid)
    expected = expected_status(claim)
    why = f"worker lost ({type(exc).__name__}: {exc}); the claim did not run to a verdict"
    return Result(cid, claim.title, claim.kind.value, claim.control_of, ERROR, expected, False, why, None, {"error": repr(exc)})


def run_distributed(
    claims: list[Claim],
    profile: str,
    seed: int | None,
    alpha: float,
    folder: RunFolder | None,
    record: Callable[[Result], None],
    jobs: int,
    scheduler: str | None,
    imports: tuple[str, ...],
    device: str = "cpu",
) -> None:
    """Run ``claims`` on the cluster, handing every result to ``record`` as its group finishes."""
    distributed = require("dask.distributed", "distributed", "--jobs / --scheduler")
    threads = thread_counts()
    cluster = None
    try:
        if scheduler:
            client = distributed.Client(scheduler, timeout="10s")
        else:
            with _worker_environment():
                cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
            client = distributed.Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
    try:
        from .prefetch import keys_of, owners_of, plan

        out = str(folder.path) if folder is not None else None
        journal = folder.journal(device) if folder is not None else None
        batches = groups(claims)
        units = list(plan(claims, Context.create(profile, seed, alpha)))
        by_owner: dict[str, list] = {}
        measuring = {}  # rate units' futures, journaled as they finish
        for i, unit in enumerate(units):
            keys = keys_of(unit) if journal is not None and unit.kind == "rate" else []
            if journal is not None and keys and all(k in journal for k in keys):
                part = {k: journal[k] for k in keys}
            else:
                part = client.submit(run_unit, unit, imports, threads, device, pure=False, key=f"unit-{i}", priority=1)
                if keys:
                    measuring[part] = i
            for owner in owners_of(unit):
                by_owner.setdefault(owner, []).append(part)
        futures = {}
        for i, g in enumerate(batches):
            parts = [f for owner in {get(cid).draws_of or cid for cid in g} for f in by_owner.get(owner, [])]
            task = client.submit(run_group, g, profile, seed, alpha, out, imports, threads, parts, device, pure=False, key=f"claims-{i}")
            futures[task] = i
        for fut in distributed.as_completed([*futures, *measuring]):
            if fut in measuring:
                if journal is not None and fut.status == "finished":  # a failed unit: its group computes it
                    for k, v in fut.result().items():
                        journal[k] = v
                continue
            ids = batches[futures[fut]]
            try:
                results = [Result.from_dict(d) for d in fut.result()]
            except Exception as exc:  # KilledWorker, or the task itself failed: error records, keep the rest
                results = [_lost(cid, exc) for cid in ids]
            for r in results:
                record(r)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
