"""`extractor extract`."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor extract` is not built yet")
