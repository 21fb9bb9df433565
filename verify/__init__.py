"""verify: the machinery that tries to break the claims of ``theory`` - Hypothesis
strategies, the runner and its statistics, counterexample replay, reports and the CLI.

The public names are imported on first use, so ``python -m verify --help`` starts without
loading torch."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = ["PROFILES", "Context", "Outcome", "Profile", "Report", "Result", "get_profile", "run", "run_claim", "select"]

_WHERE = {
    "PROFILES": ".profiles",
    "Profile": ".profiles",
    "get_profile": ".profiles",
    "Context": ".context",
    "Outcome": ".records",
    "Report": ".records",
    "Result": ".records",
    "run": ".runner",
    "run_claim": ".runner",
    "select": ".runner",
}

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context
    from .profiles import PROFILES, Profile, get_profile
    from .records import Outcome, Report, Result
    from .runner import run, run_claim, select


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
