"""Verdicts that say what they earned: the sequential whp test, tolerance-resting rate verdicts,
the exact search's closeness, and resolution by mutation."""

import math

import numpy as np
import pytest

from theory.claims import Budget, Evidence, ExactClaim, PerProfile, RateClaim, WhpClaim
from theory.domains import NetworkDomain
from verify import Context
from verify.mutate import mutants, resolve
from verify.runner import run_claim
from verify.stats import SequentialTest


def test_sequential_test_thresholds_and_bound():
    t = SequentialTest(0.1, 0.3, 0.001)
    n0 = math.ceil(math.log(0.001) / math.log(0.7 / 0.9))
    assert t.decide(0, n0 - 1) is None and t.decide(0, n0) == "holds"
    assert t.upper_bound(0, n0) <= 0.3 < t.upper_bound(0, n0 - 1)  # holds <=> the bound excludes p1
    assert t.decide(7, 7) == "refuted"
    assert t.draws_to_hold(0, n0 - 3) == 3


def test_sequential_test_false_alarms_stay_below_alpha_under_optional_stopping():
    """At the boundary rate p = delta, stopping as soon as the test decides, the refutation
    frequency stays below alpha (Ville); at p = p1 the "holds" frequency stays below alpha."""
    rng = np.random.default_rng(1)
    alpha, runs = 0.05, 2000

    def verdicts(p):
        out = []
        for _ in range(runs):
            t, k = SequentialTest(0.1, 0.3, alpha), 0
            decision = None
            for n in range(1, 400):
                k += rng.random() < p
                decision = t.decide(k, n)
                if decision:
                    break
            out.append(decision)
        return out

    se = 3 * math.sqrt(alpha * (1 - alpha) / runs)
    assert verdicts(0.1).count("refuted") / runs <= alpha + se
    assert verdicts(0.3).count("holds") / runs <= alpha + se


class _Bernoulli(WhpClaim):
    """A planted whp claim: each draw violates with probability ``p`` (known)."""

    id = "PLANT-WHP"
    title = statement = "planted"
    p = 0.3
    budget = PerProfile(Budget(configs=({"x": 1},), draws=10))

    def delta(self, config):
        return 0.1

    def sample(self, config, seed):
        return np.random.default_rng(seed).random() < self.p

    def check(self, violated):
        return Evidence(float(violated), 0.5, "<=")


def test_a_false_statement_with_few_draws_is_underpowered_not_holds():
    """The issue's example in miniature: a violation rate of 0.3 against delta = 0.1, 10 draws:
    never 'holds'; refuted or 'inconclusive: underpowered' with how many draws would decide."""
    for seed in range(5):
        res = run_claim(_Bernoulli(), Context.create("ci", seed, 0.01))
        assert res.status in ("refuted", "inconclusive"), res.summary
        if res.status == "inconclusive":
            assert "underpowered" in res.summary and "more draws" in res.summary
    more = type("Enough", (_Bernoulli,), {"p": 0.0, "budget": PerProfile(Budget(configs=({"x": 1},), draws=100))})()
    res = run_claim(more, Context.create("ci", 0, 0.01))
    assert res.status == "holds" and res.stats["draws"] < 100  # stopped as soon as it was decided
    values = res.evidence["details"]["tests"][0]["values"]
    assert len(values) == res.stats["draws"]  # every draw's value is kept


class _Tight(ExactClaim):
    """A planted exact claim with known slack 0.15: lhs = 0.85 max_i |x_i1| <= 1 on unit rows,
    and the maximum 0.85 is attained (d = 1 rows are +-1)."""

    id = "PLANT-EXACT"
    title = statement = "planted"
    domain = NetworkDomain(m=(2, 3), n=(1, 3), d=(1, 3))

    def check(self, inst):
        return Evidence(0.85 * float(np.abs(inst.X[:, 0]).max()), 1.0, "<=", 1e-12)


def test_mutation_resolution_brackets_a_planted_slack():
    res = resolve(_Tight(), Context.create("ci", None, 0.01))
    assert res.applicable
    assert res.smallest_refuted == 0.2 and res.largest_survivor == 0.1  # 0.1 < 0.15 < 0.2
    survivors = [m for m in res.mutants if m.status != "refuted"]
    assert all("slack" in m.explanation for m in survivors)


class _Power(RateClaim):
    """A planted rate: measure = x^-0.5 (1 + 0.01 noise), claimed O(x^-0.5) with no tolerance."""

    id = "PLANT-RATE"
    title = statement = "planted"
    exponent = -0.5
    exponent_tol = 0.0
    budget = PerProfile(Budget(grid=(16, 32, 64, 128, 256), seeds=4))

    def measure(self, x, seed):
        return x**-0.5 * (1 + 0.01 * np.random.default_rng(seed).standard_normal())


