"""The audit's problem: a network, inputs, output weights, far-off starts and the contraction
sweep, each with the reference's answer (:class:`Truth`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from theory.data import unit_sphere
from theory.errors import ParameterError
from theory.network import ImplicitNetwork

from .reference import Reference

DEFAULT_RHOS = (0.5, 0.9, 0.99, 0.999)
# The contraction sweep uses A_rho = s (A0 + SPIKE sqrt(m) v v^T), v = 1/sqrt(m), scaled so that
# rho(A_rho) = gamma ||A_rho||_2 / sqrt(m) hits each target. Rescaling a Gaussian A alone does not
# stress a solver: on the active units the iteration's local rate (spectral radius of c D A) is
# about 0.35 at rho = 0.9 and 0.4 at rho = 0.999 (measured, m = 128). The positive spike turns
# on most units and carries the norm, so the local rate follows rho: 0.988 at rho = 0.99 and
# 0.997 at rho = 0.999 (measured), and plain iteration then needs thousands of steps.
SPIKE = 20.0


@dataclass
class Truth:
    """The reference's answer on one network: equilibria, outputs, gradient, per-sample features."""

    net: ImplicitNetwork
    Z: torch.Tensor
    f: torch.Tensor
    B: torch.Tensor
    rho: float
    error_bound: float  # certified max_i ||z_i - z*_i|| of the reference itself (WP-1)
    grad: torch.Tensor | None = None  # d(w.f)/dA, set by :meth:`with_weights`

    @classmethod
    def of(cls, net: ImplicitNetwork, X: torch.Tensor) -> Truth:
        ref = Reference()
        eq = ref._equilibrium(net, X, None)
        B = ref._backward(net, X, eq)
        return cls(net, eq.Z, net.output(X, equilibrium=eq), B, eq.contraction_factor, eq.error_bound)

    def with_weights(self, w: torch.Tensor) -> Truth:
        self.grad = self.net.weighted_gradient(self.B, self.Z, w)
        return self

    @property
    def gram(self) -> torch.Tensor:
        return self.net.gram_of(self.B, self.Z)


@dataclass
class Problem:
    """One audit problem: a random network of width m (gamma = 0.45, so rho ~ 0.9), n unit inputs
    (pairwise angles > 0.05), output weights w = f - y for random signs y, far-off starting
    points, and the contraction sweep's networks (see ``SPIKE``), each with the reference answer."""

    n: int = 8
    d: int = 5
    m: int = 128
    gamma: float = 0.45
    seed: int = 0
    rhos: tuple[float, ...] = DEFAULT_RHOS
    starts: int = 3

    def __post_init__(self):
        bad = [r for r in self.rhos if not 0.0 < r < 1.0]
        if bad:
            raise ParameterError(f"contraction sweep targets must lie in (0, 1) (WP-1 needs rho < 1), got {bad}")
        self.net = ImplicitNetwork.initialize(self.d, self.m, gamma=self.gamma, seed=self.seed)
        self.X = torch.as_tensor(unit_sphere(self.n, self.d, self.seed, min_angle=0.05))
        rng = np.random.default_rng(self.seed)
        y = torch.as_tensor(rng.choice([-1.0, 1.0], size=self.n))
        self.truth = Truth.of(self.net, self.X)
        self.w = self.truth.f - y  # the loss gradient of 1/2 ||f - y||^2
        self.truth.with_weights(self.w)
        self.scaled = {}
        spiked = self.net.with_A(self.net.A + SPIKE * torch.ones(self.m, self.m, dtype=torch.float64) / math.sqrt(self.m))
        rho = spiked.contraction_factor()
        for target in self.rhos:
            self.scaled[target] = Truth.of(spiked.with_A(spiked.A * (target / rho)), self.X).with_weights(self.w)
        # starting points: large uniform, large |N(0,1)|, and a far-off positive constant
        g = torch.Generator().manual_seed(self.seed + 1)
        scale = float(self.truth.Z.norm(dim=1).max())
        shape = self.truth.Z.shape
        self.Z0s = [
            10 * scale / math.sqrt(self.m) * torch.rand(shape, generator=g, dtype=torch.float64),
            100 * scale / math.sqrt(self.m) * torch.randn(shape, generator=g, dtype=torch.float64).abs(),
            torch.full(shape, 50 * scale / math.sqrt(self.m), dtype=torch.float64),
        ][: self.starts]

    def setting(self) -> dict:
        return {
            "n": self.n,
            "d": self.d,
            "m": self.m,
            "gamma": self.gamma,
            "seed": self.seed,
            "rho": self.truth.rho,
            "rhos": list(self.rhos),
        }
