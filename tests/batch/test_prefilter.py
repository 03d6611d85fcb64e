"""The pre-filter: its rules, its term syntax, and that it loses no annotated pain value."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.batch.prefilter import (
    HAVE_HYPERSCAN,
    REASON_NO_ABSTRACT,
    REASON_NO_NUMBERS,
    REASON_NO_PAIN,
    Prefilter,
    anchor_words,
    make_config,
    read_terms,
    term_pattern,
)
from extractor.errors import InputError
from extractor.records import Abstract


def ab(text: str, *, has_abstract: bool = True) -> Abstract:
    return Abstract(id="x", text=text, has_abstract=has_abstract)


@pytest.mark.parametrize(("text", "reason"), [
    ("Knee pain fell from 7.1 to 3.2 on the NRS.", None),
    ("Postoperative analgesia in 40 children.", None),
    ("Migraine days fell by half in twenty patients.", None),        # number as a word
    ("Headache frequency: 4 vs 9 days.", None),
    ("VAS 6.2 ± 1.1 at baseline.", None),                            # a scale alone is enough
    ("The visual analogue scale fell by 3 points.", None),
    ("The visual-analog scale fell by 3 points.", None),            # hyphen counts as a space
    ("Statins lowered LDL by 30% in 400 adults (p = 0.01).", REASON_NO_PAIN),
    ("Spain and Bahrain: 12 towns.", REASON_NO_PAIN),               # terms only at word starts
    ("Chronic pain is undertreated; we discuss why.", REASON_NO_NUMBERS),
    ("One patient reported pain.", REASON_NO_NUMBERS),              # 'one' is not counted
    ("Pain trial with 3 arms.", None),
    ("Statins are widely used; we discuss why.", REASON_NO_PAIN),   # no pain term is the reason first
])
def test_rules(text: str, reason: str | None) -> None:
    assert Prefilter().reason(ab(text)) == reason


def test_title_only_record_is_skipped_as_no_abstract() -> None:
    assert Prefilter().reason(ab("Pain in 30 patients\n", has_abstract=False)) == REASON_NO_ABSTRACT
    # the pain rule comes first: "no abstract" counts the records about pain without one
    assert Prefilter().reason(ab("Statins in 30 towns\n", has_abstract=False)) == REASON_NO_PAIN


def test_each_rule_can_be_switched_off() -> None:
    assert Prefilter(make_config(enabled=False)).reason(ab("nothing here")) is None
    assert Prefilter(make_config(require_number=False)).reason(ab("Pain is common.")) is None
    assert Prefilter(make_config(require_pain_term=False)).reason(ab("LDL fell by 30%.")) is None
    title_only = ab("Pain in 3\n", has_abstract=False)
    assert Prefilter(make_config(require_abstract=False)).reason(title_only) is None


def test_custom_terms_replace_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("# itch study terms\nprurit*\nitch severity score  # a scale\n\n", encoding="utf-8")
    terms = read_terms(path)
    assert terms == ("prurit*", "itch severity score")
    pre = Prefilter(make_config(terms=terms))
    assert pre.reason(ab("Pruritus fell in 40 patients.")) is None
    assert pre.reason(ab("The Itch  Severity\nScore fell by 2.")) is None
    assert pre.reason(ab("Knee pain fell from 7 to 3.")) == REASON_NO_PAIN
    assert pre.pain_terms_in("pruritus and pruritic rash") == ["pruritus", "pruritic"]


def test_term_patterns() -> None:
    import re

    assert re.search(term_pattern("analges*"), "epidural analgesia", re.I)
    assert not re.search(term_pattern("sore"), "soreness", re.I)      # whole word unless '*'
    assert re.search(term_pattern("SF-MPQ"), "the SF MPQ total", re.I)


@pytest.mark.parametrize("bad", ["(pain|ache)", "*pain", "pain?", ""])
def test_bad_terms_are_user_errors(bad: str) -> None:
    with pytest.raises(InputError):
        term_pattern(bad)


def test_empty_terms_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(InputError, match="no pain terms"):
        read_terms(path)
    with pytest.raises(InputError, match="cannot read"):
        read_terms(tmp_path / "missing.txt")


def _annotated(path: Path) -> dict[str, dict[str, int]]:
    out = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out[rec["id"]] = {
                "scale": len(rec.get("scales") or ()), "score": len(rec.get("scores") or ()),
                "proportion": len(rec.get("proportions") or ()),
                "other": int(rec.get("sample_size") is not None) + len(rec.get("arm_sizes") or ())
                + len(rec.get("p_values") or ()),
            }
    return out


@pytest.mark.shared
@pytest.mark.parametrize(("pool", "records"), [("pool.jsonl", "dev.jsonl"),
                                                ("train_pool.jsonl", "train_silver.jsonl")])
def test_no_annotated_painbench_value_is_in_a_skipped_abstract(shared: Path, pool: str, records: str) -> None:
    """painbench's abstracts are all about pain: the default pre-filter must pass every one that
    holds an annotated value (gold in dev.jsonl, silver in train_silver.jsonl)."""
    pre = Prefilter()
    annotated = _annotated(shared / "painbench" / records)
    lost = {}
    with (shared / "painbench" / pool).open(encoding="utf-8") as fh:
        for line in fh:
            a = Abstract.from_dict(json.loads(line))
            if a.id in annotated and pre.reason(a) is not None and any(annotated[a.id].values()):
                lost[a.id] = (pre.reason(a), annotated[a.id])
    assert len(annotated) > 100
    assert lost == {}


def test_characters_whose_lower_case_is_ascii() -> None:
    """The byte-level test relies on this list (str.lower() maps nothing else to ASCII)."""
    import sys

    from extractor.batch.prefilter import LOWER_TO_ASCII

    found = tuple(chr(c) for c in range(128, sys.maxunicode + 1)
                  if any(ord(x) < 128 for x in chr(c).lower()))
    assert found == LOWER_TO_ASCII


def _reference_reason(pre: Prefilter, text: str, has_abstract: bool) -> str | None:
    """The pre-filter's rules written plainly (as before the byte-level test existed)."""
    import re

    cfg = pre.config
    lowered = text.lower()
    pain = re.compile("|".join(term_pattern(t.lower()) for t in cfg.pain_terms))
    if cfg.require_pain_term and pain.search(lowered) is None:
        return REASON_NO_PAIN
    if cfg.require_abstract and not has_abstract:
        return REASON_NO_ABSTRACT
    if cfg.require_number and re.search(r"\d", text) is None and pre._number_word.search(lowered) is None:
        return REASON_NO_NUMBERS
    return None


