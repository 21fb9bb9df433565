"""Where the mathematics runs: the CPU (default) or a CUDA GPU, always in float64.

A network placed on a device keeps its parameters there, and everything it computes from them
(equilibria, backward vectors, the Gram, gradients, the trainer's states) stays there; its
parameters are drawn on the CPU from the seed and then moved, so a seed gives the same network
on every device. Scalars that claims compare come back as Python floats.

``device=None`` everywhere means :func:`default_device` (the CPU unless :func:`using` says
otherwise; ``python -m verify run --device cuda`` sets it for the claims that declare
themselves device-aware). A device that is not there is a :class:`DeviceError`, one line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from .errors import InputError


class DeviceError(InputError):
    """A device was asked for that this machine does not have (or that is not a torch device)."""


_DEFAULT: list[torch.device] = [torch.device("cpu")]


def resolve(device=None) -> torch.device:
    """``device`` (a string, a torch.device or None for the default) as an available torch.device."""
    if device is None:
        return _DEFAULT[-1]
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"not a device: {device!r} ({exc})") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {str(dev)!r} asked for, but torch {torch.__version__} sees no CUDA GPU on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device {str(dev)!r} asked for, but this machine has {torch.cuda.device_count()} CUDA GPU(s)")
        return dev
    raise DeviceError(f"device {str(dev)!r} is not supported: use 'cpu' or 'cuda[:N]'")


def default_device() -> torch.device:
    return _DEFAULT[-1]


@contextlib.contextmanager
def using(device) -> Iterator[torch.device]:
    """Make ``device`` the default inside the block (nested blocks restore the outer one)."""
    dev = resolve(device)
    _DEFAULT.append(dev)
    try:
        yield dev
    finally:
        _DEFAULT.pop()
