"""``python -m verify``: list, run, replay and report the claims.

Examples::

    python -m verify list                       # every claim and control, with sources
    python -m verify run --profile ci --out out # run all; exit 0 only if all is well
    python -m verify run WP-1 KG-3 --seed 7     # some claims (and their controls), reseeded
    python -m verify replay out/counterexamples/WP-1_2fctl-rho_3c2.json
    python -m verify report out                 # re-render out/report.md (an interrupted run too)
    python -m verify run --resume out           # finish an interrupted run
    python -m verify audit torchdeq --grid --out audit-out   # audit torchdeq's solvers and gradients

Exit codes:
  0   every claim holds and every control is refuted (audit: nothing flagged; audit --grid:
      the survey ran; replay: the same numbers)
  1   a claim or control is not as expected (replay: the numbers differ)
  2   usage or input error (bad arguments, an unusable --out, a malformed replay file,
      a module that --import cannot find, an unreachable --scheduler)
  3   internal error: a check crashed, or a Dask worker was lost
  130 interrupted: the completed claims are in DIR/results.jsonl; `run --resume DIR` finishes
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rich.console import Console

from .errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_NOT_AS_EXPECTED, EXIT_OK, EXIT_USAGE, UsageError
from .names import PROFILE_NAMES

console = Console(highlight=False, soft_wrap=True)


def _cmd_list(args) -> int:
    from rich.table import Table

    from theory.claims import all_claims

    if not sys.stdout.isatty():  # a plain, pipe-friendly line per claim
        for c in all_claims():
            print(f"{'  ' if c.is_control else ''}{c.id}\t{c.kind.value}\t{c.title}")
        return 0
    table = Table(title="Claims (controls indented)")
    for col in ("id", "kind", "title", "source", "hypotheses"):
        table.add_column(col, overflow="fold")
    for c in all_claims():
        d = c.describe()
        table.add_row(
            ("  " if c.is_control else "") + c.id,
            d["kind"],
            d["title"] + (f"\n[dim]false because: {d['why_false']}[/dim]" if c.is_control else ""),
            d["source"],
            "; ".join(d["hypotheses"]) or "-",
        )
    console.print(table)
    return 0


def _cmd_run(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .report import write_report
    from .runner import run, select

    if args.resume and args.ids:
        raise UsageError("--resume finishes the run recorded in --out: give no claim ids")
    if args.resume and not args.out:
        raise UsageError("--resume needs --out DIR (the folder of the run to finish)")
    style = {True: "green", False: "bold red"}
    total = None if args.resume else len(select(args.ids or None))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=total)

        def start(claim):
            progress.update(task, description=f"{claim.id} ({claim.kind.value})")

        def done(r):
            progress.console.print(
                f"[{style[r.ok]}]{'ok  ' if r.ok else 'FAIL'}[/] {r.id:<24} {r.status:<12} {r.seconds:6.2f}s  {r.summary}"
            )
            progress.advance(task)

        report = run(
            args.ids or None,
            profile=args.profile,
            seed=args.seed,
            out=args.out,
            on_result=done,
            on_start=start,
            jobs=args.jobs,
            scheduler=args.scheduler,
            imports=tuple(args.imports),
            overwrite=args.overwrite,
            resume=args.resume,
            device=args.device,
        )
    console.print(report.false_alarm_statement())
    bad = [r for r in report.results if not r.ok]
    console.print(
        f"{len(report.results)} checks in {report.seconds:.1f} s: "
        f"{len(report.results) - len(bad)} as expected, {len(bad)} not" + (f" ({', '.join(r.id for r in bad)})" if bad else "")
    )
    if args.out:
        from .errors import MissingExtraError
        from .figures import make_all

        try:
            with console.status("drawing figures"):
                for fig in make_all(args.out):
                    console.print(f"figure: {fig}")
        except MissingExtraError as exc:  # the verdicts stand; only the pictures are missing
            console.print(f"no figures: {exc}")
        path = write_report(args.out)
        console.print(f"report: {path}")
        for r in bad:
            if r.replay:
                console.print(f"replay {r.id}: python -m verify replay '{r.replay}'")
    elif bad:
        console.print("(no --out: no counterexample files were written; add --out DIR to keep them)")
    if report.errors:
        return EXIT_INTERNAL
    return EXIT_OK if report.ok else EXIT_NOT_AS_EXPECTED


def _cmd_replay(args) -> int:
    from .replay import replay

    res = replay(args.file)
    s, r = res["stored"], res["replayed"]
    console.print(f"claim {res['claim']}")
    console.print(f"  stored:   {s['lhs']!r} {s['relation']} {s['rhs']!r}  slack {s['slack']!r}  holds={s['holds']}")
    console.print(f"  replayed: {r['lhs']!r} {r['relation']} {r['rhs']!r}  slack {r['slack']!r}  holds={r['holds']}")
    console.print("  identical numbers" if res["identical"] else "  [bold red]numbers differ[/]")
    return EXIT_OK if res["identical"] else EXIT_NOT_AS_EXPECTED


def _cmd_report(args) -> int:
    from .report import write_report

    console.print(f"wrote {write_report(args.dir)}")
    return 0


def _cmd_catalog(args) -> int:
    from .catalog import markdown_table, sync_docs, sync_readme

    if args.write:
        sync_readme(args.write, write=True)
        console.print(f"catalog written to {args.write}")
    if args.docs:
        sync_docs(args.docs, write=True)
        console.print(f"claims page written to {args.docs}")
    if not (args.write or args.docs):
        print(markdown_table())
    return 0


def _cmd_audit(args) -> int:
    from .audit.command import _cmd_audit as audit_command

    return audit_command(args, console)


def _cmd_mutate(args) -> int:
    from .mutate import command

    return command(args, console)


def _cmd_calibrate(args) -> int:
    from .calibration import command

    return command(args, console)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="MODULE", help="import MODULE first (registers your own claims)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="compute threads per process (torch, BLAS, OpenMP; default $VERIFY_THREADS or 1: see verify/threads.py); "
        "for parallelism use run --jobs",
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list claims and controls").set_defaults(func=_cmd_list)
    r = sub.add_parser("run", help="run claims and their negative controls")
    r.add_argument("ids", nargs="*", help="claim ids (default: all); an id selects its controls too")
    r.add_argument("--profile", choices=PROFILE_NAMES, default="ci", help="search effort (default: ci)")
    r.add_argument("--seed", type=int, default=None, help="reseed every random draw (default: the profile's fixed seeds)")
    r.add_argument(
        "--out",
        default=None,
        help="write results.jsonl (each record as it finishes), measures.jsonl (each rate measurement), "
        "results.json, report.md, figures/ and counterexamples/ here; the folder is locked while the run lasts",
    )
    r.add_argument("--overwrite", action="store_true", help="replace another run's files in --out (only the files a run writes)")
    r.add_argument(
        "--resume", action="store_true", help="finish the interrupted run recorded in --out (completed claims, measurements kept)"
    )
    r.add_argument("--jobs", type=int, default=1, help="run on a local Dask cluster of N worker processes (same numbers as serial)")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on an existing Dask cluster (e.g. tcp://host:8786)")
    r.add_argument(
        "--device",
        default="cpu",
        help="where the device-aware claims compute (KG-3, NG-1, TD-3.rate, TD-5, TD-6: cpu or cuda[:N], float64 either way); "
        "the other claims run on the CPU. A device this machine lacks is a one-line error (exit 2)",
    )
    r.set_defaults(func=_cmd_run)
    rp = sub.add_parser("replay", help="re-run a saved counterexample and compare the numbers")
    rp.add_argument("file")
    rp.set_defaults(func=_cmd_replay)
    rep = sub.add_parser("report", help="render DIR/results.json as DIR/report.md")
    rep.add_argument("dir")
    rep.set_defaults(func=_cmd_report)
    cat = sub.add_parser("catalog", help="print the claims table (or write it into a README)")
    cat.add_argument("--write", metavar="README", default=None, help="replace the catalog table in README")
    cat.add_argument("--docs", metavar="PAGE", default=None, help="write the claim-by-claim page (docs/claims.md)")
    cat.set_defaults(func=_cmd_catalog)
    au = sub.add_parser(
        "audit",
        help="audit another implementation of the implicit layer against the reference",
        description="Audit an implementation (torchdeq, the reference, a planted fault, or your own module:attribute adapter; "
        "see verify/audit/protocol.py): equilibrium and output agreement, residual against the requested tolerance and the "
        "certified bound, whether the best iterate is returned, gradient relative error and cosine against the exact implicit "
        "gradient, the Gram from per-sample gradients, uniqueness from far-off starts, a sweep of rho towards 1, dtype, and "
        "configuration keys the library silently ignores. Exit 0 when nothing is flagged (with --grid: once the survey has run).",
    )
    au.add_argument(
        "adapter",
        help="torchdeq, torchopt, jaxopt, optimistix, reference, a planted fault (planted-jfb, planted-early-stop, planted-float32, "
        "planted-torchopt-jfb, planted-jax-jfb, planted-jax-early-stop, planted-jax-float32), module:attribute, or 'all' "
        "(with --grid: every library's grid and the cross-framework tables)",
    )
    au.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="adapter configuration (repeatable), e.g. ift=true f_solver=anderson",
    )
    au.add_argument(
        "--grid",
        action="store_true",
        help="audit the adapter's published grid of configurations (solvers x gradient modes x issue probes)",
    )
    au.add_argument("--n", type=int, default=8, help="inputs (default 8)")
    au.add_argument("--d", type=int, default=5, help="input dimension (default 5)")
    au.add_argument("--m", type=int, default=128, help="width (default 128)")
    au.add_argument("--gamma", type=float, default=0.45, help="gamma (default 0.45, rho ~ 0.9)")
    au.add_argument("--seed", type=int, default=0)
    au.add_argument("--rhos", type=float, nargs="+", default=[0.5, 0.9, 0.99, 0.999], help="contraction sweep targets")
    au.add_argument("--eq-tol", type=float, default=1e-8, help="relative equilibrium/output error allowed (default 1e-8)")
    au.add_argument("--grad-tol", type=float, default=1e-6, help="relative gradient error allowed (default 1e-6)")
    au.add_argument("--out", default=None, help="write audit.json and audit.md here")
    au.set_defaults(func=_cmd_audit)
    mu = sub.add_parser(
        "mutate",
        help="derive near-miss variants of each claim and report its resolution (the smallest perturbation still refuted)",
        description="For each claim: inequalities tightened by eps in 0.5..0.01, exponents shifted by 0.3..0.05 toward the false "
        "side, delta divided by 10, 3, 2; each variant runs through the same runner and profile. A surviving variant is reported "
        "with the slack that explains it (a true variant survives, and that is not a failure). Exit 0 once it has run.",
    )
    mu.add_argument("ids", nargs="*", help="claim ids (default: all)")
    mu.add_argument("--profile", choices=PROFILE_NAMES, default="ci")
    mu.add_argument("--seed", type=int, default=None)
    mu.add_argument(
        "--out",
        default=None,
        help="write mutations.json, mutations.md and figures/resolution.png here (a run's folder: its report gains a resolution column)",
    )
    mu.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="repeat under seeds 1..N and report the fraction of runs refuting each mutant (the power at each perturbation)",
    )
    mu.set_defaults(func=_cmd_mutate)
    cal = sub.add_parser("calibrate", help="rerun the whp and rate claims under many seeds and count false alarms")
    cal.add_argument("ids", nargs="*", help="only these claims (default: every true claim of --kinds)")
    cal.add_argument("--seeds", type=int, default=20)
    cal.add_argument("--profile", choices=PROFILE_NAMES, default="ci")
    cal.add_argument("--kinds", nargs="+", choices=["whp", "rate"], default=["whp", "rate"], help="claim kinds to rerun (default: both)")
    cal.add_argument(
        "--computed",
        action="store_true",
        help="instead of rerunning: the whp tests' exact operating characteristics at --profile, and with --run the plug-in power of a run's rate fits",
    )
    cal.add_argument("--run", metavar="DIR", help="with --computed: a finished run's folder (its rate fits)")
    cal.add_argument("--out", metavar="DIR", help="write calibration.md/.json (--computed) or false-alarms.json here")
    cal.set_defaults(func=_cmd_calibrate)
    return p


def _import(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise UsageError(f"--import {module}: no module named {exc.name!r} (is it on PYTHONPATH?)") from None
    except Exception as exc:
        raise UsageError(f"--import {module} failed: {type(exc).__name__}: {exc}") from None


def _is_usage_error(exc: BaseException) -> bool:
    """Bad usage or input (exit 2): ours, the library's typed input errors, a missing file."""
    if isinstance(exc, (UsageError, FileNotFoundError)):
        return True
    from theory.errors import InputError, MissingDependencyError

    return isinstance(exc, (InputError, MissingDependencyError))


COMPUTE_COMMANDS = frozenset({"run", "mutate", "calibrate", "audit", "replay"})  # those that set the thread policy


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    args.argv = argv
    try:
        from . import threads

        threads.preset_environment()  # numpy and torch are imported lazily, after this
        if args.command in COMPUTE_COMMANDS:
            threads.apply(args.threads)
        for mod in args.imports:
            _import(mod)
        return args.func(args)
    except KeyboardInterrupt:
        out = getattr(args, "out", None)
        where = f"; the completed claims are in {out}/results.jsonl: `python -m verify run --resume --out {out}` finishes" if out else ""
        console.print(f"[bold red]interrupted[/]{where}")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if _is_usage_error(exc):
            console.print(f"[bold red]error:[/] {exc}")
            return EXIT_USAGE
        # a bug of ours: one line, and where to look
        console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (rerun with VERIFY_TRACEBACK=1 for the traceback)")
        import os

        if os.environ.get("VERIFY_TRACEBACK"):
            console.print_exception()
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
