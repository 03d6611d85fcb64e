"""The pre-filter hook on PubMed XML (extractor.fetch.pubmed_fast): deciding on raw bytes gives
exactly the items of parsing every record first — on odd records, damaged files, generated files,
and (marked shared) every real file under ../shared/data/fetch."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.fetch import iter_source, pubmed_fast
from extractor.fetch.hook import apply_prefilter
from extractor.fetch.pubmed_fast import iter_pubmed_fast, raw_view
from extractor.fetch.pubmed_xml import iter_pubmed_xml
from extractor.fetch.sources import detect_format
from extractor.records import Abstract, Skipped

from .damage import corrupt_deflate

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)
TAIL = "</PubmedArticleSet>\n"

Hook = Callable[[str, bool], "str | None"]


def pain_hook() -> Hook:
    """The batch stage's pre-filter, built here without importing the batch package's runner (the
    object itself: the reader asks its ``raw_reason`` first)."""
    from extractor.batch.prefilter import Prefilter

    return Prefilter()


def text_only_hook() -> Hook:
    """The same decisions through ``text_reason`` alone (no ``raw_reason``: the text is always built)."""
    from extractor.batch.prefilter import Prefilter

    return Prefilter().text_reason


def neutral(xml: str) -> str:
    """Records without pain words outside their title and abstract (journal, MeSH, copyright), so
    that the pre-filter's record screen can decide on them."""
    return xml.replace("J Pain Res", "J Clin Res").replace("Pain Measurement", "Humans") \
        .replace("© 2020 pain 9", "© 2020 Elsevier 9").replace("<CopyrightInformation>pain 3",
                                                              "<CopyrightInformation>Elsevier 3")


def article(pmid: str, *, title: str = "A trial", abstract: str | None = None, version: str = '"1"',
            article_extra: str = "", citation_extra: str = "", journal: str = "") -> str:
    abstract_xml = "" if abstract is None else abstract
    version_attr = f" Version={version}" if version else ""
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID{version_attr}>{pmid}</PMID>'
        f'<DateCompleted><Year>2020</Year></DateCompleted><Article PubModel="Print"><Journal><ISSN>1</ISSN>'
        f"<Title>J Pain Res</Title>{journal}</Journal><ArticleTitle>{title}</ArticleTitle>"
        f"<Pagination><MedlinePgn>1-9</MedlinePgn></Pagination>{abstract_xml}{article_extra}"
        f'<AuthorList><Author><LastName>Okafor</LastName><Initials>A</Initials></Author></AuthorList>'
        f"<Language>eng</Language></Article>{citation_extra}"
        f"<MeshHeadingList><MeshHeading><DescriptorName>Pain Measurement</DescriptorName></MeshHeading>"
        f"</MeshHeadingList></MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData></PubmedArticle>\n'
    )


def abstract(*texts: str, label: str | None = None) -> str:
    attr = f' Label="{label}"' if label is not None else ""
    return "<Abstract>" + "".join(f"<AbstractText{attr}>{t}</AbstractText>" for t in texts) + \
        "<CopyrightInformation>© 2020 pain 9</CopyrightInformation></Abstract>"


