"""The fine-grained units of a distributed run (verify/prefetch.py): what they cover, that a
shared computation runs once, and that their values are the serial runner's, key for key."""

from __future__ import annotations

import pytest

from theory.claims import Budget, PerProfile, Prepared, WhpClaim, get
from verify.context import Context
from verify.kinds import run_rate, run_whp
from verify.prefetch import compute, owners_of, plan
from verify.runner import select
from verify.stats import SequentialTest


def _ctx(alpha=0.01):
    return Context.create("ci", None, alpha)


def test_a_shared_sweep_is_one_unit_per_grid_point():
    claims = select(["TD-3.rate", "TD-5", "TD-6"], controls=True)
    units = list(plan(claims, _ctx()))
    b = get("TD-3.rate").budget("ci")
    assert len(units) == len(b.grid) * b.seeds  # not three times that: the flow runs once per (m, seed)
    assert all(
        set(u.ids) == {"TD-3.rate", "TD-5", "TD-5/ctl-no-f0", "TD-6", "TD-6/ctl-twice"} for u in units
    )  # controls that measure differently too
    assert owners_of(units[0]) >= {"TD-3.rate", "TD-5", "TD-6"}
    assert len({u.points for u in units}) == len(units)  # every (m, seed) once


def test_whp_units_draw_what_holds_needs_and_prepare_chosen_configs_stay_whole():
    alpha = 0.01
    ge3 = get("GE-3")
    units = list(plan([ge3], _ctx(alpha)))
    configs = ge3.budget("ci").configs
    test = SequentialTest(ge3.delta(configs[0]), ge3.resolution(configs[0]), alpha / len(configs))
    need = next(n for n in range(1, 1000) if test.decide(0, n))
    assert sum(len(u.points) for u in units) == need * len(configs)
    assert not list(plan([get("KG-4")], _ctx(alpha)))  # its widths come from the calibration


def test_unit_values_are_the_serial_runners_key_for_key():
    claim = get("NG-4")
    ctx = _ctx()
    run_rate(claim, ctx)  # the serial runner fills ctx.cache
    units = list(plan([claim], _ctx()))
    computed = {}
    for u in units[:3]:
        computed.update(compute(u))
    assert computed and all(ctx.cache[k] == v for k, v in computed.items())
    ge3 = get("GE-3")
    ctx2 = _ctx()
    run_whp(ge3, ctx2)
    draws = compute(next(iter(plan([ge3], _ctx()))))
    assert all(ctx2.cache[k] == v for k, v in draws.items())


class _PrepareChoosesConfigs(WhpClaim):
    id = "USER-PREP"
    title = statement = source = "-"
    budget = PerProfile(Budget(configs=({"a": 1},), draws=5))

    def prepare(self, profile, seed):
        return Prepared(configs=({"a": 2},))

    def delta(self, config):
        return 0.1

    def sample(self, config, seed):
        return seed

    def check(self, inst):  # pragma: no cover - never reached
        raise AssertionError


def test_configurations_from_prepare_must_be_declared():
    from verify.errors import UsageError

    with pytest.raises(UsageError, match="configs_from_prepare"):
        run_whp(_PrepareChoosesConfigs(), _ctx())
