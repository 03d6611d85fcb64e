"""Analyses around one model: subgroups, leave-one-out, cumulative meta-analysis, Egger's test.

* :func:`subgroups` fits the model separately in every subgroup (each with its own τ²) and tests
  whether the subgroup estimates differ: ``Q_between = Σ (b_g - b̄)² / se_g²`` with
  ``b̄`` their inverse-variance mean, χ² with (number of subgroups - 1) df — the "test for
  subgroup differences" of RevMan/``meta`` and what metafor gives as the Q-test of
  ``rma(b_g, se_g², method="EE")``. It uses each subgroup's ``se`` under the chosen test.
* :func:`leave1out` and :func:`cumul` are metafor's ``leave1out()`` and ``cumul()``: refits
  leaving out each study in turn / adding one study at a time (in the given order), all fitted
  at once as one batch.
* :func:`regtest` is metafor's ``regtest()`` with predictor ``sei``: ``model="rma"`` (default)
  fits the meta-regression ``yi ~ sei`` with the same τ² estimator and test as the main model
  and tests the slope (z, or t with k - 2 df); ``model="lm"`` is the classical Egger et al.
  (1997) test, a weighted regression with multiplicative dispersion (t with k - 2 df). Both
  report the "limit estimate" (the intercept: the effect at infinite precision) with its CI.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from extractor.errors import PoolingError
from extractor.pool._roots import zeroin
from extractor.pool.models import Control, RmaBatch, RmaResult, rma

FloatArray = NDArray[np.float64]


def _vec(name: str, x: ArrayLike) -> FloatArray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise PoolingError(f"{name} must be a 1-D array of studies")
    return a


def _jnum(x: Any) -> Any:
    if x is None:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None


# ------------------------------------------------------------------------------------------
# Subgroups


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Per-subgroup fits and the test for subgroup differences."""

    groups: tuple[str, ...]
    fits: Mapping[str, RmaResult]
    errors: Mapping[str, str]
    overall: RmaResult | None
    Q_between: float | None
    df_between: int
    p_between: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "fits": {g: r.to_dict() for g, r in self.fits.items()},
            "errors": dict(self.errors),
            "overall": None if self.overall is None else self.overall.to_dict(),
            "Q_between": _jnum(self.Q_between),
            "df_between": self.df_between,
            "p_between": _jnum(self.p_between),
            "note": self.note,
        }


def subgroups(
    yi: ArrayLike,
    vi: ArrayLike,
    groups: Sequence[Hashable],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    measure: str | None = None,
    ni: ArrayLike | None = None,
    control: Control | str | None = None,
) -> SubgroupAnalysis:
    """Separate fits per subgroup plus the between-subgroup Q test (see the module docstring)."""
    y, v = _vec("yi", yi), _vec("vi", vi)
    if len(groups) != len(y) or len(v) != len(y):
        raise PoolingError("yi, vi and groups must have the same length")
    n_arr = None if ni is None else _vec("ni", ni)
    labels = [str(g) for g in groups]
    order = list(dict.fromkeys(labels))
    fits: dict[str, RmaResult] = {}
    errors: dict[str, str] = {}
    for g in order:
        idx = np.array([lab == g for lab in labels])
        try:
            fits[g] = rma(
                y[idx],
                v[idx],
                method=method,
                test=test,
                level=level,
                measure=measure,
                ni=None if n_arr is None else n_arr[idx],
                control=control,
                emit_warnings=False,
            )
        except PoolingError as exc:
            errors[g] = str(exc)
    try:
        overall: RmaResult | None = rma(
            y,
            v,
            method=method,
            test=test,
            level=level,
            measure=measure,
            ni=n_arr,
            control=control,
            emit_warnings=False,
        )
    except PoolingError:
        overall = None
    usable = [g for g, r in fits.items() if r.se > 0 and math.isfinite(r.se)]
    if len(usable) < 2:
        return SubgroupAnalysis(
            tuple(order),
            fits,
            errors,
            overall,
            None,
            0,
            None,
            "fewer than two subgroups could be fitted: no test for differences",
        )
    b = np.array([fits[g].b for g in usable])
    w = 1 / np.array([fits[g].se for g in usable]) ** 2
    bbar = float((w * b).sum() / w.sum())
    q = float((w * (b - bbar) ** 2).sum())
    df = len(usable) - 1
    note = f"test for subgroup differences: separate τ² per subgroup, Q = Σ (b_g - b̄)² / se_g² on {df} df"
    return SubgroupAnalysis(tuple(order), fits, errors, overall, q, df, float(stats.chi2.sf(q, df)), note)


# ------------------------------------------------------------------------------------------
# Leave-one-out and cumulative