def test_rate_mutants_are_refuted_beyond_the_interval():
    claim = _Power()
    res = resolve(claim, Context.create("ci", None, 0.01))
    assert res.smallest_refuted == 0.05  # the interval is far narrower than the smallest shift


def test_every_kind_has_its_mutants():
    assert [m.size for m in mutants(_Tight())] == [0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
    assert [m.size for m in mutants(_Power())] == [0.3, 0.2, 0.1, 0.05]
    assert [round(m.size, 3) for m in mutants(_Bernoulli())] == [0.9, 0.667, 0.5]


def test_a_rate_verdict_resting_on_its_tolerance_says_so():
    class Shallow(_Power):
        id = "PLANT-SHALLOW"
        exponent = -0.6
        exponent_tol = 0.15
        exponent_tol_why = "planted pre-asymptotic bias"

    res = run_claim(Shallow(), Context.create("ci", None, 0.01))
    assert res.status == "holds" and res.stats["rests_on_tolerance"]
    assert "holds within tolerance 0.15" in res.summary and "planted pre-asymptotic bias" in res.summary


def test_exact_outcome_reports_how_close_the_search_came():
    res = run_claim(_Tight(), Context.create("ci", None, 0.01))
    assert res.status == "holds"
    assert res.stats["closest_normalized_slack"] == pytest.approx(0.15, abs=1e-9)
    assert "normalized slack 0.15" in res.summary


@pytest.mark.slow
def test_the_issues_false_loss_decay_statement_never_holds_at_ci():
    """exp(-2.5 lambda_0 t) with TD-1's horizon and draws: refuted, or inconclusive with the
    numbers; never 'holds' (it came back 'holds' with 3 violations in 10 runs before)."""
    from theory.claims.training import LossDecay

    class Faster(LossDecay):
        id = "USR-DECAY-2.5"
        title = statement = "||r(t)||^2 <= exp(-2.5 lambda_0 t) ||r(0)||^2 whp"
        rate = 2.5

    res = run_claim(Faster(), Context.create("ci", None, 0.01 / 16))
    assert res.status in ("refuted", "inconclusive"), res.summary
    test = res.evidence["details"]["tests"][0]
    assert test["violations"] > 0 and len(test["values"]) == test["draws"]


def test_mutate_command_writes_its_table_figure_and_the_reports_resolution_column(tmp_path):
    from verify.cli import main

    out = tmp_path / "out"
    assert main(["run", "WP-3", "--out", str(out)]) == 0
    assert main(["mutate", "WP-3", "--out", str(out)]) == 0
    assert (out / "mutations.md").exists() and (out / "figures" / "resolution.png").exists()
    report = (out / "report.md").read_text()
    assert "resolution (verify mutate)" in report and "right side to 0.01" in report
    assert main(["mutate", "WP-3", "--seeds", "0"]) == 2


def test_a_whp_claim_too_costly_for_the_profile_is_refused_with_the_estimate():
    import dataclasses
    import time

    class Slow(_Bernoulli):
        id = "PLANT-SLOW"
        budget = PerProfile(Budget(configs=({"x": 1},), draws=200))

        def sample(self, config, seed):
            time.sleep(0.05)
            return False

    ctx = Context.create("ci", None, 0.01)
    ctx.profile = dataclasses.replace(ctx.profile, claim_seconds=2.0)
    res = run_claim(Slow(), ctx)
    assert res.status == "error" and "refused" in res.summary and "200 draws" in res.summary


def test_domains_compose_as_a_union():
    from hypothesis import given, settings

    from theory.domains import KernelDomain
    from verify.strategies import for_domain

    seen = set()

    @settings(max_examples=40, derandomize=True, database=None)
    @given(for_domain((KernelDomain(n=(2, 3), d=(3, 3)), KernelDomain(antipodal=True, d=(2, 2)))))
    def collect(inst):
        k = inst.X.shape[0] // 2
        seen.add(bool(inst.X.shape[0] % 2 == 0 and np.allclose(inst.X[:k], -inst.X[k:])))

    collect()
    assert seen == {True, False}  # both kinds of input set are drawn


def test_a_claim_declared_underpowered_at_a_profile_may_be_inconclusive_there_but_never_refuted():
    class Noisy(_Power):
        id = "PLANT-NOISY"
        budget = PerProfile(Budget(grid=(16, 32, 64), seeds=3))
        underpowered_at = ("ci",)
        underpowered_why = "planted: three noisy seeds"

        def measure(self, x, seed):
            return x**-0.5 * float(np.exp(2.0 * np.random.default_rng(seed).standard_normal()))

    res = run_claim(Noisy(), Context.create("ci", None, 0.01))
    assert res.status == "inconclusive" and res.ok and res.expected == "inconclusive"
    assert "underpowered at ci by declaration (planted: three noisy seeds)" in res.summary

    class NoisyFalse(Noisy):
        id = "PLANT-NOISY-FALSE"
        exponent = -3.0

        def measure(self, x, seed):
            return x**-0.5 * (1 + 0.01 * np.random.default_rng(seed).standard_normal())

    res = run_claim(NoisyFalse(), Context.create("ci", None, 0.01))
    assert res.status == "refuted" and not res.ok
    assert run_claim(Noisy(), Context.create("dev", 1, 0.01)).expected == "holds"  # only where declared


def test_calibrate_in_both_directions_from_the_command_line(tmp_path):
    """--computed writes the whp tests' operating characteristics (and, from a run, the rate
    fits' plug-in power); --seeds reruns only the named claims and counts their verdicts."""
    import json

    from verify.cli import main

    run_dir = tmp_path / "run"
    assert main(["run", "WP-6", "--out", str(run_dir)]) == 0
    assert main(["calibrate", "--computed", "--run", str(run_dir), "--out", str(tmp_path / "cal")]) == 0
    data = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    wp5 = [r for r in data["whp"] if r["claim"] == "WP-5"]
    assert wp5 and all(r["false_alarm_at_delta"] <= r["alpha"] and r["holds_at_p1"] <= r["alpha"] for r in wp5)
    assert [r["claim"] for r in data["rate"]] == ["WP-6"] and data["rate"][0]["power"]["0.05"] > 0.999
    assert main(["calibrate", "WP-6", "--seeds", "2", "--out", str(tmp_path / "fa")]) == 0
    fa = json.loads((tmp_path / "fa" / "false-alarms.json").read_text())
    assert fa["claims"] == ["WP-6"] and fa["false_alarms"] == 0 and len(fa["runs"]) == 2
    assert main(["calibrate", "WP-1", "--seeds", "2"]) == 2  # an exact claim: no statistical claim to rerun


def test_underpowered_at_must_name_a_profile_and_a_reason():
    from theory.claims.registry import validate

    class Typo(_Power):
        id = "PLANT-TYPO"
        underpowered_at = ("CI",)
        underpowered_why = "a reason"

    class NoReason(_Power):
        id = "PLANT-NO-REASON"
        underpowered_at = ("ci",)

    for cls in (Typo, NoReason):
        with pytest.raises(ValueError, match="underpowered_at"):
            validate(cls())


def test_mutate_over_seeds_counts_the_claims_own_verdicts(tmp_path):
    import json

    from verify.cli import main

    assert main(["mutate", "WP-6", "--seeds", "2", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "mutations.json").read_text())
    assert data["claims_own_verdicts"] == {"WP-6": {"holds": 2}}
    assert data["power"]["WP-6~exp-0.05"] == 1.0
    assert "The claims' own verdicts" in (tmp_path / "mutations.md").read_text()


def test_a_rate_that_could_not_have_seen_no_decay_is_inconclusive_not_holds():
    """A measure decaying like x^-0.35 (so O(x^-0.5) is false), claimed O(x^-0.5) with tolerance
    0.1, seen through an interval of +-0.46: it cannot refute (the lower limit is below -0.4), and
    the old rule printed `holds`. An interval that could not refute a slope of 0 either has not
    earned `holds`."""
    from verify.kinds import _blind_to_no_change

    class Slower(_Power):
        id = "PLANT-SLOWER"
        exponent_tol = 0.1

        def measure(self, x, seed):
            return float(x**-0.35 * np.exp(0.8 * np.random.default_rng([seed, x]).standard_normal()))

    res = run_claim(Slower(), Context.create("ci", None, 0.01))
    half = res.stats["resolution"]
    assert 0.4 < half < 0.5 and res.status == "inconclusive", res.summary
    assert "cannot tell a decay like m^-0.5 from none" in res.summary and res.stats["blind_to_no_change"]
    assert _blind_to_no_change("upper", -0.5, 0.1, 0.39, "m^-0.5") == ""  # +-0.39 would refute a slope of 0 at -0.4
    assert _blind_to_no_change("upper", -0.5, 0.1, 0.41, "m^-0.5") != ""
    assert _blind_to_no_change("lower", 0.5, 0.1, 0.41, "m^0.5").startswith("cannot tell a growth")
    assert _blind_to_no_change("lower", -0.5, 0.1, 0.9, "m^-0.5") == ""  # a lower bound on a decay: not this rule's
    assert run_claim(_Power(), Context.create("ci", None, 0.01)).status == "holds"  # a narrow interval still holds
