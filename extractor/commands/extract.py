"""`extractor extract`: run the NLP pipeline over abstracts and write one record per abstract."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from extractor.io import format_of, read_jsonl, require_file
from extractor.records import Abstract, Problem


def read_abstracts(path: Path) -> Iterator[Abstract | Problem]:
    """Abstracts from a JSONL file (``{"id", "text", ...}`` per line); a bad line is a Problem.

    The one place where ``extract`` reads its input: swap in the fetch stage's reader here.
    """
    for item in read_jsonl(path):
        if isinstance(item, Problem):
            yield item
            continue
        no, obj = item
        try:
            yield Abstract.from_dict(obj)
        except (KeyError, TypeError, ValueError) as exc:
            yield Problem(f"{path}:{no}", f"not an abstract record: {exc}")


def _count_lines(path: Path) -> int | None:
    try:
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError:
        return None


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def _cmd(
        input_path: Annotated[Path, typer.Argument(
            metavar="IN", help="Abstracts: JSONL with 'id' and 'text' per line.")],
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Output file: .jsonl, .csv or .parquet.")],
        n_process: Annotated[int, typer.Option(
            "--n-process", min=1, help="Worker processes for spaCy.")] = 1,
        batch_size: Annotated[int, typer.Option(
            "--batch-size", min=1, help="Abstracts per batch.")] = 64,
        model: Annotated[Path | None, typer.Option(
            "--model", help="A saved pipeline directory (default: rules + shipped trained model).")] = None,
        rules_only: Annotated[bool, typer.Option(
            "--rules-only", help="Use the rule components alone, without the trained ones.")] = False,
        progress_bar: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Show a progress bar.")] = True,
    ) -> None:
        """Extract sample sizes, scales, pain scores, proportions and p-values, with provenance."""
        from extractor.commands._common import progress, report
        from extractor.io import RecordWriter
        from extractor.nlp import extract, load_pipeline

        require_file(input_path)
        format_of(out)  # fail early on an unknown output type
        nlp = load_pipeline(model, rules_only=rules_only)
        problems: list[str] = []
        counts: Counter[str] = Counter()

        def abstracts() -> Iterator[Abstract]:
            for item in read_abstracts(input_path):
                if isinstance(item, Problem):
                    problems.append(str(item))
                    continue
                counts["abstracts"] += 1
                yield item

        total = _count_lines(input_path)
        with RecordWriter(out) as writer:
            for record in progress(extract(nlp, abstracts(), n_process=n_process, batch_size=batch_size),
                                   total=total, desc="extract", unit="abs", enabled=progress_bar):
                writer.write(record)
                counts["records"] += 1
                for value in record.values():
                    counts[value.kind] += 1
        counts["bad lines"] = len(problems)
        report(f"extract: wrote {out}", counts, problems)
        if problems:
            raise typer.Exit(code=1)
