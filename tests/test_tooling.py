"""The tool around the claims: the pytest plugin, Dask runs, figures."""

import json

import numpy as np
import pytest

from verify import run
from verify.figures import gram_concentration, loss_curves


@pytest.mark.slow
def test_pytest_plugin_runs_marked_claims_with_their_controls(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.verify_claims("WP-2")
        def test_paper(claim_result):
            assert claim_result.evidence is not None
        """
    )
    result = pytester.runpytest_subprocess("--verify-profile", "ci")  # the plugin loads through its entry point
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 2 and "failed" not in outcomes  # WP-2 and its control(s)
    result.stdout.fnmatch_lines(["*implicit-verify claims*", "*WP-2 *holds*", "*WP-2/ctl-*refuted*"])


def test_pytest_plugin_fails_a_false_claim_with_its_evidence(pytester):
    pytester.makepyfile(
        """
        import pytest
        from theory.claims import Evidence, ExactClaim, register
        from theory.domains import NetworkDomain

        @register
        class Wrong(ExactClaim):
            id = "USER-WRONG"
            title = "rho never exceeds 0.1"
            source = "a test"
            statement = "rho <= 0.1"
            domain = NetworkDomain(m=(2, 6), n=(1, 2), d=(1, 3))

            def check(self, inst):
                return Evidence(inst.net.contraction_factor(), 0.1, "<=")

        @pytest.mark.verify_claims("USER-WRONG")
        def test_user(claim_result):
            pass
        """
    )
    result = pytester.runpytest_subprocess()  # its own process: the user claim stays out of our registry
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*USER-WRONG (exact): expected holds, got refuted*", "*counterexample*"])


@pytest.mark.slow
def test_dask_run_equals_the_serial_run(tmp_path):
    """Two worker processes on a LocalCluster against one process: identical records (times aside),
    with grid points (NG-4) and draw batches (GE-3, WP-5) as the units of work."""
    ids = ["WP-2", "KG-1", "WP-5", "NG-4", "GE-3"]
    serial = run(ids, profile="ci")
    dask = run(ids, profile="ci", jobs=2)
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k != "seconds"}
    assert [r.id for r in dask.results] == [r.id for r in serial.results]
    assert json.dumps([strip(r) for r in dask.results], default=str) == json.dumps([strip(r) for r in serial.results], default=str)


def test_figures_draw_from_results_and_skip_what_did_not_run(tmp_path):
    xs = [128, 256, 512]
    values = [[0.1 * (x / 128) ** -0.5 * (1 + 0.01 * s) for s in range(3)] for x in xs]
    means = np.mean(values, axis=1).tolist()
    slope, intercept = np.polyfit(np.log(xs), np.log(means), 1)
    fit = {"slope": slope, "intercept": intercept, "lower": slope - 0.1, "upper": slope + 0.1, "level": 0.99, "xs": xs, "means": means}
    results = [{"id": "KG-3", "evidence": {"details": {"fit": fit, "values": values}}}]
    path = gram_concentration(results, tmp_path)
    assert path.exists() and path.stat().st_size > 10_000
    saved = json.loads((tmp_path / "gram_concentration.json").read_text())
    assert saved["fit"]["slope"] == pytest.approx(-0.5, abs=1e-6)
    assert loss_curves(results, tmp_path) is None  # TD-1 did not run


def test_report_html_is_self_contained_and_structured(tmp_path):
    """report.html beside report.md: one file, figures embedded, a table per run, a section per
    claim, the legend; nothing it links to lives outside it."""
    import re

    from verify.cli import main

    out = tmp_path / "out"
    assert main(["run", "KG-1", "WP-3", "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<table>") == 1 and page.count("<tr") == 1 + 5  # header + KG-1, 2 controls, WP-3, 1 control
    for cid in ("KG-1", "WP-3"):
        assert f'<h2 id="{cid}">' in page
    assert 'class="legend"' in page
    assert not re.search(r'(src|href)="(?!data:)', page)  # no external resources


def _worker_env():
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")


def _worker_wakeups(dask_worker):
    import dask

    return (
        dask.config.get("distributed.admin.tick.interval"),
        dask.config.get("distributed.worker.memory.monitor-interval"),
        "profile" in dask_worker.periodic_callbacks,
    )


@pytest.mark.slow
def test_local_cluster_workers_start_without_dasks_malloc_trim():
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which made a gradient flow 1.7x slower in a
    worker (verify.distributed._worker_environment); our local cluster's workers start without it
    and keep one OpenMP thread. Nor do they run the profiler or wake every 20 ms (the tick) and
    100 ms (the memory monitor), which cost Python-bound tasks ~10%: the worker process itself
    holds the quiet settings (they travel from the nanny), not only the submitting process."""
    import distributed

    from verify.distributed import _worker_environment

    with _worker_environment():
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            assert client.submit(_worker_env, pure=False).result() == (None, "1")
            assert list(client.run(_worker_wakeups).values()) == [("1s", "1s", False)]
    finally:
        cluster.close()
