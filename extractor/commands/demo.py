"""`extractor demo`."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor demo` is not built yet")
