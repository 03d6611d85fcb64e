"""Turn what abstracts report into the mean and SD that effect sizes need.

Every function returns plain numbers; :func:`score_mean_sd` wraps them for one reported score and
says *how* the mean and SD were obtained (``MeanSD.converted`` and ``MeanSD.how``), so converted
values are always marked in the pooling outputs.

Medians → means and SDs (the quantities follow Wan et al. 2014 and Luo et al. 2018):

* **mean**: Luo, Wan, Liu & Tong (2018, *Stat Methods Med Res* 27:1785–1805), the optimally
  weighted estimators for the three reporting scenarios — S1 {min, median, max}, S2 {min, Q1,
  median, Q3, max}, S3 {Q1, median, Q3}. ``method="wan"`` uses Wan, Wang, Liu & Tong (2014,
  *BMC Med Res Methodol* 14:135) instead: ``(a + 2m + b)/4``, ``(a + 2q1 + 2m + 2q3 + b)/8``,
  ``(q1 + m + q3)/3``.
* **SD**: Wan et al. (2014) in every case: ``(b - a)/ξ(n)``; ``(b - a)/(2ξ(n)) + (q3 - q1)/(2η(n))``;
  ``(q3 - q1)/η(n)`` with ``ξ(n) = 2Φ⁻¹((n - 0.375)/(n + 0.25))`` and
  ``η(n) = 2Φ⁻¹((0.75n - 0.125)/(n + 0.25))``.

This is the combination R's ``meta`` package uses by default for the mean (Luo) with Wan's SD.
These estimators assume roughly normal data; for strongly skewed pain scores they are
approximations (the outputs say a value was converted so a reviewer can judge).

Other conversions (Cochrane Handbook §6.5.2): SD from a standard error ``SE·√n``; from a
confidence interval of a mean ``√n (upper - lower) / (2 t_{1-α/2, n-1})`` (``dist="z"`` uses the
normal quantile, i.e. 3.92 for 95 %); from a t statistic or an exact two-sided p-value of a mean
(change) or a difference between two means (``SE = |difference| / t``). An inequality such as
``p < 0.001`` is not converted: it bounds the SD but does not give it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from extractor.errors import PoolingError


@dataclass(frozen=True)
class MeanSD:
    """A mean with its SD, and how they were obtained (``converted`` is False if reported)."""

    mean: float
    sd: float
    converted: bool
    how: str


def _need_n(n: float | None, what: str) -> float:
    if n is None or not math.isfinite(n):
        raise PoolingError(f"{what} needs the sample size n")
    if n < 2:
        raise PoolingError(f"{what} needs a sample size of at least 2 (got {n:g})")
    return float(n)


def _xi(n: float) -> float:
    return float(2 * stats.norm.ppf((n - 0.375) / (n + 0.25)))


def _eta(n: float) -> float:
    return float(2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25)))


def _check_order(*vals: float | None) -> None:
    present = [v for v in vals if v is not None]
    if any(b < a for a, b in zip(present, present[1:], strict=False)):
        raise PoolingError(
            "quantiles must be in increasing order (min ≤ Q1 ≤ median ≤ Q3 ≤ max); "
            f"got {', '.join(f'{v:g}' for v in present)}"
        )


def _spans(q1: float | None, q3: float | None, minimum: float | None,
           maximum: float | None) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """``(range, iqr)``: each ``(low, high)`` when both ends are given, else ``None``."""
    rng = (minimum, maximum) if minimum is not None and maximum is not None else None
    iqr = (q1, q3) if q1 is not None and q3 is not None else None
    return rng, iqr


def wan_sd(
    n: float,
    *,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Wan et al. (2014) SD from the range and/or the IQR."""
    nn = _need_n(n, "SD from a median")
    rng, iqr = _spans(q1, q3, minimum, maximum)
    if rng and iqr:
        return (rng[1] - rng[0]) / (2 * _xi(nn)) + (iqr[1] - iqr[0]) / (2 * _eta(nn))
    if rng:
        return (rng[1] - rng[0]) / _xi(nn)
    if iqr:
        return (iqr[1] - iqr[0]) / _eta(nn)
    raise PoolingError("an SD from a median needs the IQR (Q1, Q3) and/or the range (min, max)")


