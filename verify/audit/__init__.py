"""Auditing other implementations of the implicit layer against the reference (issue 8).

:mod:`.protocol` (the one-method adapter protocol), :mod:`.reference` (our network and
planted faults), the library adapters (:mod:`.torchdeq_adapter`, :mod:`.torchopt_adapter`,
:mod:`.jaxopt_adapter`, :mod:`.optimistix_adapter`; the JAX ones share :mod:`.jax_bridge`),
:mod:`.checks` (the audit), :mod:`.compare` (the libraries side by side), :mod:`.report`
(JSON and Markdown), :mod:`.fixture` (the audit inside another project's pytest suite).
"""

from .checks import AuditResult, Check, audit
from .problem import Problem
from .protocol import ADAPTERS, Implementation, Solve, load_adapter

__all__ = ["ADAPTERS", "AuditResult", "Check", "Implementation", "Problem", "Solve", "audit", "load_adapter"]
