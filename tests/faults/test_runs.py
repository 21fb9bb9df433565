"""Fault injection against runs, output folders, replay files and exit codes (issue: results
that are never lost, mixed or corrupted; replay files that cannot run code).

Every test does the harmful thing for real (a SIGINT to a real ``verify run`` process, two
processes into one folder, a read-only folder, a hostile replay file) and asserts the exact
outcome."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theory import claims
from theory.claims import Evidence, ExactClaim, register
from theory.domains import NetworkDomain
from verify import run
from verify.cli import main
from verify.store import RECORDS, SUMMARY, file_stem, read_records

ROOT = Path(__file__).resolve().parents[2]


def _verify(*args: str, **kw) -> subprocess.Popen:
    """``python -m verify ARGS`` as a child that a SIGINT interrupts, however this suite was
    started: a shell without job control starts a background command (``nox -s tests &``) with
    SIGINT ignored, a child inherits that, and Python then installs no KeyboardInterrupt
    handler (the interrupt test failed so). A handled signal is reset to its default in the
    child, so the parent handles it around the spawn."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "verify", *args],
            cwd=kw.get("cwd", ROOT),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait_for(predicate, timeout: float = 240.0, proc: subprocess.Popen | None = None) -> None:
    t0 = time.monotonic()
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early (rc {proc.returncode}): {proc.stdout.read()}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def _results_in(folder: Path) -> list[dict]:
    return read_records(folder)[1]


# ---- 5. an interrupt keeps what was done; report renders it; --resume finishes it -------------
@pytest.mark.slow
def test_sigint_mid_run_keeps_completed_claims_and_resume_finishes(tmp_path):
    out = tmp_path / "out"
    proc = _verify("run", "KG-1", "KG-4", "--out", str(out))  # KG-1 (+ 2 controls) fast, KG-4 ~20 s
    _wait_for(lambda: len(_results_in(out)) >= 3, proc=proc)
    proc.send_signal(signal.SIGINT)
    text = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, text
    assert "resume" in text
    kept = {r["id"]: r for r in _results_in(out)}
    assert {"KG-1", "KG-1/ctl-derivative", "KG-1/ctl-diag"} <= set(kept) and "KG-4" not in kept
    # the interrupted run renders, marked incomplete
    assert main(["report", str(out)]) == 0
    assert "INCOMPLETE RUN" in (out / "report.md").read_text()
    # --resume runs only what is missing, and keeps the completed records as they were
    assert main(["run", "--resume", "--out", str(out)]) == 0
    final = json.loads((out / SUMMARY).read_text())
    ids = ["KG-1", "KG-1/ctl-derivative", "KG-1/ctl-diag", "KG-4", "KG-4/ctl-full-lambda0"]
    assert final["complete"] and [r["id"] for r in final["results"]] == ids
    assert final["results"][0]["evidence"] == json.loads(json.dumps(kept["KG-1"]["evidence"]))
    fresh = run(["KG-4"], profile="ci")  # the resumed verdict is the one a fresh run gives
    assert final["results"][3]["evidence"]["lhs"] == fresh.results[0].evidence["lhs"]


def test_interrupt_at_the_summary_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run(["KG-1"], profile="ci", out=out)
    before = (out / SUMMARY).read_bytes()
    records = (out / RECORDS).read_bytes()
    import verify.store as store

    real = os.replace

    def interrupted(src, dst):
        if Path(dst).name == SUMMARY:
            raise KeyboardInterrupt  # Ctrl-C exactly at the write
        return real(src, dst)

    monkeypatch.setattr(store.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(profile="ci", out=out, resume=True)
    assert (out / SUMMARY).read_bytes() == before  # not truncated, not half-written
    assert (out / RECORDS).read_bytes() == records
    assert not list(out.glob(".results.json.*"))  # no temporary left behind


# ---- 6. one run per folder; another run's files are never silently mixed in ----------------
@pytest.mark.slow
def test_two_processes_into_one_folder(tmp_path):
    out = tmp_path / "out"
    first = _verify("run", "KG-4", "--out", str(out))
    _wait_for(lambda: (out / RECORDS).exists(), proc=first)
    second = _verify("run", "KG-1", "--out", str(out))
    text = second.communicate(timeout=120)[0]
    assert second.returncode == 2 and "in use by another verify run" in text
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=120)
    header, results = read_records(out)
    assert header["ids"] == ["KG-4"] and all(r["id"].startswith("KG-4") for r in results)  # nothing of the second run


