"""One entry point for every file source: :func:`iter_source`.

Formats (``fmt``), detected from the extension and, where that is ambiguous, from the content:

==================  =========================================  ====================================
fmt                 files                                      notes
==================  =========================================  ====================================
``pubmed-xml``      ``.xml``, ``.xml.gz``                      efetch output, baseline/update
                                                               files, old ``MedlineCitationSet``
``europepmc-json``  ``.json``                                  saved Europe PMC search responses
``europepmc-xml``   ``.xml`` whose root is ``responseWrapper``  ``format=xml`` or ``format=dc``
``ris``             ``.ris``, ``.txt`` starting ``TY  -``      BOM and multi-line fields allowed
``medline``         ``.nbib``, ``.medline``, ``.txt`` with     PubMed's MEDLINE text export
                    ``PMID-``
``csv`` / ``tsv``   ``.csv``, ``.tsv``, ``.tab``               header line; columns via options
``jsonl``           ``.jsonl``, ``.ndjson``                    one object per line
``txt``             any other ``.txt``                         one abstract per file
==================  =========================================  ====================================

Any of these may be gzipped (``.gz``). A folder yields the records of every file in it with a
known extension (recursively, sorted by path; hidden files and ``.md5`` files are passed over).

Options: ``id_column``, ``text_column``, ``title_column``, ``abstract_column`` (CSV/JSONL, see
:mod:`extractor.fetch.tabular`), ``encoding`` (text formats, default ``utf-8``), ``delimiter``
(CSV), ``verify_md5`` (default True: a ``<file>.md5`` next to a file is checked before reading).

Pre-filter hook: ``iter_source(path, prefilter=hook)`` yields a :class:`Skipped` (id, reason,
version) instead of each :class:`Abstract` that ``hook(text, has_abstract)`` turns down (see
:mod:`extractor.fetch.hook`). For PubMed XML the decision is taken on each record's raw bytes and
only the records kept are parsed (:mod:`extractor.fetch.pubmed_fast`); ``parse_all=True`` parses
every record first. The items are the same either way.

Problems never stop the iteration: an unreadable line or record yields a :class:`Problem` and the
next one is read; a file that cannot be read on (malformed XML, truncated gzip, wrong md5) yields
a ``Problem(fatal_for_file=True)`` and the caller goes on with its next file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, overload

from extractor.errors import InputError
from extractor.fetch.europepmc import iter_epmc_json, iter_epmc_xml
from extractor.fetch.hook import PrefilterHook, apply_prefilter
from extractor.fetch.pubmed_fast import iter_pubmed_fast
from extractor.fetch.pubmed_xml import iter_pubmed_xml
from extractor.fetch.streams import READ_ERRORS, open_gzip
from extractor.fetch.tabular import Columns, iter_csv, iter_jsonl
from extractor.fetch.tagged import iter_medline, iter_ris, txt_record
from extractor.records import Abstract, Deletion, Problem, Skipped

FORMATS: tuple[str, ...] = (
    "pubmed-xml",
    "europepmc-json",
    "europepmc-xml",
    "ris",
    "medline",
    "csv",
    "tsv",
    "jsonl",
    "txt",
)
ALIASES: dict[str, str] = {
    "xml": "pubmed-xml",
    "pubmed": "pubmed-xml",
    "nbib": "medline",
    "europepmc": "europepmc-json",
    "json": "europepmc-json",
    "ndjson": "jsonl",
}
OPTIONS: tuple[str, ...] = (
    "id_column",
    "text_column",
    "title_column",
    "abstract_column",
    "encoding",
    "delimiter",
    "verify_md5",
)
_EXTENSIONS: dict[str, str | None] = {
    ".xml": None,
    ".json": "europepmc-json",
    ".ris": "ris",
    ".nbib": "medline",
    ".medline": "medline",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": None,
}
_MD5 = re.compile(r"\b([0-9a-fA-F]{32})\b")

Item = Abstract | Deletion | Problem | Skipped
PlainItem = Abstract | Deletion | Problem


def normalise_format(fmt: str | None) -> str | None:
    if fmt is None or fmt == "auto":
        return None
    name = ALIASES.get(fmt.lower(), fmt.lower())
    if name not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return name


def _inner_suffix(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    dot = name.rfind(".")
    return (name[dot:] if dot > 0 else ""), gz


def _open(path: Path) -> IO[bytes]:
    _suffix, gz = _inner_suffix(path)
    if gz:
        return open_gzip(path)
    return path.open("rb")


def _sniff(head: bytes) -> str | None:
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "europepmc-xml" if "<responseWrapper" in text[:2000] else "pubmed-xml"
    if re.match(r"TY  -", text) or re.search(r"^TY  -", text[:2000], re.M):
        return "ris"
    if re.match(r"PMID- ?\d", text) or re.search(r"^PMID- ", text[:2000], re.M):
        return "medline"
    if text.startswith("{"):
        return "jsonl"
    return None


def detect_format(path: Path) -> str:
    """The format of a file from its extension, and from its first bytes where that is ambiguous."""
    suffix, _gz = _inner_suffix(path)
    known = _EXTENSIONS.get(suffix, "")
    if known:
        return known
    try:
        with _open(path) as fh:
            head = fh.read(4096)
    except READ_ERRORS as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    sniffed = _sniff(head)
    if suffix == ".xml":
        return sniffed if sniffed in ("pubmed-xml", "europepmc-xml") else "pubmed-xml"
    if suffix == ".txt":
        return sniffed if sniffed in ("ris", "medline") else "txt"
    if sniffed:
        return sniffed
    raise InputError(
        f"{path}: cannot tell the format from the name or content; pass a format ({', '.join(FORMATS)})"
    )


def md5_problem(path: Path) -> Problem | None:
    """Check ``<path>.md5`` when it exists; a mismatch (or an unreadable md5 file) is a Problem."""
    md5_path = path.with_name(path.name + ".md5")
    if not md5_path.is_file():
        return None
    m = _MD5.search(md5_path.read_text(encoding="utf-8", errors="replace"))
    if not m:
        return Problem(str(path), f"{md5_path.name} holds no MD5 checksum; file skipped", fatal_for_file=True)
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest().lower() != m.group(1).lower():
        return Problem(
            str(path),
            f"MD5 mismatch: file has {digest.hexdigest()}, {md5_path.name} says "
            f"{m.group(1).lower()}; download it again. File skipped",
            fatal_for_file=True,
        )
    return None


def _check_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")


def _is_source_file(path: Path) -> bool:
    if path.name.startswith(".") or path.name.lower().endswith(".md5"):
        return False
    suffix, _gz = _inner_suffix(path)
    return suffix in _EXTENSIONS


@overload
def iter_source(path: Path, fmt: str | None = None, *, prefilter: None = None,
                parse_all: bool = False, **options: Any) -> Iterator[PlainItem]: ...


@overload
def iter_source(path: Path, fmt: str | None = None, *, prefilter: PrefilterHook,
                parse_all: bool = False, **options: Any) -> Iterator[Item]: ...


def iter_source(path: Path, fmt: str | None = None, *, prefilter: PrefilterHook | None = None,
                parse_all: bool = False, **options: Any) -> Iterator[Item]:
    """Every record of a file (or folder), streamed; see the module docstring.

    ``prefilter(text, has_abstract)`` returns None to keep a record or the reason to skip it;
    skipped records are yielded as :class:`Skipped`. ``parse_all`` turns off deciding on raw bytes.
    """
    _check_options(options)
    fmt = normalise_format(fmt)
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and _is_source_file(p)
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            yield Problem(
                str(path),
                "folder holds no readable files (.txt, .xml, .ris, .nbib, .csv, .jsonl, ...)",
                fatal_for_file=True,
            )
        for file in files:
            yield from iter_source(file, fmt, prefilter=prefilter, parse_all=parse_all, **options)
        return
    if not path.exists():
        yield Problem(str(path), "no such file", fatal_for_file=True)
        return
    if options.get("verify_md5", True):
        try:
            problem = md5_problem(path)
        except OSError as exc:
            problem = Problem(str(path), f"cannot read ({exc.strerror or exc})", fatal_for_file=True)
        if problem is not None:
            yield problem
            return
    try:
        fmt = fmt or detect_format(path)
    except InputError as exc:
        yield Problem(str(path), str(exc).split(": ", 1)[-1], fatal_for_file=True)
        return
    try:
        if prefilter is None:
            yield from _read(path, fmt, options)
        elif fmt == "pubmed-xml" and not parse_all:
            with _open(path) as stream:
                yield from iter_pubmed_fast(stream, str(path), prefilter)
        else:
            yield from apply_prefilter(_read(path, fmt, options), prefilter)
    except READ_ERRORS as exc:
        yield Problem(
            str(path), f"cannot read ({getattr(exc, 'strerror', None) or exc})", fatal_for_file=True
        )


def _read(path: Path, fmt: str, options: dict[str, Any]) -> Iterator[Item]:
    where = str(path)
    encoding = str(options.get("encoding") or "utf-8")
    stem = path.name.split(".")[0]
    columns = Columns(
        id_column=options.get("id_column"),
        text_column=options.get("text_column"),
        title_column=options.get("title_column"),
        abstract_column=options.get("abstract_column"),
    )
    with _open(path) as stream:
        if fmt == "pubmed-xml":
            yield from iter_pubmed_xml(stream, where)
        elif fmt == "europepmc-json":
            yield from iter_epmc_json(stream, where)
        elif fmt == "europepmc-xml":
            yield from iter_epmc_xml(stream, where)
        elif fmt == "ris":
            yield from iter_ris(stream, where, stem=stem, encoding=encoding)
        elif fmt == "medline":
            yield from iter_medline(stream, where, encoding=encoding)
        elif fmt in ("csv", "tsv"):
            delimiter = str(options.get("delimiter") or ("\t" if fmt == "tsv" else ","))
            yield from iter_csv(
                stream, where, stem=stem, columns=columns, delimiter=delimiter, encoding=encoding
            )
        elif fmt == "jsonl":
            yield from iter_jsonl(stream, where, stem=stem, columns=columns, encoding=encoding)
        else:  # txt
            try:
                raw = stream.read()
            except READ_ERRORS as exc:
                yield Problem(where, f"file is truncated or corrupt ({exc})", fatal_for_file=True)
                return
            yield txt_record(path, raw, encoding=encoding)
