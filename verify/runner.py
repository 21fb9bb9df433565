"""The runner: tries to break each claim the way its kind allows (:mod:`verify.kinds`), and
its controls, and records every verdict as it comes (:mod:`verify.store`).

A claim is *refuted* only on a concrete violation (exact, symbolic) or a significant one
(whp, rate). A negative control passes when it is refuted; one that survives means the check
lacks power, and fails the run like a refuted claim does.
"""

from __future__ import annotations

import difflib
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from theory.claims import Claim, Kind, all_claims, get
from theory.device import resolve, using

from . import serialize
from .context import Context
from .errors import OutputError, UsageError
from .kinds import RUNNERS
from .profiles import get_profile
from .records import ERROR, HOLDS, INCONCLUSIVE, REFUTED, Report, Result
from .stats import split_alpha
from .store import RunFolder, counterexample_path, read_records


def expected_status(claim: Claim, profile: str | None = None) -> str:
    """What a claim's run should say: refuted for a control, a recorded finding, or a statement
    its author believes false; inconclusive at a profile the claim declares underpowered
    (``underpowered_at``: there "holds" is accepted too, "refuted" never); holds otherwise."""
    if claim.is_control or claim.finding or claim.expect == REFUTED:
        return REFUTED
    return INCONCLUSIVE if profile in claim.underpowered_at else HOLDS


def run_claim(claim: Claim, ctx: Context) -> Result:
    """One claim's verdict (a crash in its check is an ``error`` verdict, never a pass); a
    refutation is written as a replay file when the context has an output folder."""
    expected = expected_status(claim, ctx.profile.name)
    t0 = time.perf_counter()
    try:
        with using(ctx.device_for(claim)):
            outcome = RUNNERS[claim.kind](claim, ctx)
        status, summary, ev, stats, instance = outcome.status, outcome.summary, outcome.evidence, dict(outcome.stats), outcome.instance
    except Exception as exc:  # a crash in a check is a finding, never a pass
        status, summary, ev, stats, instance = ERROR, f"{type(exc).__name__}: {exc}", None, {"traceback": traceback.format_exc()}, None
    ok = status == expected or (expected == INCONCLUSIVE and status == HOLDS)
    if claim.draws_of:
        stats["reuses"] = claim.draws_of
    if claim.is_control and status == HOLDS:
        summary = "NOT refuted: this check lacks power. " + summary
    elif claim.is_control and status == REFUTED:
        summary = "refuted as expected: " + summary
    elif claim.finding and status == REFUTED:
        summary = "FINDING, the claim is false here: " + summary
    elif claim.finding:
        summary = "a recorded finding did not reproduce: " + summary
    elif claim.expect == REFUTED and status == REFUTED:
        summary = "refuted, as its author expected: " + summary
    elif claim.expect == REFUTED:
        summary = "expected refuted, but: " + summary
    elif expected == INCONCLUSIVE:
        summary = f"underpowered at {ctx.profile.name} by declaration ({claim.underpowered_why}): " + summary
    res = Result(
        claim.id,
        claim.title,
        claim.kind.value,
        claim.control_of,
        status,
        expected,
        ok,
        summary,
        ev.to_dict() if ev is not None else None,
        stats,
        time.perf_counter() - t0,
        finding=claim.finding,
    )
    if status == REFUTED and ctx.out is not None:
        res = replace(res, replay=str(write_counterexample(claim, res, instance, ctx)))
    return res


def write_counterexample(claim: Claim, res: Result, instance, ctx: Context) -> Path:
    """A self-contained replay file (data only, validated on replay by :mod:`verify.replay`):
    the claim id, the typed instance (exact claims) or the run's settings, the evidence."""
    from .replay import instance_record

    assert ctx.out is not None
    path = counterexample_path(ctx.out, claim.id)
    record = {
        "format": "implicit-verify counterexample 1",
        "claim": claim.id,
        "mode": "instance" if instance is not None else "run",
        "instance": instance_record(instance) if instance is not None else None,
        "evidence": res.evidence,
        "summary": res.summary,
        "profile": ctx.profile.name,
        "seed": ctx.seed,
        "alpha": ctx.alpha,
        "versions": serialize.versions(),
    }
    path.write_text(serialize.dumps(record))
    return path


def resolve_id(claim_id: str) -> str:
    """The registered id for ``claim_id`` (matched case-insensitively), or a one-line
    :class:`UsageError` with the nearest ids."""
    known = [c.id for c in all_claims()]
    if claim_id in known:
        return claim_id
    folded = {k.lower(): k for k in known}
    if claim_id.lower() in folded:
        return folded[claim_id.lower()]
    near = difflib.get_close_matches(claim_id, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(near)}?" if near else "; `python -m verify list` shows them all"
    raise UsageError(f"no claim {claim_id!r}{hint}")


def select(ids: list[str] | None = None, *, controls: bool = True) -> list[Claim]:
    """Claims named by ``ids`` (a claim id also selects its controls), or all of them."""
    everything = all_claims(controls=controls)
    if not ids:
        return everything
    chosen: list[Claim] = []
    for cid in (resolve_id(i) for i in ids):
        for c in everything:
            if (c.id == cid or c.control_of == cid) and c not in chosen:
                chosen.append(c)
    return chosen


def statistical_level(claims: list[Claim], alpha_total: float) -> tuple[int, float]:
    """(number of statistical claims, the per-test level of the Bonferroni split)."""
    statistical = sum(1 for c in claims if not c.is_control and c.kind in (Kind.WHP, Kind.RATE, Kind.DISTRIBUTION))
    return statistical, split_alpha(alpha_total, statistical)