def test_a_finished_runs_folder_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "WP-3", "--out", str(out)]) == 0
    old = (out / SUMMARY).read_bytes()
    assert list((out / "counterexamples").iterdir())
    assert main(["run", "KG-1", "--out", str(out)]) == 2  # refused: it would mix two runs
    assert (out / SUMMARY).read_bytes() == old
    assert main(["run", "KG-1", "--out", str(out), "--overwrite"]) == 0
    data = json.loads((out / SUMMARY).read_text())
    assert {r["id"] for r in data["results"]} == {"KG-1", "KG-1/ctl-derivative", "KG-1/ctl-diag"}
    stems = {p.stem for p in (out / "counterexamples").iterdir()}
    assert stems == {file_stem("KG-1/ctl-derivative"), file_stem("KG-1/ctl-diag")}  # WP-3's old counterexample is gone


# ---- 7. an unwritable --out is found before any work -----------------------------------------
def test_read_only_out_fails_before_any_work(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True).returncode == 0
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("root cannot be denied writing without a read-only mount, and mount is not permitted here")
        ro.chmod(0o555)
    try:
        t0 = time.perf_counter()
        assert main(["run", "KG-4", "--out", str(ro)]) == 2  # KG-4 would take ~20 s before its first record
        assert time.perf_counter() - t0 < 5
        assert "not writable" in capsys.readouterr().out
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], check=False)


def test_out_below_a_file_is_a_usage_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "WP-2", "--out", str(blocker / "out")]) == 2
    assert "cannot create the output folder" in capsys.readouterr().out


# ---- 8. a lost Dask worker is an error record, the rest is kept ------------------------------
@pytest.mark.slow
def test_a_killed_worker_becomes_an_error_record(tmp_path, monkeypatch, capsys):
    (tmp_path / "dying_claims.py").write_text(
        """
import os
from theory.claims import Evidence, ExactClaim, register

@register
class Dies(ExactClaim):
    id = "USR-DIES"
    title = "kills the worker process that checks it"
    statement = "-"

    def check(self, inst):
        if os.getpid() != int(os.environ["VERIFY_TEST_PARENT"]):
            os._exit(1)  # a worker dies (segfault, OOM kill): Dask restarts it and retries, then gives up
        return Evidence(0, 1)
"""
    )
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{ROOT}")
    monkeypatch.setenv("VERIFY_TEST_PARENT", str(os.getpid()))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    try:
        code = main(["--import", "dying_claims", "run", "USR-DIES", "KG-1", "--jobs", "2", "--out", str(out)])
    finally:
        claims.unregister("USR-DIES")
    assert code == 3
    data = json.loads((out / SUMMARY).read_text())
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["USR-DIES"]["status"] == "error" and "worker lost" in by_id["USR-DIES"]["summary"]
    assert by_id["KG-1"]["status"] == "holds" and by_id["KG-1/ctl-diag"]["status"] == "refuted"


# ---- 9. counterexample names are injective and portable -------------------------------------
def _unstem(stem: str) -> str:
    out, i = bytearray(), 0
    while i < len(stem):
        if stem[i] == "_":
            out.append(int(stem[i + 1 : i + 3], 16))
            i += 3
        else:
            out.extend(stem[i].encode())
            i += 1
    return out.decode()


@pytest.mark.parametrize("cid", ["USR-2/x", "USR-2__x", "WP-1/ctl-rho<2", 'a\\b:c*d?e|f"g', ".hidden", "über/ß", "_", "x_2fy"])
def test_file_stems_are_portable_and_invertible(cid):
    stem = file_stem(cid)
    assert set(stem) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") and not stem.startswith(".")
    assert _unstem(stem) == cid or (cid.startswith(".") and _unstem(stem) == cid)


def test_colliding_ids_get_distinct_counterexample_files(tmp_path):
    made = []
    for cid in ("USR-2/x", "USR-2__x"):

        class Wrong(ExactClaim):
            id = cid
            title = "rho never exceeds 0.01"
            statement = "rho <= 0.01"
            domain = NetworkDomain(m=(2, 4))

            def check(self, inst):
                return Evidence(inst.net.contraction_factor(), 0.01, "<=")

        register(Wrong)
        made.append(cid)
    try:
        report = run(made, profile="ci", out=tmp_path / "out")
        paths = {r.replay for r in report.results}
        assert len(paths) == 2 and all(Path(p).exists() for p in paths)
    finally:
        for cid in made:
            claims.unregister(cid)


