"""The generalization bound (docs/mathematics.md section 4, GE-1..GE-4; arXiv 2209.15562,
second result).

The trained network of GE-1 is gradient flow's limit in the kernel regime: the minimum-norm
interpolant of the linearized network, ``f(x) = f0(x) + K0(x, X) G(0)^-1 (y - f0(X))`` with the
finite-width tangent kernel K0 of the initialization. For it the bound of
:mod:`theory.generalization` is rigorous with eps(m) = 0, its radius is exact
(``||W||_F = sqrt((y - f0)^T G(0)^-1 (y - f0))``) and its complexity term uses trace G(0);
how far the real finite-width network is from it is TD-5's measurement.

Data (``theory.data``): a teacher implicit network's signs on S^4, random signs on the same
inputs, and scikit-learn's digits (3 against 8, no download), each with a held-out test set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch

from .. import data
from ..domains import NetworkDomain
from ..generalization import bound_terms, linearized_fit, rademacher_norms, radius, ramp_loss, sign_vectors
from ..instances import NetworkInstance
from ..kernel import limiting_gram, limiting_gram_diagonal
from ..network import ImplicitNetwork
from .base import Budget, Evidence, ExactClaim, PerProfile, Prepared, WhpClaim
from .registry import register

GAMMA, KAPPA, WIDTH = 0.25, 1.0, 256
DELTA = 0.1
#: GE-1's noisy configuration: labels f*(x) + N(0, 0.5^2), the linearized flow stopped at T = 0.03 / g
NOISY = {"n": 800, "noise": 0.5, "stop": 0.03}


@lru_cache(maxsize=8)
def dataset(name: str):
    """(X_pool, y_pool, X_test, y_test) as float64 tensors; the pool is what n is drawn from."""
    if name == "digits":
        arrays = data.digits((3, 8), seed=0)
    else:
        X = data.unit_sphere(900, 5, seed=11)
        y = np.sign(data.teacher_labels(X, seed=12, m=64, gamma=GAMMA))
        y[y == 0] = 1.0
        if name == "random":
            y = np.random.default_rng(13).choice([-1.0, 1.0], size=len(y))
        elif name != "teacher":
            raise ValueError(f"unknown data set {name!r}; choose teacher, random or digits")
        arrays = (X[:600], y[:600], X[600:], y[600:])
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)


def _net(d: int, seed: int, kappa: float, antisymmetric: bool) -> ImplicitNetwork:
    if antisymmetric:
        return ImplicitNetwork.initialize_antisymmetric(d, WIDTH, gamma=GAMMA, kappa=kappa, seed=seed)
    return ImplicitNetwork.initialize(d, WIDTH, gamma=GAMMA, kappa=kappa, seed=seed)


@dataclass(frozen=True)
class Experiment:
    """One GE-1 draw: the training set and initialization, the held-out ramp loss, and the terms
    of the bound (:func:`theory.generalization.bound_terms`)."""

    data: str
    n: int
    seed: int
    kappa: float
    antisymmetric: bool
    test_loss: float
    f0_rms: float
    train_loss: float
    complexity: float
    confidence: float
    radius: float
    grid_radius: int
    bound: float

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=4096)
def experiment(name: str, n: int, seed: int, kappa: float = KAPPA, antisymmetric: bool = False) -> Experiment:
    """Draw n training points from the pool (``seed``) and an initialization (``seed``), fit the
    linearized network, and return the test ramp loss and the terms of GE-1's bound."""
    Xp, yp, Xt, yt = dataset(name)
    idx = torch.from_numpy(np.random.default_rng(seed).choice(len(yp), size=n, replace=False))
    X, y = Xp[idx], yp[idx]
    net = _net(X.shape[1], seed, kappa, antisymmetric)
    fit = linearized_fit(net, X, y, Xt)
    train_loss = float(ramp_loss(fit.f_train, y).mean())
    test_loss = float(ramp_loss(fit.f_test, yt).mean())
    R, f0 = fit.radius, fit.f0
    # the grid of radii j / sqrt(g) must not depend on the sample (the union bound runs over a
    # fixed family): g is the deterministic diagonal G_inf(x, x), not trace G(0) / n
    g = limiting_gram_diagonal(gamma=GAMMA, kappa=kappa)
    terms = bound_terms(train_loss, R, n, g=g, delta=DELTA)
    return Experiment(name, n, seed, kappa, antisymmetric, test_loss, float(f0.pow(2).mean().sqrt()), **terms)


