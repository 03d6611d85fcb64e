"""`extractor run`: see the stage's issue; owned by the run stage."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("run")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor run` is not built yet")