def wan_mean(
    median: float,
    *,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Wan et al. (2014) mean from the median with the range and/or the IQR."""
    rng, iqr = _spans(q1, q3, minimum, maximum)
    if rng and iqr:
        return (rng[0] + 2 * iqr[0] + 2 * median + 2 * iqr[1] + rng[1]) / 8
    if rng:
        return (rng[0] + 2 * median + rng[1]) / 4
    if iqr:
        return (iqr[0] + median + iqr[1]) / 3
    raise PoolingError("a mean from a median needs the IQR (Q1, Q3) and/or the range (min, max)")


def luo_mean(
    median: float,
    n: float,
    *,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Luo et al. (2018) mean from the median with the range and/or the IQR."""
    nn = _need_n(n, "a mean from a median")
    rng, iqr = _spans(q1, q3, minimum, maximum)
    if rng and iqr:
        w1 = 2.2 / (2.2 + nn**0.75)
        w2 = 0.7 - 0.72 / nn**0.55
        return float(w1 * (rng[0] + rng[1]) / 2 + w2 * (iqr[0] + iqr[1]) / 2 + (1 - w1 - w2) * median)
    if rng:
        w = 4 / (4 + nn**0.75)
        return float(w * (rng[0] + rng[1]) / 2 + (1 - w) * median)
    if iqr:
        w = 0.7 + 0.39 / nn
        return float(w * (iqr[0] + iqr[1]) / 2 + (1 - w) * median)
    raise PoolingError("a mean from a median needs the IQR (Q1, Q3) and/or the range (min, max)")


def mean_sd_from_median(
    median: float,
    n: float,
    *,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    method: str = "luo",
) -> MeanSD:
    """Mean (Luo 2018, or Wan 2014 with ``method="wan"``) and SD (Wan 2014) from a median."""
    if method not in ("luo", "wan"):
        raise PoolingError(f"method must be 'luo' or 'wan', not {method!r}")
    _check_order(minimum, q1, median, q3, maximum)
    nn = _need_n(n, "converting a median")
    rng, iqr = _spans(q1, q3, minimum, maximum)
    parts = [p for p, span in (("IQR", iqr), ("range", rng)) if span]
    if method == "luo":
        mean = luo_mean(median, nn, q1=q1, q3=q3, minimum=minimum, maximum=maximum)
    else:
        mean = wan_mean(median, q1=q1, q3=q3, minimum=minimum, maximum=maximum)
    sd = wan_sd(nn, q1=q1, q3=q3, minimum=minimum, maximum=maximum)
    label = "Luo 2018" if method == "luo" else "Wan 2014"
    return MeanSD(mean, sd, True, f"mean ({label}) and SD (Wan 2014) from median and {' and '.join(parts)}")


def sd_from_se(se: float, n: float) -> float:
    """SD of a mean from its standard error: ``SE·√n``."""
    if not se > 0:
        raise PoolingError(f"a standard error must be > 0 (got {se:g})")
    return se * math.sqrt(_need_n(n, "SD from an SE"))


def sd_from_ci(lower: float, upper: float, n: float, *, level: float = 95.0, dist: str = "t") -> float:
    """SD of a mean from its confidence interval: ``√n (upper - lower) / (2 q)``.

    ``q`` is the t quantile with n - 1 df (``dist="t"``, right for small samples) or the normal
    quantile (``dist="z"``: 1.96 for 95 %).
    """
    nn = _need_n(n, "SD from a CI")
    if not upper > lower:
        raise PoolingError(f"a confidence interval needs lower < upper (got {lower:g} to {upper:g})")
    if not 0 < level < 100:
        raise PoolingError("level must lie between 0 and 100")
    a = 1 - (100 - level) / 200
    if dist == "t":
        q = float(stats.t.ppf(a, nn - 1))
    elif dist == "z":
        q = float(stats.norm.ppf(a))
    else:
        raise PoolingError("dist must be 't' or 'z'")
    return math.sqrt(nn) * (upper - lower) / (2 * q)


def t_from_p(p: float, df: float) -> float:
    """The |t| statistic that gives an exact two-sided p-value with ``df`` degrees of freedom."""
    if not 0 < p < 1:
        raise PoolingError(f"a p-value must lie strictly between 0 and 1 (got {p:g})")
    if not df >= 1:
        raise PoolingError("the t distribution needs at least 1 degree of freedom")
    return float(stats.t.isf(p / 2, df))


def sd_from_t(difference: float, t: float, n1: float, n2: float | None = None) -> float:
    """SD from a t statistic of a mean change (one group, ``n1``) or of a difference of two means.

    One group: ``SD = √n1 |difference| / |t|``. Two groups (pooled SD):
    ``SD = |difference| / (|t| √(1/n1 + 1/n2))``.
    """
    if t == 0 or not math.isfinite(t):
        raise PoolingError("a t statistic of 0 gives no SD")
    if difference == 0:
        raise PoolingError("a difference of 0 gives no SD")
    se = abs(difference) / abs(t)
    if n2 is None:
        return se * math.sqrt(_need_n(n1, "SD from t"))
    n1f = _need_n(n1, "SD from t")
    n2f = _need_n(n2, "SD from t")
    return se / math.sqrt(1 / n1f + 1 / n2f)


def sd_from_p(difference: float, p: float, n1: float, n2: float | None = None) -> float:
    """SD from an exact two-sided p-value of a t test (df ``n1 - 1`` or ``n1 + n2 - 2``)."""
    n1f = _need_n(n1, "SD from p")
    df = n1f - 1 if n2 is None else n1f + _need_n(n2, "SD from p") - 2
    return sd_from_t(difference, t_from_p(p, df), n1f, n2)


def score_mean_sd(
    value: float,
    stat: str,
    spread: str | None,
    spread_values: tuple[float, ...],
    n: float | None,
    *,
    method: str = "luo",
    ci_dist: str = "t",
) -> MeanSD:
    """Mean and SD for one reported score (fields as in ``extractor.records.Score``).

    ``mean ± sd`` is used as reported; ``mean`` with ``se`` or ``ci95`` gives the SD by
    conversion; a ``median`` with ``iqr`` or ``range`` gives both by Luo/Wan. Anything else
    raises :class:`PoolingError` saying what is missing (the caller lists it as skipped).
    """
    family = {"mean": "mean", "mean_change": "mean", "median": "median", "median_change": "median"}.get(stat)
    if family is None:
        raise PoolingError(f"a '{stat}' value is not a mean or a median")
    if family == "mean":
        if spread == "sd":
            sd = spread_values[0]
            if not sd > 0:
                raise PoolingError(f"SD must be > 0 (got {sd:g})")
            return MeanSD(value, sd, False, "reported mean and SD")
        if spread == "se":
            if n is None:
                raise PoolingError("SD from an SE needs n")
            return MeanSD(value, sd_from_se(spread_values[0], n), True, "SD = SE × √n")
        if spread == "ci95":
            if n is None:
                raise PoolingError("SD from a 95% CI needs n")
            lo, hi = spread_values
            how = "SD from the 95% CI (t quantile)" if ci_dist == "t" else "SD from the 95% CI (1.96)"
            return MeanSD(value, sd_from_ci(lo, hi, n, dist=ci_dist), True, how)
        if spread is None:
            raise PoolingError("a mean reported without a spread (no SD, SE or CI)")
        raise PoolingError(f"a mean with a {spread} cannot give an SD")
    if spread not in ("iqr", "range"):
        raise PoolingError("a median needs its IQR or range to be converted to a mean and SD")
    if n is None:
        raise PoolingError("converting a median needs n")
    lo, hi = spread_values
    if spread == "iqr":
        return mean_sd_from_median(value, n, q1=lo, q3=hi, method=method)
    return mean_sd_from_median(value, n, minimum=lo, maximum=hi, method=method)
