"""The fine-grained units of a distributed run: grid points and draw batches.

A claim's verdict is a cheap function of its values (a fit, a sequential test, a goodness of
fit); the values are what costs. So a distributed run first computes the values as small
independent tasks, then runs each claim group on the values it was handed:

- rate: one task per grid point (x, seed), measuring every claim that reads it; claims that
  share one computation per point (``shares``, e.g. TD-3.rate, TD-5 and TD-6 read the same
  gradient flow) are measured together, so the flow runs once;
- whp: the first draws of each configuration, in batches, up to the number the sequential test
  needs to decide "holds" with no violation (draws beyond that, when a violation makes the test
  go on, are drawn by the group itself, in order);
- distribution: every draw, in batches.

Every value lands under the key the serial runner uses (:func:`~verify.context.sample_key`,
:func:`~verify.context.measure_key`) and is computed by the same call with the same seed, so
the verdicts and numbers are the serial run's (tested). Exact and symbolic claims, and whp
claims whose ``prepare`` chooses their configurations, stay whole units.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from theory.claims import Claim, Kind, get

from .context import Context, measure_point, rate_keys, rate_seed, sample_key, seed_of
from .stats import SequentialTest

BATCH = 8  # draws per whp/distribution task (a few seconds each at ci)


@dataclass(frozen=True)
class Unit:
    """One task: ``kind`` ("rate", "whp" or "distribution"), the claims it measures or draws
    for (their ids; one value each per point), and the points: (x, seed) for rate, (config,
    seed) for draws."""

    kind: str
    ids: tuple[str, ...]
    points: tuple


def _owner(claim: Claim) -> str:
    return claim.draws_of or claim.id


def _holds_after(claim, config, alpha: float, max_draws: int) -> int:
    """Draws the sequential test needs to say "holds" when none violates (at most max_draws)."""
    test = SequentialTest(claim.delta(config), claim.resolution(config), alpha)
    for n in range(1, max_draws + 1):
        if test.decide(0, n):
            return n
    return max_draws


def plan(claims: list[Claim], ctx: Context) -> Iterator[Unit]:
    """The fine-grained units for ``claims`` under ``ctx`` (only claims that own their draws;
    a control reading another claim's draws is served by its owner's units)."""
    base, prof = ctx.base_seed, ctx.profile.name
    owners = [c for c in claims if c.draws_of is None]
    shared: dict[tuple, list[str]] = {}
    for c in owners:
        if c.kind == Kind.RATE:
            b = c.budget(prof)
            shared.setdefault((c.shares or c.id, tuple(b.grid), b.seeds, c.coupled), []).append(c)
    for (_, grid, seeds, _coupled), group in shared.items():
        for x in grid:
            for si in range(seeds):
                yield Unit("rate", tuple(c.id for c in group), ((x, rate_seed(group[0], base, x, si)),))
    for c in owners:
        if c.kind not in (Kind.WHP, Kind.DISTRIBUTION):
            continue
        b = c.budget(prof)
        if c.kind == Kind.WHP:
            if c.configs_from_prepare:
                continue  # its configurations come from prepare: the group draws them itself
            configs = b.configs
            if not configs:
                continue
            max_draws = b.draws or ctx.profile.whp_draws
            alpha = ctx.alpha / len(configs)
            counts = [_holds_after(c, cfg, alpha, max_draws) for cfg in configs]
        else:
            configs = b.configs or ({},)
            counts = [b.draws or ctx.profile.whp_draws] * len(configs)
        for ci, (cfg, n) in enumerate(zip(configs, counts, strict=True)):
            seeds = [seed_of(base, ci, i) for i in range(n)]
            for start in range(0, n, BATCH):
                yield Unit(c.kind.value, (c.id,), tuple((dict(cfg), s) for s in seeds[start : start + BATCH]))


def compute(unit: Unit, device: str = "cpu") -> dict[tuple, object]:
    """The values of one unit, under the keys the runners read (device-aware claims compute on
    ``device``, the others on the CPU, as in :func:`verify.runner.run_claim`)."""
    from theory.device import using

    out: dict[tuple, object] = {}
    claims = [get(cid) for cid in unit.ids]
    for point in unit.points:
        for claim in claims:
            try:
                with using(device if claim.device_aware else "cpu"):
                    _value(unit.kind, claim, point, out)
            except Exception:  # the group computes this value again and reports it as serial does
                continue
    return out


def _value(kind: str, claim, point, out: dict) -> None:
    if kind == "rate":
        x, s = point
        out.update(measure_point(claim, x, s))
    elif kind == "whp":
        cfg, s = point
        out[sample_key(_owner(claim), cfg, s)] = claim.sample(cfg, s)
    else:
        cfg, s = point
        out[sample_key(_owner(claim), cfg, s)] = np.asarray(claim.sample(cfg, s), dtype=np.float64).ravel()


def keys_of(unit: Unit) -> list[tuple]:
    """The cache keys a rate unit's values land under (what :func:`compute` returns for it)."""
    return [k for x, s in unit.points for cid in unit.ids for k in rate_keys(get(cid), x, s)]


def owners_of(unit: Unit) -> set[str]:
    return {_owner(get(cid)) for cid in unit.ids}