@dataclass(frozen=True)
class SequentialFits:
    """Rows of refits (metafor's ``leave1out``/``cumul`` tables); ``label[i]`` names row ``i``."""

    kind: str
    label: tuple[str, ...]
    k: tuple[int, ...]
    estimate: tuple[float, ...]
    se: tuple[float, ...]
    zval: tuple[float, ...]
    pval: tuple[float, ...]
    ci_lb: tuple[float, ...]
    ci_ub: tuple[float, ...]
    Q: tuple[float, ...]
    Qp: tuple[float, ...]
    tau2: tuple[float, ...]
    I2: tuple[float, ...]
    H2: tuple[float, ...]
    error: tuple[str | None, ...]

    def rows(self) -> list[dict[str, Any]]:
        names = ("k", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "Q", "Qp", "tau2", "I2", "H2")
        out = []
        for i, lab in enumerate(self.label):
            row: dict[str, Any] = {"label": lab}
            row.update({n: _jnum(getattr(self, n)[i]) for n in names})
            row["k"] = self.k[i]
            row["error"] = self.error[i]
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows()}


def _sequential(kind: str, labels: Sequence[str], batch: RmaBatch) -> SequentialFits:
    def t(a: FloatArray) -> tuple[float, ...]:
        return tuple(float(x) for x in a)

    return SequentialFits(
        kind,
        tuple(labels),
        tuple(int(x) for x in batch.k),
        t(batch.b),
        t(batch.se),
        t(batch.zval),
        t(batch.pval),
        t(batch.ci_lb),
        t(batch.ci_ub),
        t(batch.QE),
        t(batch.QEp),
        t(batch.tau2),
        t(batch.I2),
        t(batch.H2),
        batch.error,
    )


def leave1out(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Control | str | None = None,
) -> SequentialFits:
    """Refit leaving out each study in turn (row ``i`` omits study ``i``)."""
    y, v = _vec("yi", yi), _vec("vi", vi)
    k = len(y)
    if k < 2:
        raise PoolingError("leave-one-out needs at least 2 studies")
    keep = ~np.eye(k, dtype=bool)
    Y = np.vstack([y[keep[i]] for i in range(k)])
    V = np.vstack([v[keep[i]] for i in range(k)])
    batch = rma(Y, V, method=method, test=test, level=level, control=control, emit_warnings=False)
    return _sequential("leave1out", list(labels) if labels else [str(i + 1) for i in range(k)], batch)


def cumul(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    order: Sequence[int] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Control | str | None = None,
) -> SequentialFits:
    """Cumulative meta-analysis: row ``i`` pools the first ``i + 1`` studies (in ``order``)."""
    y, v = _vec("yi", yi), _vec("vi", vi)
    k = len(y)
    if k < 1:
        raise PoolingError("cumulative meta-analysis needs at least 1 study")
    idx = np.arange(k) if order is None else np.asarray(order, dtype=int)
    if sorted(idx.tolist()) != list(range(k)):
        raise PoolingError("order must be a permutation of the study indices")
    y, v = y[idx], v[idx]
    lab = [list(labels)[i] for i in idx] if labels else [str(i + 1) for i in idx]
    Y = np.full((k, k), np.nan)
    V = np.full((k, k), np.nan)
    for i in range(k):
        Y[i, : i + 1] = y[: i + 1]
        V[i, : i + 1] = v[: i + 1]
    batch = rma(Y, V, method=method, test=test, level=level, control=control, emit_warnings=False)
    return _sequential("cumul", lab, batch)


# ------------------------------------------------------------------------------------------
# Egger's regression test (meta-regression on the standard error)


