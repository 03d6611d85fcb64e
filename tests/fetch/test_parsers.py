"""Every reader on the repository's own fixtures: exact text, sections, ids and metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import InputError
from extractor.fetch import detect_format, iter_source
from extractor.fetch.text import compose, split_html_headings, split_inline_labels, strip_markup
from extractor.records import Abstract, Deletion, Problem

from .damage import corrupt_deflate


def abstracts(path: Path, fmt: str | None = None, **options: object) -> list[Abstract]:
    items = list(iter_source(path, fmt, **options))
    assert not [i for i in items if isinstance(i, Problem)], items
    return [i for i in items if isinstance(i, Abstract)]


def check_sections(rec: Abstract) -> None:
    title, _, body = rec.text.partition("\n")
    for s in rec.sections:
        piece = rec.text[s.start : s.end]
        assert piece.strip() == piece and piece
        if s.label:
            assert piece.startswith(f"{s.label}: ") or piece == s.label
    if rec.sections and rec.source != "txt":
        assert " ".join(rec.text[s.start : s.end] for s in rec.sections) == body


def test_pubmed_xml_structured_markup_entities_unicode(data_dir: Path) -> None:
    recs = {r.id: r for r in abstracts(data_dir / "pain_efetch.xml")}
    assert list(recs) == ["90000001", "90000002", "90000003", "90000004", "90000005"]
    r = recs["90000001"]
    assert r.text == (
        "Ketamine versus morphine for acute post-operative pain: a randomised trial.\n"
        "BACKGROUND: Opioid-sparing analgesia after knee surgery is needed. "
        "METHODS: We randomised n = 80 adults (body mass index 27 kg/m2) to ketamine (n = 40) or morphine "
        "(n = 40). Pain was rated on a 100-mm visual analogue scale (VAS). "
        "RESULTS: VAS at 24 h was 32.1 ± 11.4 mm vs 45.3 ± 12.9 mm (P<0.001); difference −13.2 mm "
        "(95% CI −18.6 to −7.8). Responders (≥50% reduction): 28/40 (70%) vs 17/40 (42.5%), "
        "p\u2009=\u20090.013. Median NRS ≤ 3 · 2 days. "
        "CONCLUSIONS: Ketamine lowered pain scores & opioid use."
    )
    assert r.title == "Ketamine versus morphine for acute post-operative pain: a randomised trial."
    assert [s.label for s in r.sections] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert r.text[r.sections[2].start : r.sections[2].start + 24] == "RESULTS: VAS at 24 h was"
    assert "©" not in r.text  # CopyrightInformation is not abstract text
    assert r.has_abstract and r.source == "pubmed-dump"
    meta = r.metadata
    assert (
        meta["pmid"] == "90000001" and meta["doi"] == "10.9999/jta.2021.001" and meta["pmcid"] == "PMC9000001"
    )
    assert (
        meta["journal"] == "Journal of test analgesia" and meta["year"] == 2021 and meta["language"] == "eng"
    )
    assert meta["authors"] == ["Okafor A", "Lindqvist PE", "Test Pain Trialists Group"]
    assert meta["publication_types"] == ["Randomized Controlled Trial", "Journal Article"]
    assert meta["version"] == 1 and meta["status"] == "MEDLINE" and meta["line"] == 4
    for rec in recs.values():
        check_sections(rec)


def test_pubmed_xml_unstructured_version_no_abstract_unlabelled_book(data_dir: Path) -> None:
    recs = {r.id: r for r in abstracts(data_dir / "pain_efetch.xml")}
    two = recs["90000002"]
    assert two.text.endswith("(p < 0.0001). Eighty-one (67.5%) reported a reduction of ≥2 points.")
    assert (
        two.metadata["version"] == 2
        and two.metadata["year"] == 2019
        and two.metadata["doi"] == "10.9999/ptr.2020.77"
    )
    assert [(s.label, s.start) for s in two.sections] == [(None, len(two.title) + 1)]
    letter = recs["90000003"]
    assert not letter.has_abstract and letter.text == "[Comment on pain scales in older adults].\n"
    assert letter.sections == () and letter.metadata["language"] == "ger"
    kids = recs["90000004"]
    assert kids.text.split("\n")[1] == (
        "Children (N\u2009=\u200964) rated pain with the FPS-R; H2O-only controls. "
        "TRIAL REGISTRATION: ISRCTN00000000."
    )
    assert [s.label for s in kids.sections] == [None, "TRIAL REGISTRATION"]
    book = recs["90000005"]
    assert book.text == "Handbook of test pain scales\nThe VAS ranges from 0 to 100 mm."
    assert book.metadata["authors"] == ["Moreau C"] and book.metadata["year"] == 2015


def test_old_medline_citation_set(data_dir: Path) -> None:
    recs = abstracts(data_dir / "medline_1999.xml")
    assert [(r.id, r.has_abstract) for r in recs] == [("90000101", True), ("90000102", False)]
    assert recs[0].text == (
        "Transcutaneous nerve stimulation for labour pain.\n"
        "Forty women were studied; VAS 7.2 (SD 1.1) vs 5.0 (SD 1.4)."
    )


def test_ris_bom_crlf_multiline_and_id_rules(data_dir: Path) -> None:
    recs = abstracts(data_dir / "export_bom_crlf.ris")
    assert [r.id for r in recs] == ["doi:10.9999/acu.2020.5", "90000201", "export_bom_crlf:3"]
    first = recs[0]
    assert first.title == "Acupuncture for chronic neck pain: a pragmatic randomised trial"
    assert first.text.split("\n")[1] == (
        "BACKGROUND: Neck pain is common. METHODS: 96 adults were randomised (n = 48 per arm); pain on a "
        "0–10 NRS. RESULTS: NRS fell by 2.9 ± 1.7 vs 1.2 ± 1.5 points (P<0.001); 31/48 (64.6%) vs 14/48 "
        "(29.2%) responded. CONCLUSIONS: Acupuncture helped."
    )
    assert [s.label for s in first.sections] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert first.metadata["authors"] == ["Nakamura, Keiko", "Silva, João"]
    assert first.metadata["doi"] == "10.9999/ACU.2020.5" and first.metadata["year"] == 2020
    assert recs[1].metadata["pmid"] == "90000201" and recs[1].text.endswith("with placebo; p = 0.002.")
    assert not recs[2].has_abstract
    for rec in recs:
        check_sections(rec)


def test_medline_nbib(data_dir: Path) -> None:
    recs = abstracts(data_dir / "export.nbib")
    assert [(r.id, r.has_abstract) for r in recs] == [("90000301", True), ("90000302", False)]
    r = recs[0]
    assert r.text == (
        "Gabapentin for post-herpetic neuralgia: a double-blind trial.\n"
        "OBJECTIVE: To test gabapentin. METHODS: Sixty patients (n = 60) were randomised. "
        "RESULTS: Mean daily "
        "pain score fell from 6.4 ± 1.2 to 4.0 ± 1.8 (p < 0.01); ≥50% relief in 18/30 vs 7/30. "
        "CONCLUSION: Gabapentin reduced pain."
    )
    assert r.metadata["doi"] == "10.9999/phn.2016.12" and r.metadata["pmcid"] == "PMC9000301"
    assert r.metadata["publication_types"] == ["Randomized Controlled Trial", "Journal Article"]
    check_sections(r)


def test_csv_columns_multiline_and_missing_id(data_dir: Path) -> None:
    recs = abstracts(data_dir / "screening.csv")
    assert [r.id for r in recs] == ["90000401", "screening:4", "90000403"]
    assert recs[0].text == (
        "Duloxetine in knee osteoarthritis\nWOMAC pain improved by 2.1 (95% CI 1.4–2.8). "
        "BPI average pain: −1.9 ± 1.6 (n = 120)."
    )
    assert recs[0].metadata["year"] == "2014" and recs[0].metadata["line"] == 2
    assert not recs[2].has_abstract


def test_jsonl_pool_record_taken_as_is(data_dir: Path) -> None:
    recs = abstracts(data_dir / "pool_like.jsonl")
    assert recs[0].text == "Taken as is\n  Pain  VAS 5.5 ± 1.0 (n = 20);  offsets must not move."
    assert recs[0].source == "painbench-like"
    assert recs[1].id == "pb:2" and not recs[1].has_abstract


def test_jsonl_custom_columns_and_bad_line(data_dir: Path) -> None:
    items = list(
        iter_source(
            data_dir / "custom_columns.jsonl",
            id_column="ref",
            title_column="headline",
            abstract_column="summary",
        )
    )
    assert [type(i).__name__ for i in items] == ["Abstract", "Problem", "Abstract"]
    assert (
        items[0].id == "R-7"
        and items[0].text == "Cold therapy after ankle sprain\nNRS 3.1 vs 4.6 at day 3 (p = 0.04)."
    )
    assert str(items[1]).startswith(f"{data_dir / 'custom_columns.jsonl'}:2: not valid JSON")
    no_columns = list(iter_source(data_dir / "custom_columns.jsonl"))
    assert all(isinstance(i, Problem) for i in no_columns)
    assert "no text column found (columns: ref, headline, summary)" in str(no_columns[0])


def test_txt_folder(data_dir: Path) -> None:
    recs = abstracts(data_dir / "txt_folder")
    assert [r.id for r in recs] == ["trial_a", "trial_b"]
    a = recs[0]
    assert a.text == "Massage for low back pain\nPain (VAS) fell from 62 ± 15 to 38 ± 19 mm in 45 patients."
    assert a.title == "Massage for low back pain" and a.text[a.sections[0].start :].startswith("Pain (VAS)")
    assert recs[1].title == "" and recs[1].text == "Single line abstract: NRS ≤ 3 in 70% (n = 50)."


def test_format_detection_and_override(data_dir: Path, tmp_path: Path) -> None:
    assert detect_format(data_dir / "pain_efetch.xml") == "pubmed-xml"
    assert detect_format(data_dir / "export.nbib") == "medline"
    ris_as_txt = tmp_path / "export.txt"
    ris_as_txt.write_bytes((data_dir / "export_bom_crlf.ris").read_bytes())
    assert detect_format(ris_as_txt) == "ris"
    nbib_as_txt = tmp_path / "pubmed-export.txt"
    nbib_as_txt.write_bytes((data_dir / "export.nbib").read_bytes())
    assert detect_format(nbib_as_txt) == "medline"
    odd = tmp_path / "records.dat"
    odd.write_bytes((data_dir / "export.nbib").read_bytes())
    assert detect_format(odd) == "medline"
    forced = abstracts(odd, "nbib")
    assert [r.id for r in forced] == ["90000301", "90000302"]
    with pytest.raises(InputError, match="unknown format"):
        list(iter_source(odd, "word"))
    with pytest.raises(InputError, match="unknown option"):
        list(iter_source(odd, colour="red"))


def test_gzipped_text_formats(data_dir: Path, tmp_path: Path) -> None:
    import gzip

    target = tmp_path / "export.ris.gz"
    target.write_bytes(gzip.compress((data_dir / "export_bom_crlf.ris").read_bytes()))
    assert len(abstracts(target)) == 3


def test_dump_file_deletions(tmp_path: Path) -> None:
    xml = (
        '<PubmedArticleSet><DeleteCitation><PMID Version="1">11</PMID><PMID Version="2">12</PMID>'
        "</DeleteCitation></PubmedArticleSet>"
    )
    path = tmp_path / "pubmed26n9999.xml"
    path.write_text(xml, encoding="utf-8")
    items = list(iter_source(path))
    assert [(type(i).__name__, i.id) for i in items] == [("Deletion", "11"), ("Deletion", "12")]  # type: ignore[union-attr]
    assert isinstance(items[1], Deletion) and items[1].metadata["version"] == 2


# ------------------------------------------------------------------------------------------ text


def test_strip_markup_keeps_every_character_that_is_not_a_tag() -> None:
    assert (
        strip_markup("m<sup>2</sup> and <i>n</i> = 40, P<0.001, <1 year, a<b")
        == "m2 and n = 40, P<0.001, <1 year, a<b"
    )
    assert strip_markup("x&amp;y &lt;5 &#xb1; &plusmn;") == "x&y <5 ± ±"
    assert strip_markup("one<br/>two<p>three</p>") == "one two three "


def test_split_headings_and_inline_labels() -> None:
    parts = split_html_headings("intro<h4>Methods</h4>m <i>x</i><h4>Results</h4>r")
    assert parts == [(None, "intro"), ("Methods", "m <i>x</i>"), ("Results", "r")]
    assert split_inline_labels("BACKGROUND: a. MATERIALS AND METHODS: b (n = 3). RESULTS: c") == [
        ("BACKGROUND", "a. "),
        ("MATERIALS AND METHODS", "b (n = 3). "),
        ("RESULTS", "c"),
    ]
    assert split_inline_labels("Results: mixed case is not split.") == [
        (None, "Results: mixed case is not split.")
    ]


def test_compose_offsets_and_unlabelled() -> None:
    text, sections, has = compose(" A  title ", [("UNLABELLED", "x\n y"), ("RESULTS", " 3 ± 1 "), (None, "")])
    assert text == "A title\nx y RESULTS: 3 ± 1" and has
    assert [(s.label, text[s.start : s.end]) for s in sections] == [
        (None, "x y"),
        ("RESULTS", "RESULTS: 3 ± 1"),
    ]
    assert compose("T", []) == ("T\n", (), False)
    assert compose("T", [(None, "thin\u2009space")])[0] == "T\nthin\u2009space"


# ------------------------------------------------------------------------------------ properties

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(title=_TEXT, parts=st.lists(st.tuples(st.one_of(st.none(), _TEXT), _TEXT), max_size=6))
def test_compose_sections_always_point_into_text(title: str, parts: list[tuple[str | None, str]]) -> None:
    text, sections, has_abstract = compose(title, parts)
    head, sep, body = text.partition("\n")
    assert sep == "\n" and "\n" not in head
    assert has_abstract == bool(body.strip())
    for s in sections:
        assert 0 <= s.start < s.end <= len(text) and s.start > len(head)
    assert " ".join(text[s.start : s.end] for s in sections) == body


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_strip_markup_is_identity_without_tags_or_entities(text: str) -> None:
    if "<" not in text and "&" not in text:
        assert strip_markup(text) == text


def test_fetch_never_imports_spacy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, extractor.fetch, extractor.fetch.pubmed_fast, extractor.commands.fetch; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('spacy', 'thinc')], 'spacy imported'; "
        "assert not [m for m in sys.modules if m.startswith('extractor.batch')], 'batch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_other_abstract_under_medline_citation_is_the_fallback(tmp_path: Path) -> None:
    """PubMed puts OtherAbstract under MedlineCitation; a record without <Abstract> uses it."""
    from extractor.fetch import iter_source
    from extractor.records import Abstract

    xml = tmp_path / "other.xml"
    xml.write_text(
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version=\"1\">7</PMID>"
        "<Article><ArticleTitle>T</ArticleTitle></Article>"
        "<OtherAbstract Type=\"plain-language-summary\" Language=\"spa\"><AbstractText>Dolor.</AbstractText>"
        "</OtherAbstract>"
        "<OtherAbstract Type=\"plain-language-summary\" Language=\"eng\"><AbstractText>Pain fell by 2 points."
        "</AbstractText></OtherAbstract></MedlineCitation></PubmedArticle></PubmedArticleSet>",
        encoding="utf-8",
    )
    (rec,) = [r for r in iter_source(xml) if isinstance(r, Abstract)]
    assert rec.text == "T\nPain fell by 2 points." and rec.has_abstract
    assert rec.metadata["abstract_from"] == "OtherAbstract"


@pytest.mark.parametrize("name", ["export.jsonl.gz", "export.csv.gz", "export.ris.gz", "export.txt.gz"])
def test_corrupt_gzip_text_formats_end_with_a_problem(tmp_path: Path, name: str) -> None:
    """A damaged deflate stream raises the inflater's own error (neither OSError nor EOFError):
    it must end the file with a fatal Problem like a cut one, not stop the caller."""
    import gzip
    import json

    n = range(3000)
    text = {"jsonl": "\n".join(json.dumps({"id": f"r{i}", "abstract": f"VAS fell by {i}"}) for i in n),
            "csv": "id,abstract\n" + "\n".join(f"r{i},VAS fell by {i}" for i in n),
            "ris": "".join(f"TY  - JOUR\nID  - r{i}\nAB  - VAS fell by {i}\nER  - \n" for i in n),
            "txt": "VAS fell by 3 mm. " * 20000}[name.split(".")[1]]
    path = tmp_path / name
    path.write_bytes(corrupt_deflate(gzip.compress(text.encode(), 6)))
    items = list(iter_source(path))
    assert isinstance(items[-1], Problem) and items[-1].fatal_for_file
