"""``python -m verify audit``: the command behind the CLI's audit subcommand."""

from __future__ import annotations

import shlex

from ..errors import UsageError


def _parse_config(items: list[str]) -> dict:
    import json

    cfg = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--config expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            cfg[key] = json.loads(raw)  # numbers, true/false, lists like [8]
        except json.JSONDecodeError:
            cfg[key] = raw  # bare strings: f_solver=anderson
    return cfg


def _cmd_audit(args, console) -> int:
    from . import Problem, load_adapter
    from .checks import audit, audit_grid, failure_text
    from .report import write

    thresholds = {"eq_tol": args.eq_tol, "grad_tol": args.grad_tol}
    with console.status("computing the reference answers"):
        problem = Problem(n=args.n, d=args.d, m=args.m, gamma=args.gamma, seed=args.seed, rhos=tuple(args.rhos))

    def show(r):
        style = "green" if r.ok else "bold red"
        console.print(
            f"[{style}]{'pass' if r.ok else 'FLAG'}[/] {r.label:<28} {r.seconds:5.2f}s  "
            + ("" if r.ok else ", ".join(c.name for c in r.flagged))
        )
        if not r.ok and not args.grid:
            console.print(failure_text(r))

    if args.adapter == "all":
        return _cmd_audit_all(args, console, problem, thresholds, show)
    if args.grid:
        if args.config:
            raise UsageError("--grid audits the adapter's own configurations; drop --config (or drop --grid)")
        grid = getattr(load_adapter(args.adapter), "grid", None)
        if not grid:
            raise UsageError(f"adapter {args.adapter!r} has no GRID of configurations")
        with console.status(f"auditing {len(grid)} configurations"):
            results = audit_grid(args.adapter, grid, problem, on_result=show, **thresholds)
    else:
        cfg = _parse_config(args.config)
        results = [audit(load_adapter(args.adapter, cfg), problem, config=cfg, label=args.adapter, **thresholds)]
        show(results[0])
    library = _library_version(args.adapter)
    if args.out:
        command = "python -m verify " + shlex.join(args.argv)
        jp, mp = write(results, args.out, title=f"Audit of {args.adapter}", command=command, library=library)
        console.print(f"report: {mp} (numbers: {jp})")
    if args.grid:
        flagged = sum(not r.ok for r in results)
        console.print(f"{len(results)} configurations audited, {flagged} flagged (a survey: exit 0 once it has run)")
        return 0
    return 0 if results[0].ok else 1


def _cmd_audit_all(args, console, problem, thresholds, show) -> int:
    """Every library's grid, the cross-framework tables (``verify/audit/compare.py``)."""
    import json
    from pathlib import Path

    from verify.serialize import encode, versions

    from .compare import render_comparison, survey, time_to_tolerance
    from .protocol import LIBRARIES
    from .report import write

    if not args.grid or args.config:
        raise UsageError("'audit all' surveys every library's grid: give --grid and no --config")
    command = "python -m verify " + shlex.join(args.argv)
    grids = {}
    for lib in LIBRARIES:
        console.print(f"[bold]{lib}[/]")
        grids.update(survey(problem, (lib,), on_result=show, **thresholds))
        if args.out:
            write(grids[lib], Path(args.out) / lib, title=f"Audit of {lib}", command=command, library=_library_version(lib))
    with console.status("timing each solver to 1e-10 at rho = 0.9, 0.99, 0.999"):
        timing = time_to_tolerance(problem, **thresholds)
    md = render_comparison(grids, timing, command=command)
    console.print(md)
    if args.out:
        out = Path(args.out)
        data = {"command": command, "versions": versions(), "libraries": {lib: _library_version(lib) for lib in LIBRARIES}}
        data.update(timing=timing, grids={lib: [r.to_dict() for r in rs] for lib, rs in grids.items()})
        (out / "comparison.json").write_text(json.dumps(encode(data), indent=1, allow_nan=False))
        (out / "comparison.md").write_text(md)
        console.print(f"reports: {out}/<library>/audit.md, {out}/comparison.md")
    return 0


def _library_version(adapter: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{adapter} {version(adapter)}"
    except (PackageNotFoundError, ValueError):
        return ""
