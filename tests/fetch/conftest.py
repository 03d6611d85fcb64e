"""A real HTTP server on 127.0.0.1 that answers like E-utilities and Europe PMC, with faults.

``FakeServer.faults`` is a list of ``(endpoint, kind)`` consumed in order by the first matching
request: ``endpoint`` is ``esearch``, ``efetch`` or ``search`` (Europe PMC); ``kind`` is
``429`` (with ``Retry-After: 0``), ``500``, ``slow`` (answers after ``slow_seconds``), ``cut``
(promises the full Content-Length, sends half, closes) or ``truncated`` (HTTP 200 with the
XML/JSON cut in half and a matching Content-Length).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "fetch"


@dataclass
class Article:
    pmid: str
    day: date | None
    title: str
    abstract: str


def article_xml(a: Article) -> str:
    date_xml = (
        f"<PubDate><Year>{a.day.year}</Year><Month>{a.day.month:02d}</Month><Day>{a.day.day}</Day></PubDate>"
        if a.day
        else "<PubDate><MedlineDate>undated</MedlineDate></PubDate>"
    )
    abstract = f"<Abstract><AbstractText>{a.abstract}</AbstractText></Abstract>" if a.abstract else ""
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{a.pmid}</PMID>'
        f"<Article><Journal><JournalIssue>{date_xml}</JournalIssue><Title>Test pain journal</Title></Journal>"
        f"<ArticleTitle>{a.title}</ArticleTitle>{abstract}<Language>eng</Language></Article>"
        f"</MedlineCitation></PubmedArticle>"
    )


def make_articles(n: int, start: int = 91000000, days: list[date] | None = None) -> list[Article]:
    out = []
    for i in range(n):
        day = days[i] if days else date(2015 + i % 8, 1 + i % 12, 1 + (i * 7) % 28)
        out.append(
            Article(
                pmid=str(start + i),
                day=day,
                title=f"Trial {i} of analgesia for knee pain.",
                abstract=f"VAS fell by {i}.5 &#xb1; 1.{i % 10} cm in <i>n</i> = {20 + i} patients "
                f"(P&lt;0.05).",
            )
        )
    return out


def epmc_result(i: int) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": str(92000000 + i),
        "source": "MED",
        "pmid": str(92000000 + i),
        "doi": f"10.9999/epmc.{i}",
        "title": f"Europe PMC trial {i} of <i>pain</i> relief.",
        "abstractText": f"<h4>Methods</h4>{30 + i} patients rated pain on an NRS.<h4>Results</h4>"
        f"NRS 3.{i} vs 5.{i}, p<0.05 at <1 week; m<sup>2</sup>.",
        "pubYear": "2020",
        "language": "eng",
        "authorList": {"author": [{"fullName": "Tester A"}]},
        "journalInfo": {"journal": {"title": "Test Journal"}},
        "pubTypeList": {"pubType": ["Journal Article"]},
    }
    if i % 5 == 4:  # a preprint without PMID
        rec.update(id=f"PPR{900 + i}", source="PPR", pmid=None)
    return rec


@dataclass
class FakeServer:
    articles: list[Article] = field(default_factory=list)
    epmc: list[dict[str, Any]] = field(default_factory=list)
    cap: int = 10_000
    faults: list[tuple[str, str]] = field(default_factory=list)
    slow_seconds: float = 0.6
    log: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    histories: dict[str, list[str]] = field(default_factory=dict)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, endpoint: str) -> list[dict[str, str]]:
        return [params for path, params, _t in self.log if path == endpoint]

    def take_fault(self, endpoint: str) -> str | None:
        with self.lock:
            for i, (ep, kind) in enumerate(self.faults):
                if ep == endpoint:
                    del self.faults[i]
                    return kind
        return None

    # ---------------------------------------------------------------- E-utilities
    def esearch(self, p: dict[str, str]) -> bytes:
        if p.get("db") != "pubmed":
            return b"<eSearchResult><ERROR>Invalid db name specified</ERROR></eSearchResult>"
        hits = [a for a in self.articles if p.get("term") != "nothing[ti]"]
        if "mindate" in p:
            lo = date(*map(int, p["mindate"].split("/")))
            hi = date(*map(int, p["maxdate"].split("/")))
            hits = [a for a in hits if a.day is not None and lo <= a.day <= hi]
        retmax = min(int(p.get("retmax", 20)), self.cap)
        ids = [a.pmid for a in hits][:retmax]
        extra = ""
        if p.get("usehistory") == "y":
            webenv = f"MCID_{len(self.histories) + 1}"
            self.histories[webenv] = [a.pmid for a in hits]
            extra = f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
        id_xml = "".join(f"<Id>{i}</Id>" for i in ids)
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><eSearchResult><Count>{len(hits)}</Count>'
            f"<RetMax>{len(ids)}</RetMax><RetStart>0</RetStart>{extra}<IdList>{id_xml}</IdList>"
            f"</eSearchResult>"
        ).encode()

    def efetch(self, p: dict[str, str]) -> bytes:
        by_id = {a.pmid: a for a in self.articles}
        if "id" in p:
            wanted = [i for i in p["id"].split(",") if i]
        else:
            history = self.histories.get(p.get("WebEnv", ""))
            if history is None:
                return b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"
            start, count = int(p.get("retstart", 0)), int(p.get("retmax", 20))
            if start + count > self.cap:
                return b"<eFetchResult><ERROR>Search Backend failed: past the cap</ERROR></eFetchResult>"
            wanted = history[start : start + count]
        body = "".join(article_xml(by_id[i]) for i in wanted if i in by_id)
        return f'<?xml version="1.0" ?>\n<PubmedArticleSet>\n{body}\n</PubmedArticleSet>\n'.encode()

    # ---------------------------------------------------------------- Europe PMC
    def search(self, p: dict[str, str]) -> bytes:
        size = int(p.get("pageSize", 25))
        cursor = p.get("cursorMark", "*")
        start = 0 if cursor == "*" else int(cursor.removeprefix("c"))
        page = self.epmc[start : start + size]
        nxt = f"c{start + len(page)}" if page else cursor
        return json.dumps(
            {
                "version": "6.9",
                "hitCount": len(self.epmc),
                "nextCursorMark": nxt,
                "request": {
                    "queryString": p.get("query"),
                    "resultType": p.get("resultType"),
                    "cursorMark": cursor,
                    "pageSize": size,
                },
                "resultList": {"result": page},
            }
        ).encode()


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _params(self) -> dict[str, str]:
        query = parse_qs(urlparse(self.path).query)
        if self.command == "POST":
            length = int(self.headers.get("Content-Length", 0))
            query.update(parse_qs(self.rfile.read(length).decode()))
        return {k: v[-1] for k, v in query.items()}

    def _serve(self) -> None:
        state = self.server_state
        params = self._params()
        path = urlparse(self.path).path.rsplit("/", 1)[-1]
        endpoint = {"esearch.fcgi": "esearch", "efetch.fcgi": "efetch", "search": "search"}.get(path)
        with state.lock:
            state.log.append((endpoint or path, params, time.monotonic()))
        if endpoint is None:
            self._send(404, b"not found")
            return
        fault = state.take_fault(endpoint)
        if fault == "429":
            self._send(429, b'{"error":"API rate limit exceeded"}', {"Retry-After": "0"})
            return
        if fault == "500":
            self._send(500, b"Internal Server Error")
            return
        if fault == "slow":
            time.sleep(state.slow_seconds)
        body = getattr(state, endpoint)(params)
        if fault == "truncated":
            self._send(200, body[: len(body) // 2])
            return
        if fault == "cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(200, body)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = _serve
    do_POST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out close the socket under a slow handler: expected here


@pytest.fixture
def server() -> Iterator[FakeServer]:
    state = FakeServer()
    handler = type("Handler", (_Handler,), {"server_state": state})
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def data_dir() -> Path:
    return DATA