# Each: (name, record XML). Together they exercise every branch of raw_view and the hand-overs.
ODD_RECORDS: list[tuple[str, str]] = [
    ("pain trial", article("1", abstract=abstract("Knee pain fell from 7.1 to 3.2 in 40 patients."))),
    ("not pain", article("2", abstract=abstract("LDL fell by 30% in 400 adults."))),
    ("no numbers", article("3", abstract=abstract("Chronic pain is undertreated."))),
    ("title only", article("4", title="Pain in 30 knees")),
    ("char refs", article("5", abstract=abstract("VAS 6.2 &#177; 1.1 &#x3b1; &lt;5 &amp;lt;3 &quot;x"))),
    ("term spelled by a reference", article("6", abstract=abstract("&#x70;ain in &#51; knees"))),
    ("double-escaped reference", article("7", abstract=abstract("&amp;#112;ain in 3 knees"))),
    ("markup inside a term", article("8", abstract=abstract("<b>P</b>ain in 3; analg<i>esia</i>, "
                                                            "V<sup>A</sup>S"))),
    ("markup with attributes", article("9", abstract=abstract('<i class="a>b">Pain</i> in 3 knees'))),
    ("CDATA", article("10", abstract=abstract("<![CDATA[pain 3 < 5 & ache]]> fell"))),
    ("CDATA hiding an end tag", article("11", abstract=abstract("<![CDATA[</PubmedArticle>]]> pain 4"))),
    ("comment inside a term", article("12", abstract=abstract("pa<!-- x -->in in 3 knees"))),
    ("processing instruction", article("13", abstract=abstract("pain <?pi x?> in 3 knees"))),
    ("OtherAbstract only", article("14", citation_extra='<OtherAbstract Language="eng"><AbstractText>'
                                         "Pain in 3 knees.</AbstractText></OtherAbstract>")),
    ("OtherAbstract in Article", article("15", article_extra='<OtherAbstract Language="eng"><AbstractText>'
                                          "Pain in 3 knees.</AbstractText></OtherAbstract>")),
    ("OtherAbstract besides an abstract", article("16", abstract=abstract("LDL fell by 3."),
                                                  citation_extra="<OtherAbstract><AbstractText>Pain 3"
                                                                 "</AbstractText></OtherAbstract>")),
    ("vernacular title", article("17", title="", abstract=abstract("It fell by 3."),
                                 article_extra="<VernacularTitle>Schmerz pain</VernacularTitle>")),
    ("both titles", article("18", title="Knee pain", abstract=abstract("It fell by 3."),
                            article_extra="<VernacularTitle>Schmerz</VernacularTitle>")),
    ("empty AbstractText", article("19", abstract="<Abstract><AbstractText/></Abstract>")),
    ("empty Abstract", article("20", abstract="<Abstract/>")),
    ("Abstract without AbstractText", article("21", abstract="<Abstract><CopyrightInformation>pain 3"
                                                             "</CopyrightInformation></Abstract>")),
    ("UNLABELLED empty part", article("22", abstract=abstract("", label="UNLABELLED")
                                      + "")),
    ("labels", article("23", abstract='<Abstract><AbstractText Label="A&amp;B\nC" NlmCategory="X">pain 3'
                                      '</AbstractText><AbstractText Label="">ache</AbstractText>'
                                      '<AbstractText Label="  ">x</AbstractText>'
                                      "<AbstractText Label='PAIN'>two</AbstractText></Abstract>")),
    ("label only", article("24", abstract='<Abstract><AbstractText Label="PAIN 3"/></Abstract>')),
    ("version 2", article("25", version='"2"', abstract=abstract("LDL 3"))),
    ("version x", article("26", version='"x"', abstract=abstract("LDL 3"))),
    ("no version", article("27", version="", abstract=abstract("LDL 3"))),
    ("version quoted, a reference", article("28", version="'&#50;'", abstract=abstract("LDL 3"))),
    ("PMID with white space", article(" 29\n", abstract=abstract("LDL 3"))),
    ("end tags with white space", article("30", abstract="<Abstract><AbstractText>pain 3</AbstractText >"
                                                         "</Abstract >")),
    ("Abstract deeper down", article("31", journal="<Abstract><AbstractText>pain 3</AbstractText>"
                                                   "</Abstract>")),
    ("two ArticleTitles", article("32", abstract=abstract("fell by 3"),
                                  article_extra="<ArticleTitle>Pain</ArticleTitle>")),
    ("AbstractText in AbstractText", article("33", abstract="<Abstract><AbstractText>a <AbstractText>pain 3"
                                                            "</AbstractText> b</AbstractText></Abstract>")),
    ("Abstract before the title", article("34", title="Pain", abstract=None,
                                          journal="")
     .replace("<ArticleTitle>", "<Abstract><AbstractText>fell by 3</AbstractText></Abstract><ArticleTitle>")),
    ("Unicode digits and spaces", article("35", abstract=abstract("pain in \uff13 knees; visual\xa0analogue "
                                                                   "scale; thin\u2009space"))),
    ("dotted capital I", article("36", abstract=abstract("the BP\u0130 fell by 3"))),
    ("Kelvin sign", article("37", abstract=abstract("\u212aetamine 3 mg; SORE\u212a"))),
    ("number words", article("38", abstract=abstract("Migraine days fell by half in twenty patients."))),
    ("whitespace runs", article("39", title="  Knee\t\tpain  ", abstract=abstract("  fell\n\n by  3 \r\n "))),
    ("no Article", '<PubmedArticle><MedlineCitation><PMID Version="1">40</PMID><ArticleTitle>Pain 3'
                   "</ArticleTitle></MedlineCitation></PubmedArticle>\n"),
    ("no MedlineCitation", "<PubmedArticle><PubmedData/></PubmedArticle>\n"),
    ("empty PMID", article("", abstract=abstract("pain 3"))),
    ("self-closing record", "<PubmedArticle/>\n"),
    ("book", '<PubmedBookArticle><BookDocument><PMID Version="1">41</PMID><ArticleTitle>Pain 3</ArticleTitle>'
             "<Abstract><AbstractText>Knee pain in 3.</AbstractText></Abstract></BookDocument>"
             "</PubmedBookArticle>\n"),
    ("deletions", '<DeleteCitation><PMID Version="1">1</PMID><PMID Version="2">42</PMID>'
                  "<PMID> </PMID></DeleteCitation>\n"),
    ("unknown entity", article("43", abstract=abstract("pain &eacute; 3"))),
    ("pretty-printed", article("44", abstract=abstract("Pain in 3 knees."))
     .replace("><", ">\n    <").replace("\n", "\r\n")),
    # '>' needs no escaping in text and attribute values: "/>" there ends no tag
    ("'/>' in text and attribute values", article("45", abstract=abstract("Knee pain a/> 3."),
                                                   journal='<Volume Note="a/>b">and/or/></Volume><Empty/>')),
    ("'/>' in a title", article("46", title="Pain a/>b 3", abstract=abstract("LDL fell by 3."))),
    # what could hide a term from the record screen (see extractor.batch.prefilter.record_screen)
    ("a space written as a reference", article("47", abstract=abstract("&#32;"))),
    ("markup glued inside a word, start tag", article("48", abstract=abstract("pa<i>in</i> 3"))),
    ("markup glued inside a word, end tag", article("53", abstract=abstract("Knee <i>pa</i>in 3"))),
    ("markup glued inside a word, empty tag", article("54", abstract=abstract("so<br/>re 3"))),
    ("escaped named entity", article("49", abstract=abstract("&amp;eacute; pain 3"))),
    ("term at the very start of the text", article("50", title="", abstract=abstract("pain 3"))),
    ("term in a label", article("51", abstract='<Abstract><AbstractText Label="PAIN">LDL 3</AbstractText>'
                                               "</Abstract>")),
    ("no abstract, neutral title", article("52", title="Statins in 3 towns")),
    ("vernacular title first", article("55", title="", abstract=abstract("It fell by 3."))
     .replace("<ArticleTitle></ArticleTitle>", "<VernacularTitle>Knee pain</VernacularTitle><ArticleTitle/>")
     ),
    ("no title element", article("56", abstract=abstract("Knee pain fell by 3."))
     .replace("<ArticleTitle>A trial</ArticleTitle>", "")),
]


