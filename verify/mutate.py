"""Resolution by mutation: how sharp each check's teeth are.

Hand-written negative controls show that a check can fail; they are usually far from the
truth (a factor dropped, an exponent doubled). ``python -m verify mutate`` derives near-miss
variants of each claim automatically, from the claim's declared structure, runs each through
the same runner and profile, and reports the claim's **resolution**: the smallest perturbation
that is still refuted.

- exact claims with an inequality: the right side tightened by a fraction eps in
  ``EPS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)`` (``lhs <= rhs (1 - eps)``; ``>=``: ``(1 + eps)``,
  on |rhs|). Equalities (``==``) have no natural near miss: not applicable.
- rate claims: the exponent shifted toward the false side by ``SHIFTS = (0.3, 0.2, 0.1, 0.05)``
  (an upper bound claims faster decay, a lower bound slower, a two-sided rate both).
- whp claims: delta divided by ``DIVISORS = (10, 3, 2)``.
- symbolic claims: their controls serve; not mutated.

A mutant that survives is not a failure: it may be true (a bound with slack s survives any
eps < s). Each survivor is reported with the measured slack that explains it (the closest
normalized slack an exact search reached, the fitted interval of a rate), so a reader sees
whether the check lacked power or the mutant was simply true. Mutants reuse their claim's
cached draws and values (the same sample/measure), so a mutation run costs little beyond the
exact claims' searches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from theory.claims import Claim, Evidence, Kind

from .context import Context
from .records import REFUTED, Result
from .runner import run_claim

EPS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
SHIFTS = (0.3, 0.2, 0.1, 0.05)
DIVISORS = (10, 3, 2)


@dataclass(frozen=True)
class Mutant:
    """One near-miss variant: what was perturbed, by how much, and the claim object."""

    label: str
    size: float  # the perturbation (eps, exponent shift, or 1 - 1/divisor)
    claim: Claim


def _tighten(ev: Evidence, eps: float) -> Evidence:
    if ev.relation == "<=":
        rhs = ev.rhs - eps * abs(ev.rhs)
    else:
        rhs = ev.rhs + eps * abs(ev.rhs)
    return replace(ev, rhs=rhs, details={**ev.details, "mutation": f"right side tightened by {eps}", "original_rhs": ev.rhs})


def _subclass(claim: Claim, label: str, attrs: dict) -> Claim:
    cls = type(claim)
    owner = claim.draws_of or claim.id
    ns = {"id": f"{claim.id}~{label}", "control_of": None, "finding": "", "draws_of": owner, **attrs}
    if "check" in attrs:  # an exact mutant searches anew; it shares nothing with the claim's cache
        ns["draws_of"] = None
    return type(f"{cls.__name__}Mutant", (cls,), ns)()


def mutants(claim: Claim) -> list[Mutant]:
    """The near-miss variants of ``claim`` (empty when its kind has none)."""
    out: list[Mutant] = []
    if claim.kind is Kind.EXACT:
        base_check = type(claim).check
        for eps in EPS:

            def check(self, inst, eps=eps, base_check=base_check):
                ev = base_check(self, inst)
                return ev if ev.relation == "==" else _tighten(ev, eps)

            out.append(Mutant(f"rhs-{eps:g}", eps, _subclass(claim, f"rhs-{eps:g}", {"check": check})))
    elif claim.kind is Kind.RATE and claim.bound != "decay":
        for shift in SHIFTS:
            if claim.bound in ("upper", "both"):
                out.append(
                    Mutant(
                        f"exp-{shift:g}", shift, _subclass(claim, f"exp-{shift:g}", {"exponent": claim.exponent - shift, "bound": "upper"})
                    )
                )
            if claim.bound in ("lower", "both"):
                out.append(
                    Mutant(
                        f"exp+{shift:g}", shift, _subclass(claim, f"exp+{shift:g}", {"exponent": claim.exponent + shift, "bound": "lower"})
                    )
                )
    elif claim.kind is Kind.WHP:
        base_delta = type(claim).delta
        for k in DIVISORS:

            def delta(self, config, k=k, base_delta=base_delta):
                return base_delta(self, config) / k

            out.append(Mutant(f"delta/{k}", 1 - 1 / k, _subclass(claim, f"delta/{k}", {"delta": delta})))
    return out


@dataclass(frozen=True)
class MutantResult:
    claim: str
    label: str
    size: float
    status: str
    summary: str
    explanation: str


@dataclass(frozen=True)
class Resolution:
    """A claim's resolution: the smallest perturbation still refuted (None: none was), the
    largest that survived, and every mutant's verdict."""

    claim: str
    kind: str
    applicable: bool
    smallest_refuted: float | None
    largest_survivor: float | None
    mutants: tuple[MutantResult, ...]
    note: str = ""
    original_status: str = ""  # the claim's own verdict in the same run

    def to_dict(self) -> dict:
        return asdict(self)


