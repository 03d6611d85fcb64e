"""Back-transformations of pooled results to the scale readers understand (metafor's ``transf.*``).

============  ==========================  ===========================================================
measure       transformation               result
============  ==========================  ===========================================================
RR, OR, ROM   ``exp``                      risk ratio, odds ratio, ratio of means
PLO           ``ilogit``                   proportion
PAS           ``iarcsin``: ``sin(x)²``     proportion (0 below 0, 1 above π/2, as in metafor)
PFT           ``ipft.hm``                  proportion, Miller's (1978) inversion at the harmonic mean
                                           of the studies' sample sizes (0 / 1 outside the range)
============  ==========================  ===========================================================

Other measures (MD, SMD, MC, SMCC, SMCR, PR, RD) are reported on their own scale.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: measure → name of its back-transformation (metafor's ``transf.*`` name)
TRANSFORM_OF: dict[str, str] = {
    "RR": "exp",
    "OR": "exp",
    "ROM": "exp",
    "PLO": "ilogit",
    "PAS": "iarcsin",
    "PFT": "ipft.hm",
}


def transf_exp(x: ArrayLike) -> FloatArray:
    return np.asarray(np.exp(np.asarray(x, dtype=float)), dtype=float)


def transf_ilogit(x: ArrayLike) -> FloatArray:
    xx = np.asarray(x, dtype=float)
    return np.asarray(
        np.where(xx >= 0, 1 / (1 + np.exp(-np.abs(xx))), np.exp(-np.abs(xx)) / (1 + np.exp(-np.abs(xx)))),
        dtype=float,
    )


def transf_iarcsin(x: ArrayLike) -> FloatArray:
    xx = np.asarray(x, dtype=float)
    out = np.sin(xx) ** 2
    out = np.where(xx < 0, 0.0, out)
    out = np.where(xx > np.arcsin(1.0), 1.0, out)
    return np.asarray(np.where(np.isnan(xx), np.nan, out), dtype=float)


def transf_pft(p: ArrayLike, n: ArrayLike) -> FloatArray:
    """Freeman–Tukey double arcsine of a proportion ``p`` with sample size ``n``."""
    pp = np.asarray(p, dtype=float)
    nn = np.asarray(n, dtype=float)
    x = pp * nn
    return np.asarray(
        0.5 * (np.arcsin(np.sqrt(x / (nn + 1))) + np.arcsin(np.sqrt((x + 1) / (nn + 1)))), dtype=float
    )


def transf_ipft(x: ArrayLike, n: ArrayLike) -> FloatArray:
    """Miller's (1978) inverse of the Freeman–Tukey transformation for sample size ``n``."""
    xx = np.asarray(x, dtype=float)
    nn = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2 * xx)
        inner = 1 - (s + (s - 1 / s) / nn) ** 2
        out = 0.5 * (1 - np.sign(np.cos(2 * xx)) * np.sqrt(np.maximum(inner, 0.0)))
    out = np.where(xx < transf_pft(0.0, nn), 0.0, out)
    out = np.where(xx > transf_pft(1.0, nn), 1.0, out)
    return np.asarray(np.where(np.isnan(xx), np.nan, out), dtype=float)


def harmonic_mean(ni: ArrayLike) -> float:
    n = np.asarray(ni, dtype=float)
    n = n[~np.isnan(n)]
    if n.size == 0:
        return float("nan")
    return float(1 / np.mean(1 / n))


def transf_ipft_hm(x: ArrayLike, ni: ArrayLike) -> FloatArray:
    """``transf.ipft.hm``: inverse Freeman–Tukey at the harmonic mean of ``ni``."""
    return transf_ipft(x, harmonic_mean(ni))


def back_transform(measure: str, ni: ArrayLike | None = None) -> Callable[[ArrayLike], FloatArray] | None:
    """The back-transformation for ``measure`` (``None`` when results stay on their own scale)."""
    name = TRANSFORM_OF.get(measure)
    if name == "exp":
        return transf_exp
    if name == "ilogit":
        return transf_ilogit
    if name == "iarcsin":
        return transf_iarcsin
    if name == "ipft.hm":
        if ni is None:
            raise ValueError("PFT back-transformation needs the studies' sample sizes (ni)")
        hm = harmonic_mean(ni)
        return lambda x: transf_ipft(x, hm)
    return None
