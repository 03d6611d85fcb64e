"""Worker side of a batch run: one chunk in, one Parquet partition out.

:func:`process_chunk` is the only place that runs the spaCy pipeline in a batch run; the local
engine calls it in the main process (``--workers 1``) or in worker processes, the Dask engine in
its tasks. It always writes the same partition for the same chunk:

* one row per extracted value (``extractor.io.row_schema()`` columns), or one id-only row for an
  extracted record without values, exactly as ``ExtractionRecord.to_rows()``;
* one id-only row per skipped abstract, deletion and failed record;
* extra columns: ``status`` (``extracted`` / ``skipped`` / ``deleted`` / ``failed``), ``reason``
  (why skipped or failed), ``seq`` (the event order), ``source_file`` and ``version``.

The partition is written to a temporary file in the same folder and renamed into place, so a
partition file is either complete or absent. Each worker process loads the pipeline once
(:func:`pipeline`), however many chunks it handles, and anew only when its vocabulary has grown
past ``extractor.nlp.pipeline.VOCAB_LIMIT`` strings.
"""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.batch.chunks import (
    STATUS_DELETED,
    STATUS_EXTRACTED,
    STATUS_FAILED,
    ChunkInput,
    InputFile,
    ReadState,
    iter_chunks,
    make_seq,
    version_of,
)
from extractor.batch.prefilter import Prefilter, PrefilterConfig
from extractor.heap import quiet_gc
from extractor.records import Abstract, ExtractionRecord

EXTRA_COLUMNS: tuple[str, ...] = ("status", "reason", "seq", "source_file", "version")
PROBLEMS_KEPT_PER_CHUNK = 20
PARTS_DIR = "parts"

_FLOAT_COLUMNS = ("days", "value", "percent", "p", "confidence")


def partition_schema() -> Any:
    """``row_schema()`` plus the batch columns (see the module docstring)."""
    import pyarrow as pa

    from extractor.io import row_schema

    return row_schema().append(pa.field("status", pa.string())).append(pa.field("reason", pa.string())) \
        .append(pa.field("seq", pa.int64())).append(pa.field("source_file", pa.string())) \
        .append(pa.field("version", pa.int64()))


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    for col in _FLOAT_COLUMNS:
        v = row.get(col)
        if v is not None:
            f = float(v)
            row[col] = None if math.isnan(f) else f
    return row


