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
    claims = select(["TD-3.rate", "TD-5", "TD-6", "NG-1"], controls=True)
    units = list(plan(claims, _ctx()))
    b = get("TD-5").budget("ci")
    assert get("TD-3.rate").budget("ci") == b == get("TD-6").budget("ci")
    shared = [u for u in units if "TD-5" in u.ids]
    assert len(shared) == len(b.grid) * b.seeds  # not three times that: the flow runs once per (m, seed)
    # the controls that measure something else too; TD-3.rate/ctl-m-2 reads TD-3.rate's values
    sweep = {"TD-3.rate", "TD-5", "TD-5/ctl-no-f0", "TD-6", "TD-6/ctl-twice"}
    assert all(set(u.ids) == sweep for u in shared)
    assert owners_of(shared[0]) >= {"TD-3.rate", "TD-5", "TD-6"}
    independent = [u for u in units if "NG-1" in u.ids]
    assert len(independent) == len(get("NG-1").budget("ci").grid) * get("NG-1").budget("ci").seeds
    assert len(units) == len(shared) + len(independent)
    assert len({u.points for u in shared}) == len(shared)  # every (m, seed) once
    # a coupled sweep's i-th seed is the same at every width; an independent one's is not
    seeds_at = lambda us, x: [p[1] for u in us for p in u.points if p[0] == x]  # noqa: E731
    assert seeds_at(shared, 256) == seeds_at(shared, 1024)
    xs = sorted({p[0] for u in independent for p in u.points})
    assert not set(seeds_at(independent, xs[0])) & set(seeds_at(independent, xs[-1]))


def test_a_coupled_rate_claim_gets_one_seed_per_column_and_a_paired_fit():
    from theory.claims import declare
    from verify.runner import run_claim

    seen = []

    @declare.rate(
        "USER-COUPLED",
        "x^-1 times a per-seed level",
        exponent=-1.0,
        grid=(8, 16, 32, 64),
        seeds=5,
        coupled=True,
        controls={"slow": {"power": 0.5}},
    )
    def level_times_rate(x, seed, power=1.0):
        import numpy as np

        seen.append((x, seed))
        return float(np.exp(np.random.default_rng(seed).standard_normal())) / x**power  # the level is shared across x

    from theory.claims.registry import controls_of, unregister

    try:
        res = run_claim(get("USER-COUPLED"), _ctx())
        ctl = [run_claim(c, _ctx()) for c in controls_of("USER-COUPLED")]
    finally:
        for c in controls_of("USER-COUPLED"):
            unregister(c.id)
        unregister("USER-COUPLED")
    assert [c.status for c in ctl] == ["refuted"]
    by_x = {x: [s for xx, s in seen if xx == x] for x in (8, 16, 32, 64)}
    assert by_x[8] == by_x[16] == by_x[32] == by_x[64] and len(set(by_x[8])) == 5
    fit = res.evidence["details"]["fit"]
    assert res.status == "holds" and fit["method"] == "paired-t"
    assert fit["upper"] - fit["lower"] < 1e-9  # the shared level cancels in every seed's slope


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


def test_a_control_variate_is_measured_with_its_value_journaled_and_fitted(tmp_path):
    """KG-3's control variate on a small grid: the serial runner and a distributed unit fill the
    same keys (value and control) with the same numbers, the journal keeps both, and the fit is
    the control-variate estimate (the raw fit kept beside it)."""
    from theory.claims.kernels import GramConcentration
    from theory.claims.registry import register, unregister
    from verify.store import MeasureJournal

    @register
    class SmallGramConcentration(GramConcentration):
        id = "TEST-KG3-SMALL"
        budget = PerProfile(Budget(grid=(32, 64, 128), seeds=4))
        control_draws_per_x = 256

    try:
        ctx = _ctx()
        ctx.cache = MeasureJournal(tmp_path, "cpu")
        outcome = run_rate(get("TEST-KG3-SMALL"), ctx)
        computed = {}
        for u in plan([get("TEST-KG3-SMALL")], _ctx()):
            computed.update(compute(u))
    finally:
        unregister("TEST-KG3-SMALL")
    assert len(computed) == 2 * 3 * 4 and {k[1] for k in computed} == {"measure", "control"}
    assert all(ctx.cache[k] == v for k, v in computed.items())
    reloaded = MeasureJournal(tmp_path, "cpu")
    assert reloaded.load() == len(computed) and dict(reloaded) == computed
    cv = outcome.evidence.details["control_variate"]
    assert cv["draws_per_x"] == 256 and len(cv["control_means"]) == 3 and 0.5 < cv["correlation"] <= 1.0
    assert outcome.evidence.details["fit"]["slope"] != cv["raw_fit"]["slope"]
    assert "control variate" in outcome.summary