def _table(names=("teacher", "digits", "random"), ns=(25, 50, 100, 200), seeds=3) -> list[dict]:
    rows = []
    for name in names:
        for n in ns:
            rs = [experiment(name, n, 1000 + s) for s in range(seeds)]
            rows.append(
                {
                    "data": name,
                    "n": n,
                    **{
                        k: float(np.mean([getattr(r, k) for r in rs])) for k in ("test_loss", "bound", "complexity", "confidence", "radius")
                    },
                    "test_loss_sd": float(np.std([r.test_loss for r in rs], ddof=1)),
                    "bound_sd": float(np.std([r.bound for r in rs], ddof=1)),
                    "seeds": seeds,
                }
            )
    return rows


def _sensitivity(name="teacher", n=100, kappas=(4.0, 1.0, 0.25, 0.0625), seeds=3) -> list[dict]:
    rows = []
    for kappa, anti in [(k, False) for k in kappas] + [(KAPPA, True)]:
        rs = [experiment(name, n, 2000 + s, kappa, anti) for s in range(seeds)]
        rows.append(
            {
                "kappa": kappa,
                "init": "antisymmetric (f0 = 0)" if anti else "gaussian",
                **{k: float(np.mean([getattr(r, k) for r in rs])) for k in ("f0_rms", "radius", "bound", "test_loss")},
            }
        )
    return rows


@register
class GeneralizationBound(WhpClaim):
    """Draws n training points of a target of bounded RKHS norm, fits the linearized network
    from f(0) = 0 (its minimum-norm interpolant; on noisy labels, its gradient flow stopped at
    T = 0.03 / g), and counts draws where the test loss's lower confidence limit (empirical
    Bernstein, 2000 fresh points) exceeds the bound; the rate is tested against delta
    (:mod:`.generalization_rkhs` says why these regimes)."""

    id = "GE-1"
    title = "Test loss <= train loss + 2 j / sqrt(n) + 3 sqrt(log(2j(j+1)/delta)/(2n)), j = ceil(R sqrt(g)), with probability >= 1 - delta"
    source = "Generalization theorem (initialization-sensitive bound), via Arora et al. 2019 Thm 5.1"
    statement = (
        "L_D(f) <= L_S(f) + 2 j / sqrt(n) + 3 sqrt(log(2 j (j+1)/delta)/(2n)), j = ceil(R sqrt(g)), g = G_inf(x,x) "
        "(fixed, not from the sample), R = ||W||_F of the trained move (the interpolant: ||y - f0||_{G(0)^-1}; the flow "
        "stopped at T: ||(I - e^{-G(0) T})(y - f0)||_{G(0)^-1}); checked where the bound is below 1 (a target of RKHS "
        "norm 0.9, without and with label noise, f(0) = 0, loss min(1, |f - y|))"
    )
    # the noise-free target (the interpolant, L_S = 0, the bound 30-60x the test loss) and noisy
    # labels with early stopping (L_S ~ L_D ~ 0.39, the bound at most 1.6x L_D), where a slightly
    # smaller bound is false (generalization_rkhs). 0 violations decide "holds" after ~35 draws
    # per configuration whatever the budget; 100 refute a true rate of 0.3 in 90% of runs (40: 31%)
    budget = PerProfile(
        ci=Budget(configs=({"n": 100}, NOISY), draws=100),
        thorough=Budget(configs=({"n": 100}, {"n": 400}, {"n": 1600}, NOISY, {**NOISY, "n": 1600}), draws=200),
    )
    train_scale = 1.0
    main_scale = 1.0
    confidence_scale = 1.0

    def prepare(self, profile: str, seed: int) -> Prepared:
        """The report's tables: the bound against the test loss as n grows, in this regime (where
        it crosses 1) and on classification labels (vacuous at every n here), and the
        initialization sensitivity (kappa shrinking; the antisymmetric f0 = 0 initialization)."""
        from .generalization_rkhs import crossing_table

        rkhs = crossing_table(delta=DELTA)
        noisy = crossing_table(ns=(100, 200, 400, 800), delta=DELTA, noise=NOISY["noise"], stop=NOISY["stop"])
        below = [row["n"] for row in rkhs if row["bound"] < 1.0]
        return Prepared(
            {
                "table": rkhs + noisy + _table(),
                "noisy_bound_over_test_loss": {row["n"]: row["bound_over_test_loss"] for row in noisy},
                "sensitivity": _sensitivity(),
                "non_vacuous_from_n": below[0] if below else None,
                "note": f"the bound falls below 1 (the loss's maximum) from n = {below[0] if below else 'never'} on the RKHS target; "
                "on classification labels it stays above 1 at every n of the table",
                "width": WIDTH,
                "gamma": GAMMA,
                "delta": DELTA,
            }
        )

    def delta(self, config) -> float:
        return DELTA

    def sample(self, config, seed: int) -> dict:
        from .generalization_rkhs import rkhs_terms

        return rkhs_terms(int(config["n"]), int(seed) % 2**31, DELTA, float(config.get("noise", 0.0)), float(config.get("stop", math.inf)))

    def check(self, e: dict) -> Evidence:
        b = self.train_scale * e["train_loss"] + self.main_scale * e["complexity"] + self.confidence_scale * e["confidence"]
        return Evidence(
            e["test_lower"],
            b,
            "<=",
            0.0,
            "the test loss's lower confidence limit (empirical Bernstein at 0.001 on 2000 fresh points) against the bound: "
            "a draw violates only when L_D is above the bound with confidence",
            {**e, "bound_checked": b, "ratio_bound_to_test": b / max(e["test_loss"], 1e-12), "non_vacuous": b < 1.0},
        )


