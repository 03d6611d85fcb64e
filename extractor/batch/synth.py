"""Write PubMed baseline / update-format XML from abstracts (for tests, benchmarks and subsets).

The output follows the element layout of NLM's ``pubmed*.xml.gz`` files (``PubmedArticleSet`` of
``PubmedArticle`` with ``MedlineCitation`` + ``PubmedData``, then ``DeleteCitation``) with a
realistic envelope around each abstract — journal, dates, authors with affiliations, publication
types, MeSH headings, history and article ids — so that parsing it costs about what parsing a real
baseline record costs. Everything is written streaming; memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)
_SURNAMES = ("Smith", "García", "Müller", "Nguyen", "Okafor", "Kowalski", "Tanaka", "Rossi")
_MESH = ("Humans", "Pain Measurement", "Double-Blind Method", "Treatment Outcome", "Adult",
         "Middle Aged", "Female", "Male", "Analgesics", "Randomized Controlled Trials as Topic")


@dataclass(frozen=True)
class SynthArticle:
    """One citation to write: PMID, version, title and abstract parts ``(label or None, text)``."""

    pmid: str
    title: str
    parts: tuple[tuple[str | None, str], ...]
    version: int = 1
    year: int = 2020


def _article_xml(a: SynthArticle) -> str:
    n = int(a.pmid) if a.pmid.isdigit() else len(a.pmid)
    abstract = ""
    if a.parts:
        texts = "".join(
            f'<AbstractText Label="{escape(label)}" NlmCategory="{escape(label)}">'
            f"{escape(text)}</AbstractText>" if label else f"<AbstractText>{escape(text)}</AbstractText>"
            for label, text in a.parts
        )
        abstract = (f"<Abstract>{texts}<CopyrightInformation>© {a.year} The Authors."
                    "</CopyrightInformation></Abstract>")
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>{_SURNAMES[(n + i) % len(_SURNAMES)]}</LastName>'
        f"<ForeName>Alex {chr(65 + (n + i) % 26)}</ForeName><Initials>A{chr(65 + (n + i) % 26)}</Initials>"
        f"<AffiliationInfo><Affiliation>Department of Anaesthesiology, University Hospital {(n + i) % 97}, "
        f"City {(n * 7 + i) % 89}, Country.</Affiliation></AffiliationInfo></Author>"
        for i in range(1 + n % 6)
    )
    mesh = "".join(
        f'<MeshHeading><DescriptorName UI="D{(n + i) % 999999:06d}" MajorTopicYN="N">'
        f"{_MESH[(n + i) % len(_MESH)]}</DescriptorName></MeshHeading>"
        for i in range(4 + n % 5)
    )
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">'
        f'<PMID Version="{a.version}">{escape(a.pmid)}</PMID>'
        f"<DateCompleted><Year>{a.year}</Year><Month>03</Month><Day>{1 + n % 28:02d}</Day></DateCompleted>"
        f"<DateRevised><Year>{a.year + 1}</Year><Month>06</Month><Day>{1 + n % 28:02d}</Day></DateRevised>"
        '<Article PubModel="Print-Electronic"><Journal><ISSN IssnType="Electronic">1234-5678</ISSN>'
        '<JournalIssue CitedMedium="Internet"><Volume>12</Volume><Issue>3</Issue>'
        f"<PubDate><Year>{a.year}</Year><Month>Mar</Month></PubDate></JournalIssue>"
        "<Title>Journal of Clinical Pain Research</Title><ISOAbbreviation>J Clin Pain Res</ISOAbbreviation>"
        f"</Journal><ArticleTitle>{escape(a.title)}</ArticleTitle>"
        f"<Pagination><MedlinePgn>{n % 900}-{n % 900 + 9}</MedlinePgn></Pagination>"
        f'<ELocationID EIdType="doi" ValidYN="Y">10.5555/jcpr.{escape(a.pmid)}</ELocationID>'
        f'{abstract}<AuthorList CompleteYN="Y">{authors}</AuthorList><Language>eng</Language>'
        '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
        '<PublicationType UI="D016449">Randomized Controlled Trial</PublicationType></PublicationTypeList>'
        "</Article><MedlineJournalInfo><Country>England</Country><MedlineTA>J Clin Pain Res</MedlineTA>"
        "<NlmUniqueID>101234567</NlmUniqueID><ISSNLinking>1234-5678</ISSNLinking></MedlineJournalInfo>"
        f'<CitationSubset>IM</CitationSubset><MeshHeadingList>{mesh}</MeshHeadingList></MedlineCitation>'
        "<PubmedData><History>"
        f'<PubMedPubDate PubStatus="received"><Year>{a.year - 1}</Year><Month>11</Month><Day>2</Day>'
        "</PubMedPubDate>"
        f'<PubMedPubDate PubStatus="accepted"><Year>{a.year}</Year><Month>1</Month><Day>15</Day>'
        "</PubMedPubDate>"
        f'<PubMedPubDate PubStatus="entrez"><Year>{a.year}</Year><Month>2</Month><Day>1</Day></PubMedPubDate>'
        "</History><PublicationStatus>ppublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{escape(a.pmid)}</ArticleId>'
        f'<ArticleId IdType="doi">10.5555/jcpr.{escape(a.pmid)}</ArticleId>'
        "</ArticleIdList></PubmedData></PubmedArticle>\n"
    )


def write_pubmed_xml(path: Path, articles: Iterable[SynthArticle], deletions: Iterable[str] = ()) -> int:
    """Write a PubMed XML file (gzipped when ``path`` ends in ``.gz``); returns the article count.

    ``deletions`` become one ``<DeleteCitation>`` block at the end, as in NLM's update files.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with contextlib.ExitStack() as stack:
        fh: IO[bytes] | gzip.GzipFile = stack.enter_context(path.open("wb"))
        if path.name.endswith(".gz"):  # mtime=0: the same records give the same bytes
            fh = stack.enter_context(gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=0))
        fh.write(_HEADER.encode("utf-8"))
        buffer: list[str] = []
        for article in articles:
            buffer.append(_article_xml(article))
            count += 1
            if len(buffer) >= 500:
                fh.write("".join(buffer).encode("utf-8"))
                buffer = []
        if buffer:
            fh.write("".join(buffer).encode("utf-8"))
        deleted = list(deletions)
        if deleted:
            pmids = "".join(f'<PMID Version="1">{escape(p)}</PMID>' for p in deleted)
            fh.write(f"<DeleteCitation>{pmids}</DeleteCitation>\n".encode())
        fh.write(b"</PubmedArticleSet>\n")
    return count


def split_title(title: str, text: str) -> tuple[str, str]:
    """``(title, body)`` of a ``{title, text}`` record whose text may start with its title."""
    if title and text.startswith(title):
        return title, text[len(title):].lstrip("\n ")
    head, sep, rest = text.partition("\n")
    if sep and not title:
        return head, rest
    return title, text
