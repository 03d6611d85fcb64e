"""Dump application order, bad input handling and the `extractor fetch` commands end to end."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from extractor.cli import main
from extractor.fetch import DumpMerger, iter_source
from extractor.records import Abstract, Problem

from .conftest import FakeServer, epmc_result, make_articles


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def article(
    pmid: str, title: str, abstract: str = "Pain fell (VAS 3.1 &#xb1; 1.0).", version: int = 1
) -> str:
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="{version}">{pmid}</PMID>'
        f"<Article><ArticleTitle>{title}</ArticleTitle><Abstract><AbstractText>{abstract}</AbstractText>"
        "</Abstract></Article></MedlineCitation></PubmedArticle>\n"
    )


def dump_file(path: Path, body: str, md5: bool = True) -> Path:
    data = gzip.compress(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n{body}</PubmedArticleSet>\n'.encode()
    )
    path.write_bytes(data)
    if md5:
        path.with_name(path.name + ".md5").write_text(f"MD5({path.name})= {hashlib.md5(data).hexdigest()}\n")
    return path


@pytest.fixture
def dumps(tmp_path: Path) -> list[Path]:
    base = dump_file(
        tmp_path / "pubmed26n0001.xml.gz",
        article("101", "First") + article("102", "Second") + article("103", "Third"),
    )
    upd1 = dump_file(
        tmp_path / "pubmed26n0002.xml.gz",
        article("102", "Second, corrected", "NRS 4 &#x2264; 5.")
        + '<DeleteCitation><PMID Version="1">103</PMID><PMID Version="1">999</PMID></DeleteCitation>\n',
    )
    upd2 = dump_file(
        tmp_path / "pubmed26n0003.xml.gz", article("104", "Fourth") + article("101", "First, v2")
    )
    return [base, upd1, upd2]


def test_merger_applies_in_order(tmp_path: Path, dumps: list[Path]) -> None:
    with DumpMerger(tmp_path) as merger:
        for path in dumps:
            for item in iter_source(path):
                assert not isinstance(item, Problem)
                merger.add(item)
        final = list(merger.final())
        assert dict(merger.counts) == {"replaced by a later version": 2, "removed by a later deletion": 1}
    assert [(type(r).__name__, r.id) for r in final] == [
        ("Abstract", "102"),
        ("Deletion", "103"),
        ("Deletion", "999"),
        ("Abstract", "104"),
        ("Abstract", "101"),
    ]
    assert isinstance(final[0], Abstract) and final[0].text == "Second, corrected\nNRS 4 ≤ 5."
    assert isinstance(final[-1], Abstract) and final[-1].title == "First, v2"
    assert not list(tmp_path.glob("extractor-dump-*"))  # temp dir removed


def test_fetch_dump_cli_merge_and_keep_all(
    tmp_path: Path, dumps: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code, err = run(["fetch", "dump", *map(str, dumps), "--out", str(out)], capsys)
    assert code == 0, err
    rows = lines(out)
    assert [(r["id"], r.get("deleted", False)) for r in rows] == [
        ("102", False),
        ("103", True),
        ("999", True),
        ("104", False),
        ("101", False),
    ]
    assert (
        "read 8, written 3, without abstract 0, deleted 2, skipped 3 (replaced by a later version 2, "
        "removed by a later deletion 1), problems 0"
    ) in err
    code, err = run(["fetch", "dump", *map(str, dumps), "--out", str(out), "--keep-all"], capsys)
    assert code == 0 and len(lines(out)) == 8
    assert "read 8, written 6, without abstract 0, deleted 2" in err


def test_bad_files_are_reported_and_the_next_file_is_read(
    tmp_path: Path, dumps: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_md5 = dump_file(tmp_path / "pubmed26n0004.xml.gz", article("201", "Wrong sum"))
    wrong_md5.with_name(wrong_md5.name + ".md5").write_text("MD5(pubmed26n0004.xml.gz)= " + "0" * 32 + "\n")
    truncated = dump_file(
        tmp_path / "pubmed26n0005.xml.gz",
        "".join(article(str(300 + i), f"T{i}" * 300) for i in range(40)),
        md5=False,
    )
    truncated.write_bytes(truncated.read_bytes()[:-400])
    malformed = tmp_path / "pubmed26n0006.xml"
    malformed.write_text(
        "<PubmedArticleSet>\n" + article("401", "Fine") + "<PubmedArticle><Medline\n</PubmedArticleSet>\n"
    )
    latin1 = tmp_path / "pubmed26n0007.xml"
    latin1.write_bytes(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
            + article("501", "Before")
            + article("502", "Douleur à 7/10")
            + "</PubmedArticleSet>\n"
        ).encode("latin-1")
    )
    out = tmp_path / "out.jsonl"
    code, err = run(
        [
            "fetch",
            "dump",
            str(wrong_md5),
            str(truncated),
            str(malformed),
            str(latin1),
            str(dumps[0]),
            "--out",
            str(out),
            "--keep-all",
        ],
        capsys,
    )
    assert code == 1
    assert f"{wrong_md5}: MD5 mismatch" in err
    assert f"{truncated}: file is truncated or corrupt" in err
    assert f"{malformed}:4: malformed or cut-off XML" in err
    assert f"{latin1}:4: malformed or cut-off XML (Invalid bytes in character encoding" in err
    ids = [r["id"] for r in lines(out)]
    assert "201" not in ids  # a file with a wrong md5 is not read at all
    assert "401" in ids and "501" in ids and "502" not in ids  # records before the error are kept
    assert ids[-3:] == ["101", "102", "103"]  # and the next file is read
    assert "problems 4" in err


def test_non_utf8_text_file(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin = tmp_path / "latin1.ris"
    latin.write_bytes(
        "TY  - JOUR\nTI  - Douleur lombaire\nAB  - Échelle visuelle analogique.\nER  - \n"
        "TY  - JOUR\nTI  - Second record\nER  - \n".encode("latin-1")
    )
    latin_txt = tmp_path / "folder" / "a.txt"
    latin_txt.parent.mkdir()
    latin_txt.write_bytes("Title\nDouleur à 7/10.".encode("latin-1"))
    items = list(iter_source(latin))
    assert [type(i).__name__ for i in items] == ["Problem", "Problem", "Abstract"]
    assert str(items[0]).startswith(f"{latin}:3: not utf-8 text (byte 0xc9")
    out = tmp_path / "out.jsonl"
    code, err = run(
        [
            "fetch",
            "file",
            str(latin),
            str(latin_txt.parent),
            str(data_dir / "export.nbib"),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 1
    assert f"{latin_txt}:2: not utf-8 text" in err
    assert [r["id"] for r in lines(out)] == ["latin1:2", "90000301", "90000302"]
    code, err = run(["fetch", "file", str(latin), "--encoding", "latin-1", "--out", str(out)], capsys)
    assert code == 0, err
    assert lines(out)[0]["text"] == "Douleur lombaire\nÉchelle visuelle analogique."


def test_fetch_file_counts_duplicates_and_options(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code, err = run(
        [
            "fetch",
            "file",
            str(data_dir / "pain_efetch.xml"),
            str(data_dir / "pain_efetch.xml"),
            str(data_dir / "custom_columns.jsonl"),
            "--id-column",
            "ref",
            "--title-column",
            "headline",
            "--abstract-column",
            "summary",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 1  # the bad JSON line
    assert "read 12, written 7, without abstract 1, deleted 0, skipped 5 (duplicate id 5), problems 1" in err
    assert f"{data_dir / 'custom_columns.jsonl'}:2: not valid JSON" in err
    rows = lines(out)
    assert rows[0]["id"] == "90000001" and rows[0]["metadata"]["pmid"] == "90000001"
    assert Abstract.from_dict(rows[0]).to_dict() == rows[0]


def test_user_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(
        ["fetch", "file", str(tmp_path / "missing.ris"), "--out", str(tmp_path / "o.jsonl")], capsys
    )
    assert (
        code == 2 and err.strip() == f"extractor: error: {tmp_path / 'missing.ris'}: no such file or folder"
    )
    code, err = run(["fetch", "file", str(tmp_path), "--out", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "name it *.jsonl" in err
    code, err = run(["fetch", "pubmed", "--out", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2 and "exactly one of --query or --pmids" in err
    code, err = run(["fetch", "pubmed", "--pmids", "12,abc", "--out", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2 and "not a comma-separated list of PMIDs" in err
    code, err = run(
        ["fetch", "file", str(tmp_path), "--format", "docx", "--out", str(tmp_path / "o.jsonl")], capsys
    )
    assert code == 2 and "unknown format 'docx'" in err
    assert "Traceback" not in err


@pytest.mark.network
def test_fetch_pubmed_cli_resumes_without_duplicates(
    server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.articles = make_articles(7)
    out = tmp_path / "pain.jsonl"
    args = [
        "fetch",
        "pubmed",
        "--query",
        "knee pain",
        "--out",
        str(out),
        "--base-url",
        server.url,
        "--api-key",
        "K",
        "--email",
        "dev@example.org",
        "--batch-size",
        "3",
        "--retries",
        "2",
        "--backoff",
        "0.001",
        "--no-progress",
    ]
    # first run: batch 2 (records 4-6) fails on every attempt, by history and by id
    server.faults = [("efetch", "ok")] + [("efetch", "500")] * 4
    code, err = run(args, capsys)
    assert code == 1
    assert "PMID 91000003: not fetched" in err and "problems 3" in err
    assert [r["id"] for r in lines(out)] == ["91000000", "91000001", "91000002", "91000006"]
    # an interruption in the middle of writing a line
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "91000003", "tit')
    server.log.clear()
    code, err = run(args, capsys)
    assert code == 0, err
    ids = [r["id"] for r in lines(out)]
    assert sorted(ids) == [a.pmid for a in server.articles] and len(ids) == 7
    assert (
        "read 3, written 3, without abstract 0, deleted 0, skipped 4 (already in output 4), problems 0" in err
    )
    assert [c["retstart"] for c in server.calls("efetch")] == ["3"]  # only the missing batch
    # a different query may not be appended to this file
    code, err = run([*args[:2], "--query", "other", *args[4:]], capsys)
    assert code == 2 and "--overwrite" in err


@pytest.mark.network
def test_fetch_pmids_cli(server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server.articles = make_articles(3)
    pmid_file = tmp_path / "pmids.txt"
    pmid_file.write_text("91000000\n91000002\n404\n")
    out = tmp_path / "o.jsonl"
    code, err = run(
        [
            "fetch",
            "pubmed",
            "--pmids",
            str(pmid_file),
            "--out",
            str(out),
            "--base-url",
            server.url,
            "--api-key",
            "K",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 1 and "PMID 404: not returned by efetch" in err
    assert [r["id"] for r in lines(out)] == ["91000000", "91000002"]
    assert "NCBI asks every E-utilities user for an email" in err


@pytest.mark.network
def test_fetch_europepmc_cli_resumes_from_cursor(
    server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.epmc = [epmc_result(i) for i in range(7)]
    out = tmp_path / "e.jsonl"
    args = [
        "fetch",
        "europepmc",
        "--query",
        "pain",
        "--out",
        str(out),
        "--base-url",
        server.url,
        "--page-size",
        "3",
        "--retries",
        "2",
        "--backoff",
        "0.001",
        "--no-progress",
    ]
    server.faults = [("search", "ok"), ("search", "500"), ("search", "500")]
    code, err = run(args, capsys)
    assert code == 1 and "after 2 attempts: HTTP 500; re-run the same command to resume" in err
    assert "read 3, written 3" in err
    assert len(lines(out)) == 3
    server.log.clear()
    code, err = run(args, capsys)
    assert code == 0, err
    rows = lines(out)
    assert len(rows) == 7 and len({r["id"] for r in rows}) == 7
    assert [c["cursorMark"] for c in server.calls("search")] == ["c3", "c6", "c7"]
    assert rows[4]["id"] == "PPR:PPR904" and rows[0]["sections"][0]["label"] == "Methods"


def test_resume_drops_a_partial_last_line(tmp_path: Path) -> None:
    from extractor.fetch.output import JsonlOut

    out = tmp_path / "o.jsonl"
    good = json.dumps(Abstract(id="1", text="T\nx").to_dict())
    out.write_text(good + "\n" + "x" * 200_000)  # a cut-off line longer than one read block
    with JsonlOut(out, resume=True) as sink:
        assert sink.preexisting == {"1"}
        assert sink.write(Abstract(id="2", text="U\ny")) and not sink.write(Abstract(id="1", text="T\nx"))
    assert [r["id"] for r in lines(out)] == ["1", "2"]
