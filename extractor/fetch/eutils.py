"""NCBI E-utilities client: esearch (history server) + efetch in batches → :class:`Abstract`.

* Every request sends ``tool`` and ``email`` (and ``api_key`` when given) and is rate limited
  to 3 requests/s without a key, 10/s with one (see :mod:`extractor.fetch.http` for timeouts
  and retries).
* A query is run with ``usehistory=y``; its PMIDs (at most 10,000 per esearch, PubMed's cap)
  are fetched with ``efetch`` from the history server in batches of ``batch_size`` (200).
* A query with more than 10,000 hits is split into publication-date ranges (``datetype=pdat``,
  halved until each range has ≤ 10,000 hits), so nothing past the cap is lost. If the ranges do
  not add up to the total (records without a usable date, or one day with > 10,000 hits), the
  shortfall is reported as a :class:`Problem`.
* ``skip(pmid)`` lets the caller resume: batches whose PMIDs are all done are not fetched, and
  done PMIDs are not yielded again.
* A PMID that efetch did not return, or whose batch failed after all retries, yields a
  ``Problem`` naming the PMID.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lxml import etree

from extractor.errors import FetchError
from extractor.fetch.http import HttpClient, RetryPolicy
from extractor.fetch.pubmed_xml import iter_pubmed_xml
from extractor.fetch.text import squash
from extractor.records import Abstract, Deletion, Problem

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
SEARCH_CAP = 10_000
DEFAULT_BATCH = 200
FIRST_DAY = date(1700, 1, 1)
MAX_CONSECUTIVE_FAILED_BATCHES = 3


@dataclass
class SearchResult:
    count: int
    ids: list[str]
    webenv: str | None = None
    query_key: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Slice:
    """A part of a query small enough for one esearch: ``mindate``/``maxdate`` None = all dates."""

    mindate: date | None
    maxdate: date | None
    count: int

    def label(self) -> str:
        if self.mindate is None or self.maxdate is None:
            return "all dates"
        return f"{self.mindate:%Y/%m/%d}-{self.maxdate:%Y/%m/%d}"


def _parse_xml(body: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(body, parser)


def parse_esearch(body: bytes) -> SearchResult:
    """Parse an esearch XML answer; an ``<ERROR>`` answer raises :class:`FetchError`."""
    try:
        root = _parse_xml(body)
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"esearch answer is not XML: {exc}") from exc
    if root.tag != "eSearchResult":
        raise FetchError(f"esearch answer has root <{root.tag}>, expected <eSearchResult>")
    error = root.findtext("ERROR")
    if error:
        raise FetchError(f"esearch error: {squash(error)}")
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise FetchError("esearch answer has no Count")
    warnings = [
        f"{child.tag}: {squash(child.text)}"
        for lst in ("ErrorList", "WarningList")
        for child in root.iterfind(f"{lst}/*")
        if child.text
    ]
    return SearchResult(
        count=int(count_text),
        ids=[i.text.strip() for i in root.iterfind("IdList/Id") if i.text],
        webenv=root.findtext("WebEnv"),
        query_key=root.findtext("QueryKey"),
        warnings=warnings,
    )


def _check_esearch(body: bytes) -> str | None:
    try:
        root = _parse_xml(body)
    except etree.XMLSyntaxError as exc:
        return f"cut-off or malformed esearch XML ({exc})"
    if root.tag != "eSearchResult":
        return f"unexpected esearch answer <{root.tag}>"
    return None


def _check_efetch(body: bytes) -> str | None:
    try:
        root = _parse_xml(body)
    except etree.XMLSyntaxError as exc:
        return f"cut-off or malformed efetch XML ({exc})"
    if root.tag != "PubmedArticleSet":
        error = root.findtext("ERROR")
        return f"efetch error: {squash(error)}" if error else f"unexpected efetch answer <{root.tag}>"
    return None


class EUtils:
    """A PubMed client. ``rate`` defaults to NCBI's limit (3/s, or 10/s with an API key)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        email: str | None = None,
        tool: str = "extractor",
        batch_size: int = DEFAULT_BATCH,
        rate: float | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        http: HttpClient | None = None,
        cap: int = SEARCH_CAP,
        today: date | None = None,
    ) -> None:
        if not 1 <= batch_size <= 10_000:
            raise ValueError(f"batch_size must be 1..10000, got {batch_size}")
        if cap < 1:
            raise ValueError("cap must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or None
        self.email = email or None
        self.tool = tool
        self.batch_size = batch_size
        self.cap = cap
        self.today = today or date.today()
        default_rate = 10.0 if self.api_key else 3.0
        self.http = http or HttpClient(
            rate=rate or default_rate, timeout=timeout, retry=retry or RetryPolicy()
        )

    # ---------------------------------------------------------------- requests

    def _params(self, **params: Any) -> dict[str, Any]:
        out = {"db": "pubmed", "tool": self.tool, **{k: v for k, v in params.items() if v is not None}}
        if self.email:
            out["email"] = self.email
        if self.api_key:
            out["api_key"] = self.api_key
        return out

    def esearch(
        self,
        term: str,
        *,
        retmax: int = 0,
        usehistory: bool = True,
        mindate: date | None = None,
        maxdate: date | None = None,
    ) -> SearchResult:
        params = self._params(term=term, retmax=retmax, usehistory="y" if usehistory else None)
        if mindate is not None and maxdate is not None:
            params.update(datetype="pdat", mindate=f"{mindate:%Y/%m/%d}", maxdate=f"{maxdate:%Y/%m/%d}")
        body = self.http.post(f"{self.base_url}/esearch.fcgi", data=params, validate=_check_esearch)
        return parse_esearch(body)

    def efetch_history(self, webenv: str, query_key: str, retstart: int, retmax: int) -> bytes:
        params = self._params(
            WebEnv=webenv, query_key=query_key, retstart=retstart, retmax=retmax, retmode="xml"
        )
        return self.http.post(f"{self.base_url}/efetch.fcgi", data=params, validate=_check_efetch)

    def efetch_ids(self, ids: Iterable[str]) -> bytes:
        params = self._params(id=",".join(ids), retmode="xml")
        return self.http.post(f"{self.base_url}/efetch.fcgi", data=params, validate=_check_efetch)

    # ---------------------------------------------------------------- planning

    def plan(self, term: str, max_records: int | None = None) -> tuple[int, list[Slice], list[Problem]]:
        """Split a query into slices of at most ``cap`` hits. Returns (total, slices, problems)."""
        first = self.esearch(term, retmax=0, usehistory=False)
        total = first.count
        if total <= self.cap or (max_records is not None and max_records <= self.cap):
            return total, [Slice(None, None, total)], []
        slices: list[Slice] = []
        problems: list[Problem] = []
        last_day = date(self.today.year + 5, 12, 31)
        stack = [(FIRST_DAY, last_day)]
        covered = 0
        steps = 0
        while stack:
            steps += 1
            if steps > 100_000:  # cannot happen with day-level bisection; keeps the loop bounded
                raise FetchError("date splitting did not converge")
            lo, hi = stack.pop()
            count = self.esearch(term, retmax=0, usehistory=False, mindate=lo, maxdate=hi).count
            if count == 0:
                continue
            if count <= self.cap or lo == hi:
                if count > self.cap:
                    problems.append(
                        Problem(
                            f"query {term!r}",
                            f"{count} hits on the single publication date "
                            f"{lo:%Y/%m/%d}; only the first {self.cap} can be fetched",
                        )
                    )
                slices.append(Slice(lo, hi, count))
                covered += count
                if max_records is not None and covered >= max_records:
                    break
                continue
            mid = lo + timedelta(days=(hi - lo).days // 2)
            stack.append((mid + timedelta(days=1), hi))  # popped second: keeps date order
            stack.append((lo, mid))
        if covered < total and (max_records is None or covered < max_records):
            problems.append(
                Problem(
                    f"query {term!r}",
                    f"publication-date ranges cover {covered} of {total} "
                    "hits; the rest have no usable publication date and were not fetched",
                )
            )
        return total, slices, problems

    # ---------------------------------------------------------------- fetching

    def fetch_query(
        self,
        term: str,
        *,
        max_records: int | None = None,
        skip: Callable[[str], bool] = lambda _pmid: False,
        on_total: Callable[[int], None] | None = None,
        on_skipped: Callable[[int], None] | None = None,
    ) -> Iterator[Abstract | Problem]:
        """Every record matching ``term`` (up to ``max_records``), slice by slice, batch by batch."""
        total, slices, problems = self.plan(term, max_records)
        yield from problems
        wanted = total if max_records is None else min(total, max_records)
        if on_total:
            on_total(wanted)
        remaining = wanted
        failures = 0
        for part in slices:
            if remaining <= 0:
                break
            retmax = min(self.cap, remaining, part.count)
            if retmax <= 0:
                continue
            result = self.esearch(
                term, retmax=retmax, usehistory=True, mindate=part.mindate, maxdate=part.maxdate
            )
            ids = result.ids[:retmax]
            remaining -= len(ids)
            if not result.webenv or not result.query_key:
                raise FetchError("esearch returned no WebEnv/QueryKey although usehistory=y was sent")
            for start in range(0, len(ids), self.batch_size):
                expected = ids[start : start + self.batch_size]
                todo = [pmid for pmid in expected if not skip(pmid)]
                if on_skipped and len(todo) < len(expected):
                    on_skipped(len(expected) - len(todo))
                if not todo:
                    continue
                where = f"efetch {part.label()} records {start + 1}-{start + len(expected)}"
                try:
                    body = self.efetch_history(result.webenv, result.query_key, start, len(expected))
                except FetchError as exc:
                    try:  # the history may have expired: ask for the PMIDs themselves
                        body = self.efetch_ids(todo)
                    except FetchError:
                        failures += 1
                        for pmid in todo:
                            yield Problem(f"PMID {pmid}", f"not fetched: {exc}")
                        if failures >= MAX_CONSECUTIVE_FAILED_BATCHES:
                            raise FetchError(
                                f"{failures} batches in a row failed ({exc}); re-run the "
                                "same command to resume"
                            ) from exc
                        continue
                failures = 0
                yield from self._records(body, where, set(todo), skip)

    def fetch_pmids(
        self,
        pmids: Iterable[str],
        *,
        skip: Callable[[str], bool] = lambda _pmid: False,
        on_skipped: Callable[[int], None] | None = None,
    ) -> Iterator[Abstract | Problem]:
        """The given PMIDs (duplicates dropped), fetched by id in batches."""
        todo_all: list[str] = []
        seen: set[str] = set()
        skipped = 0
        for pmid in pmids:
            if pmid in seen:
                continue
            seen.add(pmid)
            if skip(pmid):
                skipped += 1
            else:
                todo_all.append(pmid)
        if on_skipped and skipped:
            on_skipped(skipped)
        failures = 0
        for start in range(0, len(todo_all), self.batch_size):
            todo = todo_all[start : start + self.batch_size]
            try:
                body = self.efetch_ids(todo)
            except FetchError as exc:
                failures += 1
                for pmid in todo:
                    yield Problem(f"PMID {pmid}", f"not fetched: {exc}")
                if failures >= MAX_CONSECUTIVE_FAILED_BATCHES:
                    raise FetchError(
                        f"{failures} batches in a row failed ({exc}); re-run the same command to resume"
                    ) from exc
                continue
            failures = 0
            yield from self._records(body, f"efetch PMIDs {todo[0]}..{todo[-1]}", set(todo), skip)

    def _records(
        self, body: bytes, where: str, expected: set[str], skip: Callable[[str], bool]
    ) -> Iterator[Abstract | Problem]:
        got: set[str] = set()
        for rec in iter_pubmed_xml(io.BytesIO(body), where, source="pubmed"):
            if isinstance(rec, Deletion):
                continue
            if isinstance(rec, Abstract):
                got.add(rec.id)
                if skip(rec.id):
                    continue
                meta = dict(rec.metadata)
                meta.pop("file", None)
                meta.pop("line", None)
                rec = Abstract(
                    id=rec.id,
                    text=rec.text,
                    title=rec.title,
                    sections=rec.sections,
                    source=rec.source,
                    metadata=meta,
                    has_abstract=rec.has_abstract,
                )
            yield rec
        for pmid in sorted(expected - got, key=lambda p: (len(p), p)):
            yield Problem(f"PMID {pmid}", "not returned by efetch (withdrawn or not in PubMed)")