_PIECES = ["pain", "Pain", "PAIN", "ache", "aches", "headache", "VAS", "vas", "vascular", "NRS", "sore",
           "soreness", "visual", "analog", "analogue", "visual-analog", "visual/analog", " ", "  ", "-", "\n",
           "\xa0", "\u2009", "\u0130", "\u212a", "\u0307", "é", "ß", "_", "1", "\uff13", "two", "one", "(",
           ".", "SF", "MPQ", "sf-mpq", "McGill", "bpi-sf", "BP\u0130", "numeric rating scale", "faces",
           "scale",
           "x", "Schmerz", "douleur", "p.o.", "\u212aetamine", "ketamine", "itch", "Itch  Severity\nScore"]
_TERM_SETS = [None, ("prurit*", "itch severity score", "p.o.", "ketamin*"), ("schmerz*", "douleur", "sore"),
              ("rückenschmerz*", "pain"), ("SF-MPQ", "faces scale*")]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12), st.sampled_from(_TERM_SETS), st.booleans(),
       st.booleans())
def test_fast_rules_equal_the_plain_ones(pieces: list[str], terms: tuple[str, ...] | None,
                                         has_abstract: bool, use_hyperscan: bool) -> None:
    pre = Prefilter(make_config(terms=terms), use_hyperscan=use_hyperscan)
    text = "".join(pieces)
    assert pre.text_reason(text, has_abstract) == _reference_reason(pre, text, has_abstract)


