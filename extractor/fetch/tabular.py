"""CSV/TSV and JSONL files of abstracts, with configurable columns.

Options (all optional; names matched case-insensitively):

* ``id_column`` — default the first of ``id``, ``pmid``, ``pmcid``, ``doi`` present. A row
  without an id gets ``<file stem>:<line>``.
* ``text_column`` — the full text, kept **unchanged** (offsets stay valid). Default ``text``.
* ``abstract_column`` + ``title_column`` — used when there is no text column:
  ``text = title + "\\n" + abstract`` as for every other source (whitespace collapsed, inline
  upper-case labels become sections). Defaults ``abstract`` and ``title``.

A JSONL object that has ``id`` and ``text`` (like ``painbench/pool.jsonl`` or this stage's own
output) is read with :meth:`Abstract.from_dict`: text, sections, metadata and ``has_abstract``
are kept as they are. Columns named ``pmid``, ``doi``, ``journal``, ``year``, ``language``
and ``authors`` are copied into ``metadata``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from extractor.fetch.tagged import iter_lines
from extractor.fetch.text import body_parts_from_plain, composed_abstract
from extractor.io import json_object
from extractor.records import Abstract, Deletion, Problem

_META_COLUMNS = ("pmid", "doi", "journal", "year", "language", "authors")
_ID_DEFAULTS = ("id", "pmid", "pmcid", "doi")


def _find(columns: Iterable[str], wanted: str | None, defaults: tuple[str, ...]) -> str | None:
    by_lower = {c.lower(): c for c in columns}
    if wanted:
        return by_lower.get(wanted.lower())
    for name in defaults:
        if name in by_lower:
            return by_lower[name]
    return None


class Columns:
    """Which keys of a row hold the id, text, title and abstract (see module docstring)."""

    def __init__(
        self,
        id_column: str | None = None,
        text_column: str | None = None,
        title_column: str | None = None,
        abstract_column: str | None = None,
    ) -> None:
        self.id_column = id_column
        self.text_column = text_column
        self.title_column = title_column
        self.abstract_column = abstract_column

    def resolve(self, columns: Iterable[str]) -> tuple[str | None, str | None, str | None, str | None]:
        """The actual keys for id, text, title, abstract; ``ValueError`` when a needed one is missing."""
        columns = list(columns)
        rid = _find(columns, self.id_column, _ID_DEFAULTS)
        text = _find(columns, self.text_column, ("text",))
        title = _find(columns, self.title_column, ("title",))
        abstract = _find(columns, self.abstract_column, ("abstract", "abstracttext", "ab"))
        for given, found, what in (
            (self.id_column, rid, "id"),
            (self.text_column, text, "text"),
            (self.title_column, title, "title"),
            (self.abstract_column, abstract, "abstract"),
        ):
            if given and found is None:
                raise ValueError(
                    f"no column {given!r} for the {what} (columns: {', '.join(columns) or 'none'})"
                )
        if text is None and abstract is None and title is None:
            raise ValueError(
                f"no text column found (columns: {', '.join(columns) or 'none'}); name one "
                "with text_column= / --text-column, or abstract_column= / --abstract-column"
            )
        return rid, text, title, abstract


def row_record(
    row: Mapping[str, Any],
    cols: tuple[str | None, str | None, str | None, str | None],
    *,
    where: str,
    line: int,
    stem: str,
    source: str,
) -> Abstract | Problem:
    id_key, text_key, title_key, abstract_key = cols
    rid = row.get(id_key) if id_key else None
    rid = str(rid).strip() if rid not in (None, "") else f"{stem}:{line}"
    metadata: dict[str, Any] = {}
    lower = {str(k).lower(): k for k in row}
    for name in _META_COLUMNS:
        if name in lower and row[lower[name]] not in (None, ""):
            metadata[name] = row[lower[name]]
    metadata.update({"file": where, "line": line})
    if text_key is not None and row.get(text_key) not in (None, ""):
        text = row[text_key]
        if not isinstance(text, str):
            return Problem(f"{where}:{line}", f"column {text_key!r} is not a string; row skipped")
        title = str(row.get(title_key) or "") if title_key else ""
        return Abstract(
            id=rid, text=text, title=title, source=source, metadata=metadata, has_abstract=bool(text.strip())
        )
    title = str(row.get(title_key) or "") if title_key else ""
    abstract = str(row.get(abstract_key) or "") if abstract_key else ""
    return composed_abstract(rid, title, body_parts_from_plain(abstract), source=source, metadata=metadata)


def iter_csv(
    stream: IO[bytes],
    where: str,
    *,
    stem: str,
    columns: Columns,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Iterator[Abstract | Problem]:
    """Rows of a CSV/TSV file with a header line. Quoted fields may span lines. A row with a line
    that is not valid text, or with the wrong number of fields, is skipped with a ``Problem``."""
    bad_lines: set[int] = set()
    problems: list[Problem] = []

    def lines() -> Iterator[str]:
        for item in iter_lines(stream, where, encoding):
            if isinstance(item, Problem):
                problems.append(item)
                if item.fatal_for_file:
                    return
                no = int(item.where.rsplit(":", 1)[1])
                bad_lines.add(no)
                yield "\n"  # keep csv's line count in step; the row is dropped below
                continue
            yield item[1] + "\n"

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        yield from problems
        yield Problem(where, "empty file (no header line)", fatal_for_file=True)
        return
    except csv.Error as exc:
        yield Problem(f"{where}:1", f"cannot read the header line: {exc}", fatal_for_file=True)
        return
    yield from problems
    problems.clear()
    try:
        cols = columns.resolve(header)
    except ValueError as exc:
        yield Problem(where, f"{exc}; file skipped", fatal_for_file=True)
        return
    prev = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Problem(f"{where}:{reader.line_num}", f"bad CSV row: {exc}; row skipped")
            prev = reader.line_num
            continue
        first, last = prev + 1, reader.line_num
        prev = last
        yield from problems
        problems.clear()
        if any(first <= no <= last for no in bad_lines):
            continue  # already reported as a Problem
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield Problem(
                f"{where}:{first}", f"row has {len(values)} fields, the header has {len(header)}; row skipped"
            )
            continue
        yield row_record(
            dict(zip(header, values, strict=True)), cols, where=where, line=first, stem=stem, source="csv"
        )
    yield from problems


def iter_jsonl(
    stream: IO[bytes], where: str, *, stem: str, columns: Columns, encoding: str = "utf-8"
) -> Iterator[Abstract | Deletion | Problem]:
    """One JSON object per line (blank lines ignored); a bad line yields a ``Problem`` and the
    next line is read."""
    plain = (
        columns.id_column in (None, "id")
        and columns.text_column in (None, "text")
        and columns.abstract_column is None
    )
    resolved: dict[frozenset[str], tuple[str | None, str | None, str | None, str | None]] = {}
    for item in iter_lines(stream, where, encoding):
        if isinstance(item, Problem):
            yield item
            if item.fatal_for_file:
                return
            continue
        no, line = item
        if not line.strip():
            continue
        obj = json_object(line, f"{where}:{no}")
        if isinstance(obj, Problem):
            yield obj
            continue
        if obj.get("deleted") is True and "text" not in obj and obj.get("id"):
            # a Deletion line of this stage's own output
            yield Deletion(
                id=str(obj["id"]),
                source=str(obj.get("source") or "pubmed-dump"),
                metadata=dict(obj.get("metadata") or {}),
            )
            continue
        if plain and "id" in obj and isinstance(obj.get("text"), str):
            try:
                record = Abstract.from_dict(obj)
            except (KeyError, TypeError, ValueError) as exc:
                yield Problem(f"{where}:{no}", f"not an abstract record: {exc}")
                continue
            meta = {**record.metadata}
            meta.setdefault("file", where)
            meta.setdefault("line", no)
            yield Abstract(
                id=record.id,
                text=record.text,
                title=record.title,
                sections=record.sections,
                source=record.source or "jsonl",
                metadata=meta,
                has_abstract=record.has_abstract,
            )
            continue
        key = frozenset(obj)
        if key not in resolved:
            try:
                resolved[key] = columns.resolve(obj.keys())
            except ValueError as exc:
                yield Problem(f"{where}:{no}", f"{exc}; line skipped")
                continue
        try:
            yield row_record(obj, resolved[key], where=where, line=no, stem=stem, source="jsonl")
        except ValueError as exc:
            yield Problem(f"{where}:{no}", f"not an abstract record: {exc}")
