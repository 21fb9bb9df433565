"""Errors of the command line and the run machinery, each with the exit code it maps to.

Exit codes (documented in the README and ``--help``): 0 everything as expected, 1 a claim or
control not as expected, 2 a usage or input error (these classes), 3 an internal error or a
lost worker, 130 interrupted (the completed records are kept; ``--resume`` finishes the run).
"""

from __future__ import annotations

EXIT_OK, EXIT_NOT_AS_EXPECTED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """Bad usage or input: one line, exit 2."""

    exit_code = EXIT_USAGE


class OutputError(UsageError):
    """The output folder cannot be used: not writable, held by another run, or holding another
    run's results."""


class ReplayFileError(UsageError):
    """A replay file is not a valid counterexample record."""


class MissingExtraError(UsageError):
    """An optional dependency a command needs is not installed."""

    def __init__(self, package: str, extra: str, what: str):
        super().__init__(f"{what} needs {package}, which is not installed: pip install 'implicit-verify[{extra}]'")


def require(module: str, extra: str, what: str):
    """Import an optional dependency, or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(module.split(".")[0], extra, what) from None