def test_hyperscan_is_used_where_it_has_wheels() -> None:
    """The tests above check the Hyperscan pass only where it is installed (manylinux x86-64)."""
    import platform
    import sys

    if sys.platform == "linux" and platform.machine() == "x86_64":
        assert HAVE_HYPERSCAN
    assert (Prefilter()._anchors is not None) == HAVE_HYPERSCAN
    assert Prefilter(use_hyperscan=False)._anchors is None
    assert Prefilter(make_config(terms=("rückenschmerz*", "pain")))._anchors is None  # not ASCII


def test_anchor_words() -> None:
    assert anchor_words(("pain*", "Painful", "SF-MPQ", "sf", "visual analog*", "ache", "aches")) == \
        (b"ache", b"pain", b"sf", b"visual")
    assert anchor_words(("p.o.", "it's", "5-HT")) == (b"5", b"it", b"p")
    assert anchor_words(("douleur", "rückenschmerz*")) is None


_ANCHOR_PIECES = ["pain", "PaIn", "ache", "ACHE", "sf", "5", "ht", "x", "_", "3", " ", "-", ".", "\n", "é",
                  "\xa0", "\u0130", "\u212a", "\udc80", "Ω", "\x00", "\x7f", "ſ"]


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="hyperscan is not installed")
@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_ANCHOR_PIECES), max_size=10))
def test_anchor_scan_finds_exactly_the_words_at_folded_word_starts(pieces: list[str]) -> None:
    """``found`` must be True exactly when ``b" " + word`` is in the folded text: at the start, after
    any byte that is not an ASCII letter, digit or "_" (non-ASCII characters included), in any case."""
    from extractor.batch.prefilter import _FOLD, anchor_scan

    words = (b"ache", b"pain", b"sf", b"5")
    scan = anchor_scan(words)
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    folded = b" " + data.translate(_FOLD)
    assert scan.found(data) == any(b" " + w in folded for w in words)


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="hyperscan is not installed")
@pytest.mark.parametrize(("text", "found"), [
    ("Pain", True), ("x pain", True), ("x-PAIN", True), ("épain", True), ("3pain", False),
    ("_pain", False), ("xpain", False), ("spain", False), ("pai n", False), ("a\npain", True), ("", False),
])
def test_anchor_scan_word_starts(text: str, found: bool) -> None:
    from extractor.batch.prefilter import anchor_scan

    assert anchor_scan((b"pain",)).found(text.encode("utf-8")) is found


@pytest.mark.shared
def test_fast_rules_equal_the_plain_ones_on_the_pools(shared: Path) -> None:
    pre = Prefilter()
    assert pre._anchors is not None or not HAVE_HYPERSCAN
    n = 0
    for name in ("data/abstracts_pool.jsonl", "painbench/pool.jsonl", "painbench/train_pool.jsonl"):
        with (shared / name).open(encoding="utf-8") as fh:
            for line in fh:
                a = Abstract.from_dict(json.loads(line))
                assert pre.reason(a) == _reference_reason(pre, a.text, a.has_abstract), a.id
                n += 1
    assert n > 5000


def test_threads_share_a_prefilter() -> None:
    """Hyperscan needs a scratch space per thread: a shared pre-filter must still decide alike."""
    import threading

    pre = Prefilter()
    texts = ["Knee pain fell by 3.", "Nothing here but 3 numbers.", "PAIN-free in 2 of 9."] * 3000
    expected = [pre.text_reason(t, True) for t in texts]
    results: dict[int, list[str | None]] = {}

    def decide(k: int) -> None:
        results[k] = [pre.text_reason(t, True) for t in texts]

    threads = [threading.Thread(target=decide, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))


_SCREENED = "<PubmedArticle><Journal>J Clin Res</Journal><AbstractText>{}</AbstractText></PubmedArticle>"


