"""`extractor extract`: run the NLP pipeline over abstracts and write one record per abstract."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from extractor.errors import InputError
from extractor.io import format_of
from extractor.records import Abstract, Deletion, Problem

if TYPE_CHECKING:
    from spacy.language import Language

    from extractor.records import ExtractionRecord

STORE_CHUNK = 500
# With one process, the abstracts go through the pipeline in segments of this many batches, and
# between two segments the pipeline is loaded anew once its vocabulary is full (see
# ``extractor.nlp.pipeline.VOCAB_LIMIT``). Whole batches, so the batches are those of one stream.
SEGMENT_BATCHES = 160


def extract_stream(nlp: Language, abstracts: Iterable[Abstract], load: Callable[[], Language], *,
                   n_process: int = 1, batch_size: int = 64, vocab_limit: int | None = None,
                   segment_batches: int = SEGMENT_BATCHES) -> Iterator[ExtractionRecord]:
    """``extractor.nlp.extract`` over a stream of any length with bounded memory: before each
    segment, once ``nlp``'s vocabulary holds more than ``vocab_limit`` strings, it is dropped and
    replaced by ``load()`` (the caller must not keep ``nlp`` itself). The records are those of one
    pipeline over the whole stream. With several processes (spaCy's ``n_process``) one pipeline
    runs throughout."""
    from extractor.heap import quiet_gc
    from extractor.nlp import extract
    from extractor.nlp.pipeline import vocabulary_full

    if n_process != 1:
        yield from extract(nlp, abstracts, n_process=n_process, batch_size=batch_size)
        return
    stream = iter(abstracts)
    for first in stream:
        if vocabulary_full(nlp, vocab_limit):
            # the full one goes before the new one fills up (collected now: its components and
            # the pipeline refer to one another), as in ``extractor.batch.worker.pipeline``
            del nlp
            gc.collect()
            nlp = load()
        segment = chain((first,), islice(stream, segment_batches * batch_size - 1))
        with quiet_gc():  # the pipeline is not walked by the collector (left before a renewal)
            yield from extract(nlp, segment, batch_size=batch_size)


def read_abstracts(paths: list[Path], fmt: str | None = None) -> Iterator[Abstract | Deletion | Problem]:
    """Abstracts from any source the fetch stage reads (JSONL, PubMed XML, RIS, MEDLINE, CSV, .txt).

    A JSONL record with ``id`` and ``text`` (like ``../shared/painbench/pool.jsonl``) is taken as
    is, so offsets point into its ``text``. A bad line or file is a ``Problem``.
    """
    from extractor.fetch import iter_source

    for path in paths:
        yield from iter_source(path, fmt)


def _count_lines(paths: list[Path]) -> int | None:
    """Non-blank lines when every input is JSONL (for the progress bar), else unknown."""
    if not all(p.is_file() and p.suffix.lower() in (".jsonl", ".ndjson") for p in paths):
        return None
    try:
        total = 0
        for path in paths:
            with path.open("rb") as fh:
                total += sum(1 for line in fh if line.strip())
        return total
    except OSError:
        return None


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def _cmd(
        inputs: Annotated[list[Path], typer.Argument(
            metavar="IN...", help="Abstracts: JSONL ('id' + 'text' per line), PubMed XML (.xml/.xml.gz), "
                                  "RIS, MEDLINE/nbib, CSV, or a folder of .txt files.")],
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Output file: .jsonl, .csv or .parquet.")],
        fmt: Annotated[str | None, typer.Option(
            "--format", "-f", help="Force the input format (default: detect); see `extractor fetch file`.")
        ] = None,
        n_process: Annotated[int, typer.Option(
            "--n-process", min=1, help="Worker processes for spaCy.")] = 1,
        batch_size: Annotated[int, typer.Option(
            "--batch-size", min=1, help="Abstracts per batch.")] = 64,
        model: Annotated[Path | None, typer.Option(
            "--model", help="A saved pipeline directory (default: rules + shipped trained model).")] = None,
        rules_only: Annotated[bool, typer.Option(
            "--rules-only", help="Use the rule components alone, without the trained ones.")] = False,
        store_path: Annotated[Path | None, typer.Option(
            "--store", help="Also put the abstracts and their extractions into this review store "
                            "(SQLite, created if missing); re-extraction keeps reviewers' decisions.")
        ] = None,
        progress_bar: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Show a progress bar.")] = True,
    ) -> None:
        """Extract sample sizes, scales, pain scores, proportions and p-values, with provenance."""
        from collections import deque

        from extractor.commands._common import progress, report
        from extractor.fetch.sources import normalise_format
        from extractor.io import RecordWriter
        from extractor.nlp import load_pipeline

        for path in inputs:
            if not path.exists():
                raise InputError(f"{path}: no such file or folder")
        normalise_format(fmt)
        format_of(out)  # fail early on an unknown output type
        nlp = load_pipeline(model, rules_only=rules_only)
        problems: list[str] = []
        counts: Counter[str] = Counter()
        in_flight: deque[Abstract] = deque()

        def abstracts() -> Iterator[Abstract]:
            for item in read_abstracts(inputs, fmt):
                if isinstance(item, Problem):
                    problems.append(str(item))
                    continue
                if isinstance(item, Deletion):
                    counts["deletions skipped"] += 1
                    continue
                counts["abstracts"] += 1
                if store_path is not None:
                    in_flight.append(item)
                yield item

        store = None
        if store_path is not None:
            from extractor.review.store import Store

            store = Store(store_path)
        pending: list[tuple[Abstract, ExtractionRecord]] = []

        def flush() -> None:
            if store is not None and pending:
                store.add_abstracts(a for a, _ in pending)
                store.import_records((r for _, r in pending), run=f"extract {out.name}")
                pending.clear()

        try:
            with RecordWriter(out) as writer:
                stream = extract_stream(nlp, abstracts(), lambda: load_pipeline(model, rules_only=rules_only),
                                        n_process=n_process, batch_size=batch_size)
                del nlp  # the stream's from here: it drops the pipeline when the vocabulary is full
                for record in progress(stream, total=_count_lines(inputs), desc="extract", unit="abs",
                                       enabled=progress_bar):
                    writer.write(record)
                    counts["records"] += 1
                    for value in record.values():
                        counts[value.kind] += 1
                    if store is not None:
                        pending.append((in_flight.popleft(), record))
                        if len(pending) >= STORE_CHUNK:
                            flush()
            flush()
        finally:
            if store is not None:
                store.close()
        counts["problems"] = len(problems)
        report(f"extract: wrote {out}" + (f" and {store_path}" if store_path else ""), counts, problems)
        if problems:
            raise typer.Exit(code=1)
