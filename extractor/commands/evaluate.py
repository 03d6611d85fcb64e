"""`extractor evaluate`."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor evaluate` is not built yet")
