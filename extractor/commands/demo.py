"""`extractor demo`: the whole job on the bundled demo corpus — fetch → extract → store → pool.

Reads ``corpus/demo/abstracts.jsonl`` (14 abstracts written for this project, with hand-made
gold records), extracts every value with the default pipeline, scores the extraction against the
gold records, fills a review store, pools the pre/post standardised mean change (SMCC) at a
common time point with a random-effects model, and writes everything to one output folder.
No network and no ``../shared``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from extractor.errors import InputError

DEMO_CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "demo" / "abstracts.jsonl"


def _fmt(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:g}"


def _score_text(s: Any) -> str:
    """``7.1 ± 1.6`` / ``8 (IQR 7–9)`` / ``-1.2 (CI -1.9 to -0.5)`` for one Score."""
    v = _fmt(s.value)
    if s.spread in ("sd", "se"):
        return f"{v} ± {_fmt(s.spread_values[0])}" + (" SE" if s.spread == "se" else "")
    if s.spread in ("iqr", "range", "ci95"):
        label = {"iqr": "IQR", "range": "range", "ci95": "CI"}[s.spread]
        lo, hi = s.spread_values
        return f"{v} ({label} {_fmt(lo)}–{_fmt(hi)})"
    return v


def _pick(scores: Sequence[Any], days: float, arm: str | None) -> str:
    hits = [s for s in scores if s.days is not None and abs(s.days - days) <= max(0.5, 0.1 * days)
            and s.arm == arm and s.stat in ("mean", "median")]
    return _score_text(hits[0]) if hits else "–"


def summary_table(records: Iterable[Any], target_days: float) -> list[str]:
    """One line per abstract (and arm): N, scale, baseline and target-time scores, counts."""
    header = (f"{'abstract':<24} {'N':>4}  {'arm':<16} {'scale':<11} {'baseline':<16} "
              f"{'at ' + _fmt(target_days) + ' d':<16} {'props':>5} {'p':>3}")
    lines = [header, "-" * len(header)]
    for rec in records:
        arms: list[str | None] = sorted({s.arm for s in rec.scores}, key=lambda a: a or "") or [None]
        n = _fmt(rec.sample_size.n) if rec.sample_size else "–"
        scale = ",".join(rec.scales) or "–"
        for i, arm in enumerate(arms):
            lines.append(
                f"{rec.id if i == 0 else '':<24.24} {n if i == 0 else '':>4}  {(arm or '(all)'):<16.16} "
                f"{scale if i == 0 else '':<11.11} {_pick(rec.scores, 0.0, arm):<16.16} "
                f"{_pick(rec.scores, target_days, arm):<16.16} "
                f"{len(rec.proportions) if i == 0 else '':>5} {len(rec.p_values) if i == 0 else '':>3}"
            )
    return lines


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created).")] = Path(
            "demo-output"),
        corpus: Annotated[Path | None, typer.Option(
            "--corpus", help="Demo corpus JSONL (default: the bundled corpus/demo/abstracts.jsonl).")] = None,
        timepoint: Annotated[str, typer.Option(
            "--timepoint", help="Common follow-up time point to pool at (e.g. 4w, 1m, 24h).")] = "4w",
        method: Annotated[str, typer.Option("--method", help="τ² estimator (metafor's names).")] = "REML",
        test: Annotated[str, typer.Option(
            "--test", help="z, knha (Knapp–Hartung), adhoc or t.")] = "knha",
        r: Annotated[float, typer.Option("--r", help="Assumed pre/post correlation for SMCC.")] = 0.5,
        model: Annotated[Path | None, typer.Option(
            "--model", help="A saved pipeline directory (default: the shipped pipeline).")] = None,
    ) -> None:
        """Run the whole job on the bundled demo corpus: extract, review store, pooled SMCC + forest plot."""
        from extractor.commands.evaluate import load_gold  # noqa: F401  (same gold format)
        from extractor.fetch import iter_source
        from extractor.io import RecordWriter
        from extractor.nlp import extract, load_pipeline
        from extractor.nlp.scorer import format_table, score_painbench
        from extractor.pool import parse_timepoint, pool_extractions, write_outputs
        from extractor.records import Abstract, Problem
        from extractor.review.store import Store

        source = corpus or DEMO_CORPUS
        if not source.exists():
            raise InputError(f"{source}: demo corpus not found (run from a checkout, or pass --corpus)")
        target = parse_timepoint(timepoint)
        if target is None:
            raise InputError(f"--timepoint {timepoint!r}: not a time point (try 4w, 1m, 24h, 12 weeks)")
        out.mkdir(parents=True, exist_ok=True)

        # 1. fetch (from the local file)
        abstracts: list[Abstract] = []
        problems: list[str] = []
        for item in iter_source(source, "jsonl"):
            if isinstance(item, Abstract):
                abstracts.append(item)
            elif isinstance(item, Problem):
                problems.append(str(item))
        typer.echo(f"1. fetch    {source}: {len(abstracts)} abstracts"
                   + (f", {len(problems)} problem(s)" if problems else ""))
        for line in problems:
            typer.echo(f"   {line}", err=True)

        # 2. extract
        nlp = load_pipeline(model)
        records = list(extract(nlp, abstracts))
        kinds = Counter(v.kind for rec in records for v in rec.values())
        with RecordWriter(out / "extractions.jsonl") as wj, RecordWriter(out / "extractions.csv") as wc:
            for rec in records:
                wj.write(rec)
                wc.write(rec)
        typer.echo(f"2. extract  {len(records)} records: "
                   + ", ".join(f"{k} {kinds[k]}" for k in ("sample_size", "arm_size", "scale", "score",
                                                            "proportion", "p_value")))
        typer.echo("")
        for line in summary_table(records, target):
            typer.echo("   " + line)

        # accuracy against the corpus's own hand annotations
        gold = _gold_records(source)
        if gold:
            result = score_painbench(gold, {r.id: r.to_dict() for r in records})
            typer.echo("\n   accuracy against the demo corpus's hand annotations:")
            for line in format_table(result).splitlines():
                typer.echo("   " + line)

        # 3. review store
        db = out / "review.db"
        with Store(db) as store:
            store.add_abstracts(abstracts)
            stats = store.import_records(records, run="demo")
        typer.echo(f"\n3. review   {db}: {len(abstracts)} abstracts, {stats.records} extraction records")

        # 4. pool
        run = pool_extractions(records, "SMCC", timepoint, method=method, test=test, r=r)
        paths = write_outputs(run, out)
        typer.echo("\n4. pool     " + "\n           ".join(run.summary_lines()))
        if run.skipped:
            typer.echo("   skipped:")
            for s in run.skipped:
                typer.echo(f"     {s.study}: {s.reason}" + (f" ({s.detail})" if s.detail else ""))
        if run.sensitivity:
            typer.echo("   sensitivity to the pre/post correlation r:")
            for row in run.sensitivity:
                typer.echo(f"     r = {row.r:.1f}: {row.b:.3f} [{row.ci_lb:.3f}, {row.ci_ub:.3f}], "
                           f"k = {row.k}")

        typer.echo(f"\nOutputs in {out}/:")
        for f in ["extractions.jsonl", "extractions.csv", *sorted(p.name for p in paths.values()),
                  "review.db"]:
            typer.echo(f"  {f}")
        exe = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "extractor"
        cmd = str(exe) if exe.exists() else "extractor"
        typer.echo(f"\nReview the extracted values in your browser:\n  {cmd} review {db}")


def _gold_records(path: Path) -> dict[str, dict[str, Any]]:
    """The ``record`` of each corpus entry that has one (the corpus's hand annotations)."""
    from extractor.io import read_jsonl
    from extractor.records import Problem

    gold: dict[str, dict[str, Any]] = {}
    for item in read_jsonl(path):
        if isinstance(item, Problem):
            continue
        _, obj = item
        if isinstance(obj.get("record"), dict):
            gold[str(obj["id"])] = obj["record"]
    return gold
