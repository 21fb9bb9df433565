"""The Gaussian-process claims' figures (NG-1..NG-5), drawn from the run's records like every
figure (:mod:`verify.figures`): a rate claim's values with its fit, and NG-5's Q-Q plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figures():
    from . import figures

    return figures


def rate_fit(results: list[dict], folder: Path, cid: str, name: str, ylabel: str, times_x: bool = False) -> Path | None:
    """A rate claim's measured values against its size (log-log; semi-log for a geometric fit),
    per seed and the seed means, with the fitted line and the claimed rate. ``times_x``: plot
    x times the value (a Theta(1/x) claim is then a flat line)."""
    f = _figures()
    r = f._result(results, cid)
    if r is None:
        return None
    det = r["evidence"]["details"]
    fit, values = det["fit"], np.array(det["values"], dtype=float)
    xs = np.array(fit["xs"], dtype=float)
    geometric = det.get("fit_kind") == "geometric"
    mult = xs[:, None] if times_x else 1.0
    means = np.exp(np.mean(np.log(values), axis=1))
    line = np.exp(fit["intercept"] + fit["slope"] * (xs if geometric else np.log(xs)))
    claimed = means[0] * np.exp(det["claimed_exponent"] * ((xs - xs[0]) if geometric else np.log(xs / xs[0])))
    plt = f._plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for j in range(values.shape[1]):
        ax.plot(xs, (values * mult)[:, j], ".", color="tab:gray", alpha=0.5, label="one seed" if j == 0 else None)
    m1 = xs if times_x else 1.0
    ax.plot(xs, means * m1, "o", color="tab:blue", label="geometric mean over seeds")
    ax.plot(xs, line * m1, "-", color="tab:blue", label=f"fit: {'log-rate' if geometric else 'slope'} {fit['slope']:.3f}")
    ax.plot(xs, claimed * m1, "k--", label=f"claimed {det['claimed_exponent']:.3g}")
    ax.set_yscale("log")
    if not geometric:
        ax.set_xscale("log")
        f._width_ticks(ax, xs)
    ax.set_xlabel("depth L" if geometric else "width m")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{cid}: interval [{fit['lower']:.3f}, {fit['upper']:.3f}] at level {fit['level']:.4g} each side", fontsize=8)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return f._save(fig, {"xs": xs.tolist(), "values": values.tolist(), "fit": fit}, folder, name)


def output_qq(results: list[dict], folder: Path) -> Path | None:
    """NG-5: the whitened outputs' radii against chi^2_n and one coordinate against N(0, 1)."""
    f = _figures()
    r = f._result(results, "NG-5")
    if r is None:
        return None
    t = r["evidence"]["details"]["tests"][0]
    q = t["qq"]
    plt = f._plt()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.0))
    for ax, (emp, null, label) in zip(
        axes,
        (("radii", "radii_null", f"||w||^2 against chi^2_{t['dim']}"), ("coordinate", "coordinate_null", "w_1 against N(0, 1)")),
        strict=True,
    ):
        ax.plot(q[null], q[emp], ".", color="tab:blue")
        lo, hi = min(q[null][0], q[emp][0]), max(q[null][-1], q[emp][-1])
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlabel("null quantile")
        ax.set_ylabel("sample quantile")
        ax.set_title(label, fontsize=9)
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"NG-5: {t['draws']} networks, whitened by kappa^2 Sigma; p = {t['p_value']:.3g}", fontsize=9)
    return f._save(fig, {"qq": q, "p_value": t["p_value"]}, folder, "output_qq")


def make(results: list[dict], folder: Path) -> list[Path | None]:
    return [
        rate_fit(results, folder, "NG-1", "forward_kernel_error", r"$\|K_m - \Sigma\|_2$"),
        rate_fit(results, folder, "NG-2", "excess_kurtosis", r"$m \times$ excess kurtosis", times_x=True),
        rate_fit(results, folder, "NG-3", "depth_kernel_error", r"$\max_{ij} |\Sigma_L - \Sigma|$"),
        rate_fit(results, folder, "NG-4", "uniform_in_depth", r"$\max_L \|K_{m,L} - \Sigma_L\|_2$"),
        output_qq(results, folder),
    ]
