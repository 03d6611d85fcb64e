"""`extractor fetch`: see the stage's issue; owned by the fetch stage."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("fetch")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor fetch` is not built yet")
