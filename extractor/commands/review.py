"""`extractor review DB`: the reviewer web app on a review store (or export its accepted values)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command("review")
    def _cmd(
        db: Annotated[Path, typer.Argument(
            help="Review store (SQLite) filled by `extract --store` / `fetch --store`.")],
        host: Annotated[str, typer.Option(
            "--host", help="Address to listen on; anything but loopback needs --token.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(
            "--port", min=0, max=65535, help="Port (0 picks a free one).")] = 8000,
        token: Annotated[str | None, typer.Option(
            "--token", envvar="EXTRACTOR_REVIEW_TOKEN",
            help="Reviewer token every reviewer must enter (required beyond 127.0.0.1).")] = None,
        threads: Annotated[int, typer.Option("--threads", min=1, max=64, help="Worker threads.")] = 8,
        export: Annotated[Path | None, typer.Option(
            "--export", help="Write the accepted values to this .jsonl/.csv file (what `extractor pool` "
                             "reads) and exit instead of serving.")] = None,
        min_reviews: Annotated[int, typer.Option(
            "--min-reviews", min=1, max=2,
            help="With --export: 2 keeps only values two reviewers agree on (or adjudicated).")] = 1,
        preview_measure: Annotated[str, typer.Option(
            "--preview-measure",
            help="Measure of the pooled preview of accepted values (SMCC, MC, SMD, PR, ...).")
        ] = "SMCC",
        preview_timepoint: Annotated[str | None, typer.Option(
            "--preview-timepoint",
            help="Time point of the pooled preview (e.g. 4w); default: the most common follow-up.")] = None,
    ) -> None:
        """Review extracted values in the browser: accept, correct, reject, add; resolve conflicts."""
        from extractor.review.store import Store

        if not db.exists():
            raise InputError(f"{db}: no such review store; fill one with "
                             f"`extractor extract ... --store {db}`")
        store = Store(db, create=False)
        if export is not None:
            stats = store.export_accepted(export, min_reviews=min_reviews)
            store.close()
            typer.echo(f"exported {stats.values} values from {stats.records} abstracts to {export}", err=True)
            for problem in stats.problems[:20]:
                typer.echo(f"  left out: {problem}", err=True)
            if len(stats.problems) > 20:
                typer.echo(f"  … and {len(stats.problems) - 20} more", err=True)
            return
        from functools import partial

        from extractor.pool.extractions import preview_png
        from extractor.review.server import serve

        serve(store, host=host, port=port, token=token, threads=threads,
              forest_plot=partial(preview_png, measure=preview_measure, timepoint=preview_timepoint),
              announce=lambda line: typer.echo(line))