@dataclass
class ChunkSummary:
    """What a worker reports about one chunk (small: counts and the first problems)."""

    file_index: int
    chunk_index: int
    first_item: int
    n_items: int
    partition: str
    rows: int
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    worker_peak_rss_mb: float = 0.0
    events: list[tuple[str, int, str]] = field(default_factory=list)  # (id, seq, status) per record


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) in MB of this process, or of process ``pid``; 0 where /proc is
    not available."""
    try:
        with open(f"/proc/{'self' if pid is None else pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _extract_all(nlp: Any, abstracts: list[tuple[int, Abstract]], batch_size: int
                 ) -> list[tuple[int, Abstract, ExtractionRecord | None, str | None]]:
    """Run the pipeline; a record the pipeline fails on is retried alone and reported as failed."""
    from extractor.nlp import extract

    if not abstracts:
        return []
    try:
        records = list(extract(nlp, (a for _, a in abstracts), batch_size=batch_size))
        return [(i, a, r, None) for (i, a), r in zip(abstracts, records, strict=True)]
    # A pipeline bug on one odd abstract must not stop a run over millions: isolate it below.
    except Exception:  # noqa: BLE001
        pass
    out: list[tuple[int, Abstract, ExtractionRecord | None, str | None]] = []
    for i, a in abstracts:
        try:
            (record,) = list(extract(nlp, [a], batch_size=1))
            out.append((i, a, record, None))
        except Exception as exc:  # noqa: BLE001  (reported per record, see above)
            out.append((i, a, None, f"pipeline error: {type(exc).__name__}: {exc}"[:500]))
    return out


def build_table(chunk: ChunkInput, nlp: Any, batch_size: int, counts: Counter[str]
                ) -> tuple[Any, list[tuple[str, int, str]]]:
    """The partition of a chunk (rows in item order) and its events ``(id, seq, status)``, one
    per record in item order (what the journal records).

    Built column by column: the extracted records' value rows in one table, the id-only rows of
    skipped, deleted and failed records (most of a chunk) in another made of five columns and
    nulls, then both stably sorted by ``seq``. Row for row what ``Table.from_pylist`` of the rows
    in item order would give, at a fraction of the cost.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = partition_schema()
    f = chunk.file_index
    rows: list[dict[str, Any]] = []
    event_rows: list[tuple[str, int, str, str | None, int | None]] = []  # id, seq, status, reason, version
    events: list[tuple[str, int, str]] = []
    failed = False
    for item, abstract, record, error in _extract_all(nlp, chunk.abstracts, batch_size):
        counts["read"] += 1
        counts["abstracts"] += 1
        seq = make_seq(f, item)
        version = version_of(abstract)
        if record is None:
            failed = True
            counts["failed"] += 1
            counts["failed: pipeline error"] += 1
            event_rows.append((abstract.id, seq, STATUS_FAILED, error, version))
            events.append((abstract.id, seq, STATUS_FAILED))
            continue
        counts["extracted"] += 1
        n_values = 0
        extra = {"status": STATUS_EXTRACTED, "reason": None, "seq": seq, "source_file": chunk.source_file,
                 "version": version}
        for row in record.to_rows():
            row.update(extra)
            rows.append(_clean(row))
            if row.get("kind"):
                n_values += 1
                counts[f"values: {row['kind']}"] += 1
        counts["values"] += n_values
        if n_values:
            counts["with values"] += 1
        events.append((abstract.id, seq, STATUS_EXTRACTED))
    if chunk.events:  # most of a chunk: handled column by column (C loops), not event by event
        ev_items, ev_ids, ev_statuses, ev_reasons, ev_versions = zip(*chunk.events, strict=True)
        ev_seqs = [make_seq(f, item) for item in ev_items]
        counts["read"] += len(ev_items)
        for (status, reason), k in Counter(zip(ev_statuses, ev_reasons, strict=True)).items():
            if status == STATUS_DELETED:
                counts["deletions"] += k
            else:
                counts["abstracts"] += k
                counts["skipped"] += k
                counts[f"skipped: {reason}"] += k
        event_rows.extend(zip(ev_ids, ev_seqs, ev_statuses, ev_reasons, ev_versions, strict=True))
        events.extend(zip(ev_ids, ev_seqs, ev_statuses, strict=True))
    counts["failed"] += len(chunk.problems)
    if chunk.problems:
        counts["failed: unreadable"] += len(chunk.problems)

    values = pa.Table.from_pydict({name: [row[name] for row in rows] for name in schema.names}, schema=schema)
    n = len(event_rows)
    ids, seqs, statuses, reasons, versions = (list(col) for col in zip(*event_rows, strict=True)) \
        if n else ([], [], [], [], [])
    given = {"id": pa.array(ids, pa.string()), "seq": pa.array(seqs, pa.int64()),
             "status": pa.array(statuses, pa.string()), "reason": pa.array(reasons, pa.string()),
             "source_file": pa.array([chunk.source_file] * n, pa.string()),
             "version": pa.array(versions, pa.int64())}
    id_only = pa.Table.from_arrays([given.get(fld.name, pa.nulls(n, fld.type)) for fld in schema],
                                   schema=schema)
    table = pa.concat_tables([values, id_only])
    if n and (values.num_rows or failed):  # rows from the extraction loop, then the decided events
        table = table.take(pc.sort_indices(table, sort_keys=[("seq", "ascending")]))  # stable
    events.sort(key=lambda e: e[1])
    return table.combine_chunks(), events


