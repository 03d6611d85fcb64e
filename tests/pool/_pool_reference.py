"""Comparing extractor.pool with metafor reference files (shared reference.json, pinned.json).

Tolerance (the issue's): a value agrees when ``|got - want| <= 1e-9`` or
``|got - want| <= 1e-6 |want|``; non-finite values must match exactly; ``null`` means "not
available" (our ``None``/NaN).

Which reference each comparison uses:

* ``control="metafor"`` (metafor's default iteration settings) is compared with metafor's
  default output: ``outputs``, ``confint``, ``predict``, ``predict_transformed``, weights, fit
  statistics, refusals (``error``) and warnings.
* ``control="exact"`` (our default: everything solved to machine precision) is compared with
  metafor refitted with tight control (``outputs_precise`` / ``confint_precise`` in the shared
  file, ``precise`` in pinned.json). The shared file's precise block lacks ``se.tau2``, ``s2w``,
  weights, fit statistics and back-transformed values for iterative estimators: those are
  checked against pinned.json (which has them) and, at metafor's precision, in metafor mode.
  Quantities that do not depend on τ² (Q, its df and p, ddf) are compared with ``outputs``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from extractor.pool import RmaResult

REL = 1e-6
ABS = 1e-9

OUTPUT_FIELDS = {
    "estimate": "b",
    "se": "se",
    "zval": "zval",
    "pval": "pval",
    "ci.lb": "ci_lb",
    "ci.ub": "ci_ub",
    "tau2": "tau2",
    "se.tau2": "se_tau2",
    "I2": "I2",
    "H2": "H2",
    "Q": "QE",
    "Q.df": "QEdf",
    "Q.pval": "QEp",
    "ddf": "ddf",
    "s2w": "s2w",
}
PREDICT_FIELDS = {
    "pred": "b",
    "se": "se",
    "ci.lb": "ci_lb",
    "ci.ub": "ci_ub",
    "pi.lb": "pi_lb",
    "pi.ub": "pi_ub",
}
TAU2_INDEPENDENT = ("Q", "Q.df", "Q.pval", "ddf")
#: outputs that are functions of τ² alone (judged through τ² when τ² sits at the 0 boundary)
BOUNDARY_DERIVED = ("I2", "H2", "confint.tau.estimate", "confint.I2.estimate", "confint.H2.estimate")


def num(x: Any) -> float:
    if x is None:
        return float("nan")
    if isinstance(x, str):
        return float(x.replace("Inf", "inf"))
    return float(x)


def error_of(got: Any, want: Any) -> float:
    """0 when the values agree within tolerance, else the relative (or absolute) difference."""
    w = num(want)
    g = float("nan") if got is None else float(got)
    if math.isnan(w):
        return 0.0 if math.isnan(g) else math.inf
    if math.isinf(w) or math.isinf(g):
        return 0.0 if g == w else math.inf
    if math.isnan(g):
        return math.inf
    d = abs(g - w)
    if d <= ABS:
        return 0.0
    return d / abs(w) if w != 0 else math.inf


def rel_error(got: Any, want: Any) -> float:
    """The raw relative difference (for reporting), ignoring differences below ABS."""
    return error_of(got, want)


class Tally:
    """Collects mismatches and the largest error per output name."""

    def __init__(self) -> None:
        self.boundary = False
        self.boundary_checks = 0
        self.raw_rel: dict[str, float] = {}  # max |d|/|want| where |want| >= 1e-3 (for reports)
        self.raw_abs: dict[str, float] = {}  # max |d| where |want| < 1e-3
        self.worst: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.bad: list[str] = []

    def _raw(self, name: str, got: Any, want: Any) -> None:
        w = num(want)
        g = float("nan") if got is None else float(got)
        if not (math.isfinite(w) and math.isfinite(g)):
            return
        d = abs(g - w)
        if abs(w) >= 1e-3:
            self.raw_rel[name] = max(self.raw_rel.get(name, 0.0), d / abs(w))
        else:
            self.raw_abs[name] = max(self.raw_abs.get(name, 0.0), d)

    def merge(self, other: Tally) -> None:
        for mine, theirs in (
            (self.worst, other.worst),
            (self.raw_rel, other.raw_rel),
            (self.raw_abs, other.raw_abs),
        ):
            for k, v in theirs.items():
                mine[k] = max(mine.get(k, 0.0), v)
        for k, n in other.count.items():
            self.count[k] = self.count.get(k, 0) + n
        self.bad += other.bad
        self.boundary_checks += other.boundary_checks

    def check(self, case: str, name: str, got: Any, want: Any) -> None:
        if not (self.boundary and name in BOUNDARY_DERIVED):
            self._raw(name, got, want)
        e = error_of(got, want)
        if e > REL and self.boundary and name in BOUNDARY_DERIVED:
            # τ² at the boundary: metafor's step halving stops a few 1e-12 above 0, ours is 0;
            # sqrt(τ²), I² and H² magnify that, so these are judged through τ² itself.
            self.boundary_checks += 1
            e = 0.0
        self.worst[name] = max(self.worst.get(name, 0.0), e)
        self.count[name] = self.count.get(name, 0) + 1
        if not e <= REL:
            self.bad.append(f"{case}: {name} = {got!r}, metafor {want!r}")

    def fail(self, case: str, message: str) -> None:
        self.bad.append(f"{case}: {message}")


def at_boundary(res: RmaResult, outputs: Mapping[str, Any]) -> bool:
    """Our τ² is exactly 0 and metafor's is within 1e-9 of it (an optimum on the boundary)."""
    want = num(outputs.get("tau2"))
    return res.tau2 == 0.0 and 0.0 < want <= ABS