def write(tmp: Path, name: str, body: str, *, head: str = HEAD, tail: str = TAIL, gz: bool = False) -> Path:
    path = tmp / (name + (".xml.gz" if gz else ".xml"))
    data = (head + body + tail).encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def recording_hook(inner: Hook | None = None) -> tuple[Hook, list[tuple[str, bool]]]:
    calls: list[tuple[str, bool]] = []

    def hook(text: str, has_abstract: bool) -> str | None:
        calls.append((text, has_abstract))
        return "rejected" if inner is None else inner(text, has_abstract)

    return hook, calls


def check_same(path: Path, hooks: list[Hook] | None = None) -> list[object]:
    """Fast and full readers agree for several hooks; the hook always sees the parsed text."""
    plain = list(iter_source(path))
    for hook in hooks or [pain_hook(), lambda t, h: None, lambda t, h: "no",
                          lambda t, h: None if "pain" in t.lower() else "no pain"]:
        fast = list(iter_source(path, prefilter=hook))
        full = list(iter_source(path, prefilter=hook, parse_all=True))
        assert fast == full
        assert full == list(apply_prefilter(plain, hook))
    # The hook is asked with exactly each Abstract's text and has_abstract, in order.
    hook, calls = recording_hook()
    items = list(iter_source(path, prefilter=hook))
    assert calls == [(a.text, a.has_abstract) for a in plain if isinstance(a, Abstract)]
    assert all(not isinstance(i, Abstract) for i in items)
    return plain