def run(
    ids: list[str] | None = None,
    *,
    profile: str = "ci",
    seed: int | None = None,
    out: str | Path | None = None,
    on_result: Callable[[Result], None] | None = None,
    on_start: Callable[[Claim], None] | None = None,
    controls: bool = True,
    jobs: int = 1,
    scheduler: str | None = None,
    imports: tuple[str, ...] = (),
    overwrite: bool = False,
    resume: bool = False,
    device: str = "cpu",
) -> Report:
    """Run the selected claims and (unless ``controls=False``) their negative controls. The
    false-alarm budget is split over the selected statistical claims, so a run of fewer claims
    gives each a larger share.

    ``out``: a folder (:class:`verify.store.RunFolder`): every record is appended to
    ``results.jsonl`` as it finishes, ``results.json`` is written atomically at the end;
    ``overwrite`` replaces another run's files there, ``resume`` finishes the run recorded
    there (same profile, seed and selection; completed claims are not run again, and the rate
    measurements journaled in ``measures.jsonl`` on the same device are not measured again).

    ``jobs > 1`` runs on a ``dask.distributed.LocalCluster``, ``scheduler`` on an existing
    cluster (:mod:`verify.distributed`); the numbers are those of the serial run.

    ``device``: where the device-aware claims compute (``"cuda"``: a GPU; a device this
    machine lacks is a one-line :class:`~theory.device.DeviceError` before anything runs)."""
    device = str(resolve(device))
    if out is None:
        if overwrite or resume:
            raise OutputError("--overwrite and --resume need --out")
        return _run(ids, profile, seed, None, on_result, on_start, controls, jobs, scheduler, imports, device)
    with RunFolder(out, overwrite=overwrite, resume=resume) as folder:
        return _run(ids, profile, seed, folder, on_result, on_start, controls, jobs, scheduler, imports, device)


def _run(ids, profile, seed, folder: RunFolder | None, on_result, on_start, controls, jobs, scheduler, imports, device="cpu") -> Report:
    prof = get_profile(profile)
    done: dict[str, Result] = {}
    if folder is not None and folder.resume:
        header, records = read_records(folder.path)
        if header is None:
            raise OutputError(f"{folder.path} has no run header to resume")
        profile, seed, controls = header["profile"], header["seed"], header["controls"]
        prof = get_profile(profile)
        claims = _recorded_selection(header)
        done = {r["id"]: Result.from_dict(r) for r in records}
    else:
        claims = select(ids, controls=controls)
    statistical, alpha = statistical_level(claims, prof.alpha)
    if folder is not None and not folder.resume:
        header = {
            "profile": prof.name,
            "seed": seed,
            "ids": list(ids or []),
            "selected": [c.id for c in claims],
            "controls": controls,
            "alpha_per_test": alpha,
            "device": device,
            "started": time.time(),
        }
        folder.write_header(header)
    todo = [c for c in claims if c.id not in done]

    def record(res: Result) -> None:
        done[res.id] = res
        if folder is not None:
            folder.write_result(res.to_dict())
        if on_result:
            on_result(res)

    t0 = time.perf_counter()
    if jobs > 1 or scheduler:
        from .distributed import run_distributed

        run_distributed(todo, prof.name, seed, alpha, folder, record, jobs, scheduler, tuple(imports), device)
    else:
        ctx = Context.create(prof, seed, alpha, folder.path if folder is not None else None, device)
        if folder is not None:  # every rate measurement survives an interrupt; --resume reuses them
            ctx.cache = folder.journal(device)
        for claim in todo:
            if on_start:
                on_start(claim)
            record(run_claim(claim, ctx))
    missing = tuple(c.id for c in claims if c.id not in done)
    report = Report(
        tuple(done[c.id] for c in claims if c.id in done),
        prof.name,
        seed,
        prof.alpha,
        alpha,
        statistical,
        time.perf_counter() - t0 + sum(r.seconds for r in done.values() if r.id not in {c.id for c in todo}),
        serialize.versions(),
        complete=not missing,
        missing=missing,
    )
    if folder is not None:
        write_summary(folder.path, report)
    return report


def write_summary(folder: Path, report: Report) -> Path:
    """``results.json``, rebuilt from the report and written atomically."""
    from .store import SUMMARY, atomic_write

    path = folder / SUMMARY
    atomic_write(path, serialize.dumps(report.to_dict()))
    return path


def _recorded_selection(header: dict) -> list[Claim]:
    """The claims a recorded run selected, exactly (not what the registry selects today)."""
    if "selected" not in header:  # written before the header recorded its selection
        return select(header["ids"] or None, controls=header["controls"])
    try:
        return [get(cid) for cid in header["selected"]]
    except KeyError as exc:
        raise OutputError(
            f"the run selected a claim that is not registered now ({exc}); pass --import MODULE for your own claims"
        ) from None


def report_from_records(folder: Path) -> Report:
    """The report of the run recorded in ``folder/results.jsonl`` (complete or interrupted)."""
    header, records = read_records(folder)
    if header is None:
        raise OutputError(f"{folder} holds no run records (results.jsonl)")
    claims = _recorded_selection(header)
    prof = get_profile(header["profile"])
    statistical, alpha = statistical_level(claims, prof.alpha)
    by_id = {r["id"]: Result.from_dict(r) for r in records}
    missing = tuple(c.id for c in claims if c.id not in by_id)
    return Report(
        tuple(by_id[c.id] for c in claims if c.id in by_id),
        prof.name,
        header["seed"],
        prof.alpha,
        alpha,
        statistical,
        sum(r.seconds for r in by_id.values()),
        serialize.versions(),
        complete=not missing,
        missing=missing,
    )
