"""lex_attrs: the faster lexical attribute getters give exactly what spaCy's give."""

from __future__ import annotations

import pickle
import unicodedata
from typing import Any

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.lang import lex_attrs as base
from spacy.lexeme import Lexeme

from extractor.nlp import lex_attrs
from extractor.nlp.fastre import all_characters
from extractor.nlp.lex_attrs import faster_lex_attr_getters
from extractor.nlp.tokenizer import blank_clinical

STOCK = spacy.blank("en").vocab.lex_attr_getters
FAST = faster_lex_attr_getters(STOCK)

# strings around what the getters look for: numbers, number words, URLs, e-mails, quotes, shapes
WORDS = ["1", "1,000", "1.5", "+3", "-2", "±1", "~4", "3/4", "1/2/3", "a/b", "twenty", "Twenty", "first",
         "21st", "2nd", "3rd", "11th", "th", "st", "xth", "http://", "https://x", "www.", "www.a", "a.com",
         "x.org/", "a.b", "a.", ".a", "a@b.c", "@", "x@y", "'s", "''", "``", "'", '"', "«", "»", "(", ")",
         "[", "<", "$", "€", "£", "US$", "—", "–", "--", "...", "…", "Ǆ", "ǅ", "ß", "İ", "ſ", "K", "²",
         "٣", "Ⅻ", "½", "中", "𝟘", " ", "\t", "\n", "\u00a0", "Aaaaaa", "ABCDEF", "aaaaaaaaaa", "mg/kg",
         "NRS-11", "p<0.05", "n=41", "VAS", "dOG", "Title", "co-op", ".", ",", "-", "%", "°C", "x" * 120]


def _same(text: str) -> None:
    for attr, getter in STOCK.items():
        want, got = getter(text), FAST[attr](text)
        assert got == want and type(got) is type(want), (attr, text)


def test_the_stock_functions_are_replaced() -> None:
    replaced = {attr for attr in STOCK if FAST[attr] is not STOCK[attr]}
    assert len(replaced) >= 19
    assert list(FAST) == list(STOCK)  # same attributes, same order
    assert blank_clinical().vocab.lex_attr_getters[spacy.attrs.LIKE_NUM] is lex_attrs.like_num_en


@pytest.mark.parametrize("text", WORDS)
def test_the_getters_agree_on_tricky_strings(text: str) -> None:
    _same(text)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(min_size=1, max_size=12),
                 st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map("".join),
                 st.text("0123456789.,/+-±~stndrh@:wabcXY'`\"()", min_size=1, max_size=10)))
def test_the_getters_agree(text: str) -> None:
    _same(text)


def test_letters_and_digits_are_neither_punctuation_nor_currency() -> None:
    """What the quick answer of ``is_punct`` and ``is_currency`` rests on, for every code point."""
    for char in all_characters():
        if char.isalnum():
            category = unicodedata.category(char)
            assert not category.startswith("P") and category != "Sc", hex(ord(char))


def _tuple_constant(function: Any) -> frozenset[str]:
    (found,) = [c for c in function.__code__.co_consts if isinstance(c, tuple) and len(c) > 4]
    return frozenset(found)


def test_the_sets_are_the_tuples_spacy_searches() -> None:
    assert _tuple_constant(base.is_bracket) == lex_attrs.BRACKETS
    assert _tuple_constant(base.is_quote) == lex_attrs.QUOTES
    assert _tuple_constant(base.is_left_punct) == lex_attrs.LEFT_PUNCT
    assert _tuple_constant(base.is_right_punct) == lex_attrs.RIGHT_PUNCT


def _lexeme(lex: Lexeme) -> tuple[Any, ...]:
    return (lex.flags, lex.lang_, lex.rank, lex.orth_, lex.lower_, lex.norm_, lex.shape_, lex.prefix_,
            lex.suffix_)


def test_lexemes_are_the_same() -> None:
    fast_vocab = blank_clinical().vocab
    stock_vocab = spacy.blank("en").vocab
    for text in [*WORDS, "Pain", "patients", "PAIN", "It's", "e.g.", "0·5"]:
        assert _lexeme(fast_vocab[text]) == _lexeme(stock_vocab[text]), text


def test_the_getters_pickle() -> None:
    """``nlp.pipe(n_process=2)`` sends the vocabulary, getters included, to its workers."""
    copied = pickle.loads(pickle.dumps(FAST))
    for text in WORDS:
        assert [g(text) for g in copied.values()] == [g(text) for g in FAST.values()]
