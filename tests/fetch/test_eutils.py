"""E-utilities client against a real local HTTP server (with injected faults)."""

from __future__ import annotations

from datetime import date

import pytest

from extractor.errors import FetchError
from extractor.fetch.eutils import EUtils, parse_esearch
from extractor.fetch.http import RateLimiter, RetryPolicy
from extractor.records import Abstract, Problem

from .conftest import FakeServer, make_articles

pytestmark = pytest.mark.network

FAST = RetryPolicy(max_attempts=4, backoff=0.001, max_backoff=0.005)


def client(server: FakeServer, **kw: object) -> EUtils:
    opts: dict[str, object] = {"email": "dev@example.org", "rate": 500.0, "retry": FAST, "timeout": 2.0}
    opts.update(kw)
    return EUtils(server.url, **opts)  # type: ignore[arg-type]


def records(items: list[Abstract | Problem]) -> list[Abstract]:
    return [i for i in items if isinstance(i, Abstract)]


def test_query_uses_history_and_batches_and_sends_tool_email(server: FakeServer) -> None:
    server.articles = make_articles(7)
    items = list(client(server, batch_size=3, api_key="KEY").fetch_query("knee pain"))
    got = records(items)
    assert [a.id for a in got] == [a.pmid for a in server.articles]
    assert not [i for i in items if isinstance(i, Problem)]
    efetches = server.calls("efetch")
    assert [(c["retstart"], c["retmax"]) for c in efetches] == [("0", "3"), ("3", "3"), ("6", "1")]
    assert all(c["WebEnv"].startswith("MCID_") and c["query_key"] == "1" for c in efetches)
    assert any(c.get("usehistory") == "y" for c in server.calls("esearch"))
    for _path, params, _t in server.log:
        assert params["tool"] == "extractor" and params["email"] == "dev@example.org"
        assert params["api_key"] == "KEY"
    first = got[0]
    assert first.source == "pubmed" and first.metadata["pmid"] == first.id
    assert "n = 20 patients (P<0.05)" in first.text and "±" in first.text


def test_max_limits_records(server: FakeServer) -> None:
    server.articles = make_articles(9)
    got = records(list(client(server, batch_size=4).fetch_query("x", max_records=5)))
    assert len(got) == 5


@pytest.mark.parametrize("kind", ["429", "500", "slow", "cut", "truncated"])
def test_faults_are_retried(server: FakeServer, kind: str) -> None:
    server.articles = make_articles(4)
    server.slow_seconds = 0.5
    server.faults = [("efetch", kind), ("esearch", kind)]
    eu = client(server, batch_size=2, timeout=0.25)
    got = records(list(eu.fetch_query("x")))
    assert [a.id for a in got] == [a.pmid for a in server.articles]
    assert not server.faults  # both faults were served and survived
    assert eu.http.stats.retries == 2


def test_persistent_failure_yields_problem_per_pmid_then_continues(server: FakeServer) -> None:
    server.articles = make_articles(6)
    # batch 2 fails on every attempt (history and the by-id fallback): 4 + 4 answers of 500
    server.faults = [("efetch", "ok")] + [("efetch", "500")] * 8
    items = list(client(server, batch_size=2).fetch_query("x"))
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.where for p in problems] == ["PMID 91000002", "PMID 91000003"]
    assert "HTTP 500" in problems[0].reason
    assert [a.id for a in records(items)] == ["91000000", "91000001", "91000004", "91000005"]


def test_gives_up_after_three_failed_batches(server: FakeServer) -> None:
    server.articles = make_articles(10)
    server.faults = [("efetch", "500")] * 100
    with pytest.raises(FetchError, match="re-run the same command to resume"):
        list(client(server, batch_size=2, retry=RetryPolicy(max_attempts=1, backoff=0)).fetch_query("x"))


def test_bad_request_is_not_retried(server: FakeServer) -> None:
    eu = client(server)
    with pytest.raises(FetchError, match="HTTP 404"):
        eu.http.get(server.url + "/nothing-here")
    assert len(server.log) == 1


def test_search_over_cap_is_split_by_publication_date(server: FakeServer) -> None:
    server.articles = make_articles(23)
    server.cap = 5
    eu = client(server, batch_size=2, cap=5, today=date(2025, 1, 1))
    total, slices, problems = eu.plan("x")
    assert total == 23 and not problems
    assert sum(s.count for s in slices) == 23 and all(s.count <= 5 for s in slices)
    server.log.clear()
    got = records(list(eu.fetch_query("x")))
    assert sorted(a.id for a in got) == sorted(a.pmid for a in server.articles)
    assert len({a.id for a in got}) == 23
    for call in server.calls("efetch"):  # never asks for anything past the cap
        assert int(call["retstart"]) + int(call["retmax"]) <= 5


