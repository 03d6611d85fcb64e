"""Never crash, and every offset slices to its evidence — on random, adversarial and real text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.language import Language

from extractor.nlp import doc_to_record, extract
from extractor.records import Abstract

# pieces that stress the number, p-value and statistic rules
FRAGMENTS = [
    "p<.001", "P = 0,03", "6.8±2.2", "6.8 (2.2)", "34/64 (53.1%)", "(range, 0-9)", "95% CI: -5.29 to -2.00",
    "−3.2", "6·8", "\u2009", "Twenty-one", " patients ", " were randomized ", "VAS", " pain ", " (n = 40)",
    "±", "(", ")", "[", "]", "%", "respectively", " at 24 h", " vs ", ",", ";", ".", "\n", "e-5", "10(-4)",
    "groups of 30 each", "median (IQR)", " 0 ", "1e308", "9" * 40, "-", "+/-", "?", "P", "n=",
]
text_strategy = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join),
    st.text(alphabet="0123456789.,-+±%()/ ", max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=100),
)


def check(nlp: Language, text: str) -> None:
    doc = nlp(text)
    record = doc_to_record(doc, "x")
    record.check_offsets(text)
    for value in record.values():
        p = value.prov
        assert text[p.start:p.end] == p.evidence
        if p.sent_start is not None and p.sent_end is not None:
            assert text[p.sent_start:p.sent_end] == p.sentence
    for c in doc._.candidates or []:
        assert text[c["start"]:c["end"]] == c["evidence"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_random_text_never_crashes(nlp: Language, text: str) -> None:
    check(nlp, text)


@pytest.mark.parametrize("text", [
    "",
    " ",
    "\n\n\n",
    "9" * 20000,
    "1" * 10000 + " patients were randomized",
    "a" * 10000,
    "p" * 10000,
    "(" * 5000 + ")" * 5000,
    "P < 0." + "0" * 5000 + "1",
    "\x00\x01\x02 pain 3.4 ± 1.2 \x7f\x1b[31m",
    "1 " * 3000,
    "±" * 3000 + "3",
    "Pain " + "6.8 ± 2.2, " * 500 + "respectively.",
    "Twenty " * 2000,
    "\ud7ff\ue000\uffff pain score 3",
])
def test_adversarial_text(nlp: Language, text: str) -> None:
    check(nlp, text)


@pytest.mark.shared
def test_every_abstract_of_the_pool(nlp: Language, shared: Path) -> None:
    """No exception on any of the ~5,100 abstracts of ../shared/data/abstracts_pool.jsonl."""
    path = shared / "data" / "abstracts_pool.jsonl"
    abstracts = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            abstracts.append(Abstract.from_dict({"id": str(obj["id"]), "text": obj.get("text") or ""}))
    texts = {a.id: a.text for a in abstracts}
    n = 0
    for record in extract(nlp, abstracts, batch_size=256):
        record.check_offsets(texts[record.id])
        n += 1
    assert n == len(abstracts) > 5000
