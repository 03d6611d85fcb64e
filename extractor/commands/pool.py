"""`extractor pool`: pick comparable values from extraction records and pool them like metafor."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from extractor.errors import InputError, PoolingError


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    xf = float(x)
    if not math.isfinite(xf):
        return "–"
    return f"{xf:.{digits}f}"


def register(app: typer.Typer) -> None:
    @app.command("pool")
    def _cmd(
        extractions: Annotated[
            Path,
            typer.Argument(
                help="Extraction records: .jsonl, .csv or .parquet (the extract output or the reviewers' "
                "accepted values)."
            ),
        ],
        measure: Annotated[
            str,
            typer.Option(
                "--measure",
                "-m",
                help="Effect size: MC, SMCC, SMCR (pre/post), SMD, MD, ROM (two arms), "
                "PR, PLO, PAS, PFT (proportions), RR, OR, RD.",
            ),
        ] = "SMCC",
        timepoint: Annotated[
            str | None,
            typer.Option(
                "--timepoint",
                "-t",
                help="Follow-up time point, e.g. 4w, 24h, 1m, '12 weeks' (several, "
                "comma-separated, with --subgroup timepoint).",
            ),
        ] = None,
        method: Annotated[
            str,
            typer.Option(
                "--method", help="tau² estimator: EE, DL, REML, ML, PM, HE, SJ, EB, HS, HSk, PMM, DLIT, SJIT."
            ),
        ] = "REML",
        test: Annotated[str, typer.Option("--test", help="z, knha (Knapp–Hartung), adhoc or t.")] = "z",
        r: Annotated[
            float, typer.Option("--r", help="Pre/post correlation for MC/SMCC/SMCR, in (-1, 1).")
        ] = 0.5,
        r_values: Annotated[
            str,
            typer.Option(
                "--r-values", help="Other correlations for the sensitivity analysis (comma-separated)."
            ),
        ] = "0.2,0.5,0.8",
        subgroup: Annotated[
            str | None, typer.Option("--subgroup", help="Subgroups by 'scale' or 'timepoint'.")
        ] = None,
        scale: Annotated[
            str | None, typer.Option("--scale", help="Keep only this pain scale (e.g. VAS).")
        ] = None,
        arm: Annotated[
            str | None,
            typer.Option(
                "--arm",
                help="Pre/post and proportions: only arms matching this (case-insensitive regular "
                "expression).",
            ),
        ] = None,
        control_arm: Annotated[
            str | None,
            typer.Option(
                "--control-arm",
                help="Two-arm measures: the control arm (regex; default: placebo/control/sham/... by name).",
            ),
        ] = None,
        treatment_arm: Annotated[
            str | None, typer.Option("--treatment-arm", help="Two-arm measures: the active arm (regex).")
        ] = None,
        what: Annotated[
            str | None, typer.Option("--what", help="Proportions: only outcomes matching this (regex).")
        ] = None,
        window: Annotated[
            float,
            typer.Option(
                "--window", help="Time-point matching window, as a fraction of the target (0.10 = ±10 %)."
            ),
        ] = 0.10,
        level: Annotated[float, typer.Option("--level", help="Confidence level in percent.")] = 95.0,
        median_method: Annotated[
            str,
            typer.Option(
                "--median-method",
                help="Mean from a median: luo (Luo 2018) or wan (Wan 2014); the SD is always Wan 2014.",
            ),
        ] = "luo",
        metafor_defaults: Annotated[
            bool,
            typer.Option(
                "--metafor-defaults",
                help="Use metafor's default iteration settings instead of solving exactly.",
            ),
        ] = False,
        include_reviews: Annotated[
            bool,
            typer.Option(
                "--include-reviews",
                help="Also pool records the NLP stage marked as systematic reviews / meta-analyses "
                "(skipped by default: their values pool other studies).",
            ),
        ] = False,
        out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("pool-output"),
        no_plots: Annotated[
            bool, typer.Option("--no-plots", help="Skip the forest and funnel plots.")
        ] = False,
    ) -> None:
        """Pool extracted pain outcomes: table (CSV), result (JSON), forest and funnel plots (PNG, SVG)."""
        from extractor.io import read_records
        from extractor.pool import pool_extractions, write_outputs

        try:
            rvals = tuple(float(x) for x in r_values.split(",") if x.strip())
        except ValueError as exc:
            raise InputError(f"--r-values: not a list of numbers ({r_values!r})") from exc
        records = list(read_records(extractions))
        run = pool_extractions(
            records,
            measure=measure,
            timepoint=timepoint,
            method=method,
            test=test,
            level=level,
            r=r,
            r_values=rvals,
            subgroup=subgroup,
            scale=scale,
            arm=arm,
            control_arm=control_arm,
            treatment_arm=treatment_arm,
            what=what,
            window=window,
            median_method=median_method,
            control="metafor" if metafor_defaults else None,
            include_reviews=include_reviews,
        )
        paths = write_outputs(run, out, formats=() if no_plots else ("png", "svg"))
        _print_run(run)
        typer.echo(f"\nwrote {', '.join(str(p) for p in paths.values())}")
        for p in run.problems[:20]:
            typer.echo(f"extractor: unreadable input: {p}", err=True)
        if run.error:
            raise PoolingError(run.error)


def _print_run(run: Any) -> None:
    typer.echo(
        f"{run.measure} at {', '.join(run.timepoints) or 'any time point'} — "
        f"{run.k} studies pooled, {len(run.skipped)} skipped"
    )
    if run.studies:
        width = max(12, *(len(s.label) for s in run.studies))
        typer.echo(f"\n{'study':<{width}}  {'yi':>8}  {'sei':>7}  {'weight':>7}  converted")
        weights = run.result.weights if run.result is not None else [None] * run.k
        for s, w in zip(run.studies, weights, strict=False):
            typer.echo(
                f"{s.label:<{width}}  {_fmt(s.yi):>8}  {_fmt(math.sqrt(s.vi)):>7}  "
                f"{_fmt(w, 1) + '%' if w is not None else '–':>7}  "
                f"{'; '.join(s.conversions) if s.converted else 'no'}"
            )
    res = run.result
    if res is not None:
        typer.echo("")
        typer.echo(res.summary())
        if res.tau2_ci is not None:
            typer.echo(
                f"tau^2 {res.level:g}% CI (Q-profile) [{_fmt(res.tau2_ci.ci_lb, 4)}, "
                f"{_fmt(res.tau2_ci.ci_ub, 4)}]; I^2 [{_fmt(res.I2_ci.ci_lb, 1)}%, "
                f"{_fmt(res.I2_ci.ci_ub, 1)}%]"
            )
        if run.subgroup is not None and run.subgroup.Q_between is not None:
            typer.echo(
                f"subgroup differences ({run.subgroup_by}): Q({run.subgroup.df_between}) = "
                f"{run.subgroup.Q_between:.3f}, p = {run.subgroup.p_between:.4g}"
            )
        if run.egger is not None:
            typer.echo(
                f"Egger's test (sei): {'z' if run.egger.dfs is None else 't'} = {run.egger.zval:.3f}, "
                f"p = {run.egger.pval:.4g}"
            )
        if run.sensitivity:
            typer.echo(
                "sensitivity to r: "
                + "; ".join(
                    f"r = {s.r:g}: {_fmt(s.b)} [{_fmt(s.ci_lb)}, {_fmt(s.ci_ub)}]" for s in run.sensitivity
                )
            )
    for w in run.warnings:
        typer.echo(f"warning: {w}")
    if run.skipped:
        counts = Counter(s.reason for s in run.skipped)
        typer.echo("\nskipped: " + ", ".join(f"{n} × {reason}" for reason, n in counts.most_common()))
        generic = {"no pain scores", "no proportion"}  # whole records without data: counted above
        shown = [s for s in run.skipped if s.reason not in generic or s.detail][:30]
        for s in shown:
            typer.echo(f"  {s.study}: {s.reason}{' — ' + s.detail if s.detail else ''}")
        rest = len(run.skipped) - len(shown)
        if rest > 0:
            typer.echo(f"  … and {rest} more (all in pool_skipped.csv)")