@register
class GeneralizationNoGap(GeneralizationBound):
    id = "GE-1/ctl-no-gap"
    control_of = "GE-1"
    title = "The interpolant generalizes perfectly: test loss <= train loss (= 0)"
    why_false = (
        "the minimum-norm interpolant matches the target only on the sample; between the points it errs by ~0.01 "
        "(measured on 2000 fresh points, far above the test set's confidence margin of ~0.007)"
    )
    source = "negative control"
    statement = "L_D <= L_S"
    main_scale = 0.0
    confidence_scale = 0.0
    draws_of = "GE-1"

    def prepare(self, profile: str, seed: int) -> Prepared:
        return Prepared()


@register
class GeneralizationHalf(GeneralizationNoGap):
    id = "GE-1/ctl-half"
    title = "The bound divided by 2: test loss <= (train loss + complexity + confidence) / 2"
    why_false = (
        "on noisy labels the early-stopped flow's train and test losses are both near 0.39 (noise 0.5) and the "
        "bound about 0.6, so half of it (about 0.3) lies below the test loss's lower limit (about 0.36) on every draw"
    )
    source = "negative control"
    statement = "L_D <= (L_S + 2 j / sqrt(n) + 3 sqrt(log(2 j (j+1)/delta)/(2n))) / 2"
    train_scale = main_scale = confidence_scale = 0.5


@register
class GeneralizationQuarter(GeneralizationHalf):
    id = "GE-1/ctl-quarter"
    title = "The bound divided by 4: test loss <= (train loss + complexity + confidence) / 4"
    why_false = "a quarter of a bound whose half is already false on the noisy labels (GE-1/ctl-half): about 0.15 against 0.36"
    statement = "L_D <= (L_S + 2 j / sqrt(n) + 3 sqrt(log(2 j (j+1)/delta)/(2n))) / 4"
    train_scale = main_scale = confidence_scale = 0.25


@register
class RademacherLinearized(ExactClaim):
    """Enumerates all 2^n sign vectors, computes ||J^T eps||_F from the features (never the
    Jacobian) and checks it equals sqrt(eps^T G eps); compares the mean with sqrt(trace G)."""

    id = "GE-2"
    title = "Rademacher complexity of the linearized class: (R/n) E||J^T eps|| <= (R/n) sqrt(trace G)"
    source = "Generalization theorem, complexity step (Cauchy-Schwarz, then Jensen)"
    statement = "E_eps sqrt(eps^T G eps) (all 2^n sign vectors) <= sqrt(trace G); ||J^T eps||_F^2 = eps^T G eps"
    domain = NetworkDomain(m=(2, 32), n=(1, 8), d=(1, 5), rho=(0.0, 0.9))
    scale = 1.0

    def check(self, inst: NetworkInstance) -> Evidence:
        net = inst.net
        X = torch.tensor(inst.X)
        B, Z, _ = net.features(X)
        G = net.gram_of(B, Z)
        n = G.shape[0]
        # ||J^T eps||_F with J^T eps = (kappa gamma/m) B^T diag(eps) Z, an m x m matrix: no n x m^2 Jacobian
        norms = torch.stack([torch.linalg.matrix_norm(net.weighted_gradient(B, Z, e)) for e in sign_vectors(n)])
        quad = rademacher_norms(G)
        identity_gap = float((norms - quad).abs().max())
        lhs = float(norms.mean())
        rhs = self.scale * math.sqrt(float(torch.trace(G)))
        tol = 1e-12 * max(rhs, 1e-300) + 10 * identity_gap
        return Evidence(
            lhs,
            rhs,
            "<=",
            tol,
            "rounding: 1e-12 relative plus 10x the measured gap of ||J^T eps|| vs sqrt(eps^T G eps)",
            {"n": n, "identity_gap": identity_gap},
        )