def test_split_reports_what_cannot_be_reached(server: FakeServer) -> None:
    same_day = [date(2020, 5, 5)] * 7 + [date(2021, 1, 1)]
    server.articles = make_articles(8, days=same_day) + [make_articles(1, start=91000100)[0]]
    server.articles[-1].day = None  # no usable publication date
    server.cap = 5
    items = list(client(server, cap=5, today=date(2025, 1, 1)).fetch_query("x"))
    problems = [str(p) for p in items if isinstance(p, Problem)]
    assert any("7 hits on the single publication date 2020/05/05" in p for p in problems)
    assert any("cover 8 of 9 hits" in p for p in problems)
    assert len(records(items)) == 6  # 5 of the 7 same-day records + the 2021 one


def test_resume_skips_done_batches(server: FakeServer) -> None:
    server.articles = make_articles(6)
    done = {"91000000", "91000001", "91000003"}
    got = records(list(client(server, batch_size=2).fetch_query("x", skip=done.__contains__)))
    assert [a.id for a in got] == ["91000002", "91000004", "91000005"]
    assert [c["retstart"] for c in server.calls("efetch")] == ["2", "4"]  # batch 0 was all done


def test_fetch_pmids_reports_missing(server: FakeServer) -> None:
    server.articles = make_articles(3)
    items = list(client(server).fetch_pmids(["91000001", "91000001", "5", "91000002"]))
    assert [a.id for a in records(items)] == ["91000001", "91000002"]
    assert [str(p) for p in items if isinstance(p, Problem)] == [
        "PMID 5: not returned by efetch (withdrawn or not in PubMed)"
    ]
    assert server.calls("efetch")[0]["id"] == "91000001,5,91000002"


def test_expired_history_falls_back_to_ids(server: FakeServer) -> None:
    server.articles = make_articles(3)
    eu = client(server, retry=RetryPolicy(max_attempts=1, backoff=0))
    real_efetch_history = eu.efetch_history
    eu.efetch_history = lambda webenv, qk, start, n: real_efetch_history("expired", qk, start, n)  # type: ignore[method-assign]
    assert len(records(list(eu.fetch_query("x")))) == 3


def test_esearch_error_answer_raises(server: FakeServer) -> None:
    eu = client(server)
    eu.http.retry = RetryPolicy(max_attempts=1)
    with pytest.raises(FetchError, match="Invalid db name"):
        eu._params = lambda **kw: {"db": "fleegle", "tool": "extractor", **kw}  # type: ignore[method-assign]
        eu.esearch("x")


def test_rate_limit_spacing_on_the_wire(server: FakeServer) -> None:
    server.articles = make_articles(2)
    eu = client(server, rate=20.0, batch_size=1)
    list(eu.fetch_query("x"))
    times = [t for _p, _q, t in server.log]
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.045


def test_default_rates_follow_ncbi_policy() -> None:
    assert EUtils("http://127.0.0.1:9").http.limiter.interval == pytest.approx(1 / 3)
    assert EUtils("http://127.0.0.1:9", api_key="k").http.limiter.interval == pytest.approx(1 / 10)


def test_rate_limiter_with_fake_clock() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(3, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait()
    assert now[0] == pytest.approx(1.0)  # 4 requests at 3/s span one second
    assert slept == pytest.approx([1 / 3] * 3)


def test_retry_policy_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(backoff=1, factor=2, max_backoff=5, jitter=0)
    assert [policy.wait(a) for a in range(5)] == [1, 2, 4, 5, 5]
    assert policy.wait(0, retry_after=3) == 3
    assert policy.wait(0, retry_after=100) == 5
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_parse_esearch_answer() -> None:
    body = (
        b"<eSearchResult><Count>3</Count><RetMax>3</RetMax><QueryKey>1</QueryKey><WebEnv>MCID_9</WebEnv>"
        b"<IdList><Id>1</Id><Id>2</Id><Id>3</Id></IdList><ErrorList><PhraseNotFound>zzz</PhraseNotFound>"
        b"</ErrorList></eSearchResult>"
    )
    result = parse_esearch(body)
    assert (result.count, result.ids, result.webenv, result.query_key) == (3, ["1", "2", "3"], "MCID_9", "1")
    assert result.warnings == ["PhraseNotFound: zzz"]
    with pytest.raises(FetchError, match="not XML"):
        parse_esearch(b"<eSearchResult><Count>3</Cou")
