"""Effect sizes and their sampling variances, as metafor 3.8's ``escalc`` computes them.

Every function is vectorised: inputs broadcast against each other (scalars, 1-D vectors of
studies, or 2-D ``(analyses, studies)`` batches), and ``NaN`` marks a missing value, which
gives a missing (``NaN``) effect that :func:`extractor.pool.rma` omits with metafor's warning.
Values that cannot be right (a negative or zero SD, ``n < 2`` for a mean, events > n, a
correlation outside (-1, 1), ...) raise :class:`~extractor.errors.PoolingError` naming the
argument and the study index — they never turn into a silent ``NaN``.

Measures (metafor's names and conventions):

=========  =====================================================================================
``MD``     raw mean difference ``m1i - m2i``; ``vtype`` ``LS`` (default, unequal variances) or
           ``HO`` (pooled variance)
``SMD``    Hedges' g with the exact gamma-function correction ``J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2))``,
           ``m = n1i + n2i - 2``; ``vtype`` ``LS`` (default), ``UB``, ``LS2`` or ``AV``
``ROM``    log ratio of means ``log(m1i / m2i)``; ``vtype`` ``LS`` or ``HO``
``MC``     raw mean change ``m1i - m2i`` (``m1i`` = follow-up, ``m2i`` = baseline), variance
           ``(sd1i² + sd2i² - 2 ri sd1i sd2i) / ni``
``SMCC``   standardised mean change, change-score SD: ``J(ni-1) (m1i - m2i) / sd_change``,
           variance ``1/ni + yi² / (2 ni)``
``SMCR``   standardised mean change, raw-score SD (``sd1i`` = the baseline SD):
           ``J(ni-1) (m1i - m2i) / sd1i``, variance ``2 (1 - ri) / ni + yi² / (2 ni)``
``PR``     raw proportion ``xi / ni``, variance ``yi (1 - yi) / ni``
``PLO``    logit, variance ``1/xi + 1/(ni - xi)``
``PAS``    arcsine square root, variance ``1 / (4 ni)``
``PFT``    Freeman–Tukey double arcsine, variance ``1 / (4 ni + 2)``
``RR``     log risk ratio, ``OR`` log odds ratio, ``RD`` risk difference (2×2 tables from
           ``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``)
``GEN``    given ``yi`` with ``vi`` (or ``sei``)
=========  =====================================================================================

Zero cells follow metafor's defaults: ``add=1/2, to="only0"`` (``add=0`` for ``PAS``/``PFT``),
``to`` one of ``"only0"``, ``"all"``, ``"if0all"``, ``"none"``; ``drop00=True`` sets 2×2 tables
with no events (or only events) in both groups to missing. A computation that divides by zero
(e.g. ``PLO`` of 0/n with ``add=0``) gives a missing value, as in metafor, never an infinity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from extractor.errors import PoolingError

FloatArray = NDArray[np.float64]

MEASURES: tuple[str, ...] = (
    "MD",
    "SMD",
    "ROM",
    "MC",
    "SMCC",
    "SMCR",
    "PR",
    "PLO",
    "PAS",
    "PFT",
    "RR",
    "OR",
    "RD",
    "GEN",
)
#: Measures whose pooled value is reported back on another scale (see ``transforms``).
TWO_GROUP_CONTINUOUS = ("MD", "SMD", "ROM")
PRE_POST = ("MC", "SMCC", "SMCR")
PROPORTIONS = ("PR", "PLO", "PAS", "PFT")
TWO_BY_TWO = ("RR", "OR", "RD")

_VTYPES: dict[str, tuple[str, ...]] = {
    "SMD": ("LS", "UB", "LS2", "AV"),
    "MD": ("LS", "HO"),
    "ROM": ("LS", "HO"),
}
_TO = ("only0", "all", "if0all", "none")


@dataclass(frozen=True)
class EffectSizes:
    """What :func:`escalc` returns: ``yi``, ``vi`` (same shape) and ``ni`` (total sample size).

    Unpacks as ``yi, vi = escalc(...)``. ``ni`` is metafor's ``attr(yi, "ni")`` (the total number
    of participants behind each effect; ``PFT`` back-transformation uses its harmonic mean).
    """

    measure: str
    yi: FloatArray
    vi: FloatArray
    ni: FloatArray

    def __iter__(self) -> Iterator[FloatArray]:
        yield self.yi
        yield self.vi

    @property
    def sei(self) -> FloatArray:
        return np.sqrt(self.vi)


def cmicalc(m: ArrayLike) -> FloatArray:
    """Hedges' exact small-sample correction ``J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2))``."""
    mm = np.asarray(m, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(gammaln(mm / 2) - 0.5 * np.log(mm / 2) - gammaln((mm - 1) / 2))
    return np.asarray(np.where(mm > 1, out, np.nan), dtype=float)


def _arr(name: str, x: ArrayLike | None, required: bool, measure: str) -> FloatArray | None:
    if x is None:
        if required:
            raise PoolingError(f"escalc(measure={measure!r}) needs argument '{name}'")
        return None
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise PoolingError(f"escalc: argument '{name}' is not numeric ({exc})") from exc
    return a


def _where(mask: NDArray[np.bool_]) -> str:
    idx = np.argwhere(mask)
    first = tuple(int(i) for i in idx[0])
    if not first:
        return "the given value"
    where = first[0] if len(first) == 1 else first
    more = f" (and {len(idx) - 1} more)" if len(idx) > 1 else ""
    return f"study {where}{more}"  # index into the inputs (0-based)


def _check(cond_bad: NDArray[np.bool_], message: str) -> None:
    """Raise PoolingError when any non-missing value violates a constraint."""
    bad = np.asarray(cond_bad, dtype=bool)
    if bad.any():
        raise PoolingError(f"{message} at {_where(bad)}")


def _positive(name: str, a: FloatArray, measure: str, strict: bool = True) -> None:
    bad = (a <= 0) if strict else (a < 0)
    _check(~np.isnan(a) & bad, f"escalc({measure}): {name} must be {'> 0' if strict else '>= 0'}")


def _sizes(name: str, a: FloatArray, measure: str, minimum: float) -> None:
    _check(
        ~np.isnan(a) & (a < minimum),
        f"escalc({measure}): {name} must be at least {minimum:g} (a sample size)",
    )


def _finite_or_nan(*arrays: FloatArray) -> FloatArray:
    out = np.broadcast_arrays(*arrays)[0]
    return np.asarray(out, dtype=float)


def _clean(x: FloatArray) -> FloatArray:
    """Non-finite results (division by zero) become missing, as metafor recodes them to NA."""
    x = np.asarray(x, dtype=float)
    return np.where(np.isfinite(x), x, np.nan)


def escalc(
    measure: str,
    *,
    ai: ArrayLike | None = None,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    m1i: ArrayLike | None = None,
    m2i: ArrayLike | None = None,
    sd1i: ArrayLike | None = None,
    sd2i: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    mi: ArrayLike | None = None,
    ni: ArrayLike | None = None,
    ri: ArrayLike | None = None,
    yi: ArrayLike | None = None,
    vi: ArrayLike | None = None,
    sei: ArrayLike | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
) -> EffectSizes:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` like metafor's ``escalc``.

    Arguments carry metafor's names (see the module docstring for each measure's inputs).
    ``add`` defaults to 1/2 (0 for ``PAS`` and ``PFT``), ``to="only0"``, ``drop00=False``,
    ``vtype="LS"``.
    """
    m = str(measure).upper() if str(measure).upper() in MEASURES else str(measure)
    if m not in MEASURES:
        raise PoolingError(f"unknown measure {measure!r}; use one of: {', '.join(MEASURES)}")
    if to not in _TO:
        raise PoolingError(f"escalc: to={to!r} is not one of {', '.join(_TO)}")
    allowed_vtypes = _VTYPES.get(m, ("LS",))
    if vtype not in allowed_vtypes:
        raise PoolingError(
            f"escalc({m}): vtype={vtype!r} is not supported; use one of: " + ", ".join(allowed_vtypes)
        )
    if add is None:
        add = 0.0 if m in ("PAS", "PFT") else 0.5
    if add < 0:
        raise PoolingError("escalc: add must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        if m == "GEN":
            return _gen(yi, vi, sei, ni)
        if m in TWO_GROUP_CONTINUOUS:
            return _two_group(m, m1i, m2i, sd1i, sd2i, n1i, n2i, vtype)
        if m in PRE_POST:
            return _pre_post(m, m1i, m2i, sd1i, sd2i, ni, ri)
        if m in PROPORTIONS:
            return _proportion(m, xi, mi, ni, float(add), to)
        return _two_by_two(m, ai, bi, ci, di, n1i, n2i, float(add), to, drop00)


def _gen(
    yi: ArrayLike | None, vi: ArrayLike | None, sei: ArrayLike | None, ni: ArrayLike | None
) -> EffectSizes:
    y = _arr("yi", yi, True, "GEN")
    assert y is not None
    if vi is None and sei is None:
        raise PoolingError("escalc(GEN) needs 'vi' or 'sei'")
    if vi is not None:
        v = _arr("vi", vi, True, "GEN")
    else:
        s = _arr("sei", sei, True, "GEN")
        assert s is not None
        _positive("sei", s, "GEN", strict=False)
        v = s**2
    assert v is not None
    _positive("vi", v, "GEN", strict=False)
    n = _arr("ni", ni, False, "GEN")
    y, v = np.broadcast_arrays(y, v)
    nn = np.full(y.shape, np.nan) if n is None else np.broadcast_to(n, y.shape).astype(float)
    return EffectSizes("GEN", y.astype(float), v.astype(float), nn)


def _two_group(m: str, m1: Any, m2: Any, s1: Any, s2: Any, n1: Any, n2: Any, vtype: str) -> EffectSizes:
    a_m1 = _arr("m1i", m1, True, m)
    a_m2 = _arr("m2i", m2, True, m)
    a_s1 = _arr("sd1i", s1, True, m)
    a_s2 = _arr("sd2i", s2, True, m)
    a_n1 = _arr("n1i", n1, True, m)
    a_n2 = _arr("n2i", n2, True, m)
    assert a_m1 is not None and a_m2 is not None and a_s1 is not None and a_s2 is not None
    assert a_n1 is not None and a_n2 is not None
    _positive("sd1i", a_s1, m)
    _positive("sd2i", a_s2, m)
    _sizes("n1i", a_n1, m, 2)
    _sizes("n2i", a_n2, m, 2)
    m1a, m2a, s1a, s2a, n1a, n2a = np.broadcast_arrays(a_m1, a_m2, a_s1, a_s2, a_n1, a_n2)
    nt = n1a + n2a
    pooled_var = ((n1a - 1) * s1a**2 + (n2a - 1) * s2a**2) / (nt - 2)
    if m == "MD":
        yi = m1a - m2a
        vi = s1a**2 / n1a + s2a**2 / n2a if vtype == "LS" else pooled_var * (1 / n1a + 1 / n2a)
    elif m == "SMD":
        mdf = nt - 2
        cm = cmicalc(mdf)
        d = (m1a - m2a) / np.sqrt(pooled_var)
        yi = cm * d
        base = 1 / n1a + 1 / n2a
        if vtype == "LS":
            vi = base + yi**2 / (2 * nt)
        elif vtype == "UB":
            vi = base + (1 - (mdf - 2) / (mdf * cm**2)) * yi**2
        elif vtype == "LS2":
            vi = cm**2 * (base + d**2 / (2 * nt))
        else:  # AV: sample-size weighted mean of g across the studies (last axis)
            ok = ~np.isnan(yi)
            ybar = np.nansum(np.where(ok, nt * yi, 0), axis=-1, keepdims=True) / np.nansum(
                np.where(ok, nt, 0), axis=-1, keepdims=True
            )
            vi = base + ybar**2 / (2 * nt)
    else:  # ROM
        both = ~np.isnan(m1a) & ~np.isnan(m2a)
        _check(
            both & ((m1a <= 0) | (m2a <= 0)),
            "escalc(ROM): the ratio of means needs positive means (m1i, m2i > 0)",
        )
        yi = np.log(m1a / m2a)
        if vtype == "LS":
            vi = s1a**2 / (n1a * m1a**2) + s2a**2 / (n2a * m2a**2)
        else:
            vi = pooled_var * (1 / (n1a * m1a**2) + 1 / (n2a * m2a**2))
    return EffectSizes(m, _clean(yi), _clean(vi), np.asarray(nt, dtype=float))


def _check_r(r: FloatArray, m: str) -> None:
    _check(
        ~np.isnan(r) & ((r <= -1) | (r >= 1)),
        f"escalc({m}): the pre/post correlation ri must lie strictly between -1 and 1",
    )


def _pre_post(m: str, m1: Any, m2: Any, s1: Any, s2: Any, n: Any, r: Any) -> EffectSizes:
    a_m1 = _arr("m1i", m1, True, m)
    a_m2 = _arr("m2i", m2, True, m)
    a_s1 = _arr("sd1i", s1, True, m)
    a_s2 = _arr("sd2i", s2, m != "SMCR", m)
    a_n = _arr("ni", n, True, m)
    a_r = _arr("ri", r, True, m)
    assert a_m1 is not None and a_m2 is not None and a_s1 is not None and a_n is not None
    assert a_r is not None
    _positive("sd1i", a_s1, m)
    if a_s2 is not None:
        _positive("sd2i", a_s2, m)
    _sizes("ni", a_n, m, 2)
    _check_r(a_r, m)
    if a_s2 is None:
        a_s2 = np.full(np.shape(a_s1), np.nan)
    m1a, m2a, s1a, s2a, na, ra = np.broadcast_arrays(a_m1, a_m2, a_s1, a_s2, a_n, a_r)
    cm = cmicalc(na - 1)
    if m in ("MC", "SMCC"):
        var_change = s1a**2 + s2a**2 - 2 * ra * s1a * s2a
        if m == "MC":
            yi = m1a - m2a
            vi = var_change / na
        else:
            yi = cm * (m1a - m2a) / np.sqrt(var_change)
            vi = 1 / na + yi**2 / (2 * na)
    else:  # SMCR: standardised by sd1i (the baseline SD)
        yi = cm * (m1a - m2a) / s1a
        vi = 2 * (1 - ra) / na + yi**2 / (2 * na)
    return EffectSizes(m, _clean(yi), _clean(vi), np.asarray(na, dtype=float))


def _add_mask(zero: NDArray[np.bool_], to: str, add: float) -> FloatArray:
    """Per-study amount to add, given where a study has a zero cell."""
    if to == "none" or add == 0:
        return np.zeros(zero.shape)
    if to == "all":
        return np.full(zero.shape, add)
    if to == "only0":
        return np.where(zero, add, 0.0)
    # if0all: all studies (of the same analysis, i.e. along the last axis) when any has a zero
    anyz = zero.any(axis=-1, keepdims=True) if zero.ndim else zero
    return np.where(np.broadcast_to(anyz, zero.shape), add, 0.0)


def _counts(name: str, a: FloatArray, m: str) -> None:
    _check(~np.isnan(a) & (a < 0), f"escalc({m}): {name} must be a count >= 0")


def _proportion(m: str, x: Any, mi_: Any, n: Any, add: float, to: str) -> EffectSizes:
    a_x = _arr("xi", x, True, m)
    assert a_x is not None
    a_mi = _arr("mi", mi_, False, m)
    a_n = _arr("ni", n, a_mi is None, m)
    _counts("xi", a_x, m)
    if a_n is None:
        assert a_mi is not None
        _counts("mi", a_mi, m)
        a_n = a_x + a_mi
    _sizes("ni", a_n, m, 1)
    xa, na = np.broadcast_arrays(a_x, a_n)
    _check(~np.isnan(xa) & ~np.isnan(na) & (xa > na), f"escalc({m}): events xi cannot exceed the total ni")
    ma = na - xa
    zero = (xa == 0) | (ma == 0)
    inc = _add_mask(zero, to, add)
    x2, m2 = xa + inc, ma + inc
    n2 = x2 + m2
    if m == "PR":
        yi = x2 / n2
        vi = yi * (1 - yi) / n2
    elif m == "PLO":
        yi = np.log(x2 / m2)
        vi = 1 / x2 + 1 / m2
    elif m == "PAS":
        yi = np.arcsin(np.sqrt(x2 / n2))
        vi = 1 / (4 * n2)
    else:  # PFT
        yi = 0.5 * (np.arcsin(np.sqrt(x2 / (n2 + 1))) + np.arcsin(np.sqrt((x2 + 1) / (n2 + 1))))
        vi = 1 / (4 * n2 + 2)
    return EffectSizes(m, _clean(yi), _clean(vi), np.asarray(na, dtype=float))


def _two_by_two(
    m: str, a: Any, b: Any, c: Any, d: Any, n1: Any, n2: Any, add: float, to: str, drop00: bool
) -> EffectSizes:
    a_a = _arr("ai", a, True, m)
    a_c = _arr("ci", c, True, m)
    assert a_a is not None and a_c is not None
    a_b = _arr("bi", b, False, m)
    a_d = _arr("di", d, False, m)
    a_n1 = _arr("n1i", n1, a_b is None, m)
    a_n2 = _arr("n2i", n2, a_d is None, m)
    for name, arr in (("ai", a_a), ("ci", a_c), ("bi", a_b), ("di", a_d)):
        if arr is not None:
            _counts(name, arr, m)
    if a_b is None:
        assert a_n1 is not None
        _sizes("n1i", a_n1, m, 1)
        _check(
            ~np.isnan(a_a) & ~np.isnan(a_n1) & (a_a > a_n1),
            f"escalc({m}): events ai cannot exceed the group size n1i",
        )
        a_b = a_n1 - a_a
    if a_d is None:
        assert a_n2 is not None
        _sizes("n2i", a_n2, m, 1)
        _check(
            ~np.isnan(a_c) & ~np.isnan(a_n2) & (a_c > a_n2),
            f"escalc({m}): events ci cannot exceed the group size n2i",
        )
        a_d = a_n2 - a_c
    aa, bb, cc, dd = np.broadcast_arrays(a_a, a_b, a_c, a_d)
    ni = aa + bb + cc + dd
    zero = (aa == 0) | (bb == 0) | (cc == 0) | (dd == 0)
    inc = _add_mask(zero, to, add)
    a2, b2, c2, d2 = aa + inc, bb + inc, cc + inc, dd + inc
    n1a, n2a = a2 + b2, c2 + d2
    if m == "RR":
        yi = np.log((a2 / n1a) / (c2 / n2a))
        vi = 1 / a2 - 1 / n1a + 1 / c2 - 1 / n2a
    elif m == "OR":
        yi = np.log((a2 * d2) / (b2 * c2))
        vi = 1 / a2 + 1 / b2 + 1 / c2 + 1 / d2
    else:  # RD
        p1, p2 = a2 / n1a, c2 / n2a
        yi = p1 - p2
        vi = p1 * (1 - p1) / n1a + p2 * (1 - p2) / n2a
    yi, vi = _clean(yi), _clean(vi)
    if drop00:
        dropped = ((aa == 0) & (cc == 0)) | ((bb == 0) & (dd == 0))
        yi = np.where(dropped, np.nan, yi)
        vi = np.where(dropped, np.nan, vi)
    return EffectSizes(m, yi, vi, np.asarray(ni, dtype=float))
