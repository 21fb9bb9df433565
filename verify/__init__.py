"""verify: the machinery that tries to break the claims of ``theory`` - Hypothesis
strategies, the runner and its statistics, counterexample replay, reports and the CLI."""

from .context import Context
from .profiles import PROFILES, Profile, get_profile
from .records import Outcome, Report, Result
from .runner import run, run_claim, select

__all__ = ["PROFILES", "Context", "Outcome", "Profile", "Report", "Result", "get_profile", "run", "run_claim", "select"]
