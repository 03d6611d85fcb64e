"""PubMed XML → :class:`Abstract` / :class:`Deletion`, streamed with constant memory.

Reads efetch output, baseline and update files (``PubmedArticleSet`` with ``PubmedArticle``,
``PubmedBookArticle`` and ``DeleteCitation``) and the pre-2017 ``MedlineCitationSet``. lxml's
``iterparse`` hands over one record at a time; each is cleared (with its preceding siblings)
once converted, so memory does not grow with the file.

Id rule: ``Abstract.id`` is the PMID string. ``metadata["version"]`` is the PMID's ``Version``
attribute (1 for almost every record).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from extractor.fetch.streams import READ_ERRORS
from extractor.fetch.text import composed_abstract, decode_entities, squash
from extractor.records import Abstract, Deletion, Problem

RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation", "MedlineCitation")
ROOT_TAGS = ("PubmedArticleSet", "MedlineCitationSet")
_YEAR = re.compile(r"(1[6-9]|20)\d\d")


def flat(elem: Any) -> str:
    """All text inside an element, markup flattened (``m<sup>2</sup>`` → ``m2``), entities decoded."""
    if elem is None:
        return ""
    if len(elem) == 0:  # no child nodes (most elements): the text alone is what itertext() gives
        return decode_entities(elem.text or "")
    return decode_entities("".join(elem.itertext()))


def _text(elem: Any, path: str) -> str:
    found = elem.find(path)
    return squash(flat(found)) if found is not None else ""


def _year(citation: Any) -> int | None:
    for path in (
        ".//JournalIssue/PubDate/Year",
        ".//JournalIssue/PubDate/MedlineDate",
        ".//Book/PubDate/Year",
        ".//ArticleDate/Year",
        "DateCompleted/Year",
        "DateCreated/Year",
    ):
        node = citation.find(path)
        if node is not None and node.text:
            m = _YEAR.search(node.text)
            if m:
                return int(m.group(0))
    return None


def _authors(node: Any) -> list[str]:
    out: list[str] = []
    if node is None:
        return out
    for author in node.iterfind("AuthorList/Author"):
        collective = _text(author, "CollectiveName")
        if collective:
            out.append(collective)
            continue
        last = _text(author, "LastName")
        initials = _text(author, "Initials") or _text(author, "ForeName")
        name = " ".join(p for p in (last, initials) if p)
        if name:
            out.append(name)
    return out


def _abstract_parts(holder: Any, citation: Any) -> tuple[list[tuple[str | None, str]], str | None]:
    """(label, text) of every AbstractText part; falls back to an English ``OtherAbstract``.

    PubMed puts ``OtherAbstract`` under ``MedlineCitation`` (older samples under ``Article``):
    both places are looked at.
    """
    abstract = holder.find("Abstract")
    source = "Abstract"
    if abstract is None or abstract.find("AbstractText") is None:
        abstract = None
        others = [*holder.iterfind("OtherAbstract")]
        if citation is not holder:
            others += citation.iterfind("OtherAbstract")
        for other in others:
            if other.get("Language", "eng") == "eng" and other.find("AbstractText") is not None:
                abstract, source = other, "OtherAbstract"
                break
    if abstract is None:
        return [], None
    parts = [(node.get("Label"), flat(node)) for node in abstract.iterfind("AbstractText")]
    return parts, source


def _article_ids(pubmed_data: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    if pubmed_data is None:
        return ids
    for node in pubmed_data.iterfind("ArticleIdList/ArticleId"):
        kind = node.get("IdType")
        if kind and node.text and kind not in ids:
            ids[kind] = node.text.strip()
    return ids


def _citation_record(
    citation: Any, pubmed_data: Any, *, where: str, line: int | None, source: str
) -> Abstract | Problem:
    pmid_node = citation.find("PMID")
    pmid = squash(pmid_node.text) if pmid_node is not None and pmid_node.text else ""
    if not pmid:
        return Problem(f"{where}:{line}" if line else where, "record has no PMID; skipped")
    article = citation.find("Article")
    holder = article if article is not None else citation
    title = _text(holder, "ArticleTitle") or _text(holder, "VernacularTitle")
    parts, abstract_source = _abstract_parts(holder, citation)
    ids = _article_ids(pubmed_data)
    doi = ""
    if article is not None:
        for eloc in article.iterfind("ELocationID"):
            if eloc.get("EIdType") == "doi" and eloc.text:
                doi = eloc.text.strip()
                break
    doi = doi or ids.get("doi", "")
    metadata: dict[str, Any] = {
        "pmid": pmid,
        "doi": doi or None,
        "pmcid": ids.get("pmc") or None,
        "journal": _text(holder, "Journal/Title") or _text(citation, "MedlineJournalInfo/MedlineTA") or None,
        "year": _year(citation),
        "authors": _authors(holder),
        "publication_types": [
            squash(flat(p)) for p in holder.iterfind("PublicationTypeList/PublicationType")
        ],
        "language": _text(holder, "Language") or None,
        "version": int(pmid_node.get("Version", "1")) if pmid_node.get("Version", "1").isdigit() else 1,
        "status": citation.get("Status"),
        "file": where,
        "line": line,
    }
    if abstract_source == "OtherAbstract":
        metadata["abstract_from"] = "OtherAbstract"
    return composed_abstract(pmid, title, parts, source=source, metadata=metadata)


def _book_record(
    book_doc: Any, pubmed_data: Any, *, where: str, line: int | None, source: str
) -> Abstract | Problem:
    pmid_node = book_doc.find("PMID")
    pmid = squash(pmid_node.text) if pmid_node is not None and pmid_node.text else ""
    if not pmid:
        return Problem(f"{where}:{line}" if line else where, "book record has no PMID; skipped")
    title = _text(book_doc, "ArticleTitle") or _text(book_doc, "Book/BookTitle")
    parts, _ = _abstract_parts(book_doc, book_doc)
    ids = _article_ids(pubmed_data)
    authors = _authors(book_doc) or _authors(book_doc.find("Book"))
    metadata: dict[str, Any] = {
        "pmid": pmid,
        "doi": ids.get("doi") or None,
        "pmcid": ids.get("pmc") or None,
        "journal": _text(book_doc, "Book/BookTitle") or None,
        "year": _year(book_doc),
        "authors": authors,
        "publication_types": [squash(flat(p)) for p in book_doc.iterfind("PublicationType")] or ["Book"],
        "language": _text(book_doc, "Language") or None,
        "version": int(pmid_node.get("Version", "1")) if pmid_node.get("Version", "1").isdigit() else 1,
        "status": "Book",
        "file": where,
        "line": line,
    }
    return composed_abstract(pmid, title, parts, source=source, metadata=metadata)


def _clear(elem: Any) -> None:
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def convert_record(
    elem: Any, where: str, *, source: str = "pubmed-dump", line_offset: int = 0
) -> Iterator[Abstract | Deletion | Problem]:
    """The items of one record element (``PubmedArticle``, ``PubmedBookArticle``, ``DeleteCitation``
    or a ``MedlineCitation`` of a ``MedlineCitationSet``). ``line_offset`` is added to the element's
    ``sourceline`` (for an element parsed out of its file, see :mod:`extractor.fetch.pubmed_fast`)."""
    tag = elem.tag
    line = elem.sourceline + line_offset if elem.sourceline is not None else None
    if tag == "MedlineCitation":
        yield _citation_record(elem, None, where=where, line=line, source=source)
    elif tag == "PubmedArticle":
        citation = elem.find("MedlineCitation")
        if citation is None:
            yield Problem(f"{where}:{line}", "PubmedArticle without MedlineCitation; skipped")
        else:
            yield _citation_record(citation, elem.find("PubmedData"), where=where, line=line, source=source)
    elif tag == "PubmedBookArticle":
        book = elem.find("BookDocument")
        if book is None:
            yield Problem(f"{where}:{line}", "PubmedBookArticle without BookDocument; skipped")
        else:
            yield _book_record(book, elem.find("PubmedBookData"), where=where, line=line, source=source)
    else:  # DeleteCitation
        for node in elem.iterfind("PMID"):
            if node.text and node.text.strip():
                yield Deletion(
                    id=node.text.strip(),
                    source=source,
                    metadata={
                        "file": where,
                        "line": node.sourceline + line_offset if node.sourceline is not None else None,
                        "version": int(node.get("Version", "1") or 1),
                    },
                )


def iter_pubmed_xml(
    stream: IO[bytes], where: str, *, source: str = "pubmed-dump"
) -> Iterator[Abstract | Deletion | Problem]:
    """Yield records from a PubMed XML byte stream; ``where`` names it in problems.

    Read errors (malformed or cut-off XML, a truncated gzip stream) end the stream with one
    ``Problem(fatal_for_file=True)`` naming the line; the records before it have been yielded.
    Exceptions are not raised, except ``OSError`` for a file that cannot be opened at all.
    """
    count = 0
    parser = etree.iterparse(
        stream,
        events=("end",),
        tag=RECORD_TAGS,
        huge_tree=True,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _event, elem in parser:
            if elem.tag == "MedlineCitation":
                parent = elem.getparent()
                if parent is None or parent.tag != "MedlineCitationSet":
                    continue  # part of a PubmedArticle: handled at its end
            yield from convert_record(elem, where, source=source)
            count += 1
            _clear(elem)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        yield Problem(
            f"{where}:{line}" if line else where,
            f"malformed or cut-off XML ({exc.msg}); {count} record(s) before it were read, "
            "the rest of the file was skipped",
            fatal_for_file=True,
        )
        return
    except READ_ERRORS as exc:  # truncated or corrupt gzip stream
        yield Problem(
            where,
            f"file is truncated or corrupt ({exc}); {count} record(s) before it were "
            "read, the rest of the file was skipped",
            fatal_for_file=True,
        )
        return
    root = parser.root
    if root is None:
        yield Problem(where, "empty file (no XML)", fatal_for_file=True)
        return
    if root.tag not in ROOT_TAGS:
        error = root.findtext("ERROR") if root.tag in ("eFetchResult", "eSearchResult") else None
        what = (
            f"E-utilities error: {squash(error)}"
            if error
            else (
                f"not PubMed article XML (root element <{root.tag}>, expected <PubmedArticleSet> "
                "or <MedlineCitationSet>)"
            )
        )
        yield Problem(where, what, fatal_for_file=True)
