"""`extractor evaluate`: the painbench table of predicted records against gold records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from extractor.errors import InputError


def load_gold(path: Path) -> dict[str, dict[str, Any]]:
    """Gold painbench records (JSONL) keyed by id; a bad line is an error (gold must be clean)."""
    return _load_jsonl(path)


def _load_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    """Records of a JSONL file keyed by id, as written; a bad line or a record without id is an error."""
    from extractor.io import read_jsonl
    from extractor.records import Problem

    gold: dict[str, dict[str, Any]] = {}
    for item in read_jsonl(path):
        if isinstance(item, Problem):
            raise InputError(str(item))
        no, obj = item
        if "id" not in obj:
            raise InputError(f"{path}:{no}: record has no 'id'")
        gold[str(obj["id"])] = obj
    return gold


def load_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Predicted records (JSONL, CSV or Parquet as written by ``extract``) keyed by id."""
    from extractor.io import format_of, read_records
    from extractor.records import Problem

    if format_of(path) == "jsonl":
        return _load_jsonl(path)
    preds: dict[str, dict[str, Any]] = {}
    for rec in read_records(path):
        if isinstance(rec, Problem):
            raise InputError(str(rec))
        preds[rec.id] = rec.to_dict()
    return preds


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def _cmd(
        gold_path: Annotated[Path, typer.Argument(
            metavar="GOLD", help="Gold painbench records (JSONL).")],
        pred_path: Annotated[Path, typer.Argument(
            metavar="PRED", help="Predicted records (.jsonl, .csv or .parquet).")],
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print one JSON object instead of the table.")] = False,
        markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False,
        show_errors: Annotated[int, typer.Option(
            "--show-errors", metavar="N", help="Print up to N misses/extras per field.")] = 0,
    ) -> None:
        """Print the painbench table (sample-size accuracy; P/R/F1 per field), then the days and n
        accuracy among the matched scores (not part of painbench; "diagnostics" in --json)."""
        from extractor.io import require_file
        from extractor.nlp.scorer import (
            format_diagnostics,
            format_markdown,
            format_table,
            score_diagnostics,
            score_painbench,
        )

        gold = load_gold(require_file(gold_path))
        pred = load_predictions(require_file(pred_path))
        errors: dict[str, list[Any]] = {}
        result = score_painbench(gold, pred, errors)
        diagnostics = score_diagnostics(gold, pred)
        if as_json:
            typer.echo(json.dumps({**result, "diagnostics": diagnostics}))
        elif markdown:
            typer.echo(format_markdown(result) + "\n\n" + format_diagnostics(diagnostics, markdown=True))
        else:
            typer.echo(format_table(result) + "\n" + format_diagnostics(diagnostics))
        if show_errors:
            for field, rows in errors.items():
                for row in rows[:show_errors]:
                    line = json.dumps(row, ensure_ascii=False, default=str)
                    typer.echo(f"[{field}] {line[:400]}", err=True)
