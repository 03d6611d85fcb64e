"""Reading and writing the project's own record files (not third-party formats: see ``fetch``).

* ``read_jsonl`` yields ``(line_no, dict)`` pairs, or a :class:`~extractor.records.Problem` for a
  line that is not a JSON object — the caller reports it and goes on with the next line.
* ``RecordWriter`` writes :class:`~extractor.records.ExtractionRecord` streams as JSONL (one
  record per line, painbench shape), CSV or Parquet (one row per value, ``ROW_COLUMNS``).
* ``read_records`` reads any of those three back.

No spaCy here: every stage may use this module.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from extractor.errors import InputError
from extractor.records import ROW_COLUMNS, ExtractionRecord, Problem, records_from_rows

RECORD_FORMATS = ("jsonl", "csv", "parquet")


def format_of(path: Path, allowed: Iterable[str] = RECORD_FORMATS) -> str:
    """The record format implied by a file name (``.jsonl``/``.json``/``.csv``/``.parquet``)."""
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"json": "jsonl", "ndjson": "jsonl"}.get(suffix, suffix)
    allowed = tuple(allowed)
    if fmt not in allowed:
        raise InputError(f"{path}: unknown output type '.{suffix}'; use one of: "
                         + ", ".join("." + a for a in allowed))
    return fmt


def require_file(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    return path


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]] | Problem]:
    """Yield ``(line_no, object)`` per non-blank line; a bad line yields a ``Problem`` instead."""
    require_file(path)
    with path.open("rb") as fh:
        for no, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield Problem(f"{path}:{no}", f"not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            if not line.strip():
                continue
            obj = json_object(line, f"{path}:{no}")
            yield obj if isinstance(obj, Problem) else (no, obj)


def json_object(line: str, where: str) -> dict[str, Any] | Problem:
    """One JSONL line as an object, or the ``Problem`` (at ``where``) that it is not one."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Problem(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(obj, dict):
        return Problem(where, f"expected a JSON object, got {type(obj).__name__}")
    return obj


def read_records(path: Path) -> Iterator[ExtractionRecord | Problem]:
    """Read extraction records from JSONL, CSV or Parquet (as written by ``RecordWriter``)."""
    fmt = format_of(require_file(path))
    if fmt == "jsonl":
        for item in read_jsonl(path):
            if isinstance(item, Problem):
                yield item
                continue
            no, obj = item
            try:
                yield ExtractionRecord.from_dict(obj)
            except (KeyError, TypeError, ValueError) as exc:
                yield Problem(f"{path}:{no}", f"not an extraction record: {exc}")
        return
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    missing = {"id", "kind"} - set(rows[0] if rows else {"id": 1, "kind": 1})
    if missing:
        raise InputError(f"{path}: not an extraction table (missing columns: {', '.join(sorted(missing))})")
    try:
        yield from records_from_rows(rows)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: not an extraction table: {exc}") from exc


class RecordWriter:
    """Stream records to ``.jsonl``, ``.csv`` or ``.parquet``; use as a context manager.

    Parquet is written in row groups of ``parquet_rows`` rows so memory stays bounded.
    """

    def __init__(self, path: Path, parquet_rows: int = 50_000) -> None:
        self.path = path
        self.format = format_of(path)
        self.count = 0
        self._fh: IO[str] | None = None
        self._csv: Any = None
        self._pq: Any = None
        self._rows: list[dict[str, Any]] = []
        self._parquet_rows = parquet_rows

    def __enter__(self) -> RecordWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.format == "jsonl":
            self._fh = self.path.open("w", encoding="utf-8")
        elif self.format == "csv":
            self._fh = self.path.open("w", encoding="utf-8", newline="")
            self._csv = csv.DictWriter(self._fh, fieldnames=list(ROW_COLUMNS))
            self._csv.writeheader()
        return self

    def write(self, record: ExtractionRecord) -> None:
        self.count += 1
        if self.format == "jsonl":
            assert self._fh is not None
            self._fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        elif self.format == "csv":
            self._csv.writerows(record.to_rows())
        else:
            self._rows.extend(record.to_rows())
            if len(self._rows) >= self._parquet_rows:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([_parquet_safe(r) for r in self._rows], schema=row_schema())
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.path, table.schema)
        self._pq.write_table(table)
        self._rows = []

    def close(self) -> None:
        if self.format == "parquet":
            if self._rows or self._pq is None:
                self._flush_parquet()
            self._pq.close()
        elif self._fh is not None:
            self._fh.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_INT_COLUMNS = {"n", "events", "total", "start", "end", "sent_start", "sent_end"}
_FLOAT_COLUMNS = {"days", "value", "percent", "p", "confidence"}


def row_schema() -> Any:
    """The Arrow schema of a value table (``ROW_COLUMNS``)."""
    import pyarrow as pa

    def typ(col: str) -> Any:
        if col in _INT_COLUMNS:
            return pa.int64()
        if col in _FLOAT_COLUMNS:
            return pa.float64()
        return pa.string()

    return pa.schema([(c, typ(c)) for c in ROW_COLUMNS])


def _parquet_safe(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for col in _FLOAT_COLUMNS:
        v = out.get(col)
        if v is not None:
            out[col] = float(v)
            if math.isnan(out[col]):
                out[col] = None
    return out
