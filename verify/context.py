"""What a claim runs under: the profile, the seed, its share of the false-alarm budget, where
counterexamples go, and the cache of draws. Built in one place (:meth:`Context.create`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .profiles import Profile, get_profile


@dataclass
class Context:
    profile: Profile
    seed: int | None  # None: the profile's fixed seeds
    alpha: float  # per statistical test (Bonferroni share)
    out: Path | None = None  # the run's output folder (counterexamples go under it)
    cache: dict[tuple, Any] = field(default_factory=dict)
    device: str = "cpu"  # where device-aware claims compute (theory.device)

    @classmethod
    def create(cls, profile: str | Profile, seed: int | None, alpha: float, out: Path | None = None, device: str = "cpu") -> Context:
        return cls(profile if isinstance(profile, Profile) else get_profile(profile), seed, alpha, out, device=device)

    def device_for(self, claim) -> str:
        """The device ``claim`` computes on: this run's, if the claim is device-aware; else the CPU."""
        return self.device if getattr(claim, "device_aware", False) else "cpu"

    @property
    def base_seed(self) -> int:
        """The seed every draw is derived from (0 when none was given)."""
        return self.seed or 0


def seed_of(*parts: int) -> int:
    """A 32-bit seed derived from ``parts`` (numpy's SeedSequence): draw i of configuration c
    under base seed b is ``seed_of(b, c, i)``, independent of every other draw."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def rate_seed(claim, base: int, x, i: int) -> int:
    """The seed of a rate claim's i-th measurement at grid point x: independent across x, or,
    for a ``coupled`` claim, the same at every x (its draws share random numbers across x)."""
    return seed_of(base, i) if getattr(claim, "coupled", False) else seed_of(base, x, i)


def sample_key(owner: str, config, s: int) -> tuple:
    """The cache key of draw ``s`` of ``config`` for the claim whose draws ``owner`` names (whp
    and distribution claims); one definition, shared by the runners and the prefetch."""
    return (owner, "sample", repr(sorted(dict(config).items())), s)


def measure_key(owner: str, x, s: int) -> tuple:
    """The cache key of a rate claim's measurement at grid point ``x`` with seed ``s``."""
    return (owner, "measure", x, s)


CONTROL_STREAM = 0xC0_17_01  # the third seed part of a control variate's mean draws (no measurement index reaches it)


def control_seed(base: int, x) -> int:
    """The seed of the independent draws that estimate a control variate's mean at grid point x."""
    return seed_of(base, x, CONTROL_STREAM)


def control_key(owner: str, x, s: int) -> tuple:
    """The cache key of the control variate measured with that measurement (same draw)."""
    return (owner, "control", x, s)


def rate_keys(claim, x, s: int) -> list[tuple]:
    """The cache keys one rate measurement fills: the value, and its control when the claim has one."""
    owner = claim.draws_of or claim.id
    return [measure_key(owner, x, s), *([control_key(owner, x, s)] if claim.control_variate else [])]


def measure_point(claim, x, s: int) -> dict[tuple, float]:
    """The values of one rate measurement under :func:`rate_keys`: the one call the serial
    runner and the distributed prefetch both make."""
    if claim.control_variate:
        value, control = claim.measure_with_control(x, s)
        return dict(zip(rate_keys(claim, x, s), (float(value), float(control)), strict=True))
    return {rate_keys(claim, x, s)[0]: float(claim.measure(x, s))}