# ---- 10. replay files are data, never code ---------------------------------------------------
@pytest.fixture(scope="module")
def replay_source(tmp_path_factory) -> Path:
    """One real counterexample file (a WP-3 control's), written once for the module."""
    report = run(["WP-3"], profile="ci", out=tmp_path_factory.mktemp("replay") / "out")
    return Path(next(r.replay for r in report.results if r.replay))


@pytest.fixture
def replay_file(replay_source, tmp_path) -> Path:
    copy = tmp_path / replay_source.name
    copy.write_bytes(replay_source.read_bytes())
    return copy


def test_a_hostile_replay_file_cannot_run_code(tmp_path, monkeypatch, capsys, replay_file):
    marker = tmp_path / "PWNED"
    (tmp_path / "evil_mod.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    path = replay_file
    record = json.loads(path.read_text())
    record["module"] = "evil_mod"  # what an old reader imported before validating anything
    path.write_text(json.dumps(record))
    assert main(["replay", str(path)]) == 0  # the file replays: its 'module' is never imported
    assert not marker.exists()
    record["claim"] = "EVIL-1"  # a claim only the module would register: refused, still not imported
    path.write_text(json.dumps(record))
    assert main(["replay", str(path)]) == 2
    assert not marker.exists()
    assert "--import" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mutate,words",
    [
        (lambda r: r.update(claim=None), "'claim' must be"),
        (lambda r: r.update(claim=7), "'claim' must be"),
        (lambda r: r.update(mode="exec"), "'mode' must be"),
        (lambda r: r.update(evidence=None), "'evidence' must be"),
        (lambda r: r["evidence"].update(lhs="1; rm -rf /"), "evidence.lhs must be a number"),
        (lambda r: r["evidence"].update(relation="<"), "evidence.relation"),
        (lambda r: r.update(profile="../../etc"), "'profile' must be"),
        (lambda r: r.update(seed=-3), "'seed' must be"),
        (lambda r: r.update(alpha=5), "'alpha' must be"),
        (lambda r: r.pop("instance"), "instance must be an object"),
        (lambda r: r["instance"].update(type="os.system"), "unknown instance type"),
        (lambda r: r["instance"]["fields"].update(A=None), "instance.A must not be null"),
        (lambda r: r["instance"]["fields"].update(A={"__ndarray__": [1.0, 2.0], "shape": [3]}), "has 2 numbers but shape"),
        (lambda r: r["instance"]["fields"].update(gamma="0.25"), "instance.gamma must be"),
        (lambda r: r["instance"]["fields"].update(evil=1), "unknown field"),
        (lambda r: r["instance"]["fields"].update(X={"__ndarray__": [[[[1.0]]]], "shape": [1]}), "numbers only"),
        (lambda r: r.update(extra=json.loads("[" * 80 + "]" * 80)), "nested deeper"),
    ],
)
def test_malformed_replay_files_are_one_line_usage_errors(capsys, mutate, words, replay_file):
    path = replay_file
    record = json.loads(path.read_text())
    mutate(record)
    path.write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["replay", str(path)]) == 2
    out = capsys.readouterr().out.strip()
    assert words in out and "Traceback" not in out and len(out.splitlines()) <= 2