def check_outputs(
    t: Tally,
    case: str,
    res: RmaResult,
    outputs: Mapping[str, Any],
    only: tuple[str, ...] | None = None,
    prefix: str = "",
) -> None:
    for name, attr in OUTPUT_FIELDS.items():
        if name not in outputs or (only is not None and name not in only):
            continue
        t.check(case, prefix + name, getattr(res, attr), outputs[name])


def check_predict(
    t: Tally, case: str, res: RmaResult, pred: Mapping[str, Any], prefix: str = "predict."
) -> None:
    if "error" in pred:
        return
    for name, attr in PREDICT_FIELDS.items():
        if name in pred:
            t.check(case, prefix + name, getattr(res, attr), pred[name])


def check_transformed(t: Tally, case: str, res: RmaResult, pred: Mapping[str, Any] | None) -> None:
    if not pred or "error" in pred:
        return
    tr = res.transformed
    if tr is None:
        t.fail(case, "no back-transformed result")
        return
    for name, attr in (
        ("pred", "pred"),
        ("ci.lb", "ci_lb"),
        ("ci.ub", "ci_ub"),
        ("pi.lb", "pi_lb"),
        ("pi.ub", "pi_ub"),
    ):
        if name in pred:
            t.check(case, "transformed." + name, getattr(tr, attr), pred[name])


def check_confint(
    t: Tally, case: str, res: RmaResult, ci: Mapping[str, Any] | None, prefix: str = "confint."
) -> None:
    if ci is None:
        return
    if "error" in ci:
        if ci["error"] != "EE" and res.confint_note != ci["error"]:
            t.fail(case, f"confint note {res.confint_note!r}, metafor {ci['error']!r}")
        return
    for par, attr in (("tau2", "tau2_ci"), ("tau", "tau_ci"), ("I2", "I2_ci"), ("H2", "H2_ci")):
        iv = getattr(res, attr)
        if iv is None:
            t.fail(case, f"no {par} CI ({res.confint_note})")
            return
        for name, field in (("estimate", "estimate"), ("ci.lb", "ci_lb"), ("ci.ub", "ci_ub")):
            t.check(case, f"{prefix}{par}.{name}", getattr(iv, field), ci[par][name])


def check_weights(t: Tally, case: str, res: RmaResult, weights: Any) -> None:
    if weights is None:
        return
    w = list(weights)
    if len(w) != len(res.weights):
        t.fail(case, f"{len(res.weights)} weights, metafor {len(w)}")
        return
    worst = max((error_of(g, x) for g, x in zip(res.weights, w, strict=True)), default=0.0)
    for g, x in zip(res.weights, w, strict=True):
        t._raw("weights", g, x)
    t.worst["weights"] = max(t.worst.get("weights", 0.0), worst)
    t.count["weights"] = t.count.get("weights", 0) + len(w)
    if not worst <= REL:
        t.bad.append(f"{case}: weights differ (max error {worst:.3g})")


def check_fit_stats(t: Tally, case: str, res: RmaResult, fs: Mapping[str, Any] | None) -> None:
    if not fs:
        return
    for lik in ("ML", "REML"):
        for name in ("ll", "dev", "AIC", "BIC", "AICc"):
            t.check(case, f"fit.{name}.{lik}", getattr(res.fit_stats, f"{name}_{lik}"), fs[lik][name])


def dlit_fixed_point_gap(res: RmaResult) -> float:
    """|τ² - max(0, (Q(τ²) - (k-1)) / tr P(τ²))| relative: 0 at metafor's iterated-DL fixed point."""
    y, v, t = np.asarray(res.yi), np.asarray(res.vi), res.tau2
    w = 1 / (v + t)
    mu = (w * y).sum() / w.sum()
    q = (w * (y - mu) ** 2).sum()
    nxt = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return abs(nxt - t) / max(t, 1e-12)


def pm_root_gap(res: RmaResult) -> float:
    """Relative gap of the PM/PMM estimating equation Q(τ²) = target at the fitted τ²."""
    from scipy import stats

    y, v, t = np.asarray(res.yi), np.asarray(res.vi), res.tau2
    w = 1 / (v + t)
    mu = (w * y).sum() / w.sum()
    q = (w * (y - mu) ** 2).sum()
    target = len(y) - 1 if res.method == "PM" else stats.chi2.ppf(0.5, len(y) - 1)
    return float(abs(q - target) / target)
