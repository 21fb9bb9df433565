"""The device path (theory/device.py): the same code on the CPU and a GPU. Without a GPU the
CPU tests exercise the device-agnostic paths (explicit devices, the Lanczos norm that a GPU
uses, the one-line error); the ``gpu`` tests compare a GPU with the CPU and skip without one
(benchmarks/gpu_check.sh runs them where a GPU is)."""

from __future__ import annotations

import math

import pytest
import torch

from theory.device import DeviceError, default_device, resolve, using
from theory.linalg import lanczos_norm, spectral_norm
from theory.network import ImplicitNetwork
from theory.trainer import Trainer
from verify.cli import main

HAVE_CUDA = torch.cuda.is_available()
gpu = pytest.mark.skipif(not HAVE_CUDA, reason="no CUDA GPU on this machine (benchmarks/gpu_check.sh runs these where one is)")


def _X(n=5, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


@pytest.mark.skipif(HAVE_CUDA, reason="this machine has a GPU")
def test_a_missing_gpu_is_a_one_line_error():
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve("cuda")
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        ImplicitNetwork.initialize(3, 16, seed=0, device="cuda")
    assert main(["run", "KG-3", "--device", "cuda"]) == 2
    assert main(["run", "KG-3", "--device", "abacus"]) == 2


def test_default_device_and_explicit_cpu_give_the_same_network():
    a = ImplicitNetwork.initialize(4, 64, seed=3)
    with using("cpu") as dev:
        assert default_device() == dev == torch.device("cpu")
        b = ImplicitNetwork.initialize(4, 64, seed=3, device="cpu")
    assert a.device == b.device == torch.device("cpu")
    assert torch.equal(a.A, b.A) and torch.equal(a.gram(_X()), b.gram(_X()))
    c = a.to("cpu")
    assert c is not a and torch.equal(c.A, a.A) and c.with_A(c.A * 0.5).device == c.device


@pytest.mark.parametrize("shape", [(512, 512), (1024, 1024), (300, 200)])
def test_lanczos_norm_agrees_with_the_cpu_solvers(shape):
    """What a GPU computes ||A||_2 with (no ARPACK there), checked against ARPACK / LAPACK."""
    A = torch.randn(*shape, generator=torch.Generator().manual_seed(shape[0]), dtype=torch.float64)
    ref = spectral_norm(A) if shape[0] == shape[1] else float(torch.linalg.matrix_norm(A, 2))
    assert lanczos_norm(A) == pytest.approx(ref, rel=1e-12)
    assert lanczos_norm(A) <= ref * (1 + 1e-14)  # a Ritz value: never above the norm


def test_trainer_follows_its_networks_device():
    net = ImplicitNetwork.initialize(4, 32, gamma=0.3, seed=1, device="cpu")
    tr = Trainer(net, _X(), torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0], dtype=torch.float64))
    assert tr.X.device == tr.device == net.device
    traj = tr.gradient_descent(0.1, 3)
    assert math.isfinite(traj.snapshots[-1].loss)


# ---- with a GPU -------------------------------------------------------------------------
@gpu
def test_gpu_agrees_with_the_cpu():
    """Same seed, same network (drawn on the CPU at these widths); float64 on both. Tolerances:
    the solves stop at a relative residual of 1e-12, and the two devices' reductions round
    differently, so agreement to 1e-10 relative is what float64 and the solver promise."""
    X = _X(6, 5)
    cpu = ImplicitNetwork.initialize(5, 512, seed=7)
    dev = cpu.to("cuda")
    assert dev.A.device.type == "cuda" and dev.A.dtype == torch.float64
    assert dev.contraction_factor() == pytest.approx(cpu.contraction_factor(), rel=1e-12)
    eq_c, eq_g = cpu.equilibrium(X), dev.equilibrium(X)
    assert float((eq_g.Z.cpu() - eq_c.Z).norm() / eq_c.Z.norm()) < 1e-10
    G_c, G_g = cpu.gram(X), dev.gram(X)
    assert float((G_g.cpu() - G_c).norm() / G_c.norm()) < 1e-10
    y = torch.ones(6, dtype=torch.float64)
    g_c, _, _ = cpu.loss_gradient(X, y)
    g_g, _, _ = dev.loss_gradient(X, y)
    assert float((g_g.cpu() - g_c).norm() / g_c.norm()) < 1e-10


@gpu
def test_device_aware_claims_measure_the_same_on_the_gpu():
    from theory.claims import get

    for cid, x in (("KG-3", 512), ("NG-1", 256)):
        claim = get(cid)
        cpu = claim.measure(x, 11)
        with using("cuda"):
            gpu_value = claim.measure(x, 11)
        assert gpu_value == pytest.approx(cpu, rel=1e-9), cid
    # a gradient flow: the adaptive integrator may take other steps where rounding differs, so
    # the flows agree to its tolerance (rtol 1e-4 on the state), not to the solver's
    td = get("TD-3.rate")
    cpu = td.measure(256, 5)
    with using("cuda"):
        gpu_value = td.measure(256, 5)
    assert gpu_value == pytest.approx(cpu, rel=1e-3)