def _explain(claim: Claim, original: Result, mutant: Result) -> str:
    """Why a surviving mutant may be true: the slack the original measured."""
    stats, ev = original.stats or {}, original.evidence or {}
    if claim.kind is Kind.EXACT:
        s = stats.get("closest_normalized_slack")
        return f"bound has slack: the search's closest normalized slack was {s:.3g}" if s is not None else "no applicable instance"
    if claim.kind is Kind.RATE:
        fit = ev.get("details", {}).get("fit", {})
        return f"fitted slope {fit.get('slope', float('nan')):.3f}, interval [{fit.get('lower', float('nan')):.3f}, {fit.get('upper', float('nan')):.3f}], tolerance {claim.exponent_tol}"
    if claim.kind is Kind.WHP:
        return mutant.summary
    return ""


def resolve(
    claim: Claim, ctx: Context, original: Result | None = None, on_mutant: Callable[[MutantResult], None] | None = None
) -> Resolution:
    """Run ``claim`` (unless ``original`` is given) and its mutants in ``ctx``; the resolution."""
    original = original or run_claim(claim, ctx)
    found = mutants(claim)
    if not found:
        why = "symbolic: its controls serve" if claim.kind is Kind.SYMBOLIC else "no mutation for this kind of statement"
        return Resolution(claim.id, claim.kind.value, False, None, None, (), why, original.status)
    results = []
    for m in found:
        r = run_claim(m.claim, ctx)
        res = MutantResult(claim.id, m.label, m.size, r.status, r.summary, "" if r.status == REFUTED else _explain(claim, original, r))
        results.append(res)
        if on_mutant:
            on_mutant(res)
    refuted = [r.size for r in results if r.status == REFUTED]
    survived = [r.size for r in results if r.status != REFUTED]
    equalities = claim.kind is Kind.EXACT and (original.evidence or {}).get("relation") == "=="
    note = "an equality: the tightened mutants are the claim itself (tolerance unchanged)" if equalities else ""
    return Resolution(
        claim.id,
        claim.kind.value,
        not equalities,
        min(refuted) if refuted else None,
        max(survived) if survived else None,
        tuple(results),
        note,
        original.status,
    )


def describe(res: Resolution) -> str:
    """One line: 'KG-3: exponent resolved to 0.2 (0.1 survives: ...)'."""
    unit = {"exact": "right side to", "rate": "exponent to +-", "whp": "delta to 1 - 1/k ="}.get(res.kind, "")
    if not res.applicable:
        return f"{res.claim}: not applicable ({res.note})"
    if res.smallest_refuted is None:
        return f"{res.claim}: no mutant refuted (largest tried {max(m.size for m in res.mutants):g})"
    return f"{res.claim}: {unit} {res.smallest_refuted:g}" + (
        f" (largest survivor {res.largest_survivor:g})" if res.largest_survivor is not None else ""
    )


