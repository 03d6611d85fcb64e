"""The output folder of a batch run: layout, lock, final tables and manifest.

::

    OUT/
      parts/f00000-c00000.parquet   one partition per chunk (file 0, chunk 0): every event of the chunk
      journal.sqlite                what is done + the last event of every id (resume reads this)
      values.parquet                the final table: extracted values, last version of each id only
      deleted.parquet               ids whose last event is a deletion (to remove from older stores)
      manifest.json                 job settings, files, partitions, counts, final tables, runs
      .lock                         held while a run writes the folder

Deletions and later versions are applied when the final tables are built (:func:`compact`), not
by rewriting partitions: a row of a partition is in ``values.parquet`` when its status is
``extracted`` and its ``seq`` is still the last event of its id in the journal. Partitions are
never changed once written, so a resumed run can trust every committed one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from extractor.batch import faults
from extractor.batch.chunks import STATUS_EXTRACTED, seq_file
from extractor.batch.journal import FORMAT, JOURNAL_NAME, Journal
from extractor.batch.worker import PARTS_DIR
from extractor.errors import InputError

VALUES_NAME = "values.parquet"
DELETED_NAME = "deleted.parquet"
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
OWN_NAMES = (PARTS_DIR, JOURNAL_NAME, f"{JOURNAL_NAME}-wal", f"{JOURNAL_NAME}-shm", VALUES_NAME, DELETED_NAME,
             MANIFEST_NAME, LOCK_NAME)
FINAL_EXTRA_COLUMNS = ("source_file", "version")
_ROWS_PER_GROUP = 100_000


@contextlib.contextmanager
def locked_output(out: Path, *, restart: bool = False) -> Iterator[Path]:
    """Create/check ``out``, hold its lock for the duration, clean leftovers of killed runs."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    strangers = sorted(p.name for p in out.iterdir() if p.name not in OWN_NAMES)
    if strangers and not (out / JOURNAL_NAME).exists():
        listed = ", ".join(strangers[:3]) + (", …" if len(strangers) > 3 else "")
        raise InputError(f"--out {out}: the folder is not empty and holds no batch run ({listed}); "
                         "give a new folder")
    fh: IO[str] = open(out / LOCK_NAME, "a+", encoding="ascii")  # noqa: SIM115  (held until the end)
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise InputError(f"--out {out}: another `extractor run` (pid {holder}) is writing this folder") \
                from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        if restart:
            for name in OWN_NAMES:
                if name == LOCK_NAME:
                    continue
                p = out / name
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        parts = out / PARTS_DIR
        parts.mkdir(exist_ok=True)
        for tmp in parts.glob(".*.tmp"):  # temporary files of a killed run
            tmp.unlink(missing_ok=True)
        for tmp in out.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        yield out
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def read_events(path: Path) -> list[tuple[str, int, str]]:
    """The events ``(id, seq, status)`` of a partition, one per record, in order."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["id", "seq", "status"])
    events: list[tuple[str, int, str]] = []
    last = -1
    for rid, seq, status in zip(table.column("id").to_pylist(), table.column("seq").to_pylist(),
                                table.column("status").to_pylist(), strict=True):
        if seq != last:
            events.append((rid, seq, status))
            last = seq
    return events


def final_schema() -> Any:
    import pyarrow as pa

    from extractor.io import row_schema

    return row_schema().append(pa.field("source_file", pa.string())).append(pa.field("version", pa.int64()))


@dataclass
class FinalInfo:
    records: int = 0
    rows: int = 0
    values: int = 0
    superseded: int = 0
    deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"values": VALUES_NAME, "records": self.records, "rows": self.rows,
                "value_rows": self.values, "superseded_or_deleted": self.superseded,
                "deleted": DELETED_NAME, "deleted_ids": self.deleted}


class _Buffered:
    """A ParquetWriter that writes row groups of about ``_ROWS_PER_GROUP`` rows."""

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.pending: list[Any] = []
        self.n = 0

    def write(self, table: Any) -> None:
        self.pending.append(table)
        self.n += table.num_rows
        if self.n >= _ROWS_PER_GROUP:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending))
        self.pending, self.n = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _replace_into_place(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def compact(out: Path, journal: Journal) -> FinalInfo:
    """Build ``values.parquet`` and ``deleted.parquet`` from the partitions (see module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    info = FinalInfo()
    schema = final_schema()
    columns = schema.names
    tmp = out / f".{VALUES_NAME}.{os.getpid()}.tmp"
    writer = _Buffered(tmp, schema)
    try:
        for _f, _c, _first, _items, _rows, part, *_ in journal.chunk_rows():
            table = pq.read_table(out / part)
            table = table.filter(pc.equal(table.column("status"), STATUS_EXTRACTED))
            if table.num_rows == 0:
                continue
            pairs: list[tuple[str, int]] = []
            last = -1
            for rid, seq in zip(table.column("id").to_pylist(), table.column("seq").to_pylist(), strict=True):
                if seq != last:
                    pairs.append((rid, seq))
                    last = seq
            kept = journal.kept_seqs(pairs)
            if len(kept) < len(pairs):
                info.superseded += len(pairs) - len(kept)
                keep = pa.array(sorted(kept), pa.int64())
                table = table.filter(pc.is_in(table.column("seq"), value_set=keep))
            info.records += len(kept)
            info.rows += table.num_rows
            if table.num_rows == 0:
                continue
            info.values += table.num_rows - table.column("kind").null_count
            writer.write(table.select(columns).cast(schema))
        writer.close()
        _replace_into_place(tmp, out / VALUES_NAME)
    finally:
        tmp.unlink(missing_ok=True)
    info.deleted = _write_deleted(out, journal)
    faults.point("compacted")
    journal.set_meta("final", json.dumps({"chunks": journal.n_chunks(), **info.to_dict()}))
    return info


def _write_deleted(out: Path, journal: Journal) -> int:
    import pyarrow as pa

    files = {f.index: f.path for f in journal.files()}
    schema = pa.schema([("id", pa.string()), ("source_file", pa.string())])
    rows: list[dict[str, Any]] = []
    count = 0
    table_tmp = out / f".{DELETED_NAME}.{os.getpid()}.tmp"
    import pyarrow.parquet as pq

    writer = pq.ParquetWriter(table_tmp, schema, compression="zstd")
    try:
        for rid, seq in journal.deleted():
            rows.append({"id": rid, "source_file": files.get(seq_file(seq))})
            count += 1
            if len(rows) >= _ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        writer.write_table(pa.Table.from_pylist(rows, schema=schema))
        writer.close()
        _replace_into_place(table_tmp, out / DELETED_NAME)
    finally:
        table_tmp.unlink(missing_ok=True)
    return count


def final_is_current(out: Path, journal: Journal) -> FinalInfo | None:
    """The recorded final-table figures when ``values.parquet`` matches the committed chunks."""
    raw = journal.get_meta("final")
    if raw is None or not (out / VALUES_NAME).exists() or not (out / DELETED_NAME).exists():
        return None
    data = json.loads(raw)
    if data.get("chunks") != journal.n_chunks():
        return None
    return FinalInfo(records=data["records"], rows=data["rows"], values=data["value_rows"],
                     superseded=data["superseded_or_deleted"], deleted=data["deleted_ids"])


def summarise(totals: Counter[str]) -> dict[str, Any]:
    """Grouped totals: read, extracted, skipped by reason, failed by reason, values by kind."""
    def group(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: v for k, v in sorted(totals.items()) if k.startswith(prefix)}

    return {
        "read": totals["read"], "abstracts": totals["abstracts"], "deletions": totals["deletions"],
        "extracted": totals["extracted"], "with_values": totals["with values"], "values": totals["values"],
        "values_by_kind": group("values: "),
        "skipped": totals["skipped"], "skipped_by_reason": group("skipped: "),
        "failed": totals["failed"], "failed_by_reason": group("failed: "),
    }


def write_manifest(out: Path, journal: Journal, *, complete: bool, final: FinalInfo | None,
                   runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Write ``manifest.json`` atomically (it is derived from the journal; the journal is the truth)."""
    totals, problems, n_chunks = journal.totals()
    files = journal.files()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "complete": complete,
        "job": json.loads(journal.get_meta("job") or "{}"),
        "layout": {"partitions": f"{PARTS_DIR}/f<file>-c<chunk>.parquet", "journal": JOURNAL_NAME,
                   "values": VALUES_NAME, "deleted": DELETED_NAME},
        "totals": summarise(totals),
        "final": None if final is None else {**final.to_dict(),
                                             "last_event_status": journal.final_status_counts()},
        "files": [{"index": f.index, "path": f.path, "size": f.size, "mtime_ns": f.mtime_ns, "items": f.items,
                   "chunks": f.chunks, "finished": f.finished} for f in files],
        "partitions": [
            {"file": f, "chunk": c, "first_item": first, "items": items, "rows": rows, "path": part,
             "counts": dict(sorted(counts.items())), "seconds": round(secs, 3)}
            for f, c, first, items, rows, part, counts, _problems, secs in journal.chunk_rows()
        ],
        "n_partitions": n_chunks,
        "problems": problems,
        "runs": runs,
    }
    tmp = out / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out / MANIFEST_NAME)
    return manifest


__all__ = ["DELETED_NAME", "MANIFEST_NAME", "VALUES_NAME", "FinalInfo", "compact", "final_is_current",
           "locked_output", "read_events", "write_manifest"]