@pytest.mark.parametrize("make", ["directory", "missing", "not-json", "list", "deep"])
def test_replay_of_things_that_are_not_replay_files(tmp_path, capsys, make):
    path = tmp_path / "f.json"
    if make == "directory":
        path.mkdir()
    elif make == "not-json":
        path.write_text("{not json")
    elif make == "list":
        path.write_text("[1, 2]")
    elif make == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["replay", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().out


# ---- 11. exit codes a CI can act on ----------------------------------------------------------
def test_exit_codes(tmp_path, monkeypatch, capsys):
    @register
    class Crashes(ExactClaim):
        id = "USR-CRASHES"
        title = "crashes"
        statement = "-"

        def check(self, inst):
            raise RuntimeError("boom")

    @register
    class Wrong(ExactClaim):
        id = "USR-WRONG"
        title = "rho never exceeds 0.01"
        statement = "rho <= 0.01"
        domain = NetworkDomain(m=(2, 4))

        def check(self, inst):
            return Evidence(inst.net.contraction_factor(), 0.01, "<=")

    try:
        assert main(["run", "KG-1"]) == 0
        assert main(["run", "USR-WRONG"]) == 1
        assert main(["run", "USR-CRASHES"]) == 3
        assert main(["run", "NOPE-9"]) == 2
        assert main(["run", "--profile", "nightly"]) == 2
        assert main(["calibrate", "--seeds", "0"]) == 2
        assert main(["--import", "no_such_module_xyz", "list"]) == 2
        assert main(["run", "WP-2", "--resume"]) == 2
        assert main(["replay", str(tmp_path / "nope.json")]) == 2
    finally:
        claims.unregister("USR-CRASHES")
        claims.unregister("USR-WRONG")
    text = capsys.readouterr().out
    assert "Traceback" not in text


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_one_line_usage_error(capsys):
    assert main(["run", "KG-1", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    out = capsys.readouterr().out
    assert "cannot reach the Dask scheduler" in out and "Traceback" not in out


def test_unknown_id_suggests_the_nearest_and_ids_match_case_insensitively(capsys):
    assert main(["run", "WP-11"]) == 2
    out = capsys.readouterr().out
    assert "did you mean" in out and "WP-1" in out and out.count("\n") <= 2
    from verify.runner import select

    assert [c.id for c in select(["wp-2"])] == ["WP-2", "WP-2/ctl-no-factor"]


# ---- 12. numbers render as numbers -----------------------------------------------------------
def test_report_renders_non_finite_numbers_as_numbers(tmp_path):
    @register
    class Infinite(ExactClaim):
        id = "USR-INF"
        title = "an infinite left side"
        statement = "inf <= 1"
        domain = NetworkDomain(m=(2, 3))

        def check(self, inst):
            return Evidence(float("inf"), 1.0, "<=", details={"nan": float("nan")})

    try:
        assert main(["run", "USR-INF", "--out", str(tmp_path / "out")]) == 1
    finally:
        claims.unregister("USR-INF")
    text = (tmp_path / "out" / "report.md").read_text()
    assert "| inf <= 1 |" in text and "__float__" not in text


def test_an_interrupted_rate_claim_keeps_its_measurements_and_resume_reuses_them(tmp_path, monkeypatch):
    """Ctrl-C in the middle of a rate claim's grid: the points measured so far are in
    measures.jsonl, --resume measures only the rest, and the verdict and numbers are those of an
    uninterrupted run (a scale sweep cut by a time limit on a lent GPU loses nothing)."""
    claim = claims.get("NG-3")
    real = type(claim).measure
    calls = []

    def counted(self, x, seed, *, stop_after=None):
        calls.append((x, seed))
        if stop_after is not None and len(calls) > stop_after:
            raise KeyboardInterrupt
        return real(self, x, seed)

    out = tmp_path / "out"
    monkeypatch.setattr(type(claim), "measure", lambda self, x, seed: counted(self, x, seed, stop_after=5))
    with pytest.raises(KeyboardInterrupt):
        run(["NG-3"], profile="ci", out=out, controls=False)
    lines = (out / "measures.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["device"] == "cpu" for line in lines)
    calls.clear()
    monkeypatch.setattr(type(claim), "measure", lambda self, x, seed: counted(self, x, seed))
    resumed = run(profile="ci", out=out, resume=True)
    budget = claim.budget("ci")
    assert len(calls) == len(budget.grid) * budget.seeds - 5  # the journaled five are not measured again
    monkeypatch.setattr(type(claim), "measure", real)
    fresh = run(["NG-3"], profile="ci", controls=False)
    assert resumed.results[0].status == fresh.results[0].status
    assert resumed.results[0].evidence == fresh.results[0].evidence


@pytest.mark.slow
def test_a_distributed_resume_hands_journaled_points_to_their_claims(tmp_path, monkeypatch):
    """A serial run cut after five of NG-3's eight measurements, resumed with --jobs 2: the
    journal gains only the three missing points (the five journaled ones are handed to the claim
    instead of being computed again on a worker), and the verdict is an uninterrupted run's."""
    claim = claims.get("NG-3")
    real = type(claim).measure
    calls = []

    def interrupted(self, x, seed):
        calls.append(x)
        if len(calls) > 5:
            raise KeyboardInterrupt
        return real(self, x, seed)

    out = tmp_path / "out"
    monkeypatch.setattr(type(claim), "measure", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(["NG-3"], profile="ci", out=out, controls=False)
    monkeypatch.setattr(type(claim), "measure", real)
    resumed = run(profile="ci", out=out, resume=True, jobs=2)
    keys = [tuple(json.loads(line)["key"]) for line in (out / "measures.jsonl").read_text().splitlines()]
    budget = claim.budget("ci")
    assert len(keys) == len(set(keys)) == len(budget.grid) * budget.seeds  # each point measured once
    fresh = run(["NG-3"], profile="ci", controls=False)
    assert resumed.results[0].evidence == fresh.results[0].evidence