# Legal, but never in NLM's files: these send the whole file to the full reader.
HANDED_OVER = {"CDATA", "CDATA hiding an end tag", "comment inside a term", "processing instruction"}


class Counted:
    """Counts, while installed, raw views decoded and hand-overs to the full reader."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.views = self.hand_overs = 0
        view, full = pubmed_fast._compose, pubmed_fast.iter_pubmed_xml

        def counted_view(located: pubmed_fast._Located) -> object:
            found = view(located)
            self.views += found is not None
            return found

        def counted_full(*args: object, **kwargs: object) -> object:
            self.hand_overs += 1
            return full(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(pubmed_fast, "_compose", counted_view)
        monkeypatch.setattr(pubmed_fast, "iter_pubmed_xml", counted_full)


@pytest.mark.parametrize(("name", "record"), ODD_RECORDS, ids=[n for n, _ in ODD_RECORDS])
def test_each_odd_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, record: str) -> None:
    path = write(tmp_path, "one", article("100", abstract=abstract("pain 3")) + record
                 + article("101", abstract=abstract("LDL 3")))
    plain = check_same(path)
    assert len(plain) >= 3
    counted = Counted(monkeypatch)
    list(iter_source(path, prefilter=text_only_hook()))  # (with the screen, "LDL 3" is not decoded)
    assert counted.hand_overs == (name in HANDED_OVER)
    assert counted.views >= (0 if name in HANDED_OVER else 2)  # the two plain neighbours at least


@pytest.mark.parametrize(("name", "record"), ODD_RECORDS, ids=[n for n, _ in ODD_RECORDS])
def test_each_odd_record_the_screen_can_decide_on(tmp_path: Path, name: str, record: str) -> None:
    # no pain word outside the title and abstract: the record screen answers where it can
    path = write(tmp_path, "one", neutral(article("100", abstract=abstract("pain 3")) + record
                                          + article("101", abstract=abstract("LDL 3"))))
    plain = check_same(path, [pain_hook(), text_only_hook()])
    screened = list(iter_source(path, prefilter=pain_hook()))
    assert screened == list(iter_source(path, prefilter=text_only_hook()))
    assert len(plain) >= 3


def test_the_screen_spares_rebuilding_the_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.batch.prefilter import HAVE_HYPERSCAN

    body = neutral(article("1", abstract=abstract("LDL fell by 30% in 400 adults.")) + article("2", title="x")
                   + article("3", abstract=abstract("Knee pain fell by 3.")))
    path = write(tmp_path, "neutral", body)
    counted = Counted(monkeypatch)
    items = list(iter_source(path, prefilter=pain_hook()))
    assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == \
        [("Skipped", "no pain terms"), ("Skipped", "no pain terms"), ("Abstract", None)]
    # records 1 and 2 decided on their bytes (where Hyperscan is installed); record 3 decoded
    assert counted.views == (1 if HAVE_HYPERSCAN else 3)
    counted = Counted(monkeypatch)
    assert list(iter_source(path, prefilter=text_only_hook())) == items
    assert counted.views == 3


def test_all_odd_records_in_one_file_across_block_boundaries(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(r for n, r in ODD_RECORDS if n not in HANDED_OVER) * 3
    path = write(tmp_path, "odd", body, gz=True)
    reference = check_same(path)
    for size in (7, 64, 1000, 4096):  # records and tags cut by the ends of blocks
        monkeypatch.setattr(pubmed_fast, "BLOCK_SIZE", size)
        counted = Counted(monkeypatch)
        assert list(iter_source(path, prefilter=text_only_hook())) == \
            list(apply_prefilter(reference, pain_hook()))
        assert counted.hand_overs == 0 and counted.views > 80
        assert list(iter_source(path, prefilter=pain_hook())) == list(apply_prefilter(reference, pain_hook()))


def test_skipped_records_keep_id_version_and_line(tmp_path: Path) -> None:
    body = article("7", version='"3"', abstract=abstract("LDL fell by 3.")).replace("><", ">\n<")
    path = write(tmp_path, "lines", "\n\n" + body)
    (skipped,) = list(iter_source(path, prefilter=pain_hook()))
    (parsed,) = list(iter_source(path))
    assert isinstance(skipped, Skipped) and isinstance(parsed, Abstract)
    assert skipped == Skipped(id="7", reason="no pain terms", source="pubmed-dump",
                              metadata={"version": 3, "file": str(path), "line": parsed.metadata["line"]})
    assert parsed.metadata["line"] == 6


def test_raw_view_is_the_parsed_text(tmp_path: Path) -> None:
    import re

    path = write(tmp_path, "odd", "".join(r for _, r in ODD_RECORDS))
    parsed = {a.id: a for a in iter_source(path) if isinstance(a, Abstract)}
    seen = 0
    for m in re.finditer(rb"<PubmedArticle>.*?</PubmedArticle>", path.read_bytes(), re.S):
        view = raw_view(m.group(0))
        if view is not None:
            a = parsed[view.pmid]
            assert (view.text, view.has_abstract) == (a.text, a.has_abstract)
            assert view.version == a.metadata["version"]
            seen += 1
    assert seen >= 25  # most odd records are still read from bytes


DAMAGED: list[tuple[str, str, str]] = [
    # (name, head, body + tail)
    ("garbage after the set", HEAD, article("1", abstract=abstract("LDL 3")) + TAIL + "<x/>"),
    ("comment between records", HEAD, article("1", abstract=abstract("LDL 3")) + "<!-- c -->"
     + article("2", abstract=abstract("pain 3")) + TAIL),
    ("text between records", HEAD, article("1", abstract=abstract("LDL 3")) + "stray"
     + article("2", abstract=abstract("pain 3")) + TAIL),
    ("other element between records", HEAD, article("1", abstract=abstract("LDL 3")) + "<Other/>"
     + article("2", abstract=abstract("pain 3")) + TAIL),
    ("malformed skipped record", HEAD, article("1", abstract=abstract("LDL 3"))
     + article("2", abstract=abstract("LDL <i>3")) + article("3", abstract=abstract("pain 3")) + TAIL),
    ("no end of set", HEAD, article("1", abstract=abstract("LDL 3")) + article("2", abstract=abstract("L"))),
    ("E-utilities error", '<?xml version="1.0"?>\n', "<eFetchResult><ERROR>bad</ERROR></eFetchResult>"),
    ("empty", "", ""),
    ("internal DTD subset", '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY pn "pain">]>\n'
     "<PubmedArticleSet>", article("1", abstract=abstract("&pn; 3")) + TAIL),
    ("Latin-1", '<?xml version="1.0" encoding="ISO-8859-1"?>\n<PubmedArticleSet>',
     article("1", abstract=abstract("pain 3 \u00e9")) + TAIL),
    ("namespace", '<?xml version="1.0"?>\n<PubmedArticleSet xmlns="urn:x">',
     article("1", abstract=abstract("pain 3")) + TAIL),
    ("old MedlineCitationSet", '<?xml version="1.0"?>\n<MedlineCitationSet>',
     '<MedlineCitation><PMID>5</PMID><Article><ArticleTitle>Pain 3</ArticleTitle></Article></MedlineCitation>'
     "</MedlineCitationSet>"),
    ("nested record", HEAD, article("1", abstract=abstract("LDL 3"),
                                    journal=article("2", abstract=abstract("pain 3"))) + TAIL),
    ("deletion inside a record", HEAD, article("1", abstract=abstract("LDL 3"), journal="<DeleteCitation>"
                                               "<PMID>9</PMID></DeleteCitation>") + TAIL),
    ("BOM and no declaration", "\ufeff<PubmedArticleSet>", article("1", abstract=abstract("pain 3")) + TAIL),
]


@pytest.mark.parametrize(("name", "head", "body"), DAMAGED, ids=[d[0] for d in DAMAGED])
def test_damaged_and_unusual_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, head: str,
                                   body: str) -> None:
    """Each file as it is, and after 40 plain records (read on the fast path, in small blocks) so
    that the full reader takes over in the middle and must pass over what was yielded."""
    lead = "".join(article(str(1000 + i), abstract=abstract("pain 3" if i % 4 else "LDL 3"))
                   for i in range(40))
    for i, text in enumerate((head + body, head + lead + body if "<PubmedArticleSet" in head else None)):
        if text is None:
            continue
        path = tmp_path / f"f{i}.xml"
        path.write_bytes(text.encode("latin-1" if "Latin-1" in name else "utf-8"))
        check_same(path)
        monkeypatch.setattr(pubmed_fast, "BLOCK_SIZE", 512)
        check_same(path, [pain_hook()])
        monkeypatch.undo()


def test_cut_anywhere_and_truncated_gzip(tmp_path: Path) -> None:
    body = "".join(article(str(i), abstract=abstract("pain 3" if i % 3 == 0 else "LDL 3")) for i in range(12))
    data = (HEAD + body + TAIL).encode()
    for cut in range(0, len(data), 211):
        path = tmp_path / f"cut{cut}.xml"
        path.write_bytes(data[:cut])
        check_same(path, [pain_hook()])
    packed = gzip.compress(data)
    for cut in (len(packed) // 3, len(packed) - 20):
        path = tmp_path / f"trunc{cut}.xml.gz"
        path.write_bytes(packed[:cut])
        check_same(path, [pain_hook()])


def test_stream_that_cannot_seek_uses_the_full_reader() -> None:
    data = (HEAD + article("1", abstract=abstract("pain 3")) + article("2", abstract=abstract("LDL 3"))
            + TAIL).encode()

    class OneWay(io.BytesIO):
        def seekable(self) -> bool:
            return False

    hook = pain_hook()
    fast = list(iter_pubmed_fast(OneWay(data), "x", hook))
    assert fast == list(apply_prefilter(iter_pubmed_xml(io.BytesIO(data), "x"), hook))
    assert [type(i) for i in fast] == [Abstract, Skipped]


_FRAGMENTS = ["pain", "Pain", "ache", "VAS", "vascular", "sore", "soreness", "visual", "analog", "3", "two",
              "one", "LDL", "&#177;", "&#x70;", "&lt;", "&amp;", "&amp;lt;", "<i>", "</i>", "<sup>2</sup>",
              "<b>P</b>ain", " ", "  ", "\n", "\xa0", "-", "/", "(", ")", "\u2009", "\u212a", "\u0130", "é",
              "\uff13", "numeric rating scale", "<br/>"]


@st.composite
def _records(draw: st.DrawFn) -> str:
    out = []
    for i in range(draw(st.integers(1, 6))):
        def text() -> str:
            chosen = draw(st.lists(st.sampled_from(_FRAGMENTS), max_size=8))
            s = "".join(chosen)
            # keep inline markup balanced: drop unmatched <i>/</i>
            return s if s.count("<i>") == s.count("</i>") and s.find("</i>") >= s.find("<i>") else s.replace(
                "<i>", "").replace("</i>", "")
        labels = st.sampled_from([None, "RESULTS", "UNLABELLED", ""])
        parts = draw(st.lists(st.tuples(labels, st.builds(text)), max_size=3))
        abstract_xml = None if draw(st.booleans()) and not parts else "<Abstract>" + "".join(
            f"<AbstractText{'' if label is None else f' Label={chr(34)}{label}{chr(34)}'}>{t}</AbstractText>"
            for label, t in parts) + "</Abstract>"
        kind = draw(st.sampled_from(["article", "article", "article", "book", "delete"]))
        if kind == "book":
            out.append(f'<PubmedBookArticle><BookDocument><PMID Version="1">{i}</PMID>'
                       f"<ArticleTitle>{text()}</ArticleTitle></BookDocument></PubmedBookArticle>")
        elif kind == "delete":
            out.append(f'<DeleteCitation><PMID Version="1">{i}</PMID></DeleteCitation>')
        else:
            out.append(article(str(i), title=text(), abstract=abstract_xml,
                               version=draw(st.sampled_from(['"1"', '"2"', ""]))))
    return "".join(out)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_records())
def test_generated_files(tmp_path: Path, body: str) -> None:
    path = tmp_path / "gen.xml"
    path.write_bytes((HEAD + body + TAIL).encode())
    check_same(path, [pain_hook(), lambda t, h: None if "pain" in t.lower() else "no"])
    neutral_path = tmp_path / "gen-neutral.xml"
    neutral_path.write_bytes(neutral(HEAD + body + TAIL).encode())
    check_same(neutral_path, [pain_hook(), text_only_hook()])


def _real_xml_files(root: Path) -> list[Path]:
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and (p.name.endswith(".xml") or p.name.endswith(".xml.gz")):
            try:
                if detect_format(p) == "pubmed-xml":
                    files.append(p)
            except Exception:  # noqa: BLE001  (undetectable files are not PubMed XML)
                continue
    return files


@pytest.mark.shared
def test_every_real_pubmed_file(shared: Path) -> None:
    """Every PubMed XML file under ../shared/data/fetch: same items, and the raw view of every
    plain record is its parsed text."""
    import re

    files = _real_xml_files(shared / "data" / "fetch")
    assert len(files) > 150
    views = 0
    for path in files:
        plain = check_same(path, [pain_hook(), lambda t, h: "no"])
        parsed = {a.id: a for a in plain if isinstance(a, Abstract)}
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        for m in re.finditer(rb"<PubmedArticle>.*?</PubmedArticle>", data, re.S):
            view = raw_view(m.group(0))
            if view is not None and view.pmid in parsed:
                a = parsed[view.pmid]
                assert (view.text, view.has_abstract) == (a.text, a.has_abstract), path
                views += 1
    assert views > 250


def test_corrupt_gzip_stream_ends_the_file_with_a_problem(tmp_path: Path) -> None:
    """A damaged deflate stream (not only a cut one) is a fatal Problem, fast path or not."""
    from extractor.records import Problem

    body = "".join(article(str(i), abstract=abstract("pain 3" if i % 3 else "LDL 3")) for i in range(400))
    path = tmp_path / "corrupt.xml.gz"
    path.write_bytes(corrupt_deflate(gzip.compress((HEAD + body + TAIL).encode(), 6)))
    for hook in (None, pain_hook()):
        for parse_all in (False, True):
            items = list(iter_source(path, prefilter=hook, parse_all=parse_all))
            assert isinstance(items[-1], Problem) and items[-1].fatal_for_file, (hook, parse_all)
    check_same(path, [pain_hook()])
