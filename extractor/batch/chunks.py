"""Input side of a batch run: which files, and how each is cut into chunks.

* :func:`expand_sources` turns the ``SOURCES`` arguments into the ordered list of input files
  (a folder becomes its readable files, sorted by path, exactly as ``iter_source`` reads it).
* :func:`iter_chunks` reads one file with :func:`extractor.fetch.iter_source` and cuts its item
  stream into chunks of ``chunk_size`` items. Chunk ``k`` of file ``f`` holds items
  ``k*chunk_size … (k+1)*chunk_size-1`` of that stream, so it is the same chunk whoever reads it
  (the local reader, a Dask worker, a resumed run). Every item is an abstract, a deletion or a
  problem; the pre-filter is handed to the reader (``iter_source(..., prefilter=...)``), which
  yields a ``Skipped`` for each abstract it turns down — for PubMed XML decided on the record's
  raw bytes, without parsing it (:mod:`extractor.fetch.pubmed_fast`) — before any spaCy work.
* Every item has a sequence number ``seq = file_index << 32 | item_index``: the order of
  events across the whole job. For the same id, the event with the larger ``seq`` wins.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from extractor.batch.prefilter import Prefilter
from extractor.errors import InputError
from extractor.fetch import iter_source
from extractor.fetch import sources as fetch_sources
from extractor.records import Abstract, Deletion, Problem, Skipped

SEQ_SHIFT = 32
MAX_FILES = 1 << 30

STATUS_EXTRACTED = "extracted"
STATUS_SKIPPED = "skipped"
STATUS_DELETED = "deleted"
STATUS_FAILED = "failed"
STATUSES: tuple[str, ...] = (STATUS_EXTRACTED, STATUS_SKIPPED, STATUS_DELETED, STATUS_FAILED)


def make_seq(file_index: int, item_index: int) -> int:
    return (file_index << SEQ_SHIFT) | item_index


def seq_file(seq: int) -> int:
    return seq >> SEQ_SHIFT


@dataclass(frozen=True)
class InputFile:
    """One input file of the job: its place in the order, path and fingerprint."""

    index: int
    path: str
    size: int
    mtime_ns: int

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "path": self.path, "size": self.size, "mtime_ns": self.mtime_ns}


def _fingerprint(index: int, path: Path) -> InputFile:
    st = path.stat()
    return InputFile(index=index, path=str(path), size=st.st_size, mtime_ns=st.st_mtime_ns)


def expand_sources(sources: Iterable[Path]) -> list[InputFile]:
    """The job's input files in processing order: each argument in turn, folders expanded."""
    files: list[Path] = []
    for src in sources:
        path = Path(os.path.abspath(src))
        if not path.exists():
            raise InputError(f"{src}: no such file or folder")
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and fetch_sources._is_source_file(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise InputError(f"{src}: the folder holds no readable files (.xml, .xml.gz, .jsonl, .csv, "
                                 ".ris, .nbib, .txt, ...)")
            files.extend(found)
        else:
            files.append(path)
    if not files:
        raise InputError("no input files given")
    seen: set[Path] = set()
    for f in files:
        if f in seen:
            raise InputError(f"{f}: given twice; each input file is read once")
        seen.add(f)
    if len(files) >= MAX_FILES:
        raise InputError(f"too many input files ({len(files)}); split the job")
    return [_fingerprint(i, f) for i, f in enumerate(files)]


class Event(NamedTuple):
    """A decided item that needs no pipeline run: skipped by the pre-filter, or a deletion (a
    tuple: most items of a chunk are these, so they are made, pickled and read cheaply)."""

    item: int
    id: str
    status: str
    reason: str | None
    version: int | None


@dataclass
class ChunkInput:
    """What a worker needs to produce one partition."""

    file_index: int
    chunk_index: int
    first_item: int
    n_items: int
    source_file: str
    abstracts: list[tuple[int, Abstract]] = field(default_factory=list)  # (item, abstract) to extract
    events: list[Event] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (item, message)

    @property
    def name(self) -> str:
        return partition_name(self.file_index, self.chunk_index)


def partition_name(file_index: int, chunk_index: int) -> str:
    return f"f{file_index:05d}-c{chunk_index:05d}"


def version_of(item: Abstract | Deletion | Skipped) -> int | None:
    v = item.metadata.get("version") if item.metadata else None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@dataclass
class ReadState:
    """How far the reader got in the current file (for the progress estimate)."""

    items: int = 0
    done: bool = False


def iter_chunks(file: InputFile, chunk_size: int, prefilter: Prefilter, *, fmt: str | None = None,
                options: dict[str, Any] | None = None, skip: Container[int] = (),
                state: ReadState | None = None, parse_all: bool = False) -> Iterator[ChunkInput]:
    """The chunks of one file, in order; chunks whose index is in ``skip`` are read but not built.

    The last yielded chunk may be shorter. A file with no items yields no chunk. ``parse_all``
    makes the reader parse every PubMed record before the pre-filter decides (same chunks).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    state = state if state is not None else ReadState()
    chunk: ChunkInput | None = None
    item = -1
    hook = prefilter if prefilter.config.enabled else None  # its raw_reason too
    for item, obj in enumerate(iter_source(Path(file.path), fmt, prefilter=hook, parse_all=parse_all,
                                           **(options or {}))):
        state.items = item + 1
        k, offset = divmod(item, chunk_size)
        if offset == 0:
            if chunk is not None:
                yield chunk
            chunk = None if k in skip else ChunkInput(file.index, k, item, 0, file.path)
        if chunk is None:
            continue
        chunk.n_items += 1
        if isinstance(obj, Problem):
            chunk.problems.append((item, str(obj)))
        elif isinstance(obj, Deletion):
            chunk.events.append(Event(item, obj.id, STATUS_DELETED, None, version_of(obj)))
        elif isinstance(obj, Skipped):
            chunk.events.append(Event(item, obj.id, STATUS_SKIPPED, obj.reason, version_of(obj)))
        else:  # an abstract the pre-filter passed
            chunk.abstracts.append((item, obj))
    state.done = True
    if chunk is not None:
        yield chunk


def count_chunks(n_items: int, chunk_size: int) -> int:
    return -(-n_items // chunk_size)
