"""verify: the machinery that tries to break the claims of ``theory`` - Hypothesis
strategies, the runner and its statistics, counterexample replay, reports and the CLI."""

from .profiles import PROFILES, Profile, get_profile
from .runner import Report, Result, run, run_claim, select

__all__ = ["PROFILES", "Profile", "Report", "Result", "get_profile", "run", "run_claim", "select"]
