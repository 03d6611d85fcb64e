"""`extractor pool`: see the stage's issue; owned by the pool stage."""

from __future__ import annotations

import typer

from extractor.errors import ExtractorError


def register(app: typer.Typer) -> None:
    @app.command("pool")
    def _cmd() -> None:
        """(being built) """
        raise ExtractorError("`extractor pool` is not built yet")
