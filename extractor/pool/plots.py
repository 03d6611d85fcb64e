"""Forest and funnel plots with matplotlib (no pyplot, no display: figures render with Agg).

* :func:`forest_plot`: one row per study (label, estimate with its CI as a square sized by the
  study's weight, and the numbers "estimate [CI]" and "weight %" on the right), the pooled
  estimate as a diamond, the prediction interval as a bar through the diamond, subgroup blocks
  (heading, studies, subgroup diamond) when a :class:`SubgroupAnalysis` is given, a reference
  line at no effect, and the heterogeneity line (τ², I², Q-test) under the diamond.
  Measures with a back-transformation are drawn on the natural scale (log axis for ratios).
* :func:`funnel_plot`: effect sizes against their standard errors (inverted axis), the pooled
  estimate and the pseudo-confidence region ``b ± 1.96·se`` (where studies should fall without
  heterogeneity and small-study effects).

:func:`save_figure` writes PNG and SVG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from extractor.pool.analyses import SubgroupAnalysis
from extractor.pool.models import RmaResult
from extractor.pool.transforms import TRANSFORM_OF, back_transform

_LABELS = {
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "ROM": "Ratio of means",
    "MC": "Mean change (follow-up − baseline)",
    "SMCC": "Standardised mean change (change-score SD)",
    "SMCR": "Standardised mean change (baseline SD)",
    "PR": "Proportion",
    "PLO": "Proportion",
    "PAS": "Proportion",
    "PFT": "Proportion",
    "RR": "Risk ratio",
    "OR": "Odds ratio",
    "RD": "Risk difference",
    "GEN": "Effect size",
}


def _transform(result: RmaResult, ni: Sequence[float] | None) -> tuple[Callable[[Any], Any], bool, float]:
    """(function to the plotting scale, log axis?, no-effect value on that scale)."""
    name = TRANSFORM_OF.get(result.measure)
    if name is None:
        return (lambda x: np.asarray(x, dtype=float)), False, 0.0
    fn = back_transform(result.measure, ni)
    assert fn is not None
    if name == "exp":
        return fn, True, 1.0
    return fn, False, float("nan")


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.0f}"


def forest_plot(
    result: RmaResult,
    labels: Sequence[str] | None = None,
    *,
    groups: Sequence[str] | None = None,
    subgroup: SubgroupAnalysis | None = None,
    ni: Sequence[float] | None = None,
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Draw a forest plot of ``result`` (studies in its order; ``groups`` with ``subgroup``)."""
    k = result.k
    labels = list(labels) if labels is not None else [f"Study {i + 1}" for i in range(k)]
    if len(labels) != k:
        raise ValueError("one label per study is needed")
    fn, log_axis, null = _transform(result, ni)
    yi = np.asarray(result.yi)
    se = np.sqrt(np.asarray(result.vi))
    z = float(stats.norm.ppf(1 - (100 - result.level) / 200))
    lo, hi = fn(yi - z * se), fn(yi + z * se)
    est = fn(yi)
    weights = np.asarray(result.weights)

    # rows: (kind, payload) from top to bottom
    rows: list[tuple[str, Any]] = []
    if subgroup is not None and groups is not None:
        for g in subgroup.groups:
            rows.append(("heading", g))
            rows.extend(("study", i) for i, gg in enumerate(groups) if str(gg) == g)
            if g in subgroup.fits:
                rows.append(("diamond", (f"Subgroup {g} (k = {subgroup.fits[g].k})", subgroup.fits[g])))
            rows.append(("gap", None))
    else:
        rows.extend(("study", i) for i in range(k))
        rows.append(("gap", None))
    rows.append(("diamond", ("Pooled estimate", result)))
    n_rows = len(rows)
    height = 1.6 + 0.32 * (n_rows + 2)
    fig = Figure(figsize=(10, height), dpi=100)
    ax = fig.add_axes((0.30, 0.9 / height, 0.40, 1 - 1.5 / height))
    ax.set_ylim(n_rows + 0.5, -1.6)
    ax.set_yticks([])
    wmax = float(weights.max()) if weights.size else 1.0
    text_x = 1.02
    ax.text(
        -0.02,
        -1.1,
        "Study",
        transform=ax.get_yaxis_transform(),
        ha="right",
        va="center",
        fontweight="bold",
        fontsize=9,
    )
    ax.text(
        text_x,
        -1.1,
        "Estimate [95% CI]" if result.level == 95 else f"Estimate [{result.level:g}% CI]",
        transform=ax.get_yaxis_transform(),
        ha="left",
        va="center",
        fontweight="bold",
        fontsize=9,
    )
    ax.text(
        1.42,
        -1.1,
        "Weight",
        transform=ax.get_yaxis_transform(),
        ha="left",
        va="center",
        fontweight="bold",
        fontsize=9,
    )
    xs_all: list[float] = []
    for r, (kind, payload) in enumerate(rows):
        if kind == "heading":
            ax.text(
                -0.02,
                r,
                str(payload),
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontweight="bold",
                fontsize=9,
            )
        elif kind == "study":
            i = int(payload)
            size = 4 + 10 * math.sqrt(weights[i] / wmax)
            ax.plot([lo[i], hi[i]], [r, r], color="black", lw=1)
            ax.plot([est[i]], [r], marker="s", color="#1f4e79", markersize=size, markeredgecolor="black")
            xs_all += [float(lo[i]), float(hi[i])]
            ax.text(
                -0.02, r, labels[i], transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=9
            )
            ax.text(
                text_x,
                r,
                f"{_fmt(float(est[i]))} [{_fmt(float(lo[i]))}, {_fmt(float(hi[i]))}]",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=9,
            )
            ax.text(
                1.42,
                r,
                f"{weights[i]:.1f}%",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=9,
            )
        elif kind == "diamond":
            name, res = payload
            b, cl, cu = (float(fn(res.b)), float(fn(res.ci_lb)), float(fn(res.ci_ub)))
            pooled = res is result
            color = "#b22222" if pooled else "#555555"
            if res.pi_lb is not None and res.k > 1:
                pl, pu = float(fn(res.pi_lb)), float(fn(res.pi_ub))
                ax.plot([pl, pu], [r, r], color=color, lw=1.2, ls="--")
                xs_all += [pl, pu]
            ax.fill([cl, b, cu, b], [r, r - 0.3, r, r + 0.3], color=color, zorder=3)
            xs_all += [cl, cu]
            ax.text(
                -0.02,
                r,
                name,
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=9,
                fontweight="bold" if pooled else "normal",
            )
            ax.text(
                text_x,
                r,
                f"{_fmt(b)} [{_fmt(cl)}, {_fmt(cu)}]",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=9,
                fontweight="bold" if pooled else "normal",
            )
    if log_axis:
        ax.set_xscale("log")
    if math.isfinite(null):
        ax.axvline(null, color="grey", lw=0.8, ls=":")
    finite = [x for x in xs_all if math.isfinite(x) and (x > 0 or not log_axis)]
    if finite:
        lo_x, hi_x = min(finite), max(finite)
        if log_axis:
            pad = (hi_x / lo_x) ** 0.05
            ax.set_xlim(lo_x / pad, hi_x * pad)
        else:
            pad = (hi_x - lo_x) * 0.05 or 0.5
            ax.set_xlim(lo_x - pad, hi_x + pad)
    ax.set_xlabel(xlabel or _LABELS.get(result.measure, result.measure), fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    het = [f"{result.method}"]
    if result.method not in ("EE", "FE"):
        het.append(f"τ² = {result.tau2:.3g}")
    if result.I2 is not None:
        het.append(f"I² = {result.I2:.0f}%")
    if result.QE is not None and result.QEp is not None:
        het.append(f"Q({result.QEdf}) = {result.QE:.2f}, p = {result.QEp:.3g}")
    het.append(f"test: {result.test}")
    if result.pi_lb is not None:
        het.append("dashed: prediction interval")
    footer = "; ".join(het)
    if subgroup is not None and subgroup.Q_between is not None and subgroup.p_between is not None:
        footer += (
            f"\nSubgroup differences: Q({subgroup.df_between}) = {subgroup.Q_between:.2f}, "
            f"p = {subgroup.p_between:.3g}"
        )
    fig.text(0.02, 0.15 / height, footer, fontsize=8, va="bottom", ha="left")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def funnel_plot(result: RmaResult, *, title: str | None = None, xlabel: str | None = None) -> Figure:
    """Funnel plot: ``yi`` against ``sqrt(vi)`` (inverted), with the pooled estimate and
    the pseudo-95 % region ``b ± 1.96·se``."""
    yi = np.asarray(result.yi)
    se = np.sqrt(np.asarray(result.vi))
    fig = Figure(figsize=(6, 5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    top = float(se.max()) * 1.1 if se.size and se.max() > 0 else 1.0
    s = np.linspace(0, top, 50)
    ax.fill_betweenx(
        s, result.b - 1.959963984540054 * s, result.b + 1.959963984540054 * s, color="#eeeeee", zorder=0
    )
    ax.plot(result.b - 1.959963984540054 * s, s, color="grey", lw=0.8, ls="--")
    ax.plot(result.b + 1.959963984540054 * s, s, color="grey", lw=0.8, ls="--")
    ax.axvline(result.b, color="#b22222", lw=1)
    ax.scatter(yi, se, color="#1f4e79", edgecolor="black", zorder=3)
    ax.set_ylim(top, 0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel(
        xlabel
        or _LABELS.get(result.measure, result.measure)
        + (" (analysis scale)" if result.measure in TRANSFORM_OF else "")
    )
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, base: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``base.png`` and ``base.svg`` (or the given formats); returns the paths."""
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        fig.savefig(path, format=fmt, bbox_inches="tight")
        out.append(path)
    return out