# (terms, abstract text in the XML, whether the text the reader draws from it holds a term)
_MAY_HOLD: list[tuple[tuple[str, ...] | None, str, bool]] = [
    (None, "Knee pain in 3", True),
    (None, "ANALGESIA", True),
    (None, "x-VAS 3", True),                        # a hyphen before the word: a word start
    (None, "caf\u00e9pain", False),                  # a non-ASCII letter before it: the text decides
    (None, "&#x70;ain", True),                      # references may spell letters
    (None, "&#112;ain", True),
    (None, "&#38;#112;ain", True),                  # a reference to "&" starts another one once decoded
    (None, "&amp;#112;ain", True),                  # ... also escaped once more (the reader decodes both)
    (("fjord*",), "&amp;fjlig;ord", True),          # the one named reference that holds letters
    (None, "&eacute; x", False),                    # an entity an external DTD may declare
    (None, "pa<i>in</i>", True),                    # markup glued to words on both sides
    (None, "Knee <i>pa</i>in", True),
    (None, "so<br/>re", True),
    (None, "the BP\u0130 fell", True),              # lower-cased: "bpi" + U+0307
    (("ketamin*",), "\u212aETAMINE 3 mg", True),     # KELVIN SIGN lower-cases to "k"
    (None, "visual&#160;analogue", True),           # between the words of a term: references,
    (None, "Visual <i>analog</i>", True),           # markup,
    (None, "visual&amp;nbsp;analog", True),         # references escaped once more,
    (None, "visual \u00a0- analog", True),           # Unicode spaces and hyphens
    (None, "VAS&lt;3", True),                       # after a term: a reference
    (("patient's pain",), "patient&apos;s pain", True),
]


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="the record screen needs Hyperscan")
@pytest.mark.parametrize(("terms", "body", "holds"), _MAY_HOLD)
def test_record_screen_leaves_to_the_text_what_may_hold_a_term(terms: tuple[str, ...] | None, body: str,
                                                               holds: bool) -> None:
    pre = Prefilter(make_config(terms=terms))
    assert pre.raw_reason(_SCREENED.format(body).encode()) is None


@pytest.mark.parametrize(("terms", "body", "holds"), [c for c in _MAY_HOLD if "&eacute;" not in c[1]])
def test_the_cases_above_as_read(terms: tuple[str, ...] | None, body: str, holds: bool) -> None:
    # what the reader draws from those records (whether it holds a term: the screen must not decide)
    from extractor.fetch.pubmed_xml import iter_pubmed_xml

    xml = ('<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>'
           f"<ArticleTitle>x</ArticleTitle><Abstract><AbstractText>{body}</AbstractText></Abstract>"
           "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
    (abstract,) = iter_pubmed_xml(io.BytesIO(xml.encode()), "x")
    assert isinstance(abstract, Abstract)
    assert Prefilter(make_config(terms=terms)).has_pain_term(abstract.text) == holds, abstract.text


@pytest.mark.skipif(not HAVE_HYPERSCAN, reason="the record screen needs Hyperscan")
@pytest.mark.parametrize("body", ["LDL fell by 30% in 400 adults", "Spain and Bahrain", "painless? no: x-ray",
                                  "&amp; &lt;3 &gt; &quot;x&apos;", "&amp;eacute; &#160;&#x2009;x",
                                  "<i>LDL</i> 3", "Bahrain <br/>"])
def test_record_screen_decides_when_no_term_can_be_there(body: str) -> None:
    record = _SCREENED.format(body).encode()
    pre = Prefilter()
    expected = None if "painless" in body else REASON_NO_PAIN  # "painless" starts with "pain"
    assert pre.raw_reason(record) == expected
    assert Prefilter(make_config(require_pain_term=False)).raw_reason(record) is None
    assert Prefilter(make_config(enabled=False)).raw_reason(record) is None
    assert Prefilter(use_hyperscan=False).raw_reason(record) is None  # the text decides
