"""Figures for a run's report (matplotlib, PNG), each with its data as JSON beside it.

- ``loss_curves``: TD-1's gradient flows, ||r(t)||^2/||r(0)||^2 against lambda_0 t, with the
  claimed envelope exp(-lambda_0 t) and the control's exp(-3 lambda_0 t).
- ``gram_concentration``: KG-3's ||G(0) - G_inf||_2 against m (log-log), per seed and the
  seed means, with the fitted slope and the claimed m^-1/2.
- ``lambda_min_vs_width``: lambda_min(G(0)) against m for KG-4's n = 4 data set, with the
  lambda_0 line and KG-4's 3 lambda_0 / 4.
- ``bound_vs_test_loss``: GE-1's bound against the measured test loss as n grows, on the RKHS
  target (where it crosses 1) and on classification labels (where it does not).
- NG-1..NG-4's values with their fits (NG-2 as m times the excess kurtosis, flat for 1/m;
  NG-3 on a semi-log scale) and NG-5's Q-Q plots (:mod:`verify.figures_gp`).

Each figure is drawn from the run's records only (the claims' evidence: per-draw records,
calibration values, fits), never by re-running anything; a figure whose claim was not
selected is skipped. matplotlib is an optional dependency (the ``figures`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _plt():
    from .errors import require

    matplotlib = require("matplotlib", "figures", "drawing the report's figures")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, data: dict, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=130)
    _plt().close(fig)
    (folder / f"{name}.json").write_text(json.dumps(data, indent=1, default=float))
    return path


def _width_ticks(ax, xs) -> None:
    """Label the x axis at the grid's own values (log scale's minor labels collide)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(list(xs))
    ax.set_xticklabels([str(int(x)) for x in xs])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _result(results: list[dict], cid: str) -> dict | None:
    return next((r for r in results if r["id"] == cid and r.get("evidence")), None)


def loss_curves(results: list[dict], folder: Path) -> Path | None:
    r = _result(results, "TD-1")
    tests = (r or {}).get("evidence", {}).get("details", {}).get("tests", [])
    if not tests or not tests[0].get("records"):
        return None
    test = tests[0]
    config = dict(test["config"])
    m = config.pop("m")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    data = {"m": m, "setting": config, "runs": []}
    for i, rec in enumerate(test["records"]):  # the runner's draws, as recorded in the evidence
        x, y = np.array(rec["lambda0_t"]), np.array(rec["loss_ratio"])
        ax.semilogy(
            x, y, ".-", color="tab:blue", alpha=0.45, lw=0.8, ms=4, label="one run per initialization seed (records)" if i == 0 else None
        )
        data["runs"].append({"seed": rec["seed"], "lambda0_t": x.tolist(), "ratio": y.tolist()})
    xs = np.linspace(0, max(max(r["lambda0_t"]) for r in data["runs"]), 200)
    ax.semilogy(xs, np.exp(-xs), "k--", lw=2, label=r"TD-1: $e^{-\lambda_0 t}$")
    ax.semilogy(xs, np.exp(-3 * xs), "r:", lw=2, label=r"control: $e^{-3\lambda_0 t}$")
    ax.set_xlabel(r"$\lambda_0 t$")
    ax.set_ylabel(r"$\|r(t)\|^2 / \|r(0)\|^2$")
    ax.set_title(
        f"TD-1: gradient flow on A alone, {len(data['runs'])} initializations (m = {m}, n = {config['n']}, gamma = {config['gamma']}, "
        f"kappa = {config['kappa']}); points: the {len(data['runs'][0]['lambda0_t'])} records of each run",
        fontsize=8,
    )
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, data, folder, "loss_curves")


def gram_concentration(results: list[dict], folder: Path) -> Path | None:
    r = _result(results, "KG-3")
    if r is None:
        return None
    det = r["evidence"]["details"]
    fit, values = det["fit"], np.array(det["values"])
    xs = np.array(fit["xs"], dtype=float)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for j in range(values.shape[1]):
        ax.loglog(xs, values[:, j], ".", color="tab:gray", alpha=0.5, label="one seed" if j == 0 else None)
    ax.loglog(xs, fit["means"], "o", color="tab:blue", label="seed mean")
    ax.loglog(xs, np.exp(fit["intercept"]) * xs ** fit["slope"], "-", color="tab:blue", label=f"fit: slope {fit['slope']:.2f}")
    ref = fit["means"][0] * (xs / xs[0]) ** -0.5
    ax.loglog(xs, ref, "k--", label=r"claimed $m^{-1/2}$")
    _width_ticks(ax, xs)
    ax.set_xlabel("width m")
    ax.set_ylabel(r"$\|G(0) - G_\infty\|_2$")
    setting = det.get("setting", {})
    ax.set_title(
        f"KG-3 (n = {setting.get('n')}, d = {setting.get('d')}, gamma = {setting.get('gamma')}): slope interval "
        f"[{fit['lower']:.2f}, {fit['upper']:.2f}], {fit.get('method', 't')} interval at level {fit['level']:.4g} each side",
        fontsize=8,
    )
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, {"xs": xs.tolist(), "values": values.tolist(), "fit": fit}, folder, "gram_concentration")


