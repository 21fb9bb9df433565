"""nox sessions: tests (every tier), tests-fast, verify (ci profile, writes the report), verify-thorough, false-alarms, calibrate, mutate,
audit, lint (ruff, benchmarks included), typecheck (mypy on theory), bench, bench-nt.

Each session installs torch==2.13.0 first: on these machines that pin is a local CPU wheel,
while an unpinned torch pulls a multi-GB CUDA build (a CI runner must never wait forever).
"""

from pathlib import Path

import nox

nox.options.sessions = ["tests", "verify", "lint", "typecheck"]
TORCH = "torch==2.13.0"


def _install(session, extra="test"):
    session.env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep (verify/threads.py)
    session.install(TORCH)
    session.install("-e", f".[{extra}]")


@nox.session
def tests(session):
    """The whole test suite, every tier (what CI runs); with torchdeq, so the audit's tests run."""
    _install(session, "test,audit")
    session.run("pytest", "-m", "slow or not slow", *session.posargs)


@nox.session(venv_backend="none")
def dev(session):
    """A virtual environment in .venv with the project (editable) and every extra, for your own
    shell: `. .venv/bin/activate`, then `python -m verify ...` or `pytest`."""
    session.run("python", "-m", "venv", ".venv")
    session.run(".venv/bin/python", "-m", "pip", "install", TORCH, external=True)
    session.run(".venv/bin/python", "-m", "pip", "install", "-e", ".[dev,audit]", external=True)


@nox.session(name="tests-fast")
def tests_fast(session):
    """The fast tier only (under 2 minutes on 2 cores): what to run while developing."""
    _install(session, "test,audit")
    session.run("pytest", *session.posargs)


@nox.session
def verify(session):
    """Every claim and control under the ci profile; report in verify-out/ (replaced each time)."""
    _install(session, "all")
    session.run("python", "-m", "verify", "run", "--profile", "ci", "--out", "verify-out", "--overwrite", *session.posargs)


@nox.session(name="verify-thorough")
def verify_thorough(session):
    """Wider searches, more draws, larger grids; report in verify-thorough-out/."""
    _install(session, "all")
    session.run("python", "-m", "verify", "run", "--profile", "thorough", "--out", "verify-thorough-out", "--overwrite", *session.posargs)


@nox.session(name="false-alarms")
def false_alarms(session):
    """The whp and rate claims under 20 seeds: checks the stated false-alarm bound."""
    _install(session, "all")
    session.run("python", "-m", "verify", "calibrate", "--seeds", "20", *session.posargs)


@nox.session
def calibrate(session):
    """Both directions at every profile, computed: the whp tests' exact operating characteristics
    (calibrate-out/<profile>/), with the plug-in power of verify-out's rate fits at ci when
    `nox -s verify` has run. The measured side: `nox -s false-alarms`, `nox -s mutate -- --seeds N`."""
    _install(session, "all")
    for profile in ("ci", "dev", "thorough"):
        run = ["--run", "verify-out"] if profile == "ci" and Path("verify-out/results.json").exists() else []
        session.run("python", "-m", "verify", "calibrate", "--computed", "--profile", profile, *run, "--out", f"calibrate-out/{profile}")


@nox.session(name="report-screenshot")
def report_screenshot(session):
    """Render verify-out/report.html in headless Chromium (Debian's chromium package; run
    `nox -s verify` first) and save verify-out/report.png: the report as a person sees it."""
    import shutil

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        session.error("needs Chromium: apt-get install chromium")
    page = Path("verify-out/report.html").resolve()
    if not page.exists():
        session.error("no verify-out/report.html: run `nox -s verify` first")
    session.run(
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,4000",
        f"--screenshot={Path('verify-out/report.png').resolve()}",
        page.as_uri(),
        external=True,
    )


@nox.session
def mutate(session):
    """Resolution by mutation: near-miss variants of every claim under the ci profile (mutate-out/)."""
    _install(session, "all")
    session.run("python", "-m", "verify", "mutate", "--profile", "ci", "--out", "mutate-out", *session.posargs)


@nox.session
def audit(session):
    """Audit torchdeq, torchopt, jaxopt and optimistix (each library's grid, then the cross-framework
    tables) against the reference; reports in audit-out/ (README "Auditing an implementation")."""
    _install(session, "audit")
    session.run("python", "-m", "verify", "audit", "all", "--grid", "--out", "audit-out", *session.posargs)


@nox.session(name="bench-nt")
def bench_nt(session):
    """neural-tangents' empirical NTK on the problems `nox -s bench` wrote (its own environment:
    it pins an older jax and numpy < 2; a comparison, never a dependency)."""
    session.install("neural-tangents==0.6.5", "jax==0.4.23", "jaxlib==0.4.23", "numpy<2", "scipy<1.13")
    session.run("python", "benchmarks/ntk_neural_tangents.py", "benchmarks/out/nt")


LINTED = ("theory", "verify", "tests", "benchmarks", "docs/examples", "noxfile.py")


@nox.session
def lint(session):
    """ruff: lint and format, the benchmarks included."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", "--diff", *LINTED)


@nox.session
def typecheck(session):
    """mypy on theory (the mathematics), which must be clean."""
    session.install(TORCH)
    session.install("-e", ".", "mypy>=1.10")
    session.run("mypy")


@nox.session
def bench(session):
    """Benchmarks side by side (benchmarks/out/bench.{json,md}); --quick for a smoke run."""
    _install(session, "audit")  # torchdeq's solvers are among the contenders
    session.run("python", "benchmarks/bench.py", *session.posargs)
    if Path("verify-out/results.json").exists():  # the suite's time by claim, from the last `nox -s verify`
        session.run("python", "benchmarks/suite.py", "verify-out/results.json")