def write_partition(table: Any, path: Path) -> None:
    """Write a Parquet file atomically: temporary file in the same folder, fsync, rename."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def process_chunk(nlp: Any, chunk: ChunkInput, out_dir: Path, batch_size: int = 64) -> ChunkSummary:
    """Extract one chunk and write its partition ``out_dir/parts/<name>.parquet``."""
    started = time.perf_counter()
    counts: Counter[str] = Counter()
    with quiet_gc():
        table, events = build_table(chunk, nlp, batch_size, counts)
    name = f"{PARTS_DIR}/{chunk.name}.parquet"
    write_partition(table, out_dir / name)
    return ChunkSummary(
        file_index=chunk.file_index, chunk_index=chunk.chunk_index, first_item=chunk.first_item,
        n_items=chunk.n_items, partition=name, rows=table.num_rows, counts=counts,
        problems=[msg for _, msg in chunk.problems[:PROBLEMS_KEPT_PER_CHUNK]],
        seconds=time.perf_counter() - started, worker_peak_rss_mb=peak_rss_mb(), events=events,
    )


# ------------------------------------------------------------------------------------------
# One pipeline per worker process


_PIPELINES: dict[tuple[str, int], Any] = {}


def pipeline(model: str | None, vocab_limit: int | None = None) -> Any:
    """The pipeline for ``model`` (None: the built-in rules), loaded once per process (and per
    thread: a Dask worker may run several tasks at once, and a pipeline is not shared between
    threads), and anew once its vocabulary holds more than ``vocab_limit`` strings (default
    ``extractor.nlp.pipeline.VOCAB_LIMIT``: the vocabulary keeps every string it has seen, and
    outputs do not depend on it). Call it for each chunk rather than keeping the pipeline."""
    from extractor.nlp.pipeline import vocabulary_full

    key = (model or "", threading.get_ident())
    nlp = _PIPELINES.get(key)
    if nlp is not None and vocabulary_full(nlp, vocab_limit):
        del _PIPELINES[key]
        # drop every reference first, and collect now: the components and the pipeline refer to
        # one another, and the old vocabulary should be gone before the new one fills up
        nlp = None
        gc.collect()
    if nlp is None:
        from extractor.nlp import load_pipeline

        nlp = load_pipeline(model)
        _PIPELINES[key] = nlp
    return nlp


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs besides its chunk (picklable, small)."""

    out_dir: str
    model: str | None
    batch_size: int
    chunk_size: int
    prefilter: PrefilterConfig
    fmt: str | None
    options: dict[str, Any]
    parse_all: bool = False


_CONFIG: WorkerConfig | None = None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs. A killed process stays a zombie until its parent reaps it, and a
    parent such as ``subprocess.run`` may wait for our end of its output pipe first: a zombie
    counts as dead, or the two would wait for each other."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_coordinator(coordinator: int, parent: int) -> None:
    while True:
        time.sleep(0.5)
        # the coordinator died (e.g. SIGKILL), or our parent (the fork server) did: stop at once
        if os.getppid() != parent or not _alive(coordinator):
            os._exit(1)


def init_pool_worker(config: WorkerConfig, coordinator_pid: int) -> None:
    """Initializer of a local worker process: load the pipeline once; exit if the run dies."""
    global _CONFIG
    _CONFIG = config
    threading.Thread(target=_watch_coordinator, args=(coordinator_pid, os.getppid()), daemon=True,
                     name="coordinator-watch").start()
    pipeline(config.model)


def pool_process_chunk(chunk: ChunkInput) -> ChunkSummary:
    """Task of a local worker process."""
    assert _CONFIG is not None, "init_pool_worker was not run"
    return process_chunk(pipeline(_CONFIG.model), chunk, Path(_CONFIG.out_dir), _CONFIG.batch_size)


@dataclass
class FileResult:
    """What a Dask task reports for one input file."""

    file_index: int
    n_items: int
    summaries: list[ChunkSummary]


def process_file(file: InputFile, config: WorkerConfig, skip: frozenset[int]) -> FileResult:
    """Dask task: read one input file, pre-filter, extract, write its partitions (chunks in ``skip``
    are already done and only read past)."""
    prefilter = Prefilter(config.prefilter)
    state = ReadState()
    summaries = [
        process_chunk(pipeline(config.model), chunk, Path(config.out_dir), config.batch_size)
        for chunk in iter_chunks(file, config.chunk_size, prefilter, fmt=config.fmt, options=config.options,
                                 skip=skip, state=state, parse_all=config.parse_all)
    ]
    return FileResult(file_index=file.index, n_items=state.items, summaries=summaries)