def figure(resolutions: list[Resolution], folder: Path) -> Path | None:
    """``resolution.png``: per claim, each perturbation tried (x, log scale), filled if refuted."""
    from .figures import _plt, _save

    rows = [r for r in resolutions if r.mutants]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(rows) + 1.2))
    for y, r in enumerate(rows):
        for m in r.mutants:
            refuted = m.status == "refuted"
            ax.plot(m.size, y, "o", ms=6, color="tab:red" if refuted else "tab:gray", mfc="tab:red" if refuted else "none")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r.claim} ({r.kind})" for r in rows], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("perturbation: eps (exact), exponent shift (rate), 1 - 1/k for delta / k (whp)")
    ax.set_title("Resolution by mutation: filled = refuted, open = survived", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, {"resolutions": [r.to_dict() for r in rows]}, folder, "resolution")


def command(args, console) -> int:
    """``python -m verify mutate``: resolve each selected claim (and, with ``--seeds N``, the
    fraction of seeds 1..N in which each mutant is refuted: the power at each perturbation)."""
    import json

    from theory.claims import Kind

    from . import serialize
    from .errors import UsageError
    from .runner import select, statistical_level
    from .store import atomic_write

    if args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    claims = select(args.ids or None, controls=False)
    from .profiles import get_profile

    prof = get_profile(args.profile)
    _, alpha = statistical_level([c for c in claims if c.kind in (Kind.WHP, Kind.RATE, Kind.DISTRIBUTION)] or claims, prof.alpha)
    seeds = [args.seed] if args.seeds == 1 else list(range(1, args.seeds + 1))
    runs: list[list[Resolution]] = []
    for seed in seeds:
        ctx = Context.create(prof, seed, alpha)
        resolutions = []
        for claim in claims:
            res = resolve(claim, ctx, on_mutant=lambda m: console.print(f"  {m.claim}~{m.label:<10} {m.status:<12} {m.summary[:110]}"))
            resolutions.append(res)
            console.print(f"[bold]{describe(res)}[/]" + (f" (seed {seed})" if len(seeds) > 1 else ""))
        runs.append(resolutions)
    power, own = {}, {}
    if len(runs) > 1:
        for i, claim in enumerate(claims):
            statuses = [r[i].original_status for r in runs]
            own[claim.id] = {s: statuses.count(s) for s in sorted(set(statuses))}
            for j, m in enumerate(runs[0][i].mutants):
                power[f"{claim.id}~{m.label}"] = sum(r[i].mutants[j].status == REFUTED for r in runs) / len(runs)
        for key, frac in power.items():
            console.print(f"  power {key}: refuted in {frac:.0%} of {len(runs)} seeds")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        data = {
            "profile": prof.name,
            "seeds": seeds,
            "alpha_per_test": alpha,
            "resolutions": [r.to_dict() for r in runs[0]],
            "power": power,
            "claims_own_verdicts": own,
        }
        atomic_write(out / "mutations.json", json.dumps(serialize.encode(data), indent=1))
        lines = ["| claim | kind | resolution | survivors and why |", "|---|---|---|---|"]
        for r in runs[0]:
            surv = "; ".join(f"{m.label}: {m.explanation}" for m in r.mutants if m.status != REFUTED) or "-"
            lines.append(f"| {r.claim} | {r.kind} | {describe(r).split(': ', 1)[1]} | {surv.replace('|', '/')} |")
        if power:
            lines += [
                "",
                f"Power over seeds {seeds[0]}..{seeds[-1]} (fraction of runs refuting each mutant):",
                "",
                "| mutant | refuted |",
                "|---|---|",
            ]
            lines += [f"| {k} | {v:.0%} |" for k, v in power.items()]
            lines += [
                "",
                "The claims' own verdicts in the same runs (a true claim refuted is a false alarm):",
                "",
                "| claim | verdicts |",
                "|---|---|",
            ]
            lines += [f"| {k} | " + ", ".join(f"{s} {n}/{len(runs)}" for s, n in v.items()) + " |" for k, v in own.items()]
        atomic_write(out / "mutations.md", "\n".join(lines) + "\n")
        fig = figure(runs[0], out / "figures")
        console.print(f"written: {out / 'mutations.json'}, {out / 'mutations.md'}" + (f", {fig}" if fig else ""))
        if (out / "results.jsonl").exists() or (out / "results.json").exists():
            from .report import write_report

            console.print(f"report (with a resolution column): {write_report(out)}")
    return 0