@dataclass(frozen=True)
class RegTest:
    """metafor's ``regtest`` result: test of the ``sei`` slope and the limit estimate."""

    model: str
    predictor: str
    zval: float
    pval: float
    dfs: int | None
    slope: float
    slope_se: float
    est: float
    ci_lb: float
    ci_ub: float
    tau2: float
    method: str
    test: str

    def to_dict(self) -> dict[str, Any]:
        return {k: (_jnum(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _metareg_tau2(y: FloatArray, v: FloatArray, X: FloatArray, method: str, control: Control) -> float:
    """τ² of the meta-regression ``y ~ X`` (p columns) for the closed-form and iterative estimators."""
    k, p = X.shape

    def proj(w: FloatArray) -> FloatArray:
        W = np.diag(w)
        A = np.linalg.inv(X.T @ W @ X)
        return np.asarray(W - W @ X @ A @ X.T @ W, dtype=float)

    if method in ("EE", "FE"):
        return 0.0
    if np.any(v <= 0) and method not in ("HE", "REML", "ML", "SJ"):
        raise PoolingError(f"regtest: {method} cannot be used with zero sampling variances")
    P0 = proj(1 / v)
    QE = float(y @ P0 @ y)
    if method == "DL":
        return float(max(0.0, (QE - (k - p)) / float(np.trace(P0))))
    if method == "HS":
        return float(max(0.0, (QE - k) / float(np.sum(1 / v))))
    if method == "HSk":
        return float(max(0.0, (QE * k / (k - p) - k) / float(np.sum(1 / v))))
    Pols = np.eye(k) - X @ np.linalg.inv(X.T @ X) @ X.T
    rss = float(y @ Pols @ y)
    he = float(max(0.0, (rss - float(np.trace(Pols @ np.diag(v)))) / (k - p)))
    if method == "HE":
        return he
    if method == "SJ":
        # metafor's crude start is the variance of the raw outcomes (moderators ignored)
        t0 = float(np.var(y)) if control.tau2_init is None else float(control.tau2_init)
        return float(t0 * float(y @ proj(1 / (v + t0)) @ y) / (k - p))
    if method in ("PM", "PMM"):
        target = (k - p) if method == "PM" else float(stats.chi2.ppf(0.5, k - p))

        def f(t: FloatArray, _lanes: Any) -> FloatArray:
            return np.array([float(y @ proj(1 / (v + t[0])) @ y) - target])

        f0 = f(np.zeros(1), None)
        if f0[0] <= 0:
            return 0.0
        hi = np.array([max(100.0, 10 * he)])
        while f(hi, None)[0] > 0 and hi[0] < 1e300:
            hi = hi * 2
        root, _ = zeroin(f, np.zeros(1), hi, f0, f(hi, None), control.tol, control.maxiter)
        return float(root[0])
    if method in ("ML", "REML", "EB"):
        t = he if control.tau2_init is None else max(0.0, float(control.tau2_init))
        for _ in range(max(control.maxiter, 1000)):
            w = 1 / (v + t)
            P = proj(w)
            if method == "ML":
                adj = (float(y @ P @ P @ y) - float(w.sum())) / float((w**2).sum())
            elif method == "REML":
                PP = P @ P
                adj = (float(y @ PP @ y) - float(np.trace(P))) / float(np.trace(PP))
            else:
                adj = (float(y @ P @ y) * k / (k - p) - k) / float(w.sum())
            adj *= control.stepadj
            while t + adj < 0:
                adj /= 2
            new = t + adj
            thr = control.threshold * (max(1.0, abs(new)) if control.relative else 1.0)
            done = abs(new - t) <= thr
            t = new
            if done:
                return t
        raise PoolingError("regtest: the meta-regression's Fisher scoring did not converge")
    raise PoolingError(f"regtest does not support method {method!r}")


def regtest(
    yi: ArrayLike | RmaResult,
    vi: ArrayLike | None = None,
    *,
    model: str = "rma",
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    control: Control | str | None = None,
) -> RegTest:
    """Egger's regression test for funnel-plot asymmetry (predictor: the standard error).

    Pass ``yi, vi`` or a fitted :class:`RmaResult` (its data, method, test and level are used).
    """
    if isinstance(yi, RmaResult):
        res = yi
        y = np.asarray(res.yi, dtype=float)
        v = np.asarray(res.vi, dtype=float)
        method, test, level = res.method, res.test, res.level
    else:
        y = _vec("yi", yi)
        if vi is None:
            raise PoolingError("regtest needs vi")
        v = _vec("vi", vi)
        ok = ~np.isnan(y) & ~np.isnan(v)
        y, v = y[ok], v[ok]
    if model not in ("rma", "lm"):
        raise PoolingError("model must be 'rma' or 'lm'")
    k = len(y)
    if k < 3:
        raise PoolingError(f"Egger's test needs at least 3 studies (k = {k})")
    if np.any(v < 0):
        raise PoolingError("sampling variances must be >= 0")
    ctl = Control.coerce(control)
    X = np.column_stack([np.ones(k), np.sqrt(v)])
    alpha = (100 - level) / 100
    if model == "lm":
        if np.any(v <= 0):
            raise PoolingError("the classical Egger test needs positive sampling variances")
        w = 1 / v
        XtWX = X.T @ (w[:, None] * X)
        A = np.linalg.inv(XtWX)
        b = A @ X.T @ (w * y)
        r = y - X @ b
        sigma2 = float((w * r**2).sum() / (k - 2))
        vb = sigma2 * A
        dfs: int | None = k - 2
        tau2 = 0.0
        used_test = "t"
    else:
        tau2 = _metareg_tau2(y, v, X, method, ctl)
        w = 1 / (v + tau2)
        A = np.linalg.inv(X.T @ (w[:, None] * X))
        b = A @ X.T @ (w * y)
        vb = A
        used_test = test
        if test in ("knha", "adhoc"):
            r = y - X @ b
            s2w = float((w * r**2).sum() / (k - 2))
            if test == "adhoc":
                s2w = max(1.0, s2w)
            vb = s2w * A
        dfs = k - 2 if test != "z" else None
    se = np.sqrt(np.diag(vb))
    z = b / se
    if dfs is None:
        p = 2 * stats.norm.sf(abs(z[1]))
        crit = stats.norm.ppf(1 - alpha / 2)
    else:
        p = 2 * stats.t.sf(abs(z[1]), dfs)
        crit = stats.t.ppf(1 - alpha / 2, dfs)
    return RegTest(
        model=model,
        predictor="sei",
        zval=float(z[1]),
        pval=float(p),
        dfs=dfs,
        slope=float(b[1]),
        slope_se=float(se[1]),
        est=float(b[0]),
        ci_lb=float(b[0] - crit * se[0]),
        ci_ub=float(b[0] + crit * se[0]),
        tau2=float(tau2),
        method="EE" if model == "lm" else method,
        test=used_test,
    )
