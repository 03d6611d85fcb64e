#!/usr/bin/env python
"""Time 10,000 meta-analyses of 12 studies each: extractor.pool vs statsmodels vs PyMARE.

    .venv/bin/python benchmarks/pool_bench.py [--analyses 10000] [--studies 12] [--repeats 7]

All three get the same inputs (simulated standardised mean differences with heterogeneity).
Printed per τ² estimator: the median wall time over the repeats, and the largest difference in
τ² and in the pooled estimate against ours (so the tools are seen to do the same job).

* ours, full: one ``rma(Y, V)`` call on the 2-D arrays — estimate, se, z/p, CI, τ², se(τ²),
  Q-profile CI of τ², I², H², Q-test, prediction interval.
* ours, core: the same without the Q-profile CI (``confint=False``) — what the others compute.
* statsmodels: ``statsmodels.stats.meta_analysis.combine_effects`` once per analysis (it has no
  batch interface; DL and PM only). Its DL does not truncate τ² at 0 (see ../shared/metafor/
  features.md), so its τ² differs where Q < k - 1.
* PyMARE (if installed): ``DerSimonianLaird`` / ``VarianceBasedLikelihoodEstimator("REML")``
  on the 2-D arrays (its parallel-datasets mode) plus ``summary().get_fe_stats()``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from extractor.pool import rma


def simulate(m: int, k: int, seed: int = 20240501) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n1 = rng.integers(15, 150, (m, k))
    n2 = rng.integers(15, 150, (m, k))
    theta = rng.normal(-0.4, np.sqrt(0.05), (m, k))
    v = 1 / n1 + 1 / n2 + theta**2 / (2 * (n1 + n2))
    y = theta + rng.normal(0, np.sqrt(v))
    return y, v


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--analyses", type=int, default=10_000)
    ap.add_argument("--studies", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sm-repeats", type=int, default=3, help="repeats for the (slow) statsmodels loop")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    Y, V = simulate(args.analyses, args.studies)
    m, k = Y.shape
    print(
        f"{m} meta-analyses × {k} studies; median of {args.repeats} runs "
        f"({args.sm_repeats} for statsmodels)\n"
    )

    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:  # pragma: no cover - bench extra not installed
        combine_effects = None
    try:
        from pymare import estimators as pm_est
    except ImportError:
        pm_est = None

    rows = []
    for method in ("DL", "REML", "PM"):
        t_full, full = timed(
            lambda method=method: rma(Y, V, method=method, emit_warnings=False), args.repeats
        )
        t_core, core = timed(
            lambda method=method: rma(Y, V, method=method, confint=False, emit_warnings=False), args.repeats
        )
        row: dict[str, Any] = {"method": method, "full": t_full, "core": t_core}
        if combine_effects is not None and method in ("DL", "PM"):

            def sm_loop(method: str = method) -> tuple[np.ndarray, np.ndarray]:
                tau2 = np.empty(m)
                est = np.empty(m)
                for i in range(m):
                    res = combine_effects(Y[i], V[i], method_re=method.lower())
                    tau2[i] = res.tau2
                    est[i] = res.mean_effect_re
                return tau2, est

            t_sm, (tau2_sm, est_sm) = timed(sm_loop, args.sm_repeats)
            row["statsmodels"] = t_sm
            row["sm_dtau2"] = float(np.max(np.abs(np.maximum(tau2_sm, 0) - full.tau2)))
            row["sm_neg"] = int(np.sum(tau2_sm < 0))
        if pm_est is not None and method in ("DL", "REML"):

            def pymare_fit(method: str = method, k: int = k) -> Any:
                X = np.ones((k, 1))
                est = (
                    pm_est.DerSimonianLaird()
                    if method == "DL"
                    else pm_est.VarianceBasedLikelihoodEstimator(method="REML")
                )
                est.fit(y=Y.T, v=V.T, X=X)
                est.summary().get_fe_stats()
                return est

            t_pm, est = timed(pymare_fit, args.repeats)
            row["pymare"] = t_pm
            row["pm_dtau2"] = float(np.max(np.abs(np.ravel(est.params_["tau2"]) - full.tau2)))
            row["pm_dest"] = float(np.max(np.abs(np.ravel(est.params_["fe_params"]) - full.b)))
        rows.append(row)

    def ms(x: float | None) -> str:
        return "—" if x is None else f"{x * 1000:9.1f} ms"

    print(f"{'τ²':<6}{'ours (full)':>14}{'ours (core)':>14}{'statsmodels':>14}{'PyMARE':>14}")
    for r in rows:
        print(
            f"{r['method']:<6}{ms(r['full']):>14}{ms(r['core']):>14}{ms(r.get('statsmodels')):>14}"
            f"{ms(r.get('pymare')):>14}"
        )
    print()
    for r in rows:
        if "sm_dtau2" in r:
            print(
                f"{r['method']}: statsmodels τ² (negative values set to 0) differs from ours by at most "
                f"{r['sm_dtau2']:.2g}; it returned {r['sm_neg']} negative τ² values"
            )
        if "pm_dtau2" in r:
            print(
                f"{r['method']}: PyMARE τ² differs from ours by at most {r['pm_dtau2']:.2g}, "
                f"the estimate by {r['pm_dest']:.2g}"
            )
    if pm_est is None:
        print("PyMARE is not installed (pip install pymare) — its column is empty.")


if __name__ == "__main__":
    main()