def prepared_skipped(result: dict | None) -> list[dict]:
    return (result or {}).get("evidence", {}).get("details", {}).get("prepared", {}).get("skipped_over_width_budget", [])


def lambda_min_vs_width(results: list[dict], folder: Path) -> Path | None:
    r = _result(results, "KG-4")
    per = (r or {}).get("evidence", {}).get("details", {}).get("prepared", {}).get("per_dataset", [])
    per = [p for p in per if p.get("lambda_min")]
    if not per:
        return None
    tested = {t["config"].get("n") for t in (r or {}).get("evidence", {}).get("details", {}).get("tests", [])}
    shown = [q for q in per if q["n"] in tested] or per
    p = max(shown, key=lambda q: len(q["widths"]))  # a data set the claim was tested on
    n, widths, lam0 = p["n"], p["widths"], p["lambda_0"]
    vals = np.array(p["lambda_min"])  # widths x calibration seeds, as the calibration computed them
    seeds = vals.shape[1]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for j in range(seeds):
        ax.semilogx(widths, vals[:, j], ".", color="tab:gray", alpha=0.6, label="one initialization" if j == 0 else None)
    ax.semilogx(widths, vals.mean(axis=1), "o-", color="tab:blue", label="mean over seeds")
    ax.axhline(lam0, color="k", ls="--", label=r"$\lambda_0 = \lambda_{min}(G_\infty)$")
    ax.axhline(0.75 * lam0, color="r", ls=":", label=r"KG-4: $3\lambda_0/4$")
    _width_ticks(ax, widths)
    ax.set_xlabel("width m")
    ax.set_ylabel(r"$\lambda_{min}(G(0))$")
    skipped = any(q.get("n") == n and q.get("m") == p["m_star"] for q in prepared_skipped(r))
    ax.axvline(
        p["m_star"], color="tab:green", ls="-.", label=f"m* = {p['m_star']}" + (" (over the width budget: not tested)" if skipped else "")
    )
    ax.set_title(f"KG-4 calibration: n = {n}, gamma = 0.25, {seeds} seeds per width")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, {"widths": list(widths), "values": vals.tolist(), "lambda_0": lam0}, folder, "lambda_min_vs_width")


def bound_vs_test_loss(results: list[dict], folder: Path) -> Path | None:
    r = _result(results, "GE-1")
    prepared = (r or {}).get("evidence", {}).get("details", {}).get("prepared", {})
    if "table" not in prepared:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    rows = prepared["table"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9.4, 4.4))
    colors = {}
    for name in sorted({row["data"] for row in rows}):
        sel = sorted((row for row in rows if row["data"] == name), key=lambda row: row["n"])
        ns = [row["n"] for row in sel]
        bar = ax.errorbar(ns, [row["bound"] for row in sel], yerr=[row.get("bound_sd", 0.0) for row in sel], fmt="o-", capsize=3)
        colors[name] = bar.lines[0].get_color()
        ax.errorbar(
            ns,
            [row["test_loss"] for row in sel],
            yerr=[row.get("test_loss_sd", 0.0) for row in sel],
            fmt="s--",
            capsize=3,
            color=colors[name],
        )
    ax.axhline(1.0, color="k", lw=1.5)
    ax.text(min(row["n"] for row in rows), 1.12, "the loss's maximum: a bound above this line says nothing", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks piled up on the log axis
    _width_ticks(ax, sorted({row["n"] for row in rows}))
    ax.set_xlabel("training set size n")
    ax.set_ylabel("loss (mean +- sd over seeds)")
    seeds = rows[0].get("seeds", "?")
    ax.set_title(
        f"GE-1 bound (solid) vs test loss (dashed; ramp loss on labels, min(1, |f - y|) on the RKHS target with f(0) = 0);\n"
        f"m = {prepared.get('width')}, gamma = {prepared.get('gamma')}, kappa = 1, delta = {prepared.get('delta')}, {seeds} seeds",
        fontsize=9,
    )
    handles = [Line2D([], [], color=c, marker="o", label=name) for name, c in colors.items()]
    handles += [Line2D([], [], color="gray", ls="-", label="bound"), Line2D([], [], color="gray", ls="--", label="test loss")]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, {"rows": rows}, folder, "bound_vs_test_loss")


def make_all(out: str | Path) -> list[Path]:
    """Draw every figure whose claim ran, from the run's records; returns the PNG paths
    (under ``out/figures``)."""
    from . import figures_gp
    from .report import load_run

    out = Path(out)
    results = load_run(out)["results"]
    folder = out / "figures"
    made = [
        loss_curves(results, folder),
        gram_concentration(results, folder),
        lambda_min_vs_width(results, folder),
        bound_vs_test_loss(results, folder),
        *figures_gp.make(results, folder),
    ]
    return [p for p in made if p is not None]
