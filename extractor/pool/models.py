"""Equal- and random-effects models (metafor's ``rma.uni`` without moderators), vectorised.

``rma(yi, vi, method="REML", test="z")`` fits one meta-analysis (1-D inputs) and returns an
:class:`RmaResult`; 2-D inputs of shape ``(analyses, studies)`` fit every row at once and return
an :class:`RmaBatch` (rows may have different numbers of studies: pad with ``NaN``).

What is computed, with metafor's definitions (k studies, p = 1 coefficient):

* τ² by ``EE``/``FE`` (0), ``DL``, ``HE``, ``HS``, ``HSk``, ``SJ`` (closed forms), ``ML``,
  ``REML``, ``EB`` (Fisher scoring from the HE estimate, with step halving), ``PM``, ``PMM``
  (root of the generalised Q-statistic equation ``Q(τ²) = k - 1`` or its χ² median), ``SJIT``
  and ``DLIT`` (the iterated SJ and DL estimators), and metafor's ``se.tau2`` for each.
* the pooled estimate ``b`` with inverse-variance weights ``1/(vi + τ²)``, its ``se``, ``zval``,
  ``pval`` and CI by ``test="z"`` (normal), ``"t"`` (t with k-1 df), ``"knha"`` (Knapp–Hartung:
  se scaled by ``√s2w``, ``s2w = Σ w (y - b)² / (k-1)``) or ``"adhoc"`` (``s2w`` floored at 1).
* Cochran's ``QE`` (inverse sampling-variance weights) with its χ² p-value ``QEp``; ``I2`` and
  ``H2`` as metafor defines them: τ²-based for random-effects fits
  (``I² = 100 τ² / (τ² + ṽ)``, ``ṽ = (k-1) Σw / ((Σw)² - Σw²)``), Q-based for EE fits.
* the Q-profile confidence interval for τ² (and τ, I², H²), the prediction interval
  ``b ± crit √(se² + τ²)`` (normal for ``z``, t(k-1) otherwise), weights in percent, the ML and
  REML log-likelihoods with deviance, AIC, BIC and AICc, and back-transformed results for
  ``RR``/``OR``/``ROM`` (exp), ``PLO`` (ilogit), ``PAS`` (iarcsin), ``PFT`` (ipft at the harmonic
  mean n).

Numerical accuracy — two settings of :class:`Control`:

* ``Control()`` (the default, "exact"): iterative estimators and the Q-profile bounds are solved
  to machine precision: Fisher scoring (metafor's algorithm, from the HE estimate) until τ²
  changes by less than ``1e-12·max(1, τ²)``, finished by Brent's method on the same estimating
  equation if it has not converged after 40 steps; roots of the generalised Q equation (PM, PMM,
  CI bounds) by safeguarded Newton steps; search intervals widened instead of capped. Results
  equal metafor's refitted with tight control settings.
* ``Control.metafor()``: metafor 3.8's default algorithm settings, step for step (Fisher scoring
  threshold 1e-5, R's ``uniroot`` (Brent) with tolerance ``.Machine$double.eps^0.25``, search
  caps ``max(100, 10·mad(yi)²)`` for PM/PMM and ``max(100, 10·τ²)`` for the τ² CI, 100
  iterations). This reproduces the numbers ``rma()``/``confint()`` print with their defaults —
  including metafor's early stops (PM's τ² can be ~2 % short) and its refusals.

metafor's behaviour at the edges is kept: k = 1 fits with τ² = 0 and switches the test to ``z``
(warning); zero sampling variances make EE, DL, HS, HSk, PM, PMM and DLIT refuse, the others fit
but Q, I², H² and the τ² CI are unavailable (warning); ML/REML fall back to τ² = 0 when that has
the higher likelihood (warning). ``warnings`` carries metafor's warnings word for word; our own
remarks go to ``notes``.

Deliberate differences from metafor, exact mode only (``Control.metafor()`` keeps metafor's way):

* where metafor stops with an error, exact mode goes on: Fisher scoring that oscillates
  ("Fisher scoring algorithm did not converge") is finished by Brent's method on the same
  equation (metafor's own remedy ``stepadj=0.5`` finds the same root); iterated DL/SJ get 1,000
  steps and a relative threshold instead of 100 steps and 1e-5 (they still fail, with metafor's
  message, if that is not enough); a PM/PMM root above ``tau2.max`` is found by widening the
  search;
* a τ² that converges onto the 0 boundary is reported as exactly 0 (metafor's step halving stops a
  few 1e-12 above it);
* always: negative sampling variances are refused (metafor warns and sets them to 0), and an
  all-identical set of studies under ``test="knha"`` gives metafor's zero-width CI plus a note.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from extractor.errors import PoolingError
from extractor.pool._roots import EPS, zeroin
from extractor.pool.effect_sizes import EffectSizes
from extractor.pool.transforms import TRANSFORM_OF, back_transform

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

METHODS: tuple[str, ...] = (
    "EE",
    "FE",
    "DL",
    "REML",
    "ML",
    "PM",
    "HE",
    "SJ",
    "EB",
    "HS",
    "HSk",
    "PMM",
    "DLIT",
    "SJIT",
)
TESTS: tuple[str, ...] = ("z", "knha", "adhoc", "t")
ITERATIVE: tuple[str, ...] = ("ML", "REML", "EB", "PM", "PMM", "SJIT", "DLIT")
_NEEDS_POSITIVE_V = ("DL", "PM", "HS", "HSk", "PMM")


class PoolingWarning(UserWarning):
    """A metafor-style warning about a fit (omitted studies, k = 1, zero variances, ...)."""


@dataclass(frozen=True)
class Control:
    """Numerical settings of the iterative parts (see the module docstring).

    ``threshold``: stop Fisher scoring / fixed-point iterations when τ² changes by at most this
    (times ``max(1, τ²)`` when ``relative``). ``tol``/``maxiter``: Brent's method for PM/PMM.
    ``tau2_max``: PM/PMM search limit (``None``: ``max(100, 10·mad(yi)²)``). ``expand``: widen a
    search interval that does not contain the root instead of refusing/capping. ``ci_*``: the
    same for the Q-profile CI (``ci_tau2_max`` ``None``: ``max(100, 10·τ²)``). ``fallback``: when
    Fisher scoring has not converged after ``switch_after`` steps (slow or oscillating), solve
    the same estimating equation by Brent's method in a bracket around the current iterate
    instead of refusing. ``tau2_init``: starting value (ML/REML/EB/SJ/SJIT/DLIT).
    ``root_solver``: how roots of the generalised Q equation (PM, PMM, Q-profile bounds) are found:
    ``"brent"`` (R's ``uniroot`` algorithm, step for step) or ``"newton"`` (safeguarded Newton
    with the exact derivative ``dQ/dτ² = -Σ w² (y - μ)²``, the exact mode's default: same root,
    fewer steps). ``snap_zero``: report a boundary optimum as exactly 0.
    """

    threshold: float = 1e-12
    relative: bool = True
    tol: float = 1e-14
    maxiter: int = 1000
    stepadj: float = 1.0
    tau2_init: float | None = None
    tau2_max: float | None = None
    expand: bool = True
    ci_tol: float = 1e-14
    ci_maxiter: int = 1000
    ci_tau2_max: float | None = None
    fallback: bool = True
    switch_after: int | None = 40
    snap_zero: bool = True
    root_solver: str = "newton"
    name: str = "exact"

    @classmethod
    def metafor(cls, **changes: Any) -> Control:
        """metafor 3.8's default control values (``rma()`` and ``confint()`` defaults)."""
        base = cls(
            threshold=1e-5,
            relative=False,
            tol=EPS**0.25,
            maxiter=100,
            stepadj=1.0,
            expand=False,
            ci_tol=EPS**0.25,
            ci_maxiter=1000,
            fallback=False,
            switch_after=None,
            snap_zero=False,
            root_solver="brent",
            name="metafor",
        )
        return replace(base, **changes)

    @classmethod
    def coerce(cls, value: Control | str | Mapping[str, Any] | None) -> Control:
        if value is None or value == "exact":
            return cls()
        if value == "metafor":
            return cls.metafor()
        if isinstance(value, Control):
            return value
        if isinstance(value, Mapping):
            try:
                return cls(**dict(value))
            except TypeError as exc:
                raise PoolingError(f"bad control settings: {exc}") from exc
        raise PoolingError(f"control must be 'exact', 'metafor', a Control or a dict, not {value!r}")


