"""`extractor train`: see the stage's issue; owned by the train stage."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("train")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor train` is not built yet")
