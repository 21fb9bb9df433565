"""NG-5: the output's law at initialization is the NNGP Gaussian (docs/mathematics.md section 6).

Given (U, A) the output f(X) = (kappa / sqrt(m)) Z u is exactly N(0, kappa^2 K_m(X, X)), so its
law is a scale mixture of Gaussians; as m grows it tends to N(0, kappa^2 Sigma(X, X)). Each draw
here is a whole new network (U, A, u), so the draws are independent, as the test needs.

Why gamma = 0.45 and 1800 draws at ci: the test must tell the implicit kernel from the two-layer
kernel (the nearest wrong answer), whose Gaussian is only KL 0.01 per draw away at gamma = 0.45
(0.001 at gamma = 0.25, where no affordable number of draws separates them); 1600 draws gave a
simulated power of 0.92 at the suite's level, 1800 leave a margin. Width 512 at ci (a network costs 14 ms there;
the statement is asymptotic and the finite-width mixture is within the test's resolution: its
scale jitters by sqrt(Var K_m) / K ~ 0.1 at m = 512, which moves the radii's variance by ~1%),
2048 at thorough. The equilibrium is solved uncertified (the solver's convergence is still
checked): computing ||A||_2 for each of 1800 networks would triple the cost, and rho ~ 2 gamma =
0.9 leaves a margin of 0.1 against fluctuations of ||A||_2 / sqrt(m) of order m^-2/3.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..data import sphere
from ..kernel import kernel_parts, nngp_depth
from ..network import ImplicitNetwork
from .base import Budget, DistributionClaim, PerProfile
from .registry import register

GAMMA, KAPPA, N, D, DATA_SEED = 0.45, 1.0, 4, 3, 31


@lru_cache(maxsize=1)
def _inputs():
    return sphere(N, D, DATA_SEED)


@register
class OutputLaw(DistributionClaim):
    """Draws f(X) of fresh networks (n = 4 inputs in R^3) and tests them against
    N(0, kappa^2 Sigma(X, X)), with the test's power against both controls' laws."""

    id = "NG-5"
    title = "At large width the output f(X) at initialization follows the Gaussian N(0, kappa^2 Sigma(X,X))"
    source = "docs/mathematics.md section 6, NG-5 (the NNGP limit: conditional Gaussianity given (U, A), and K_m -> Sigma)"
    statement = "f(X) ~ N(0, kappa^2 Sigma(X, X)) (a goodness-of-fit test of N draws of the whole network does not reject)"
    budget = PerProfile(
        ci=Budget(configs=({"m": 512},), draws=1800),
        thorough=Budget(configs=({"m": 2048},), draws=2400),
    )

    def sample(self, config, seed: int) -> np.ndarray:
        net = ImplicitNetwork.initialize(D, int(config["m"]), gamma=GAMMA, kappa=KAPPA, seed=seed)
        X = _inputs()
        eq = net.equilibrium(X, certify=False)
        return net.output(X, equilibrium=eq).numpy()

    def kernel(self) -> np.ndarray:
        return kernel_parts(_inputs(), gamma=GAMMA)["Sigma"].numpy()

    def law(self, config):
        return None, KAPPA**2 * self.kernel()

    def describe_setting(self) -> dict:
        return {"n": N, "d": D, "gamma": GAMMA, "kappa": KAPPA, "data_seed": DATA_SEED, "solve": "uncertified (see the module)"}


@register
class OutputLawTwoLayer(OutputLaw):
    id = "NG-5/ctl-two-layer"
    control_of = "NG-5"
    title = "The output follows the two-layer network's Gaussian (gamma -> 0: no feedback through A)"
    why_false = "the feedback gamma A z* adds gamma^2 Sigma to the pre-activations' covariance: k = 1 / (1 - gamma^2 / 2), not 1"
    source = "negative control"
    statement = "f(X) ~ N(0, kappa^2 Sigma_1(X, X)), Sigma_1 the depth-1 (two-layer) NNGP kernel"
    draws_of = "NG-5"

    def kernel(self) -> np.ndarray:
        return nngp_depth(_inputs(), 1, gamma=GAMMA).numpy()


@register
class OutputLawWrongK(OutputLaw):
    id = "NG-5/ctl-wrong-k"
    control_of = "NG-5"
    title = "The output follows N(0, kappa^2 Sigma) with k = sigma_u^2 / (1 - gamma^2) (the ReLU's 1/2 dropped)"
    why_false = "the diagonal's fixed point is k = gamma^2 k / 2 + sigma_u^2 (E relu(h)^2 = k / 2), so k = 1 / (1 - gamma^2 / 2)"
    source = "negative control"
    statement = "f(X) ~ N(0, kappa^2 Sigma (1 - gamma^2 / 2) / (1 - gamma^2))"
    draws_of = "NG-5"

    def kernel(self) -> np.ndarray:
        return super().kernel() * (1 - GAMMA**2 / 2) / (1 - GAMMA**2)
