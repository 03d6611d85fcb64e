"""Tagged text exports: RIS (``TY  - JOUR`` … ``ER  -``) and MEDLINE/nbib (``PMID- 123``), plus
plain ``.txt`` abstracts. Read line by line, so memory stays constant.

Id rules
--------
* MEDLINE: the ``PMID`` field.
* RIS: the PMID when the record carries one (``AN`` of digits in a PubMed/MEDLINE export, or a
  ``pubmed.ncbi.nlm.nih.gov/<pmid>`` link in ``UR``/``L2``/``LK``); else ``doi:<doi>`` (DOI lower-cased);
  else ``<file stem>:<n>`` with ``n`` the record's 1-based position in the file.
* ``.txt``: the file name without extension.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from extractor.fetch.streams import READ_ERRORS
from extractor.fetch.text import body_parts_from_plain, composed_abstract, squash, strip_markup
from extractor.records import Abstract, Problem, Section

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*)|\s*)$")
_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}- (.*)$")
_YEAR = re.compile(r"(1[6-9]|20)\d\d")
_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|pubmed/)(\d{1,9})\b")
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)")
_PUBMED_DBS = {"", "medline", "pubmed", "nlm", "pubmed central"}


def iter_lines(stream: IO[bytes], where: str, encoding: str = "utf-8") -> Iterator[tuple[int, str] | Problem]:
    """Decoded lines (no line ending) with 1-based numbers; a BOM on line 1 is dropped.

    A line that cannot be decoded yields a ``Problem`` naming the file, line and byte instead.
    A truncated or corrupt gzip stream ends with a fatal ``Problem``.
    """
    no = 0
    try:
        for no, raw in enumerate(stream, 1):  # noqa: B007 - ``no`` is used after the loop
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                yield Problem(
                    f"{where}:{no}",
                    f"not {encoding} text (byte 0x{raw[exc.start]:02x} at "
                    f"column {exc.start + 1}); re-save the file as UTF-8 or pass an encoding",
                )
                continue
            if no == 1:
                line = line.lstrip("\ufeff")
            yield no, line.rstrip("\r\n")
    except READ_ERRORS as exc:
        yield Problem(
            f"{where}:{no + 1}",
            f"file is truncated or corrupt ({exc}); the rest of the file was skipped",
            fatal_for_file=True,
        )


# --------------------------------------------------------------------------------------------
# RIS


def _first(fields: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        for value in fields.get(tag, ()):
            if value.strip():
                return value
    return ""


def _clean_doi(value: str) -> str:
    m = _DOI.search(value)
    return m.group(1).rstrip(".,;") if m else ""


def _ris_pmid(fields: dict[str, list[str]]) -> str:
    db = _first(fields, "DB", "DP").strip().lower()
    an = _first(fields, "AN").strip()
    if an.isdigit() and len(an) <= 9 and db in _PUBMED_DBS:
        return an
    for tag in ("UR", "L2", "LK", "L1"):
        for value in fields.get(tag, ()):
            m = _PUBMED_URL.search(value)
            if m:
                return m.group(1)
    return ""


def ris_record(fields: dict[str, list[str]], *, where: str, line: int, number: int, stem: str) -> Abstract:
    """One RIS record (tag → values, continuation lines already joined) as an :class:`Abstract`."""
    title = strip_markup(_first(fields, "TI", "T1", "CT", "BT"))
    abstract = strip_markup(" ".join(v for v in fields.get("AB", ()) or fields.get("N2", ()) if v.strip()))
    pmid = _ris_pmid(fields)
    doi = _clean_doi(_first(fields, "DO")) or next(
        (d for v in fields.get("UR", []) + fields.get("L2", []) if "doi.org/" in v and (d := _clean_doi(v))),
        "",
    )
    year_m = _YEAR.search(_first(fields, "PY", "Y1", "DA", "Y2"))
    rid = pmid or (f"doi:{doi.lower()}" if doi else f"{stem}:{number}")
    metadata: dict[str, Any] = {
        "pmid": pmid or None,
        "doi": doi or None,
        "journal": squash(_first(fields, "T2", "JF", "JO", "JA", "J2")) or None,
        "year": int(year_m.group(0)) if year_m else None,
        "authors": [squash(a) for a in fields.get("AU", []) + fields.get("A1", []) if a.strip()],
        "publication_types": [squash(v) for v in fields.get("M3", []) if v.strip()],
        "ris_type": squash(_first(fields, "TY")) or None,
        "language": squash(_first(fields, "LA")) or None,
        "accession": squash(_first(fields, "AN")) or None,
        "database": squash(_first(fields, "DB", "DP")) or None,
        "file": where,
        "line": line,
    }
    return composed_abstract(rid, title, body_parts_from_plain(abstract), source="ris", metadata=metadata)


def iter_ris(
    stream: IO[bytes], where: str, *, stem: str, encoding: str = "utf-8"
) -> Iterator[Abstract | Problem]:
    """Yield one record per ``TY`` … ``ER`` block. Lines that are not ``XX  - `` tags continue the
    previous field (multi-line abstracts); text outside records (e.g. ``1.`` numbering) is ignored.
    A record containing an undecodable line is skipped with a ``Problem``."""
    fields: dict[str, list[str]] | None = None
    last_tag = ""
    start = 0
    number = 0
    broken = False

    def finish() -> Abstract | Problem:
        assert fields is not None
        if broken:
            return Problem(
                f"{where}:{start}",
                "RIS record skipped: it contains text that is not "
                f"{encoding} (see the problem for that line)",
            )
        return ris_record(fields, where=where, line=start, number=number, stem=stem)

    for item in iter_lines(stream, where, encoding):
        if isinstance(item, Problem):
            yield item
            if item.fatal_for_file:
                break
            broken = fields is not None or broken
            continue
        no, line = item
        m = _RIS_TAG.match(line)
        if m:
            tag, value = m.group(1), m.group(2) or ""
            if tag == "TY":
                if fields is not None:  # a record without ER: close it
                    yield finish()
                number += 1
                fields, start, broken = {"TY": [value]}, no, False
                last_tag = "TY"
                continue
            if fields is None:
                continue
            if tag == "ER":
                yield finish()
                fields = None
                continue
            fields.setdefault(tag, []).append(value)
            last_tag = tag
        elif fields is not None and line.strip():
            values = fields.setdefault(last_tag, [""])
            values[-1] = f"{values[-1]} {line.strip()}"
    if fields is not None:
        yield finish()


# --------------------------------------------------------------------------------------------
# MEDLINE / nbib


def medline_record(fields: dict[str, list[str]], *, where: str, line: int) -> Abstract | Problem:
    pmid = squash(_first(fields, "PMID"))
    if not pmid:
        return Problem(f"{where}:{line}", "MEDLINE record has no PMID; skipped")
    title = _first(fields, "TI", "BTI")
    doi = ""
    for value in fields.get("AID", []) + fields.get("LID", []):
        if value.strip().endswith("[doi]"):
            doi = value.strip()[: -len("[doi]")].strip()
            break
    year_m = _YEAR.search(_first(fields, "DP"))
    metadata: dict[str, Any] = {
        "pmid": pmid,
        "doi": doi or None,
        "pmcid": squash(_first(fields, "PMC")) or None,
        "journal": squash(_first(fields, "JT", "TA")) or None,
        "year": int(year_m.group(0)) if year_m else None,
        "authors": [squash(a) for a in fields.get("AU", []) if a.strip()],
        "publication_types": [squash(v) for v in fields.get("PT", []) if v.strip()],
        "language": squash(_first(fields, "LA")) or None,
        "status": squash(_first(fields, "STAT")) or None,
        "file": where,
        "line": line,
    }
    parts = body_parts_from_plain(_first(fields, "AB"))
    return composed_abstract(pmid, title, parts, source="medline", metadata=metadata)


def iter_medline(stream: IO[bytes], where: str, *, encoding: str = "utf-8") -> Iterator[Abstract | Problem]:
    """Yield one record per ``PMID-`` block (PubMed's "MEDLINE" / ``.nbib`` export)."""
    fields: dict[str, list[str]] | None = None
    last_tag = ""
    start = 0
    broken = False

    def finish() -> Abstract | Problem:
        assert fields is not None
        if broken:
            return Problem(
                f"{where}:{start}", f"MEDLINE record skipped: it contains text that is not {encoding}"
            )
        return medline_record(fields, where=where, line=start)

    for item in iter_lines(stream, where, encoding):
        if isinstance(item, Problem):
            yield item
            if item.fatal_for_file:
                break
            broken = fields is not None or broken
            continue
        no, line = item
        if not line.strip():
            continue
        if line.startswith("      ") or line.startswith("\t"):
            if fields is not None:
                values = fields.setdefault(last_tag, [""])
                values[-1] = f"{values[-1]} {line.strip()}"
            continue
        m = _MEDLINE_TAG.match(line)
        if not m:
            if fields is not None:  # a wrapped line without the usual indent
                values = fields.setdefault(last_tag, [""])
                values[-1] = f"{values[-1]} {line.strip()}"
            continue
        tag, value = m.group(1), m.group(2)
        if tag == "PMID":
            if fields is not None:
                yield finish()
            fields, start, broken = {}, no, False
        if fields is None:
            continue
        fields.setdefault(tag, []).append(value)
        last_tag = tag
    if fields is not None:
        yield finish()


# --------------------------------------------------------------------------------------------
# plain .txt


def txt_record(path: Path, raw: bytes, *, encoding: str = "utf-8") -> Abstract | Problem:
    """A ``.txt`` file holding one abstract. The text is kept as written (line endings normalised
    to ``\\n``, a BOM and trailing whitespace removed); the first line is the title when the file
    has more than one line, and the rest is one unlabelled section."""
    try:
        content = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Problem(
            f"{path}:{line}",
            f"not {encoding} text (byte 0x{raw[exc.start]:02x}); re-save the "
            "file as UTF-8 or pass an encoding",
            fatal_for_file=True,
        )
    text = content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if not text.strip():
        return Abstract(id=path.stem, text="", source="txt", metadata={"file": str(path)}, has_abstract=False)
    title, sep, body = text.partition("\n")
    sections: tuple[Section, ...] = ()
    if sep and body.strip():
        sections = (Section(label=None, start=len(title) + 1, end=len(text)),)
    return Abstract(
        id=path.stem,
        text=text,
        title=title.strip() if sep else "",
        sections=sections,
        source="txt",
        metadata={"file": str(path)},
        has_abstract=True,
    )
