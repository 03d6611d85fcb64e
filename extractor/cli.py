"""The ``extractor`` command: one typer app, one sub-command per stage.

Each stage's commands live in ``extractor/commands/<stage>.py`` and are registered here; heavy
imports (spaCy, pandas, matplotlib) happen inside the command functions so ``--help`` is fast.
Errors a user can cause become one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import errno
import sys

import typer

from extractor import __version__
from extractor.commands import demo, evaluate, extract, fetch, pool, review, run, train
from extractor.errors import ExtractorError

app = typer.Typer(
    name="extractor",
    help=(
        "Turn clinical pain abstracts into a checked, pooled meta-analysis.\n\n"
        "Stages: fetch → extract → review → pool; `run` does fetch+extract over whole dumps; "
        "`demo` runs everything on the bundled demo corpus."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"extractor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Turn clinical pain abstracts into a checked, pooled meta-analysis."""


for _module in (fetch, extract, review, pool, run, train, evaluate, demo):
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        app(args=argv, prog_name="extractor")
    except ExtractorError as exc:
        typer.echo(f"extractor: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("extractor: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # output piped into `head` and closed
            sys.exit(0)
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"extractor: error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
