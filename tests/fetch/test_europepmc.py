"""Europe PMC client against the local server, and Europe PMC record conversion."""

from __future__ import annotations

import pytest

from extractor.errors import FetchError
from extractor.fetch.europepmc import EuropePMC, epmc_record
from extractor.fetch.http import RetryPolicy
from extractor.records import Abstract

from .conftest import FakeServer, epmc_result

pytestmark = pytest.mark.network

FAST = RetryPolicy(max_attempts=4, backoff=0.001, max_backoff=0.005)


def client(server: FakeServer, **kw: object) -> EuropePMC:
    opts: dict[str, object] = {"rate": 500.0, "retry": FAST, "timeout": 2.0}
    opts.update(kw)
    return EuropePMC(server.url, **opts)  # type: ignore[arg-type]


def test_cursor_paging_core_and_clean_stop(server: FakeServer) -> None:
    server.epmc = [epmc_result(i) for i in range(12)]
    pages = list(client(server, page_size=5).search("knee pain"))
    ids = [r.id for p in pages for r in p.records]
    assert ids == [str(92000000 + i) if i % 5 != 4 else f"PPR:PPR{900 + i}" for i in range(12)]
    calls = server.calls("search")
    assert [c["cursorMark"] for c in calls] == ["*", "c5", "c10", "c12"]  # last call: empty page, stop
    assert all(c["resultType"] == "core" and c["format"] == "json" and c["pageSize"] == "5" for c in calls)


def test_exact_multiple_of_page_size_stops_on_empty_page(server: FakeServer) -> None:
    server.epmc = [epmc_result(i) for i in range(10)]
    pages = list(client(server, page_size=5).search("x"))
    assert [len(p.records) for p in pages] == [5, 5, 0]


def test_max_records_asks_for_smaller_last_page(server: FakeServer) -> None:
    server.epmc = [epmc_result(i) for i in range(12)]
    pages = list(client(server, page_size=5).search("x", max_records=7))
    assert sum(len(p.records) for p in pages) == 7
    assert [c["pageSize"] for c in server.calls("search")] == ["5", "2"]


def test_page_size_is_bounded() -> None:
    with pytest.raises(ValueError, match="1..1000"):
        EuropePMC("http://127.0.0.1:9", page_size=1001)


@pytest.mark.parametrize("kind", ["429", "500", "slow", "cut", "truncated"])
def test_faults_are_retried(server: FakeServer, kind: str) -> None:
    server.epmc = [epmc_result(i) for i in range(3)]
    server.slow_seconds = 0.5
    server.faults = [("search", kind)]
    epmc = client(server, timeout=0.25)
    pages = list(epmc.search("x"))
    assert sum(len(p.records) for p in pages) == 3
    assert epmc.http.stats.retries == 1


def test_gives_up_after_bounded_retries(server: FakeServer) -> None:
    server.faults = [("search", "500")] * 10
    with pytest.raises(FetchError, match="after 4 attempts: HTTP 500"):
        list(client(server).search("x"))
    assert len(server.calls("search")) == 4


def test_core_record_with_headings_and_raw_less_than() -> None:
    rec = epmc_record(epmc_result(3))
    assert isinstance(rec, Abstract)
    assert rec.id == "92000003" and rec.source == "europepmc"
    assert rec.text == (
        "Europe PMC trial 3 of pain relief.\nMethods: 33 patients rated pain on an NRS. "
        "Results: NRS 3.3 vs 5.3, p<0.05 at <1 week; m2."
    )
    assert [(s.label, rec.text[s.start : s.end][:12]) for s in rec.sections] == [
        ("Methods", "Methods: 33 "),
        ("Results", "Results: NRS"),
    ]
    assert rec.metadata["doi"] == "10.9999/epmc.3" and rec.metadata["year"] == 2020
    preprint = epmc_record(epmc_result(4))
    assert (
        isinstance(preprint, Abstract) and preprint.id == "PPR:PPR904" and preprint.metadata["pmid"] is None
    )


def test_lite_record_has_no_abstract() -> None:
    rec = epmc_record({"id": "PMC7", "source": "PMC", "title": "Lite only", "pmcid": "PMC7"})
    assert isinstance(rec, Abstract)
    assert rec.id == "PMC:PMC7" and not rec.has_abstract and rec.text == "Lite only\n"
