"""Conversions to mean/SD: Wan 2014 and Luo 2018 formulas, SE/CI/t/p, and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from extractor.errors import PoolingError
from extractor.pool import (
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


def eta(n: float) -> float:
    return 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))


def xi(n: float) -> float:
    return 2 * stats.norm.ppf((n - 0.375) / (n + 0.25))


@pytest.mark.parametrize("n", [10, 37, 200])
def test_wan_sd_recovers_sigma_from_expected_normal_quantiles(n: int) -> None:
    mu, sigma = 5.2, 1.7
    q1, q3 = mu - sigma * eta(n) / 2, mu + sigma * eta(n) / 2
    lo, hi = mu - sigma * xi(n) / 2, mu + sigma * xi(n) / 2
    assert wan_sd(n, q1=q1, q3=q3) == pytest.approx(sigma, rel=1e-12)
    assert wan_sd(n, minimum=lo, maximum=hi) == pytest.approx(sigma, rel=1e-12)
    assert wan_sd(n, q1=q1, q3=q3, minimum=lo, maximum=hi) == pytest.approx(sigma, rel=1e-12)
    # symmetric quantiles: every mean estimator returns the median
    assert luo_mean(mu, n, q1=q1, q3=q3) == pytest.approx(mu)
    assert luo_mean(mu, n, minimum=lo, maximum=hi) == pytest.approx(mu)
    assert wan_mean(mu, q1=q1, q3=q3, minimum=lo, maximum=hi) == pytest.approx(mu)


def test_luo_and_wan_weights_on_a_skewed_example() -> None:
    n, m, q1, q3, a, b = 50, 4.0, 2.0, 7.0, 0.0, 10.0
    w3 = 0.7 + 0.39 / n
    assert luo_mean(m, n, q1=q1, q3=q3) == pytest.approx(w3 * 4.5 + (1 - w3) * 4.0)
    w1 = 4 / (4 + n**0.75)
    assert luo_mean(m, n, minimum=a, maximum=b) == pytest.approx(w1 * 5 + (1 - w1) * 4)
    v1, v2 = 2.2 / (2.2 + n**0.75), 0.7 - 0.72 / n**0.55
    assert luo_mean(m, n, q1=q1, q3=q3, minimum=a, maximum=b) == pytest.approx(
        v1 * 5 + v2 * 4.5 + (1 - v1 - v2) * 4
    )
    assert wan_mean(m, q1=q1, q3=q3) == pytest.approx((2 + 4 + 7) / 3)
    assert wan_mean(m, minimum=a, maximum=b) == pytest.approx((0 + 8 + 10) / 4)
    assert wan_mean(m, q1=q1, q3=q3, minimum=a, maximum=b) == pytest.approx((0 + 4 + 8 + 14 + 10) / 8)
    r = mean_sd_from_median(m, n, q1=q1, q3=q3)
    assert r.converted and "Luo 2018" in r.how and "Wan 2014" in r.how and "IQR" in r.how
    assert r.sd == pytest.approx(5 / eta(n))
    assert mean_sd_from_median(m, n, q1=q1, q3=q3, method="wan").mean == pytest.approx(13 / 3)


def test_sd_from_se_and_ci() -> None:
    assert sd_from_se(0.5, 36) == pytest.approx(3.0)
    n, sd = 25, 2.0
    half_t = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    assert sd_from_ci(10 - half_t, 10 + half_t, n) == pytest.approx(sd)
    half_z = 1.959963984540054 * sd / math.sqrt(n)
    assert sd_from_ci(10 - half_z, 10 + half_z, n, dist="z") == pytest.approx(sd)
    assert sd_from_ci(1, 3, 25, level=90) > sd_from_ci(1, 3, 25)


def test_sd_from_t_and_p_invert_a_t_test() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(5, 2, 30), rng.normal(4, 2, 24)
    t, p = stats.ttest_ind(a, b)
    pooled = math.sqrt(((29 * a.var(ddof=1)) + 23 * b.var(ddof=1)) / 52)
    diff = a.mean() - b.mean()
    assert sd_from_t(diff, float(t), 30, 24) == pytest.approx(pooled, rel=1e-10)
    assert sd_from_p(diff, float(p), 30, 24) == pytest.approx(pooled, rel=1e-8)
    change = rng.normal(-1.5, 2.5, 40)
    t1, p1 = stats.ttest_1samp(change, 0)
    assert sd_from_t(change.mean(), float(t1), 40) == pytest.approx(change.std(ddof=1), rel=1e-10)
    assert sd_from_p(change.mean(), float(p1), 40) == pytest.approx(change.std(ddof=1), rel=1e-8)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sd_from_se(-1, 10), "must be > 0"),
        (lambda: sd_from_se(1, 1), "at least 2"),
        (lambda: sd_from_ci(3, 1, 10), "lower < upper"),
        (lambda: sd_from_p(1.0, 0.0, 10), "strictly between 0 and 1"),
        (lambda: sd_from_t(1.0, 0.0, 10), "t statistic of 0"),
        (lambda: mean_sd_from_median(5, 20, q1=6, q3=8), "increasing order"),
        (lambda: mean_sd_from_median(5, 20), "IQR"),
        (lambda: mean_sd_from_median(5, None, q1=3, q3=8), "sample size"),  # type: ignore[arg-type]
    ],
)
def test_impossible_conversions_are_refused(call: object, message: str) -> None:
    with pytest.raises(PoolingError, match=message):
        call()  # type: ignore[operator]


def test_score_mean_sd_marks_conversions() -> None:
    assert score_mean_sd(6.8, "mean", "sd", (2.2,), 64).converted is False
    se = score_mean_sd(6.8, "mean", "se", (0.25,), 64)
    assert se.converted and se.sd == pytest.approx(2.0) and "SE" in se.how
    ci = score_mean_sd(6.8, "mean", "ci95", (6.0, 7.6), 64)
    assert ci.converted and "CI" in ci.how
    med = score_mean_sd(5.0, "median", "iqr", (3.0, 7.0), 40)
    assert med.converted and med.sd == pytest.approx(4 / eta(40))
    rng = score_mean_sd(5.0, "median", "range", (0.0, 10.0), 40)
    assert rng.converted and "range" in rng.how
    for args in (
        ("other", "sd", (1.0,)),
        ("mean", None, ()),
        ("median", "sd", (1.0,)),
        ("mean", "sd", (0.0,)),
    ):
        with pytest.raises(PoolingError):
            score_mean_sd(5.0, args[0], args[1], args[2], 40)  # type: ignore[arg-type]
