"""Auditing other implementations of the implicit layer against the reference (issue 8).

:mod:`.protocol` (the one-method adapter protocol), :mod:`.reference` (our network and
planted faults), :mod:`.torchdeq_adapter` (torchdeq), :mod:`.checks` (the audit),
:mod:`.report` (JSON and Markdown).
"""

from .checks import AuditResult, Check, audit
from .problem import Problem
from .protocol import ADAPTERS, Implementation, Solve, load_adapter

__all__ = ["ADAPTERS", "AuditResult", "Check", "Implementation", "Problem", "Solve", "audit", "load_adapter"]
