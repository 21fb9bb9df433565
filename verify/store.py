"""A run's output folder: nothing lost, nothing mixed, nothing half-written.

- Each record is appended to ``results.jsonl`` as its claim finishes (flushed and fsync'd):
  an interrupt keeps every completed claim. The first line is the run's header (profile,
  seed, the selected ids, the per-test level), so ``--resume`` finishes exactly that run.
- ``results.json`` and ``report.md`` are rebuilt from the records and written atomically (a
  temporary file, fsync'd, then renamed): an interrupt during the write leaves the previous
  file whole.
- A run holds an exclusive lock on the folder for its whole life (a second run fails at once),
  checks that the folder is writable before any work, and refuses a folder holding another
  run's files unless told ``overwrite`` (which removes only what a run writes) or ``resume``.
- Counterexample file names are an injective, portable encoding of the claim id.
- Every rate measurement (one float per grid point and seed: a gradient flow, a Gram) is
  appended to ``measures.jsonl`` as it is computed (:class:`MeasureJournal`), so a run cut in the
  middle of a slow claim keeps its measured points and ``--resume`` does not measure them again.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import serialize
from .errors import OutputError

RECORDS, SUMMARY, REPORT, LOCK, MEASURES = "results.jsonl", "results.json", "report.md", ".verify.lock", "measures.jsonl"
OWNED = (RECORDS, SUMMARY, REPORT, MEASURES, "report.html", "figures", "counterexamples", "mutations.json", "mutations.md")
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")


def file_stem(claim_id: str) -> str:
    """An injective, portable file stem for a claim id: letters, digits, '.' and '-' stay,
    every other character c becomes ``_xx`` (its UTF-8 bytes in hex), '_' included. So
    ``WP-1/ctl-rho<2`` -> ``WP-1_2fctl-rho_3c2``, and ``USR-2/x`` and ``USR-2__x`` differ."""
    out = []
    for ch in claim_id:
        out.append(ch if ch in _SAFE else "".join(f"_{b:02x}" for b in ch.encode()))
    stem = "".join(out)
    if stem.startswith(".") or stem in ("", "."):
        stem = "_2e" + stem[1:]
    return stem


def counterexample_path(out: Path, claim_id: str) -> Path:
    """Where the replay file of ``claim_id`` goes under the output folder ``out``."""
    folder = out / "counterexamples"
    folder.mkdir(exist_ok=True)
    return folder / f"{file_stem(claim_id)}.json"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all or nothing: a temporary file in the same folder, fsync'd,
    then renamed over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary file's permissions, not mkstemp's private 0600
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_records(folder: Path) -> tuple[dict | None, list[dict]]:
    """(header, result records) of ``folder/results.jsonl``; a last line cut by an interrupt is
    ignored. Records are decoded (non-finite numbers back to floats)."""
    path = folder / RECORDS
    if not path.exists():
        return None, []
    header, results = None, []
    for line in path.read_text().splitlines():
        try:
            rec = serialize.decode(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by an interrupt: the claim is run again on --resume
        if rec.get("type") == "header":
            header = rec
        elif rec.get("type") == "result":
            results.append({k: v for k, v in rec.items() if k != "type"})
    return header, results


_TAGS = ("measure", "control")  # a rate measurement, and the control variate drawn with it


def _measure_key(key) -> tuple | None:
    """A journaled key back as the cache's tuple (owner, "measure" or "control", x, seed), or None
    when the line is not one (the journal is data: nothing in it is looked up beyond these four
    fields)."""
    if not (isinstance(key, list) and len(key) == 4 and isinstance(key[0], str) and key[1] in _TAGS):
        return None
    x, s = key[2], key[3]
    if isinstance(x, bool) or not isinstance(x, int | float) or isinstance(s, bool) or not isinstance(s, int):
        return None
    return (key[0], key[1], x, s)


class MeasureJournal(dict):
    """A run's cache of draws that appends each rate measurement (a float under a key
    ``(owner, "measure", x, seed)``, and its control variate's under ``(owner, "control", x, seed)``)
    to ``folder/measures.jsonl``, fsync'd, tagged with the device it was computed on. :meth:`load`
    reads back the measurements of one device (a line cut by an interrupt, or anything else that
    is not a measurement, is skipped)."""

    def __init__(self, folder: Path, device: str):
        super().__init__()
        self.path, self.device = Path(folder) / MEASURES, device

    def load(self) -> int:
        if not self.path.exists():
            return 0
        n = 0
        for line in self.path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            key = _measure_key(rec.get("key")) if isinstance(rec, dict) else None
            value = rec.get("value") if key is not None else None
            if key is None or rec.get("device") != self.device or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            super().__setitem__(key, float(value))
            n += 1
        return n

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        if isinstance(key, tuple) and len(key) == 4 and key[1] in _TAGS and isinstance(value, float):
            # a NaN or inf measurement is written as JSON's extension, which json reads back
            line = json.dumps({"key": list(key), "value": value, "device": self.device}) + "\n"
            with open(self.path, "a") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())


class RunFolder:
    """The output folder of one run; use as a context manager (it holds the lock)."""

    def __init__(self, path: str | Path, *, overwrite: bool = False, resume: bool = False):
        if overwrite and resume:
            raise OutputError("--overwrite and --resume exclude each other")
        self.path = Path(path)
        self.overwrite, self.resume = overwrite, resume
        self._lock = None

    def __enter__(self) -> RunFolder:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {self.path}: {exc.strerror or exc}") from None
        if not self.path.is_dir():
            raise OutputError(f"{self.path} is not a folder")
        self._check_writable()
        self._lock = open(self.path / LOCK, "a+")
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "?"
            self._lock.close()
            self._lock = None
            raise OutputError(f"{self.path} is in use by another verify run (pid {holder}); wait for it or choose another --out") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(str(os.getpid()))
        self._lock.flush()
        present = [name for name in OWNED if (self.path / name).exists()]
        if present and not (self.overwrite or self.resume):
            raise OutputError(
                f"{self.path} holds another run's files ({', '.join(present)}): pass --overwrite to replace them, "
                "--resume to finish that run, or choose another --out"
            )
        if self.overwrite:
            for name in present:
                target = self.path / name
                shutil.rmtree(target) if target.is_dir() else target.unlink()
        if self.resume and not (self.path / RECORDS).exists():
            raise OutputError(f"nothing to resume in {self.path}: it has no {RECORDS}")
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _check_writable(self) -> None:
        try:
            fd, probe = tempfile.mkstemp(dir=self.path, prefix=".verify-probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputError(f"the output folder {self.path} is not writable ({exc.strerror or exc}); nothing was run") from None

    def journal(self, device: str) -> MeasureJournal:
        """The run's cache of draws, journaling rate measurements here; on ``resume`` it starts
        with those already journaled on ``device`` (serial and distributed runs use this one)."""
        journal = MeasureJournal(self.path, device)
        if self.resume:
            journal.load()
        return journal

    # ---- records --------------------------------------------------------------------------
    def append(self, record: dict[str, Any]) -> None:
        """Append one record (a JSON line) and fsync it: once this returns, it survives a crash."""
        line = json.dumps(serialize.encode(record), allow_nan=False) + "\n"
        with open(self.path / RECORDS, "a") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def write_header(self, header: dict[str, Any]) -> None:
        self.append({"type": "header", **header})

    def write_result(self, result: dict[str, Any]) -> None:
        self.append({"type": "result", **result})
