"""`extractor run`: fetch-format dumps → extracted values as Parquet, resumable, local or on Dask.

See :mod:`extractor.batch` for the output layout, the journal and how deletions are applied.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from extractor.errors import InputError


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def _cmd(
        sources: Annotated[list[Path], typer.Argument(
            help="Input files or folders in processing order: PubMed baseline/update XML (.xml.gz), "
                 "JSONL, CSV, RIS, MEDLINE, Europe PMC, .txt. Later files win for the same id.")],
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Output folder (created; re-running the same command resumes it).")],
        workers: Annotated[int | None, typer.Option(
            "--workers", "-w", min=1, help="Worker processes (default: the CPUs available).")] = None,
        engine: Annotated[str, typer.Option(
            "--engine", help="local: worker processes on this machine; dask: a Dask cluster.")] = "local",
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="Dask scheduler address (tcp://host:8786); without it --engine dask starts "
                                "a local cluster of --workers processes.")] = None,
        chunk_size: Annotated[int, typer.Option(
            "--chunk-size", min=1, help="Input records per chunk (one Parquet partition each).")] = 2000,
        batch_size: Annotated[int, typer.Option(
            "--batch-size", min=1, help="Abstracts per spaCy batch.")] = 64,
        prefilter: Annotated[bool, typer.Option(
            "--prefilter/--no-prefilter",
            help="Skip abstracts with no numbers or no pain terms before spaCy runs (counted).")] = True,
        pain_terms: Annotated[Path | None, typer.Option(
            "--pain-terms", help="Replace the pre-filter's pain terms: a file, one term per line "
                                 "('analges*' matches any ending).")] = None,
        model: Annotated[Path | None, typer.Option(
            "--model", help="A saved pipeline directory (default: the built-in rules).")] = None,
        fmt: Annotated[str | None, typer.Option(
            "--format", "-f", help="Force an input format (default: detect per file).")] = None,
        id_column: Annotated[str | None, typer.Option(
            "--id-column", help="CSV/JSONL: the id column.")] = None,
        text_column: Annotated[str | None, typer.Option(
            "--text-column", help="CSV/JSONL: full text, kept unchanged.")] = None,
        title_column: Annotated[str | None, typer.Option(
            "--title-column", help="CSV/JSONL: the title column.")] = None,
        abstract_column: Annotated[str | None, typer.Option(
            "--abstract-column", help="CSV/JSONL: abstract; text = title + newline + abstract.")] = None,
        encoding: Annotated[str, typer.Option("--encoding", help="Text files' encoding.")] = "utf-8",
        verify_md5: Annotated[bool, typer.Option(
            "--verify-md5/--no-verify-md5", help="Check <file>.md5 when present.")] = True,
        restart: Annotated[bool, typer.Option(
            "--restart", help="Discard what --out holds from an earlier run and start again.")] = False,
        show_progress: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Progress bar on stderr (records/s and ETA).")] = True,
        parse_all: Annotated[bool, typer.Option(
            "--parse-all", help="PubMed XML: parse every record before the pre-filter decides, instead "
                                "of deciding on each record's raw bytes (same output, slower).")] = False,
    ) -> None:
        """Extract pain-trial numbers from whole dumps into Parquet partitions plus a final table.

        Resumable: run the same command again after an interruption (even kill -9); nothing is
        duplicated or lost. Deletions and later versions in update files are applied to the final
        table OUT/values.parquet.
        """
        import codecs

        from extractor.batch import BatchOptions, run_batch
        from extractor.batch.prefilter import make_config, read_terms

        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"--encoding {encoding!r}: unknown encoding") from exc
        options: dict[str, Any] = {k: v for k, v in {"id_column": id_column, "text_column": text_column,
                                     "title_column": title_column, "abstract_column": abstract_column,
                                     "encoding": encoding if encoding != "utf-8" else None}.items() if v}
        if not verify_md5:
            options["verify_md5"] = False
        terms = read_terms(pain_terms) if pain_terms is not None else None
        opts = BatchOptions(
            sources=tuple(sources), out=out, workers=workers or _default_workers(), engine=engine,
            scheduler=scheduler, chunk_size=chunk_size, batch_size=batch_size,
            prefilter=make_config(enabled=prefilter, terms=terms), model=model, fmt=fmt, options=options,
            restart=restart, progress=show_progress, parse_all=parse_all,
        )

        def started(resumed: bool, pending: int) -> None:
            if resumed:
                typer.echo(f"run: resuming {out} ({pending} input file(s) not finished)", err=True)

        result = run_batch(opts, on_start=started)
        t = result.totals
        skipped = ", ".join(f"{k} {v:,}" for k, v in t["skipped_by_reason"].items())
        failed = ", ".join(f"{k} {v:,}" for k, v in t["failed_by_reason"].items())
        counts = {
            "read": f"{t['read']:,} ({t['abstracts']:,} abstracts, {t['deletions']:,} deletions)",
            "extracted": f"{t['extracted']:,} ({t['with_values']:,} with values, {t['values']:,} values)",
            "skipped": f"{t['skipped']:,}" + (f" ({skipped})" if skipped else ""),
            "failed": f"{t['failed']:,}" + (f" ({failed})" if failed else ""),
        }
        typer.echo(f"run: {out}: " + "; ".join(f"{k} {v}" for k, v in counts.items()), err=True)
        for line in result.problems[:20]:
            typer.echo(f"  {line}", err=True)
        more = t["failed_by_reason"].get("unreadable", 0) - min(20, len(result.problems))
        if more > 0:
            typer.echo(f"  … and {more:,} more (the first {len(result.problems)} in {out / 'manifest.json'})",
                       err=True)
        f = result.final
        typer.echo(
            f"run: final table {out / 'values.parquet'}: {f.records:,} records, {f.values:,} values "
            f"({f.superseded:,} superseded or deleted); {f.deleted:,} deleted ids in "
            f"{out / 'deleted.parquet'}", err=True)
        typer.echo(f"run: this run {result.records_this_run:,} records in {result.seconds:,.1f} s "
                   f"({result.records_per_second:,.0f} records/s); peak memory "
                   f"{result.peak_rss_main_mb:,.0f} MB (main), {result.peak_rss_worker_mb:,.0f} MB (worker)",
                   err=True)
        if not result.complete or result.failed:
            raise typer.Exit(code=1)