def test_the_layer_free_control_is_the_networks_own_gram_with_a_zero_layer():
    """layer_free_distance's batched Hadamard form equals the network's Gram with A = 0 (the one
    Gram implementation), and its limit is the mean of G_0 over many draws."""
    import torch

    from theory.network import ImplicitNetwork

    kg3 = get("KG-3")
    net = ImplicitNetwork.initialize(kg3.d, 96, gamma=kg3.gamma, seed=3)
    zero = net.with_A(torch.zeros(96, 96, dtype=torch.float64))
    expected = float(torch.linalg.matrix_norm(zero.gram(kg3.inputs) - kg3.layer_free_limit, ord=2))
    assert kg3.measure_with_control(96, 3)[1] == pytest.approx(expected, rel=1e-12)
    from theory.kernel import limiting_gram
    from theory.linalg import hadamard_gram

    g = torch.Generator().manual_seed(0)
    U, u = torch.randn(512, 1024, kg3.d, generator=g, dtype=torch.float64), torch.randn(512, 1024, generator=g, dtype=torch.float64)
    H = kg3.inputs @ U.mT
    mean = hadamard_gram((H > 0).double() * u[:, None, :], torch.relu(H), kg3.gamma / 1024).mean(dim=0)
    rel = lambda G: float(torch.linalg.matrix_norm(mean - G) / torch.linalg.matrix_norm(G))  # noqa: E731
    # 512 draws at m = 1024 leave 0.4-0.8% (five seeds); the network's own limit G_inf is 5.7-5.9% away
    assert rel(kg3.layer_free_limit) < 0.02 < 0.04 < rel(limiting_gram(kg3.inputs, gamma=kg3.gamma))


@pytest.mark.parametrize("cid", ["KG-3", "NG-1", "NG-4"])
def test_a_controls_measured_values_and_its_mean_draws_follow_one_law(cid):
    """The control measured with each draw and the independent draws that estimate its mean come
    from one law (else the adjusted means would be biased): 400 measured controls at m = 64
    against 2048 drawn ones, means within 4 standard errors, which are small enough that means
    15% apart would fail."""
    import numpy as np

    claim = get(cid)
    measured = np.array([claim.measure_with_control(64, 10_000 + s)[1] for s in range(400)])
    drawn = np.asarray(claim.control_draws(64, 2048, 99))
    se = np.sqrt(measured.var(ddof=1) / measured.size + drawn.var(ddof=1) / drawn.size)
    assert abs(measured.mean() - drawn.mean()) < 4 * se
    assert 0.15 * drawn.mean() > 4 * se  # the test could see a 15% error


def test_a_declared_rate_claim_can_bring_a_control_variate():
    """declare.rate(control_draws=...): the function returns (value, control); the fit uses the
    control-variate means, narrower than the raw fit on the same draws, and the control (a
    wrong exponent) is still refuted. A coupled claim cannot take one."""
    import numpy as np

    from theory.claims import declare
    from theory.claims.registry import controls_of, unregister
    from verify.runner import run_claim

    def law(rng, x, size):  # a control with relative spread 0.4 and mean 0.9 x^-1/2
        return 0.9 * x**-0.5 * np.exp(0.4 * rng.standard_normal(size) - 0.08)

    @declare.rate(
        "USER-CV",
        "x^-1/2 with a correlated control",
        exponent=-0.5,
        grid=(64, 128, 256, 512),
        seeds=8,
        control_draws=lambda x, draws, seed: law(np.random.default_rng(seed), x, draws),
        controls={"flat": {"power": 0.0}},
    )
    def value_and_control(x, seed, power=0.5):
        rng = np.random.default_rng(seed)
        control = float(law(rng, x, 1)[0])
        noise = float(np.exp(0.15 * rng.standard_normal()))
        return control / 0.9 * noise * x ** (0.5 - power), control

    try:
        res = run_claim(get("USER-CV"), _ctx())
        ctl = [run_claim(c, _ctx()) for c in controls_of("USER-CV")]
    finally:
        for c in controls_of("USER-CV"):
            unregister(c.id)
        unregister("USER-CV")
    details = res.evidence["details"]
    fit, raw = details["fit"], details["control_variate"]["raw_fit"]
    assert res.status == "holds" and [c.status for c in ctl] == ["refuted"]
    assert (fit["upper"] - fit["lower"]) < (raw["upper"] - raw["lower"]) / 1.5
    with pytest.raises(ValueError, match="independent seeds"):
        declare.rate("USER-CV2", "s", exponent=-1.0, grid=(1, 2, 3), coupled=True, control_draws=lambda x, n, s: [1.0])