@register
class RademacherHalved(RademacherLinearized):
    id = "GE-2/ctl-halved"
    control_of = "GE-2"
    title = "The Rademacher complexity is at most half of (R/n) sqrt(trace G)"
    why_false = "E sqrt(eps^T G eps) >= sqrt(lambda_min) sqrt(n) and equals sqrt(G_11) at n = 1: Jensen is nearly tight"
    source = "negative control"
    statement = "E sqrt(eps^T G eps) <= sqrt(trace G) / 2"
    scale = 0.5


@lru_cache(maxsize=16)
def limit_spectrum(name: str, n: int):
    """(X, y, G_inf, its eigenvalues w and vectors V, T = 1/g) on the first n points of a data set."""
    Xp, yp, _, _ = dataset(name)
    X = Xp[:n]
    G = limiting_gram(X, gamma=GAMMA, kappa=KAPPA)
    w, V = torch.linalg.eigh(G)
    return X, yp[:n], G, w, V, 1.0 / float(G[0, 0])


def linearized_loss(name: str, n: int, y: torch.Tensor) -> float:
    """The linearized training loss ||e^{-G_inf T} y||^2 / ||y||^2 at T = 1/g (GE-3; GE-3.train's
    prediction for the trained network)."""
    _, _, _, w, V, T = limit_spectrum(name, n)
    c = V.T @ y
    return float((torch.exp(-2 * w * T) * c**2).sum() / (c**2).sum())


def _limit_value(name: str, n: int, y: torch.Tensor | None = None) -> tuple[float, float]:
    """(y^T G_inf^-1 y, the linearized training loss at T = 1/g)."""
    _, ys, G, _, _, _ = limit_spectrum(name, n)
    y = ys if y is None else y
    return radius(G, y) ** 2, linearized_loss(name, n, y)


@dataclass(frozen=True)
class LabelDraw:
    """One draw of GE-3: a data set, its size, and a random labeling's (y^T G_inf^-1 y,
    linearized loss at T)."""

    data: str
    n: int
    random: tuple[float, float]


@register
class StructuredLabels(WhpClaim):
    """Draws random sign labelings of the same inputs and counts those at least as easy as the
    structured labels on y^T G_inf^-1 y or on the linearized training loss at T = 1/g."""

    id = "GE-3"
    title = "Structured labels have smaller y^T G_inf^-1 y and train faster than random labels on the same inputs"
    source = "Discussion of the generalization theorem (data-dependent complexity)"
    statement = "P(random signs y_r: y_r^T G_inf^-1 y_r <= y^T G_inf^-1 y or linearized loss(T) <= y's) <= delta (one-sided rank test)"
    budget = PerProfile(
        # 0 violations decide "holds" after 76 draws whatever the budget; 250 refute a true rate of
        # p1 = 0.15 in 95% of runs (100 draws: 43%)
        ci=Budget(configs=({"data": "teacher", "n": 100}, {"data": "digits", "n": 100}), draws=250),
        thorough=Budget(configs=({"data": "teacher", "n": 100}, {"data": "digits", "n": 100}), draws=400),
    )
    delta_value = 0.05
    reference = "labels"

    def delta(self, config) -> float:
        return self.delta_value

    def sample(self, config, seed: int) -> LabelDraw:
        n = config["n"]
        yr = torch.from_numpy(np.random.default_rng(seed).choice([-1.0, 1.0], size=n))
        return LabelDraw(config["data"], n, _limit_value(config["data"], n, yr))

    def structured(self, draw: LabelDraw) -> tuple[float, float]:
        if self.reference == "labels":
            return _limit_value(draw.data, draw.n)
        yr = torch.from_numpy(np.random.default_rng(99).choice([-1.0, 1.0], size=draw.n))
        return _limit_value(draw.data, draw.n, yr)

    def check(self, inst: LabelDraw) -> Evidence:
        (qs, ls), (qr, lr) = self.structured(inst), inst.random
        details = {
            "data": inst.data,
            "n": inst.n,
            "structured_quadratic": qs,
            "random_quadratic": qr,
            "structured_loss_T": ls,
            "random_loss_T": lr,
        }
        return Evidence.worst(
            [
                Evidence(qr, qs, ">=", 0.0, "a random labeling violates when it is at least as easy (y^T G^-1 y)", details),
                Evidence(lr, ls, ">=", 0.0, "a random labeling violates when it trains at least as fast (loss at T = 1/g)", details),
            ]
        )


@register
class StructuredLabelsAgainstRandom(StructuredLabels):
    id = "GE-3/ctl-random-reference"
    control_of = "GE-3"
    title = "A fixed random labeling is easier than other random labelings"
    why_false = "two random labelings are exchangeable: each is the easier one about half the time on each criterion, so one of the two criteria fails most of the time"
    source = "negative control"
    statement = "GE-3 with the structured labels replaced by one random labeling"
    reference = "random"
    draws_of = "GE-3"
