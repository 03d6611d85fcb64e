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


def test_plain_whitespace_exceptions_are_left_out() -> None:
    from spacy.lang.en import English

    from extractor.nlp.tokenizer import clinical_exceptions

    english = English.Defaults.tokenizer_exceptions
    kept = clinical_exceptions(English())
    assert sorted(set(english) - set(kept)) == ["\t", "\n", " "]
    assert "\u00a0" in kept  # it carries a NORM: the ordinary path would not give the same token


@pytest.mark.parametrize("text", [
    "Pain after surgery\nVAS fell from 6.8 ± 2.2 to 4.1 (n=41).",
    "Title\tand tab\n\nbody \n text\u00a0with nbsp,  two spaces and \u2009thin ones.\n",
    "\n", " \n ", "a\tb", "(e.g.\nvs. 3)",
])
def test_leaving_out_the_whitespace_exceptions_changes_no_token(blank: Language, text: str) -> None:
    from spacy.lang.en import English

    from extractor.nlp.tokenizer import make_clinical_tokenizer

    with_all = make_clinical_tokenizer(English())
    with_all.rules = dict(English.Defaults.tokenizer_exceptions)
    assert blank.tokenizer(text).to_bytes() == with_all(text).to_bytes()


def test_chunks_after_the_title_line_are_cached(blank: Language, monkeypatch: pytest.MonkeyPatch) -> None:
    # a special case stops spaCy caching the rest of the text: the "\n" after every title did
    tok = blank.tokenizer
    text = "Effect of cryoablation\nNRS fell (6.8±2.2 vs 4.1±2.4; p<0.0001) in 41 patients."
    tok(text)
    calls: list[str] = []
    original = type(tok).find_prefix

    def counting(self: object, string: str) -> int:
        calls.append(string)
        return original(tok, string)

    monkeypatch.setattr(type(tok), "find_prefix", counting)
    tok(text)
    assert calls == []
