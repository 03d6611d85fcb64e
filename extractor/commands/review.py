"""`extractor review`: see the stage's issue; owned by the review stage."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("review")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor review` is not built yet")
