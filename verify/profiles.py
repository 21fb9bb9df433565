"""Run profiles: how hard the suite searches, and the matching Hypothesis settings.

``ci`` means what Hypothesis' own ``ci`` profile means - derandomized, no deadline, no
example database, the reproduction blob printed - plus bounded sizes so that the run fits a
few minutes on 2 cores. ``dev`` is randomized with a persisted example database under
``.hypothesis/verify`` (failures found once are tried first next time). ``thorough`` searches
ten times longer and uses the larger grids and draw counts of each claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import Phase, Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from theory.claims import PROFILE_NAMES

DATABASE_DIR = ".hypothesis/verify"


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int  # Hypothesis examples per exact claim
    derandomize: bool
    database: bool
    whp_draws: int  # independent draws per configuration of a whp claim
    alpha: float = 0.01  # the suite's false-alarm budget (whp + rate claims together)
    claim_seconds: float = 900.0  # a whp claim whose draws would take longer is refused with the estimate


PROFILES = {
    "ci": Profile("ci", max_examples=60, derandomize=True, database=False, whp_draws=200, claim_seconds=600.0),
    "dev": Profile("dev", max_examples=150, derandomize=False, database=True, whp_draws=300),
    "thorough": Profile("thorough", max_examples=1000, derandomize=False, database=True, whp_draws=2000, claim_seconds=7200.0),
    # for a GPU (run --device cuda): the ci budgets, except the rate grids of KG-3, NG-1 (to
    # m = 65536) and the training sweeps (m = 1024..16384) declared as Budget(scale=...)
    "scale": Profile("scale", max_examples=60, derandomize=True, database=False, whp_draws=200, claim_seconds=3600.0),
}


assert tuple(PROFILES) == PROFILE_NAMES, "verify's profiles and the claims' budgets must name the same profiles"


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        from .errors import UsageError

        raise UsageError(f"unknown profile {name!r}; choose one of {list(PROFILES)}") from None


def hypothesis_settings(
    profile: Profile, *, seeded: bool = False, effort: float = 1.0, shrink: bool = True, database_key: str = "default"
) -> settings:
    """Hypothesis settings for one exact-claim search under ``profile`` (``seeded``: an
    explicit ``--seed`` replaces derandomization; ``effort`` scales the example count;
    ``shrink=False`` reports the first violation found, for checks too costly to shrink;
    ``database_key``: the claim's own example database folder under ``.hypothesis/verify``,
    so that claims never share saved examples).

    No explain phase: it re-runs a failing example under a tracer to annotate Hypothesis' own
    report, which the runner does not use, and whether it runs depended on the process (a run
    through ``python -m verify`` and one through ``verify.runner.run`` gave one control different
    search statistics); without it the search is the same from every entry point (tested)."""
    phases = tuple(p for p in Phase if (shrink or p is not Phase.shrink) and p is not Phase.explain)
    return settings(
        phases=phases,
        max_examples=max(1, round(profile.max_examples * effort)),
        derandomize=profile.derandomize and not seeded,
        database=DirectoryBasedExampleDatabase(f"{DATABASE_DIR}/{database_key}") if profile.database else None,
        deadline=None,
        print_blob=True,
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,  # the runner writes its own counterexample files
        # sizes are drawn small and arrays built from them, so no health check is suppressed
        suppress_health_check=(),
    )


for _p in PROFILES.values():
    settings.register_profile(f"verify-{_p.name}", hypothesis_settings(_p))


_SCRATCH: list = []


def keep_working_folder_clean(profile: Profile) -> None:
    """A profile without an example database (ci) promises to leave nothing behind, but
    Hypothesis caches the constants it collects under ``.hypothesis/`` in the current folder;
    point its storage at a scratch folder of this process instead (removed at exit)."""
    if profile.database or _SCRATCH:
        return
    import atexit
    import shutil
    import tempfile

    from hypothesis.configuration import set_hypothesis_home_dir

    scratch = tempfile.mkdtemp(prefix="verify-hypothesis-")
    _SCRATCH.append(scratch)
    set_hypothesis_home_dir(scratch)
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
