"""Pooling: effect sizes and meta-analysis models equal to R's metafor (no spaCy here).

metafor users will recognise the API::

    from extractor.pool import escalc, rma
    yi, vi = escalc("SMD", m1i=..., sd1i=..., n1i=..., m2i=..., sd2i=..., n2i=...)
    res = rma(yi, vi, method="REML", test="knha")
    res.b, res.se, res.ci_lb, res.ci_ub, res.tau2, res.tau2_ci, res.I2, res.pi_lb, res.to_dict()

2-D inputs (analyses × studies) fit many meta-analyses in one call (:class:`RmaBatch`).
From extraction records: :func:`pool_extractions` → :class:`PoolRun`, :func:`write_outputs`.
Submodules: ``effect_sizes`` (escalc), ``models`` (rma), ``conversions`` (median/IQR/range, SE,
CI, p → mean/SD), ``analyses`` (subgroups, leave-one-out, cumulative, Egger), ``plots`` (forest,
funnel), ``extractions`` (picking comparable values from extraction records).
"""

from extractor.pool.analyses import (
    RegTest,
    SequentialFits,
    SubgroupAnalysis,
    cumul,
    leave1out,
    regtest,
    subgroups,
)
from extractor.pool.conversions import (
    MeanSD,
    luo_mean,
    mean_sd_from_median,
    score_mean_sd,
    sd_from_ci,
    sd_from_p,
    sd_from_se,
    sd_from_t,
    wan_mean,
    wan_sd,
)
from extractor.pool.effect_sizes import MEASURES, EffectSizes, escalc
from extractor.pool.extractions import (
    PoolRun,
    Skipped,
    StudyRow,
    parse_timepoint,
    pool_extractions,
    write_outputs,
)
from extractor.pool.models import (
    METHODS,
    TESTS,
    Control,
    Interval,
    PoolingWarning,
    RmaBatch,
    RmaResult,
    Transformed,
    rma,
    rma_many,
)

__all__ = [
    "MEASURES",
    "METHODS",
    "TESTS",
    "Control",
    "EffectSizes",
    "Interval",
    "MeanSD",
    "PoolRun",
    "PoolingWarning",
    "RegTest",
    "RmaBatch",
    "RmaResult",
    "SequentialFits",
    "Skipped",
    "StudyRow",
    "SubgroupAnalysis",
    "Transformed",
    "cumul",
    "escalc",
    "leave1out",
    "luo_mean",
    "mean_sd_from_median",
    "parse_timepoint",
    "pool_extractions",
    "regtest",
    "rma",
    "rma_many",
    "score_mean_sd",
    "sd_from_ci",
    "sd_from_p",
    "sd_from_se",
    "sd_from_t",
    "subgroups",
    "wan_mean",
    "wan_sd",
    "write_outputs",
]
