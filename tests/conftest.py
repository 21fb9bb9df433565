import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch starts OpenMP (verify/threads.py)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

from theory import ImplicitNetwork  # noqa: E402
from verify import threads  # noqa: E402

# The suite's thread policy (one compute thread; verify/threads.py): the tests must not slow to a
# crawl when the CI runner is shared.
threads.apply(1)

pytest_plugins = ["pytester"]  # test_tooling runs the verify pytest plugin in a scratch suite

# Property tests of the test suite itself: derandomized and bounded, like the ci profile.
settings.register_profile("tests", max_examples=25, derandomize=True, deadline=None, database=None)
settings.load_profile("tests")


def unit_rows(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


@pytest.fixture
def small_net():
    return ImplicitNetwork.initialize(d=4, m=24, gamma=0.3, sigma_u=1.3, kappa=0.7, seed=3)


@pytest.fixture
def X4():
    return unit_rows(5, 4, seed=11)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
