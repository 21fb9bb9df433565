"""``python -m verify``: list, run, replay and report the claims.

Examples::

    python -m verify list                       # every claim and control, with sources
    python -m verify run --profile ci --out out # run all; exit 0 only if all is well
    python -m verify run WP-1 KG-3 --seed 7     # some claims (and their controls), reseeded
    python -m verify replay out/counterexamples/WP-1__ctl-rho<2.json
    python -m verify report out                 # re-render out/report.md from results.json

Exit codes: 0 every claim holds and every control is refuted; 1 otherwise; 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rich.console import Console
from rich.table import Table

from theory.claims import all_claims

from .profiles import PROFILES

console = Console(highlight=False, soft_wrap=True)


def _cmd_list(args) -> int:
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
    from .report import write_report
    from .runner import run

    style = {True: "green", False: "bold red"}
    with console.status("starting") as status:

        def start(claim):
            status.update(f"running {claim.id} ({claim.kind.value}) ...")

        def done(r):
            console.print(f"[{style[r.ok]}]{'ok  ' if r.ok else 'FAIL'}[/] {r.id:<24} {r.status:<12} {r.seconds:6.2f}s  {r.summary}")

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
        )
    console.print(report.false_alarm_statement())
    bad = [r for r in report.results if not r.ok]
    console.print(
        f"{len(report.results)} checks in {report.seconds:.1f} s: "
        f"{len(report.results) - len(bad)} as expected, {len(bad)} not" + (f" ({', '.join(r.id for r in bad)})" if bad else "")
    )
    if args.out:
        from .figures import make_all

        with console.status("drawing figures"):
            for fig in make_all(args.out, args.profile, args.seed):
                console.print(f"figure: {fig}")
        path = write_report(args.out)
        console.print(f"report: {path}")
        for r in bad:
            if r.replay:
                console.print(f"replay {r.id}: python -m verify replay '{r.replay}'")
    return 0 if report.ok else 1


def _cmd_replay(args) -> int:
    from .replay import replay

    res = replay(args.file)
    s, r = res["stored"], res["replayed"]
    console.print(f"claim {res['claim']}")
    console.print(f"  stored:   {s['lhs']!r} {s['relation']} {s['rhs']!r}  slack {s['slack']!r}  holds={s['holds']}")
    console.print(f"  replayed: {r['lhs']!r} {r['relation']} {r['rhs']!r}  slack {r['slack']!r}  holds={r['holds']}")
    console.print("  identical numbers" if res["identical"] else "  [bold red]numbers differ[/]")
    return 0 if res["identical"] else 1


def _cmd_report(args) -> int:
    from .report import write_report

    console.print(f"wrote {write_report(args.dir)}")
    return 0


def _cmd_catalog(args) -> int:
    from .catalog import markdown_table, sync_readme

    if args.write:
        sync_readme(args.write, write=True)
        console.print(f"catalog written to {args.write}")
    else:
        console.print(markdown_table())
    return 0


def _cmd_calibrate(args) -> int:
    from .calibration import false_alarms

    res = false_alarms(seeds=range(1, args.seeds + 1), profile=args.profile, kinds=args.kinds, on_run=lambda r: console.print(r))
    console.print(res["statement"])
    return 0 if res["false_alarms"] == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="MODULE", help="import MODULE first (registers your own claims)"
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list claims and controls").set_defaults(func=_cmd_list)
    r = sub.add_parser("run", help="run claims and their negative controls")
    r.add_argument("ids", nargs="*", help="claim ids (default: all); an id selects its controls too")
    r.add_argument("--profile", choices=sorted(PROFILES), default="ci", help="search effort (default: ci)")
    r.add_argument("--seed", type=int, default=None, help="reseed every random draw (default: the profile's fixed seeds)")
    r.add_argument("--out", default=None, help="write results.json, report.md, figures/ and counterexamples here")
    r.add_argument("--jobs", type=int, default=1, help="run on a local Dask cluster of N worker processes (same numbers as serial)")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on an existing Dask cluster (e.g. tcp://host:8786)")
    r.set_defaults(func=_cmd_run)
    rp = sub.add_parser("replay", help="re-run a saved counterexample and compare the numbers")
    rp.add_argument("file")
    rp.set_defaults(func=_cmd_replay)
    rep = sub.add_parser("report", help="render DIR/results.json as DIR/report.md")
    rep.add_argument("dir")
    rep.set_defaults(func=_cmd_report)
    cat = sub.add_parser("catalog", help="print the claims table (or write it into a README)")
    cat.add_argument("--write", metavar="README", default=None)
    cat.set_defaults(func=_cmd_catalog)
    cal = sub.add_parser("calibrate", help="rerun the whp and rate claims under many seeds and count false alarms")
    cal.add_argument("--seeds", type=int, default=20)
    cal.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    cal.add_argument("--kinds", nargs="+", choices=["whp", "rate"], default=["whp"], help="claim kinds to rerun (default: whp)")
    cal.set_defaults(func=_cmd_calibrate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for mod in args.imports:
        importlib.import_module(mod)
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
