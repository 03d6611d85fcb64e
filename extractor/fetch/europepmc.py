"""Europe PMC search results → :class:`Abstract`: the REST client and saved responses.

Client: ``GET {base}/search?query=Q&resultType=core&format=json&pageSize=1000&cursorMark=*``,
then the ``nextCursorMark`` of each page until a page comes back empty, repeats its cursor, or
``--max`` is reached (a hard page bound of ``hitCount / pageSize + 2`` keeps the loop finite).

Id rule: a record with a PMID (Europe PMC source ``MED``, and other sources that carry one) gets
the PMID, so it matches PubMed records; any other gets ``<source>:<id>``, e.g. ``PPR:PPR123456``
(preprint), ``PMC:PMC1234567``, ``AGR:AGR123``.

Abstracts arrive as HTML fragments: ``<h4>Methods</h4>`` headings become section labels
(``"Methods: ..."``), other known tags are dropped and their text kept (``<sup>2</sup>`` → ``2``),
and a bare ``<`` that is not a tag (``p<0.05``, ``<1 year``) stays text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from lxml import etree

from extractor.fetch.http import HttpClient, RetryPolicy
from extractor.fetch.text import composed_abstract, split_html_headings, squash, strip_markup
from extractor.records import Abstract, Problem

DEFAULT_BASE_URL = "https://www.ebi.ac.uk/europepmc/webservices/rest"
MAX_PAGE_SIZE = 1000
_YEAR = re.compile(r"(1[6-9]|20)\d\d")


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def record_id(rec: Mapping[str, Any]) -> str:
    pmid = str(rec.get("pmid") or "").strip()
    if pmid:
        return pmid
    source = str(rec.get("source") or "").strip()
    rid = str(rec.get("id") or "").strip()
    if not rid:
        return ""
    return f"{source}:{rid}" if source else rid


def epmc_record(rec: Mapping[str, Any], *, where: str = "", source: str = "europepmc") -> Abstract | Problem:
    """One Europe PMC ``result`` (lite or core, JSON shape) as an :class:`Abstract`."""
    rid = record_id(rec)
    if not rid:
        return Problem(where or "Europe PMC", "result without id; skipped")
    title = strip_markup(str(rec.get("title") or ""))
    html = str(rec.get("abstractText") or "")
    parts = [(label, strip_markup(chunk)) for label, chunk in split_html_headings(html)]
    authors = [
        squash(str(a.get("fullName") or ""))
        for a in _list(_get(rec, "authorList", "author"))
        if isinstance(a, Mapping) and a.get("fullName")
    ]
    if not authors and rec.get("authorString"):
        authors = [squash(a) for a in str(rec["authorString"]).rstrip(".").split(",") if a.strip()]
    pub_types = [squash(str(t)) for t in _list(_get(rec, "pubTypeList", "pubType"))]
    if not pub_types and rec.get("pubType"):
        pub_types = [squash(t) for t in str(rec["pubType"]).split(";") if t.strip()]
    year_m = _YEAR.search(str(rec.get("pubYear") or ""))
    metadata: dict[str, Any] = {
        "pmid": str(rec.get("pmid") or "") or None,
        "pmcid": str(rec.get("pmcid") or "") or None,
        "doi": str(rec.get("doi") or "") or None,
        "journal": squash(str(_get(rec, "journalInfo", "journal", "title") or rec.get("journalTitle") or ""))
        or None,
        "year": int(year_m.group(0)) if year_m else None,
        "authors": authors,
        "publication_types": pub_types,
        "language": str(rec.get("language") or "") or None,
        "epmc_source": str(rec.get("source") or "") or None,
        "epmc_id": str(rec.get("id") or "") or None,
    }
    if where:
        metadata["file"] = where
    return composed_abstract(rid, title, parts, source=source, metadata=metadata)


# --------------------------------------------------------------------------------------------
# saved responses: JSON (one page, a list of pages, or a list of results) and XML


def _results_of(obj: Any) -> Iterator[Mapping[str, Any]] | None:
    if isinstance(obj, Mapping):
        if "resultList" in obj:
            return iter(_list(_get(obj, "resultList", "result")))
        if "id" in obj and "source" in obj:
            return iter([obj])
        return None
    if isinstance(obj, list):

        def gen() -> Iterator[Mapping[str, Any]]:
            for item in obj:
                inner = _results_of(item)
                if inner is not None:
                    yield from inner

        return gen()
    return None


def iter_epmc_json(stream: IO[bytes], where: str) -> Iterator[Abstract | Problem]:
    """Records of a saved Europe PMC JSON response (read whole: responses are page-sized)."""
    try:
        obj = json.loads(stream.read().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        yield Problem(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})", fatal_for_file=True)
        return
    except json.JSONDecodeError as exc:
        yield Problem(
            f"{where}:{exc.lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})", fatal_for_file=True
        )
        return
    results = _results_of(obj)
    if results is None:
        yield Problem(where, "not a Europe PMC search response (no resultList)", fatal_for_file=True)
        return
    for n, rec in enumerate(results, 1):
        if not isinstance(rec, Mapping):
            yield Problem(f"{where}#{n}", "result is not an object; skipped")
            continue
        yield epmc_record(rec, where=where)


def _element_to_obj(elem: Any) -> Any:
    children = list(elem)
    if not children:
        return elem.text or ""
    out: dict[str, Any] = {}
    for child in children:
        if not isinstance(child.tag, str):
            continue
        key = etree.QName(child).localname
        value = _element_to_obj(child)
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    return out


_DC = "{http://purl.org/dc/elements/1.1/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_ABOUT = re.compile(r"/abstract/([A-Z]+)/([^/\s]+)$")


def _dc_record(desc: Any, where: str) -> Abstract | Problem:
    m = _ABOUT.search(desc.get(f"{_RDF}about") or "")
    if not m:
        return Problem(where, "Dublin Core record without a Europe PMC address; skipped")
    source, rid = m.group(1), m.group(2)
    descriptions = [d.text or "" for d in desc.iterfind(f"{_DC}description")]
    abstract = max((d for d in descriptions if len(d) > 100), key=len, default="")
    doi = next(
        (
            i.text.split("doi.org/", 1)[1]
            for i in desc.iterfind(f"{_DC}identifier")
            if i.text and "doi.org/" in i.text
        ),
        None,
    )
    rec = {
        "id": rid,
        "source": source,
        "pmid": rid if source == "MED" else None,
        "title": desc.findtext(f"{_DC}title") or "",
        "abstractText": abstract,
        "doi": doi,
        "authorList": {"author": [{"fullName": c.text} for c in desc.iterfind(f"{_DC}creator") if c.text]},
        "pubYear": (desc.findtext(f"{_DC}date") or "")[:4],
        "language": desc.findtext(f"{_DC}language"),
        "pubTypeList": {"pubType": [d for d in descriptions if 0 < len(d) <= 100]},
    }
    return epmc_record(rec, where=where)


def iter_epmc_xml(stream: IO[bytes], where: str) -> Iterator[Abstract | Problem]:
    """Records of a saved Europe PMC XML response (``format=xml`` lite/core, or ``format=dc``)."""
    count = 0
    try:
        for _event, elem in etree.iterparse(
            stream,
            events=("end",),
            tag=("result", f"{_RDF}Description"),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
        ):
            if etree.QName(elem).localname == "Description":
                yield _dc_record(elem, where)
            else:
                if elem.getparent() is None or etree.QName(elem.getparent()).localname != "resultList":
                    continue
                yield epmc_record(_element_to_obj(elem), where=where)
            count += 1
            elem.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        yield Problem(
            f"{where}:{exc.lineno}" if exc.lineno else where,
            f"malformed or cut-off XML ({exc.msg}); {count} record(s) before it were read",
            fatal_for_file=True,
        )


# --------------------------------------------------------------------------------------------
# the REST client


@dataclass
class EpmcPage:
    hit_count: int
    cursor: str
    next_cursor: str | None
    records: list[Abstract | Problem]


class EuropePMC:
    """Cursor-paged Europe PMC search. All HTTP goes through :class:`HttpClient` (rate limit,
    timeouts, bounded retries with exponential backoff)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        page_size: int = MAX_PAGE_SIZE,
        email: str | None = None,
        rate: float = 10.0,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        http: HttpClient | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.email = email
        self.http = http or HttpClient(rate=rate, timeout=timeout, retry=retry or RetryPolicy())

    def page(self, query: str, cursor: str = "*", page_size: int | None = None) -> EpmcPage:
        params: dict[str, Any] = {
            "query": query,
            "resultType": "core",
            "format": "json",
            "pageSize": page_size or self.page_size,
            "cursorMark": cursor,
        }
        if self.email:
            params["email"] = self.email
        body = self.http.get(f"{self.base_url}/search", params=params, validate=_valid_json)
        data = json.loads(body)
        if not isinstance(data, dict) or "resultList" not in data:
            raise ValueError("response has no resultList")
        where = f"Europe PMC cursor {cursor}"
        records = [
            epmc_record(r, where="") if isinstance(r, Mapping) else Problem(where, "bad result")
            for r in _list(_get(data, "resultList", "result"))
        ]
        nxt = data.get("nextCursorMark")
        return EpmcPage(
            hit_count=int(data.get("hitCount") or 0),
            cursor=cursor,
            next_cursor=str(nxt) if nxt else None,
            records=records,
        )

    def search(
        self,
        query: str,
        *,
        max_records: int | None = None,
        cursor: str = "*",
        on_page: Callable[[EpmcPage], None] | None = None,
    ) -> Iterator[EpmcPage]:
        """Pages from ``cursor`` on, until the last page (or ``max_records`` records)."""
        seen = 0
        limit_pages: int | None = None
        pages = 0
        while True:
            size = self.page_size if max_records is None else max(1, min(self.page_size, max_records - seen))
            page = self.page(query, cursor, size)
            pages += 1
            if limit_pages is None:
                limit_pages = page.hit_count // max(size, 1) + 2
            if on_page is not None:
                on_page(page)
            yield page
            seen += len(page.records)
            if not page.records or page.next_cursor in (None, cursor):
                return
            if max_records is not None and seen >= max_records:
                return
            if pages >= limit_pages:
                return
            cursor = page.next_cursor


def _valid_json(body: bytes) -> str | None:
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"response is not complete JSON ({exc})"
    return None
