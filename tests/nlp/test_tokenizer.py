from __future__ import annotations

import pytest
from spacy.language import Language

from extractor.nlp.tokenizer import blank_clinical


@pytest.fixture(scope="module")
def blank() -> Language:
    return blank_clinical()


@pytest.mark.parametrize(("text", "tokens"), [
    ("6.8±2.2", ["6.8", "±", "2.2"]),
    ("6.8 ± 2.2", ["6.8", "±", "2.2"]),
    ("6.8 (2.2)", ["6.8", "(", "2.2", ")"]),
    ("6.8(2.2)", ["6.8", "(", "2.2", ")"]),
    ("4.4+/-1.2", ["4.4", "+/-", "1.2"]),
    ("p<.001", ["p", "<", ".001"]),
    ("P≤0.05", ["P", "≤", "0.05"]),
    ("P = 0,03", ["P", "=", "0,03"]),
    ("n=41", ["n", "=", "41"]),
    ("34/64", ["34", "/", "64"]),
    ("(range, 0-9)", ["(", "range", ",", "0", "-", "9", ")"]),
    ("95% CI: -5.29 to -2.00", ["95", "%", "CI", ":", "-5.29", "to", "-2.00"]),
    ("−3.2 to −1.0", ["−3.2", "to", "−1.0"]),
    ("6·8 ± 2·2", ["6·8", "±", "2·2"]),
    ("1.50–2.04", ["1.50", "–", "2.04"]),
    ("1,600 mg", ["1,600", "mg"]),
    ("24h", ["24", "h"]),
    ("at 1,2,4 hours", ["at", "1", ",", "2", ",", "4", "hours"]),
])
def test_clinical_numerics_split(blank: Language, text: str, tokens: list[str]) -> None:
    assert [t.text for t in blank(text)] == tokens


def test_thin_spaces_are_whitespace_tokens(blank: Language) -> None:
    doc = blank("6.8\u2009±\u20092.2")
    assert [t.text for t in doc if not t.is_space] == ["6.8", "±", "2.2"]
    assert doc.text == "6.8\u2009±\u20092.2"


def test_tokenizer_is_registered_and_used_by_the_pipeline(nlp: Language) -> None:
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == "extractor.clinical_tokenizer.v1"
    assert [t.text for t in nlp.make_doc("p<.001")] == ["p", "<", ".001"]