# ------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (``sign_lb``/``sign_ub``: '<' or '>' when a
    bound is only known to lie below/above the reported value, as metafor marks it)."""

    estimate: float
    ci_lb: float
    ci_ub: float
    sign_lb: str = ""
    sign_ub: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": _jnum(self.estimate),
            "ci_lb": _jnum(self.ci_lb),
            "ci_ub": _jnum(self.ci_ub),
            "sign_lb": self.sign_lb,
            "sign_ub": self.sign_ub,
        }


@dataclass(frozen=True)
class Transformed:
    """Pooled results back-transformed to the natural scale (metafor's ``predict(transf=)``)."""

    transform: str
    pred: float
    ci_lb: float
    ci_ub: float
    pi_lb: float | None
    pi_ub: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: (_jnum(v) if not isinstance(v, str) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class FitStats:
    """Log-likelihood, deviance, AIC, BIC, AICc under ML and REML (metafor's ``fit.stats``)."""

    ll_ML: float
    dev_ML: float
    AIC_ML: float
    BIC_ML: float
    AICc_ML: float
    ll_REML: float
    dev_REML: float
    AIC_REML: float
    BIC_REML: float
    AICc_REML: float

    def to_dict(self) -> dict[str, Any]:
        return {k: _jnum(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class RmaResult:
    """One fitted model. Field names follow metafor (``ci.lb`` → ``ci_lb``, ``beta`` → ``b``).

    ``tau2_ci``/``tau_ci``/``I2_ci``/``H2_ci`` are the Q-profile CIs (``None`` for EE fits, k = 1,
    fixed τ², or zero sampling variances — ``confint_note`` says which). ``pi_lb``/``pi_ub`` are
    ``None`` for EE fits (metafor's ``predict`` gives no prediction interval there).
    ``weights`` are in percent. ``warnings`` are the warnings metafor gives for this fit (same
    wording); ``notes`` are our own remarks where metafor is silent. ``omitted`` lists the indices
    of studies left out for missing values.
    """

    b: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    se_tau2: float | None
    tau2_ci: Interval | None
    tau_ci: Interval | None
    I2_ci: Interval | None
    H2_ci: Interval | None
    I2: float | None
    H2: float | None
    QE: float | None
    QEp: float | None
    QEdf: int
    pi_lb: float | None
    pi_ub: float | None
    ddf: int | None
    s2w: float
    k: int
    p: int
    method: str
    test: str
    level: float
    measure: str
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    weights: tuple[float, ...]
    fit_stats: FitStats
    transformed: Transformed | None
    confint_note: str | None
    warnings: tuple[str, ...]
    control: str
    omitted: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def beta(self) -> float:
        return self.b

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (non-finite numbers become ``None``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Interval | Transformed | FitStats):
                out[f.name] = v.to_dict()
            elif isinstance(v, tuple):
                out[f.name] = [_jnum(x) if isinstance(x, float) else x for x in v]
            elif isinstance(v, float):
                out[f.name] = _jnum(v)
            else:
                out[f.name] = v
        return out

    def summary(self) -> str:
        """A short human-readable summary, like the first lines of metafor's print."""
        lines = [
            f"{'Equal' if self.method in ('EE', 'FE') else 'Random'}-effects model "
            f"(k = {self.k}; tau^2 estimator: {self.method}; test: {self.test})"
        ]
        if self.method not in ("EE", "FE"):
            lines.append(f"tau^2 = {self.tau2:.4g}" + (f" (SE = {self.se_tau2:.4g})" if self.se_tau2 else ""))
        if self.I2 is not None and self.H2 is not None:
            lines.append(f"I^2 = {self.I2:.2f}%   H^2 = {self.H2:.2f}")
        if self.QE is not None and self.QEp is not None:
            lines.append(f"Q({self.QEdf}) = {self.QE:.4f}, p = {self.QEp:.4g}")
        lines.append(
            f"estimate = {self.b:.4f}, se = {self.se:.4f}, "
            f"{'z' if self.test == 'z' else 't'} = {self.zval:.4f}, p = {self.pval:.4g}, "
            f"{self.level:g}% CI [{self.ci_lb:.4f}, {self.ci_ub:.4f}]"
        )
        if self.pi_lb is not None:
            lines.append(f"prediction interval [{self.pi_lb:.4f}, {self.pi_ub:.4f}]")
        if self.transformed is not None:
            t = self.transformed
            lines.append(f"back-transformed ({t.transform}): {t.pred:.4f} [{t.ci_lb:.4f}, {t.ci_ub:.4f}]")
        return "\n".join(lines)


def _jnum(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return int(x)
    xf = float(x)
    return xf if math.isfinite(xf) else None


@dataclass(frozen=True)
class RmaBatch:
    """Many fits at once: every numeric field is an array with one entry per analysis.

    ``error[i]`` is metafor's refusal for analysis ``i`` (its numbers are then ``NaN``);
    ``warnings[i]`` the warnings for it. ``batch[i]`` gives that analysis as an :class:`RmaResult`.
    """

    b: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    tau2: FloatArray
    se_tau2: FloatArray
    tau2_ci_lb: FloatArray
    tau2_ci_ub: FloatArray
    I2: FloatArray
    H2: FloatArray
    QE: FloatArray
    QEp: FloatArray
    pi_lb: FloatArray
    pi_ub: FloatArray
    s2w: FloatArray
    k: IntArray
    method: str
    test: str
    level: float
    measure: str
    error: tuple[str | None, ...]
    warnings: tuple[tuple[str, ...], ...]
    _core: _Core = field(repr=False)

    def __len__(self) -> int:
        return int(self.b.shape[0])

    def __getitem__(self, i: int) -> RmaResult:
        return self._core.result(i)

    def __iter__(self) -> Iterator[RmaResult]:
        for i in range(len(self)):
            yield self[i]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                out[f.name] = [_jnum(x) for x in v.tolist()]
            elif isinstance(v, tuple):
                out[f.name] = [list(x) if isinstance(x, tuple) else x for x in v]
            else:
                out[f.name] = v
        return out


# ------------------------------------------------------------------------------------------
# The vectorised core


def _by_df(fn: Any, q: float, df: ArrayLike) -> FloatArray:
    """``fn(q, df)`` evaluated once per distinct df (many analyses share the same k)."""
    d = np.asarray(df, dtype=float)
    uniq, inv = np.unique(d, return_inverse=True)
    return np.asarray(np.asarray(fn(q, uniq), dtype=float)[inv].reshape(d.shape), dtype=float)


def _rowsum(x: FloatArray) -> FloatArray:
    """Row sums of a 2-D array as a matrix-vector product (much faster than ``sum(axis=1)`` on
    the short rows of a batch of meta-analyses)."""
    return np.asarray(x @ np.ones(x.shape[1]), dtype=float)


def _halve_until_nonnegative(t: FloatArray, adj: FloatArray, lanes: BoolArray) -> FloatArray:
    """Step halving: ``adj / 2^j`` with the smallest ``j`` such that ``t + adj / 2^j >= 0``.

    Same result as halving in a loop (powers of two are exact), in a few vector operations.
    """
    neg = lanes & (t + adj < 0)
    if not neg.any():
        return adj
    out = adj.copy()
    tn, an = t[neg], adj[neg]
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(tn > 0, np.ceil(np.log2(-an / tn)), 1100.0)
    j = np.clip(np.nan_to_num(j, nan=1.0), 1.0, 1100.0)
    step = np.ldexp(an, -j.astype(int))
    for _ in range(4):  # fix rounding of the logarithm: smallest j that works
        low = (tn + step < 0) & (j < 1100)
        j = np.where(low, j + 1, j)
        step = np.where(low, step / 2, step)
        back = (j > 1) & (tn + step * 2 >= 0)
        j = np.where(back, j - 1, j)
        step = np.where(back, step * 2, step)
    out[neg] = step
    return out


def _masked_sum(x: FloatArray, m: BoolArray) -> FloatArray:
    return _rowsum(np.where(m, x, 0.0))


class _Core:
    """Holds the (analyses × studies) data and everything computed for it."""

    def __init__(
        self,
        Y: FloatArray,
        V: FloatArray,
        M: BoolArray,
        method: str,
        test: str,
        level: float,
        control: Control,
        tau2_fixed: FloatArray | None,
        measure: str,
        ni: FloatArray | None,
        padded: bool = False,
        confint: bool = True,
    ) -> None:
        self.want_confint = confint
        self.Y = np.where(M, Y, 0.0)
        self.V = np.where(M, V, 1.0)
        self.M = M
        self.Mf = M.astype(float)
        self.method = method
        self.test = test
        self.level = level
        self.alpha = (100 - level) / 100
        self.control = control
        self.measure = measure
        self.ni = ni
        n = Y.shape[0]
        self.n = n
        self.k = M.sum(axis=1).astype(np.intp)
        self.df = self.k - 1
        self.errors: list[str | None] = [None] * n
        self._failed = np.zeros(n, dtype=bool)
        self.warns: dict[int, list[str]] = {}  # lane -> metafor's warnings (only lanes that have any)
        self.notes: dict[int, list[str]] = {}
        self.zero_v = (M & (V == 0)).any(axis=1)
        self.omitted = ~M & ~(self._padding_mask(Y, V) if padded else np.zeros_like(M))
        self.tau2_fixed = tau2_fixed
        self._compute()

    @staticmethod
    def _padding_mask(Y: FloatArray, V: FloatArray) -> BoolArray:
        # Trailing all-NaN cells of a 2-D batch are padding (ragged k), not omitted studies.
        both = np.isnan(Y) & np.isnan(V)
        trailing = np.flip(np.cumprod(np.flip(both, axis=1), axis=1), axis=1).astype(bool)
        return np.asarray(trailing, dtype=bool)

    # -- helpers -------------------------------------------------------------------------
    def fail(self, lanes: BoolArray | IntArray, message: str) -> None:
        idx = np.flatnonzero(lanes) if np.asarray(lanes).dtype == bool else np.asarray(lanes)
        for i in idx[~self._failed[idx]]:
            self.errors[int(i)] = message
        self._failed[idx] = True

    def note(self, lanes: BoolArray, message: str) -> None:
        """Our own remarks (metafor is silent there); kept apart from metafor's warnings."""
        for i in np.flatnonzero(lanes):
            got = self.notes.setdefault(int(i), [])
            if message not in got:
                got.append(message)

    def warn(self, lanes: BoolArray, message: str) -> None:
        for i in np.flatnonzero(lanes):
            got = self.warns.setdefault(int(i), [])
            if message not in got:
                got.append(message)

    def ok(self) -> BoolArray:
        return ~self._failed

    def weighted(
        self, tau2: FloatArray, rows: IntArray | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Weights ``1/(v+τ²)``, their sum, the weighted mean and ``Q(τ²) = Σ w (y - μ)²``."""
        Y, V, Mf = (self.Y, self.V, self.Mf) if rows is None else (self.Y[rows], self.V[rows], self.Mf[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            w = Mf / (V + tau2[:, None])  # V is 1 where a study is missing, so w is 0 there
            sw = _rowsum(w)
            mu = np.einsum("ij,ij->i", w, Y) / sw
            r = Y - mu[:, None]
            q = np.einsum("ij,ij,ij->i", w, r, r, optimize=False)
        return w, sw, mu, q

    # -- the pipeline ----------------------------------------------------------------------
    def _compute(self) -> None:
        n, k, df = self.n, self.k, self.df
        self.fail(k == 0, "no study has both an effect size and a sampling variance")
        if self.method in ("EE", "FE"):
            self.fail(self.zero_v, "Division by zero when computing the inverse variance weights.")
        single = k == 1
        if self.test != "z":
            self.warn(single & self.ok(), 'Setting argument test="z" since k=1.')
        if self.method in ("EE", "FE") and self.test in ("knha", "adhoc"):
            self.warn(
                (k > 1) & self.ok(),
                "Knapp & Hartung method is not meant to be used in the context of EE models.",
            )
        self.warn(self.zero_v & self.ok(), "There are outcomes with non-positive sampling variances.")
        if self.method in _NEEDS_POSITIVE_V:
            self.fail(
                self.zero_v & (k > 1),
                f"{self.method} estimator cannot be used when there are non-positive "
                "sampling variances in the data.",
            )
        if self.method == "DLIT":
            self.fail(self.zero_v & (k > 1), "Division by zero when computing the inverse variance weights.")

        # Equal-effects quantities (Q, I², H² for EE; ṽ for I²)
        with np.errstate(divide="ignore", invalid="ignore"):
            w0 = np.where(self.M, 1.0 / self.V, 0.0)
            sw0 = _rowsum(w0)
            sw0_2 = _rowsum(w0**2)
            mu0 = _rowsum(w0 * self.Y) / sw0
            q0 = _rowsum(w0 * (self.Y - mu0[:, None]) ** 2)
            self.vt = df / (sw0 - sw0_2 / sw0)
        self.w0, self.sw0, self.sw0_2, self.q0 = w0, sw0, sw0_2, q0

        tau2 = np.zeros(n)
        se_tau2 = np.full(n, np.nan)
        multi = (k > 1) & self.ok()
        if self.tau2_fixed is not None:
            tau2 = np.where(k > 0, self.tau2_fixed, 0.0)
        elif self.method not in ("EE", "FE") and multi.any():
            est, se = self._estimate_tau2(np.flatnonzero(multi))
            tau2[multi] = est
            se_tau2[multi] = se
        if self.tau2_fixed is None and self.method not in ("EE", "FE"):
            # ML/REML: if τ² = 0 fits better than the converged value, use 0 (metafor's ll0 check)
            self._ll0check(tau2)
        self.tau2 = np.where(self.ok(), tau2, np.nan)
        self.se_tau2 = np.where(self.ok(), se_tau2, np.nan)
        self._inference()
        self._heterogeneity()
        self._prediction()
        self._confint()

    # -- τ² estimators ---------------------------------------------------------------------
    def _estimate_tau2(self, rows: IntArray) -> tuple[FloatArray, FloatArray]:
        m = self.method
        Y, V, M = self.Y[rows], self.V[rows], self.M[rows]
        k = self.k[rows].astype(float)
        df = k - 1
        w0, sw0, sw0_2, q0 = self.w0[rows], self.sw0[rows], self.sw0_2[rows], self.q0[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            sw0_3 = _rowsum(w0**3)
            trP0 = sw0 - sw0_2 / sw0
            sumPP0 = sw0_2 - 2 * sw0_3 / sw0 + (sw0_2 / sw0) ** 2
            if m == "DL":
                t = np.maximum(0.0, (q0 - df) / trP0)
                se = np.sqrt(1 / trP0**2 * (2 * df + 4 * t * trP0 + 2 * t**2 * sumPP0))
                return t, se
            if m in ("HS", "HSk"):
                t = (q0 - k) / sw0 if m == "HS" else (q0 * k / df - k) / sw0
                t = np.maximum(0.0, t)
                se = np.sqrt(1 / sw0**2 * (2 * df + 4 * t * trP0 + 2 * t**2 * sumPP0))
                return t, (se if m == "HS" else se * k / df)
            if m == "HE":
                return self._he(rows, with_se=True)
            if m in ("SJ", "SJIT"):
                ybar = _masked_sum(Y, M) / k
                t0 = _masked_sum((Y - ybar[:, None]) ** 2, M) / k
                if self.control.tau2_init is not None:
                    t0 = np.full_like(t0, float(self.control.tau2_init))
                if m == "SJ":
                    w, sw, mu, q = self.weighted(t0, rows)
                    t = t0 * q / df
                    # se.tau2 (Sidik & Jonkman), P from the weights at the crude estimate:
                    # Σ(PV∘(PV)ᵀ), Σ(PV∘P), Σ(P∘P) for P = W - w wᵀ/Σw, V = diag(v)
                    sw_2 = _rowsum(w**2)
                    sw_3 = _rowsum(w**3)
                    diag = w**2 - 2 * w**3 / sw[:, None]
                    sw2v = _masked_sum(w**2 * V, M)
                    s_pvpv = _masked_sum(diag * V**2, M) + sw2v**2 / sw**2
                    s_pvp = _masked_sum(diag * V, M) + sw_2 * sw2v / sw**2
                    s_pp = sw_2 - 2 * sw_3 / sw + (sw_2 / sw) ** 2
                    se = np.sqrt(t0**2 / df**2 * (2 * s_pvpv + 4 * t * s_pvp + 2 * t**2 * s_pp))
                    return t, se
                t, _ = self._iterate(rows, t0, "SJIT")
                return t, self._se_eb(rows, t)
            if m == "DLIT":
                t_init = (
                    np.zeros(len(rows))
                    if self.control.tau2_init is None
                    else np.full(len(rows), float(self.control.tau2_init))
                )
                t, t_prev = self._iterate(rows, t_init, "DLIT")
                # metafor's se.tau2 for DLIT takes the weights of the last iteration's input
                w, sw, _, _ = self.weighted(t_prev, rows)
                sw_2 = _rowsum(w**2)
                sw_3 = _rowsum(w**3)
                trP = sw - sw_2 / sw
                s_pp = sw_2 - 2 * sw_3 / sw + (sw_2 / sw) ** 2
                se = np.sqrt(1 / trP**2 * (2 * df + 4 * t * trP + 2 * t**2 * s_pp))
                return t, se
            if m in ("ML", "REML", "EB"):
                if self.control.tau2_init is not None:
                    init = np.full(len(rows), max(0.0, float(self.control.tau2_init)))
                else:
                    init, _ = self._he(rows, with_se=False)
                t = self._fisher(rows, init)
                w, sw, _, _ = self.weighted(t, rows)
                if m == "ML":
                    se = np.sqrt(2 / _rowsum(w**2))
                elif m == "REML":
                    sw_2 = _rowsum(w**2)
                    sw_3 = _rowsum(w**3)
                    se = np.sqrt(2 / (sw_2 - 2 * sw_3 / sw + (sw_2 / sw) ** 2))
                else:
                    se = self._se_eb(rows, t)
                return t, se
            if m in ("PM", "PMM"):
                t = self._pm(rows)
                return t, self._se_eb(rows, t)
        raise AssertionError(m)  # pragma: no cover

    def _se_eb(self, rows: IntArray, t: FloatArray) -> FloatArray:
        k = self.k[rows].astype(float)
        _, sw, _, _ = self.weighted(t, rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sqrt(2 * k**2 / (k - 1) / sw**2), dtype=float)

    def _he(self, rows: IntArray, with_se: bool) -> tuple[FloatArray, FloatArray]:
        Y, V, M = self.Y[rows], self.V[rows], self.M[rows]
        k = self.k[rows].astype(float)
        df = k - 1
        ybar = _masked_sum(Y, M) / k
        rss = _masked_sum((Y - ybar[:, None]) ** 2, M)
        sv = _masked_sum(V, M)
        sv2 = _masked_sum(V**2, M)
        trPV = sv - sv / k
        t = np.maximum(0.0, (rss - trPV) / df)
        if not with_se:
            return t, np.full_like(t, np.nan)
        s_pvpv = sv2 * (1 - 2 / k) + sv**2 / k**2
        se = np.sqrt(1 / df**2 * (2 * s_pvpv + 4 * t * trPV + 2 * t**2 * df))
        return t, se

    def _threshold(self, t: FloatArray) -> FloatArray:
        c = self.control
        return c.threshold * np.maximum(1.0, np.abs(t)) if c.relative else np.full_like(t, c.threshold)

    def _fisher(self, rows: IntArray, init: FloatArray) -> FloatArray:
        """Fisher scoring with step halving (ML, REML, EB), as metafor documents it."""
        m, c = self.method, self.control
        tau2 = init.astype(float).copy()
        k = self.k[rows].astype(float)
        active = np.arange(len(rows))
        steps = c.maxiter if (c.switch_after is None or not c.fallback) else min(c.maxiter, c.switch_after)
        for _ in range(steps):
            if not active.size:
                break
            t = tau2[active]
            w, sw, mu, q = self.weighted(t, rows[active])
            Yr = self.Y[rows[active]]
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = (Yr - mu[:, None]) ** 2
                sw_2 = _rowsum(w**2)
                if m == "ML":
                    adj = (_rowsum(w**2 * r2) - sw) / sw_2
                elif m == "REML":
                    sw_3 = _rowsum(w**3)
                    trP = sw - sw_2 / sw
                    trPP = sw_2 - 2 * sw_3 / sw + (sw_2 / sw) ** 2
                    ypp = _rowsum(w**2 * r2)
                    adj = (ypp - trP) / trPP
                else:  # EB
                    kk = k[active]
                    adj = (q * kk / (kk - 1) - kk) / sw
            adj = adj * c.stepadj
            bad = ~np.isfinite(adj)
            if bad.any():
                self.fail(rows[active[bad]], "Division by zero when computing the inverse variance weights.")
            adj = _halve_until_nonnegative(t, adj, ~bad)
            new = t + adj
            change = np.abs(new - t)
            tau2[active] = np.where(bad, t, new)
            done = bad | (change <= self._threshold(new))
            active = active[~done]
        if active.size:
            self._no_convergence(
                rows,
                active,
                tau2,
                "Fisher scoring algorithm did not converge. See 'help(rma)' for possible remedies.",
            )
        self._snap_zero(rows, tau2)
        return tau2

    def _snap_zero(self, rows: IntArray, tau2: FloatArray, equation: str | None = None) -> None:
        """Exact mode: a boundary optimum is τ² = 0 exactly.

        When the estimating equation is already negative at τ² = 0, step halving only creeps
        towards 0 (metafor stops a few 1e-12 above it); such a converged value is set to 0.
        """
        if not self.control.snap_zero:
            return
        vbar = _masked_sum(self.V[rows], self.M[rows]) / np.maximum(self.k[rows], 1)
        near = (tau2 > 0) & (tau2 <= 1e-8 * np.maximum(vbar, 1e-300))
        if near.any():
            idx = np.flatnonzero(near)
            u0 = self._score(np.zeros(idx.size), rows[idx], equation)
            tau2[idx[u0 <= 0]] = 0.0

    def _score(self, t: FloatArray, lanes: IntArray, method: str | None = None) -> FloatArray:
        """The estimating equation solved by Fisher scoring (its root is the estimate)."""
        w, sw, mu, q = self.weighted(t, lanes)
        Yr = self.Y[lanes]
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = (Yr - mu[:, None]) ** 2
            sw_2 = _rowsum(w**2)
            if (method or self.method) == "ML":
                return np.asarray(_rowsum(w**2 * r2) - sw, dtype=float)
            if (method or self.method) == "REML":
                return np.asarray(_rowsum(w**2 * r2) - (sw - sw_2 / sw), dtype=float)
            k = self.k[lanes].astype(float)
            return np.asarray(q / (k - 1) - 1, dtype=float)

    def _no_convergence(self, rows: IntArray, active: IntArray, tau2: FloatArray, message: str) -> None:
        if not self.control.fallback:
            self.fail(rows[active], message)
            return
        # Exact mode: solve the same estimating equation by Brent's method in a bracket grown
        # around the current iterate (so the root Fisher scoring was heading for is found).
        lanes = rows[active]
        t = np.maximum(tau2[active], 0.0)
        f_t = self._score(t, lanes)
        step = np.maximum(np.abs(t) * 1e-3, 1e-10)
        lo, hi = t.copy(), t.copy()
        f_lo, f_hi = f_t.copy(), f_t.copy()
        for _ in range(2100):  # U > 0 left of the root, U < 0 right of it
            need_lo = (f_lo <= 0) & (lo > 0)
            need_hi = f_hi >= 0
            if not (need_lo.any() or need_hi.any()):
                break
            lo = np.where(need_lo, np.maximum(0.0, t - step), lo)
            hi = np.where(need_hi, t + step, hi)
            if need_lo.any():
                f_lo = np.where(need_lo, self._score(lo, lanes), f_lo)
            if need_hi.any():
                f_hi = np.where(need_hi, self._score(hi, lanes), f_hi)
            step = step * 2
        at_zero = (lo == 0) & (f_lo <= 0)
        res = np.zeros(len(lanes))
        solve = np.flatnonzero(~at_zero & (f_lo > 0) & (f_hi < 0))
        if solve.size:

            def g(x: FloatArray, sub: IntArray) -> FloatArray:
                return self._score(x, lanes[solve[sub]])

            root, conv = zeroin(
                g, lo[solve], hi[solve], f_lo[solve], f_hi[solve], self.control.tol, self.control.maxiter
            )
            res[solve] = root
            self.fail(lanes[solve[~conv]], message)
        stuck = ~at_zero & ~np.isin(np.arange(len(lanes)), solve)
        self.fail(lanes[stuck], message)
        tau2[active] = res

    def _iterate(self, rows: IntArray, init: FloatArray, kind: str) -> tuple[FloatArray, FloatArray]:
        """Fixed-point iterations of the iterated SJ / DL estimators: (final, previous) values."""
        c = self.control
        tau2 = init.astype(float).copy()
        prev = tau2.copy()
        active = np.arange(len(rows))
        df = (self.k[rows] - 1).astype(float)
        for _ in range(c.maxiter):
            if not active.size:
                break
            t = tau2[active]
            w, sw, mu, q = self.weighted(t, rows[active])
            with np.errstate(divide="ignore", invalid="ignore"):
                if kind == "SJIT":
                    new = t * q / df[active]
                else:
                    sw_2 = _rowsum(w**2)
                    new = np.maximum(0.0, (q - df[active]) / (sw - sw_2 / sw))
            bad = ~np.isfinite(new)
            if bad.any():
                self.fail(rows[active[bad]], "Division by zero when computing the inverse variance weights.")
            change = np.abs(new - t)
            prev[active] = t
            tau2[active] = np.where(bad, t, new)
            done = bad | (change <= self._threshold(new))
            active = active[~done]
        if active.size:
            what = "SJ" if kind == "SJIT" else "DL"
            self.fail(rows[active], f"Iterative {what} estimator did not converge.")
        if kind == "SJIT":  # the SJIT fixed point is the PM root; Q(0) <= k - 1 means it is 0
            self._snap_zero(rows, tau2, "EB")
        return tau2, prev

    def _solve_q(
        self,
        rows: IntArray,
        target: FloatArray,
        lo: FloatArray,
        hi: FloatArray,
        f_lo: FloatArray,
        f_hi: FloatArray,
        tol: float,
        maxiter: int,
    ) -> tuple[FloatArray, BoolArray]:
        """Root of the decreasing ``Q(τ²) - target`` in ``[lo, hi]`` (``f_lo > 0 > f_hi``).

        ``root_solver="brent"``: R's uniroot steps. ``"newton"``: Newton with the exact derivative,
        falling back to bisection whenever a step leaves the bracket.
        """
        if self.control.root_solver == "brent":

            def g(x: FloatArray, sub: IntArray) -> FloatArray:
                _, _, _, q = self.weighted(x, rows[sub])
                return np.asarray(q - target[sub], dtype=float)

            return zeroin(g, lo, hi, f_lo, f_hi, tol, maxiter)
        lo, hi = lo.copy(), hi.copy()
        x = lo.copy()
        done = np.zeros(len(rows), dtype=bool)
        active = np.arange(len(rows))
        for _ in range(max(maxiter, 200)):
            if not active.size:
                break
            xa = x[active]
            w, sw, mu, q = self.weighted(xa, rows[active])
            fx = q - target[active]
            r = self.Y[rows[active]] - mu[:, None]
            slope = -np.einsum("ij,ij,ij,ij->i", w, w, r, r, optimize=False)
            pos = fx > 0
            lo[active] = np.where(pos, xa, lo[active])
            hi[active] = np.where(pos, hi[active], xa)
            with np.errstate(divide="ignore", invalid="ignore"):
                new = xa + (q - q * q / target[active]) / slope  # Newton on 1/Q(τ²) = 1/target
            la, ha = lo[active], hi[active]
            bad = ~(new > la) | ~(new < ha) | ~np.isfinite(new)
            new = np.where(bad, (la + ha) / 2, new)
            small = np.abs(new - xa) <= 2 * EPS * np.maximum(np.abs(xa), np.abs(new)) + tol / 2
            fin = (fx == 0) | small | (ha - la <= 2 * EPS * np.abs(ha) + tol / 2)
            x[active] = np.where(fx == 0, xa, new)
            done[active[fin]] = True
            active = active[~fin]
        return x, done

    def _pm(self, rows: IntArray) -> FloatArray:
        """Paule–Mandel (and its median-unbiased PMM variant): root of Q(τ²) = target."""
        c = self.control
        df = (self.k[rows] - 1).astype(float)
        target = df if self.method == "PM" else _by_df(stats.chi2.ppf, 0.5, df)
        def f(t: FloatArray, idx: IntArray) -> FloatArray:
            _, _, _, q = self.weighted(t, rows[idx])
            return np.asarray(q - target[idx], dtype=float)

        lanes = np.arange(len(rows))
        zero = np.zeros(len(rows))
        f0 = f(zero, lanes)
        out = np.zeros(len(rows))
        need = f0 >= 0  # Q(0) below its target: τ² = 0
        need &= ~(f0 == 0)
        if c.tau2_max is not None:
            hi = np.full(len(rows), float(c.tau2_max))
        else:
            hi = np.maximum(100.0, 10 * self._mad(rows) ** 2)
        f_hi = f(hi, lanes)
        if c.expand:
            for _ in range(2000):
                grow = need & (f_hi > 0)
                if not grow.any():
                    break
                hi = np.where(grow, hi * 2, hi)
                f_hi = np.where(grow, f(hi, lanes), f_hi)
        else:
            low = need & (f_hi > 0)
            if low.any():
                self.fail(
                    rows[low],
                    "Value of 'tau2.max' too low. Try increasing 'tau2.max' or switch to another 'method'.",
                )
                need &= ~low
        idx = np.flatnonzero(need)
        if idx.size:
            root, conv = self._solve_q(
                rows[idx],
                np.asarray(target, dtype=float)[idx],
                zero[idx],
                hi[idx],
                f0[idx],
                f_hi[idx],
                c.tol,
                c.maxiter,
            )
            out[idx] = root
            if (~conv).any():
                self.fail(rows[idx[~conv]], f"{self.method} estimator did not converge.")
        return out

    def _mad(self, rows: IntArray) -> FloatArray:
        """R's ``mad()``: 1.4826 × the median absolute deviation from the median."""
        y = np.where(self.M[rows], self.Y[rows], np.nan)
        med = np.nanmedian(y, axis=1)
        return np.asarray(1.4826 * np.nanmedian(np.abs(y - med[:, None]), axis=1), dtype=float)

    def _loglik(self, tau2: FloatArray, rows: IntArray | None = None) -> tuple[FloatArray, FloatArray]:
        w, sw, mu, q = self.weighted(tau2, rows)
        V, M = (self.V, self.M) if rows is None else (self.V[rows], self.M[rows])
        k = (self.k if rows is None else self.k[rows]).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            logv = _masked_sum(np.log(V + tau2[:, None]), M)
            ll_ml = -k / 2 * np.log(2 * np.pi) - 0.5 * logv - 0.5 * q
            ll_reml = (
                -(k - 1) / 2 * np.log(2 * np.pi) + 0.5 * np.log(k) - 0.5 * logv - 0.5 * np.log(sw) - 0.5 * q
            )
        return ll_ml, ll_reml

    def _ll0check(self, tau2: FloatArray) -> None:
        if self.method not in ("ML", "REML"):
            return
        lanes = self.ok() & (self.k > 1) & (tau2 > 0) & ~self.zero_v
        if not lanes.any():
            return
        ll_ml, ll_reml = self._loglik(np.where(lanes, tau2, 0.0))
        ll0_ml, ll0_reml = self._loglik(np.zeros(self.n))
        ll, ll0 = (ll_ml, ll0_ml) if self.method == "ML" else (ll_reml, ll0_reml)
        worse = lanes & (ll0 - ll > max(self.control.tol, 1e-10))
        if worse.any():
            tau2[worse] = 0.0
            self.warn(
                worse, "Fisher scoring algorithm may have gotten stuck at a local maximum. Setting tau^2 = 0."
            )

    # -- inference ------------------------------------------------------------------------
    def _inference(self) -> None:
        ok = self.ok()
        tau2 = np.where(ok, self.tau2, 0.0)
        w, sw, b, _ = self.weighted(tau2)
        bad = ok & ~(np.isfinite(sw) & np.isfinite(b))
        self.fail(bad, "Division by zero when computing the inverse variance weights.")
        ok = self.ok()
        df = self.df
        tdist = (self.test != "z") & (self.k > 1)
        self.test_used = np.where(tdist, self.test, "z")
        with np.errstate(divide="ignore", invalid="ignore"):
            vb = 1 / sw
            s2w = np.ones(self.n)
            if self.test in ("knha", "adhoc"):
                rss = _rowsum(w * (self.Y - b[:, None]) ** 2)
                s2w = np.where(self.k > 1, np.where(rss <= EPS, 0.0, rss / df), 1.0)
                if self.test == "adhoc":
                    s2w = np.maximum(1.0, s2w)
                else:
                    self.note(
                        ok & (self.k > 1) & (s2w == 0),
                        "All studies have the same effect: the Knapp-Hartung scale factor is 0 "
                        "and the CI has zero width (metafor's behaviour); consider test='adhoc'.",
                    )
            vb = vb * s2w
            se = np.sqrt(vb)
            zval = b / se
            crit = np.where(
                tdist,
                _by_df(stats.t.ppf, 1 - self.alpha / 2, np.maximum(df, 1)),
                stats.norm.ppf(1 - self.alpha / 2),
            )
            pval = 2 * stats.norm.sf(np.abs(zval))
            if tdist.any():
                pval = np.where(tdist, 2 * stats.t.sf(np.abs(zval), np.maximum(df, 1)), pval)
        self.w, self.sw, self.b, self.vb, self.se = w, sw, b, vb, se
        self.zval, self.pval, self.crit, self.s2w = zval, pval, crit, s2w
        self.tdist = tdist
        self.ci_lb = b - crit * se
        self.ci_ub = b + crit * se

    def _heterogeneity(self) -> None:
        k, df = self.k, self.df
        q = np.where(k > 1, self.q0, 0.0)
        qp = np.where(k > 1, stats.chi2.sf(q, np.maximum(df, 1)), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.method in ("EE", "FE"):
                i2 = np.where(k > 1, np.maximum(0.0, 100 * (q - df) / q), 0.0)
                i2 = np.where((k > 1) & (q == 0), 0.0, i2)
                h2 = np.where(k > 1, q / df, 1.0)
            else:
                i2 = np.where(k > 1, 100 * self.tau2 / (self.vt + self.tau2), 0.0)
                h2 = np.where(k > 1, (self.vt + self.tau2) / self.vt, 1.0)
        nov = self.zero_v & self.ok()
        self.warn(
            nov,
            "Cannot compute Q-test, I^2, or H^2 when there are non-positive sampling variances in the data.",
        )
        self.QE = np.where(nov, np.nan, q)
        self.QEp = np.where(nov, np.nan, qp)
        self.I2 = np.where(nov, np.nan, i2)
        self.H2 = np.where(nov, np.nan, h2)

    def _prediction(self) -> None:
        df = self.df
        with np.errstate(invalid="ignore"):
            crit = np.where(
                self.tdist,
                _by_df(stats.t.ppf, 1 - self.alpha / 2, np.maximum(df, 1)),
                stats.norm.ppf(1 - self.alpha / 2),
            )
            half = crit * np.sqrt(self.vb + self.tau2)
        self.pi_lb = self.b - half
        self.pi_ub = self.b + half

    def _fit_stats(self, rows: IntArray) -> FloatArray:
        """ML and REML fit statistics for ``rows`` (computed when a result is assembled)."""
        tau2 = np.where(self.ok()[rows], self.tau2[rows], 0.0)
        ll_ml, ll_reml = self._loglik(tau2, rows)
        k = self.k[rows].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            sat = -0.5 * _masked_sum(np.log(2 * np.pi * self.V[rows]), self.M[rows])
            # metafor drops the saturated term when a sampling variance is zero (log 0)
            dev_ml = np.where(self.zero_v[rows], -2 * ll_ml, -2 * (ll_ml - sat))
            dev_reml = -2 * ll_reml
            parms = 1.0 + (0.0 if self.method in ("EE", "FE") or self.tau2_fixed is not None else 1.0)
            kr = k - 1
            aic_ml = -2 * ll_ml + 2 * parms
            bic_ml = -2 * ll_ml + parms * np.log(k)
            kk = np.maximum(k, parms + 2)
            aicc_ml = -2 * ll_ml + 2 * parms * kk / (kk - parms - 1)
            aic_reml = -2 * ll_reml + 2 * parms
            bic_reml = -2 * ll_reml + parms * np.log(kr)
            kkr = np.maximum(kr, parms + 2)
            aicc_reml = -2 * ll_reml + 2 * parms * kkr / (kkr - parms - 1)
        return np.asarray(
            np.vstack(
                [ll_ml, dev_ml, aic_ml, bic_ml, aicc_ml, ll_reml, dev_reml, aic_reml, bic_reml, aicc_reml]
            ).T,
            dtype=float,
        )

    # -- Q-profile CI for τ² ----------------------------------------------------------------
    def _confint(self) -> None:
        n = self.n
        self.ci_tau2 = np.full((n, 2), np.nan)
        self.ci_sign = np.full((n, 2), "", dtype=object)
        # why there is no CI (checked in this order, as metafor does); code 0 = computed
        reasons = (
            (self._failed.copy(), ""),
            (self.k == 1, "Stopped because k = 1."),
            (np.full(n, self.method in ("EE", "FE")), "Model does not contain a random-effects component."),
            (np.full(n, self.tau2_fixed is not None), "tau^2 was fixed, not estimated."),
            (np.full(n, not self.want_confint), "not computed (confint=False)"),
            (
                self.zero_v,
                "Cannot compute CI for tau^2 when there are non-positive sampling variances in the data.",
            ),
        )
        self.ci_code = np.zeros(n, dtype=np.intp)
        self.ci_messages = [m for _, m in reasons]
        for code in range(len(reasons), 0, -1):
            self.ci_code[reasons[code - 1][0]] = code
        rows = np.flatnonzero(self.ci_code == 0)
        if not rows.size:
            return
        c = self.control
        df = (self.k[rows] - 1).astype(float)
        crit_ub = _by_df(stats.chi2.ppf, self.alpha / 2, df)  # Q(τ²_ub) = lower χ² quantile
        crit_lb = _by_df(stats.chi2.ppf, 1 - self.alpha / 2, df)
        if c.ci_tau2_max is not None:
            hi0 = np.full(len(rows), float(c.ci_tau2_max))
        else:
            hi0 = np.maximum(100.0, 10 * self.tau2[rows])
        q0 = self.q0[rows]  # Q(0): the equal-effects Q statistic
        _, _, _, q_hi0 = self.weighted(hi0, rows)
        lb_root = np.zeros(len(rows))
        lb_solved = np.zeros(len(rows), dtype=bool)
        for col, crit in ((0, crit_lb), (1, crit_ub)):
            lo = np.zeros(len(rows))
            f_lo = q0 - crit
            if col == 1 and c.root_solver == "newton":
                # the upper bound lies above the lower one: start there (Q(lb) = crit_lb > crit_ub)
                lo = np.where(lb_solved, lb_root, 0.0)
                f_lo = np.where(lb_solved, crit_lb - crit, f_lo)
            hi = hi0.copy()
            f_hi = q_hi0 - crit
            if c.expand:
                for _ in range(2000):
                    grow = np.flatnonzero((f_lo >= 0) & (f_hi > 0) & (hi < 1e300))
                    if not grow.size:
                        break
                    hi[grow] *= 2
                    _, _, _, qg = self.weighted(hi[grow], rows[grow])
                    f_hi[grow] = qg - crit[grow]
            out = np.zeros(len(rows))
            sign = np.full(len(rows), "", dtype=object)
            below = (q0 - crit) < 0
            sign[below] = "<"
            above = ~below & (f_hi > 0)
            out[above] = hi[above]
            sign[above] = ">"
            solve = np.flatnonzero(~below & ~above)
            if solve.size:
                root, _ = self._solve_q(
                    rows[solve],
                    crit[solve],
                    lo[solve],
                    hi[solve],
                    f_lo[solve],
                    f_hi[solve],
                    c.ci_tol,
                    c.ci_maxiter,
                )
                out[solve] = root
                if col == 0:
                    lb_root[solve] = root
                    lb_solved[solve] = True
            self.ci_tau2[rows, col] = out
            self.ci_sign[rows, col] = sign

    # -- assembling results -----------------------------------------------------------------
    def result(self, i: int) -> RmaResult:
        if self.errors[i] is not None:
            raise PoolingError(self.errors[i])
        k = int(self.k[i])
        mask = self.M[i]
        ee = self.method in ("EE", "FE")
        zero_v = bool(self.zero_v[i])
        code = int(self.ci_code[i])
        note = None if code == 0 else (self.ci_messages[code - 1] or self.errors[i])
        t2ci = tci = i2ci = h2ci = None
        if note is None:
            lb, ub = self.ci_tau2[i]
            slb, sub = self.ci_sign[i]
            vt = float(self.vt[i])
            t2ci = Interval(float(self.tau2[i]), float(lb), float(ub), slb, sub)
            tci = Interval(math.sqrt(self.tau2[i]), math.sqrt(lb), math.sqrt(ub), slb, sub)
            i2ci = Interval(float(self.I2[i]), 100 * lb / (vt + lb), 100 * ub / (vt + ub), slb, sub)
            h2ci = Interval(float(self.H2[i]), (vt + lb) / vt, (vt + ub) / vt, slb, sub)
        test_used = str(self.test_used[i])
        ddf = int(self.df[i]) if self.tdist[i] else None
        fs = FitStats(*[float(x) for x in self._fit_stats(np.array([i]))[0]])
        transformed = None
        tname = TRANSFORM_OF.get(self.measure)
        if tname is not None:
            ni = None if self.ni is None else self.ni[i][mask]
            fn = back_transform(self.measure, ni)
            if fn is not None:
                vals = [
                    float(fn(x))
                    for x in (self.b[i], self.ci_lb[i], self.ci_ub[i], self.pi_lb[i], self.pi_ub[i])
                ]
                transformed = Transformed(
                    tname, vals[0], vals[1], vals[2], None if ee else vals[3], None if ee else vals[4]
                )
        omitted = tuple(int(j) for j in np.flatnonzero(self.omitted[i]))
        return RmaResult(
            b=float(self.b[i]),
            se=float(self.se[i]),
            zval=float(self.zval[i]),
            pval=float(self.pval[i]),
            ci_lb=float(self.ci_lb[i]),
            ci_ub=float(self.ci_ub[i]),
            tau2=float(self.tau2[i]),
            se_tau2=None if (ee or k == 1 or self.tau2_fixed is not None) else float(self.se_tau2[i]),
            tau2_ci=t2ci,
            tau_ci=tci,
            I2_ci=i2ci,
            H2_ci=h2ci,
            I2=None if zero_v else float(self.I2[i]),
            H2=None if zero_v else float(self.H2[i]),
            QE=None if zero_v else float(self.QE[i]),
            QEp=None if zero_v else float(self.QEp[i]),
            QEdf=k - 1,
            pi_lb=None if ee else float(self.pi_lb[i]),
            pi_ub=None if ee else float(self.pi_ub[i]),
            ddf=ddf,
            s2w=float(self.s2w[i]),
            k=k,
            p=1,
            method=self.method,
            test=test_used,
            level=self.level,
            measure=self.measure,
            yi=tuple(float(x) for x in self.Y[i][mask]),
            vi=tuple(float(x) for x in self.V[i][mask]),
            weights=tuple(float(x) for x in (100 * self.w[i] / self.sw[i])[mask]),
            fit_stats=fs,
            transformed=transformed,
            confint_note=note,
            warnings=tuple(self.warns.get(i, ())),
            control=self.control.name,
            omitted=omitted,
            notes=tuple(self.notes.get(i, ())),
        )


# ------------------------------------------------------------------------------------------
# Public entry point


def _as_2d(name: str, x: ArrayLike) -> FloatArray:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise PoolingError(f"rma: {name} is not numeric ({exc})") from exc
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(1, -1)
    elif a.ndim != 2:
        raise PoolingError(f"rma: {name} must be 1-D (studies) or 2-D (analyses × studies)")
    return a


def rma(
    yi: ArrayLike | EffectSizes,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    tau2: float | ArrayLike | None = None,
    measure: str | None = None,
    ni: ArrayLike | None = None,
    control: Control | str | Mapping[str, Any] | None = None,
    confint: bool = True,
    emit_warnings: bool = True,
) -> Any:
    """Fit an equal- or random-effects model like metafor's ``rma(yi, vi, method=, test=)``.

    ``yi`` may be an :class:`~extractor.pool.effect_sizes.EffectSizes` (from ``escalc``): its
    ``vi``, ``measure`` and ``ni`` are then used. ``measure`` selects the back-transformation of
    the pooled result (``ni`` is needed for ``PFT``). ``tau2`` fixes τ² instead of estimating it.
    ``control``: ``"exact"`` (default), ``"metafor"`` or a :class:`Control`. ``confint=False``
    skips the Q-profile CI of τ² (``tau2_ci`` is then ``None`` and ``confint_note`` says so).

    Returns an :class:`RmaResult` for 1-D inputs, an :class:`RmaBatch` for 2-D inputs. A model
    metafor refuses raises :class:`~extractor.errors.PoolingError` (1-D) or is reported in
    ``RmaBatch.error`` (2-D). metafor's warnings are issued as :class:`PoolingWarning` and kept
    in ``.warnings``.
    """
    if isinstance(yi, EffectSizes):
        es = yi
        yi, vi = es.yi, es.vi
        measure = measure or es.measure
        ni = es.ni if ni is None else ni
    if method not in METHODS:
        raise PoolingError(f"unknown method {method!r}; use one of: {', '.join(METHODS)}")
    if test not in TESTS:
        raise PoolingError(f"unknown test {test!r}; use one of: {', '.join(TESTS)}")
    if not 0 < float(level) < 100:
        raise PoolingError(f"level must lie between 0 and 100 (got {level})")
    if vi is None:
        if sei is None:
            raise PoolingError("rma needs the sampling variances 'vi' (or standard errors 'sei')")
        vi = np.asarray(sei, dtype=float) ** 2
    one = np.asarray(yi, dtype=float).ndim <= 1
    Y = _as_2d("yi", yi)
    V = _as_2d("vi", vi)
    if Y.shape != V.shape:
        raise PoolingError(f"rma: yi and vi differ in shape ({Y.shape} vs {V.shape})")
    bad_v = ~np.isnan(V) & (V < 0)
    if bad_v.any():
        idx = np.argwhere(bad_v)[0]
        where = int(idx[1]) if one else tuple(int(j) for j in idx)
        raise PoolingError(
            f"rma: sampling variance vi at study {where} is negative ({V[tuple(idx)]:g}); "
            "variances must be >= 0"
        )
    infinite = ~np.isnan(Y) & ~np.isfinite(Y) | (~np.isnan(V) & ~np.isfinite(V))
    if infinite.any():
        raise PoolingError("rma: yi and vi must be finite numbers (NaN marks a missing value)")
    M = ~np.isnan(Y) & ~np.isnan(V)
    ctl = Control.coerce(control)
    meas = measure or "GEN"
    ni_arr = None if ni is None else _as_2d("ni", ni)
    if ni_arr is not None and ni_arr.shape != Y.shape:
        ni_arr = np.broadcast_to(ni_arr, Y.shape)
    if meas == "PFT" and ni_arr is None:
        raise PoolingError("rma(measure='PFT') needs ni (sample sizes) for the back-transformation")
    t_fixed = None
    if tau2 is not None:
        t_fixed = np.broadcast_to(np.asarray(tau2, dtype=float), (Y.shape[0],)).astype(float)
        if (t_fixed < 0).any() or not np.isfinite(t_fixed).all():
            raise PoolingError("rma: a fixed tau2 must be a finite number >= 0")
    name = "EE" if method == "FE" else method
    core = _Core(
        Y, V, M, name, test, float(level), ctl, t_fixed, meas, ni_arr, padded=not one, confint=confint
    )
    if method == "FE":
        core.method = "FE"
    # NA omission warning (metafor: "Studies with NAs omitted from model fitting.")
    has_omitted = core.omitted.any(axis=1)
    for i in np.flatnonzero(has_omitted):
        core.warns.setdefault(int(i), []).insert(0, "Studies with NAs omitted from model fitting.")
    if one:
        if core.errors[0] is not None:
            raise PoolingError(core.errors[0])
        res = core.result(0)
        if emit_warnings:
            for w in (*res.warnings, *res.notes):
                warnings.warn(w, PoolingWarning, stacklevel=2)
        return res
    batch = RmaBatch(
        b=core.b,
        se=core.se,
        zval=core.zval,
        pval=core.pval,
        ci_lb=core.ci_lb,
        ci_ub=core.ci_ub,
        tau2=core.tau2,
        se_tau2=core.se_tau2,
        tau2_ci_lb=core.ci_tau2[:, 0],
        tau2_ci_ub=core.ci_tau2[:, 1],
        I2=core.I2,
        H2=core.H2,
        QE=core.QE,
        QEp=core.QEp,
        pi_lb=core.pi_lb,
        pi_ub=core.pi_ub,
        s2w=core.s2w,
        k=core.k,
        method=method,
        test=test,
        level=float(level),
        measure=meas,
        error=tuple(core.errors),
        warnings=tuple(tuple(core.warns.get(i, ())) for i in range(core.n)),
        _core=core,
    )
    _blank_errors(batch)
    if emit_warnings:
        n_err = sum(e is not None for e in core.errors)
        n_warn = len(core.warns)
        if n_err:
            warnings.warn(
                f"{n_err} of {len(batch)} analyses could not be fitted (see .error)",
                PoolingWarning,
                stacklevel=2,
            )
        if n_warn:
            warnings.warn(
                f"{n_warn} of {len(batch)} analyses have warnings (see .warnings)",
                PoolingWarning,
                stacklevel=2,
            )
    return batch


def _blank_errors(batch: RmaBatch) -> None:
    bad = np.array([e is not None for e in batch.error], dtype=bool)
    if not bad.any():
        return
    for f in fields(batch):
        v = getattr(batch, f.name)
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            v[bad] = np.nan


def rma_many(yi: Sequence[ArrayLike], vi: Sequence[ArrayLike], **kwargs: Any) -> RmaBatch:
    """Fit many meta-analyses of different sizes: lists of 1-D arrays are padded with NaN."""
    if len(yi) != len(vi):
        raise PoolingError("rma_many: yi and vi must hold the same number of analyses")
    kmax = max((len(np.atleast_1d(y)) for y in yi), default=0)
    Y = np.full((len(yi), kmax), np.nan)
    V = np.full((len(yi), kmax), np.nan)
    for i, (y, v) in enumerate(zip(yi, vi, strict=True)):
        y1, v1 = np.atleast_1d(np.asarray(y, dtype=float)), np.atleast_1d(np.asarray(v, dtype=float))
        if y1.shape != v1.shape:
            raise PoolingError(f"rma_many: analysis {i}: yi and vi differ in length")
        Y[i, : len(y1)] = y1
        V[i, : len(v1)] = v1
    out = rma(Y, V, **kwargs)
    assert isinstance(out, RmaBatch)
    return out
