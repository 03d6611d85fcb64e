"""Faster lexical attribute getters for the vocabulary, each giving what spaCy's own gives.

spaCy computes about twenty attributes (``lower``, ``norm``, ``shape``, ``like_num``, ``is_punct``,
...) the first time it meets a string, by calling one Python function per attribute: about 5 µs of
the 12 µs a new lexeme costs (an abstract not seen before brings about 20). The functions below
give the same values for every string, cheaper: the string methods themselves where spaCy's
function only calls one, sets where it searches lists and tuples, and a quick answer for the
common case before falling back to spaCy's function (``like_url`` of a string without a dot,
``is_punct`` of a string that starts with a letter or digit). ``shape``, ``is_stop`` and ``lang``
keep spaCy's functions (a translation table and a regular expression for ``shape`` were slower).

:func:`faster_lex_attr_getters` replaces only the functions it knows (compared by identity), so
a language or pipeline with getters of its own keeps them.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from spacy import util as spacy_util
from spacy.lang import lex_attrs as base
from spacy.lang.en import lex_attrs as en

Getter = Callable[[str], Any]

_SIGNS = ("+", "-", "±", "~")
_NUMBER_WORDS = frozenset(en._num_words) | frozenset(en._ordinal_words)
_ORDINAL_ENDS = ("st", "nd", "rd", "th")


def like_num_en(text: str) -> bool:
    """``spacy.lang.en.lex_attrs.like_num``, with the number words in a set (it searches two
    lists of forty words each, most of the function's cost)."""
    if text.startswith(_SIGNS):
        text = text[1:]
    text = text.replace(",", "").replace(".", "")
    if text.isdigit():
        return True
    if text.count("/") == 1:
        num, denom = text.split("/")
        if num.isdigit() and denom.isdigit():
            return True
    text_lower = text.lower()
    if text_lower in _NUMBER_WORDS:
        return True
    return text_lower.endswith(_ORDINAL_ENDS) and text_lower[:-2].isdigit()


_URL_STARTS = ("http://", "https://")


def like_url(text: str) -> bool:
    """``spacy.lang.lex_attrs.like_url``: a string without a dot is a URL only when it starts with
    ``http://`` or ``https://`` (every later test needs a dot, ``www.`` included)."""
    if text and "." not in text:
        return text.startswith(_URL_STARTS)
    return base.like_url(text)


def like_email(text: str) -> bool:
    """``spacy.lang.lex_attrs.like_email``: its pattern needs an ``@``."""
    return "@" in text and base.like_email(text)


def is_punct(text: str) -> bool:
    """``spacy.lang.lex_attrs.is_punct``: a letter or a digit is not punctuation (no character
    for which ``isalnum`` holds is in a ``P*`` category; tested on every code point)."""
    return not text[:1].isalnum() and base.is_punct(text)


def is_currency(text: str) -> bool:
    """``spacy.lang.lex_attrs.is_currency``: a letter or a digit is not a currency symbol (no
    character for which ``isalnum`` holds is in category ``Sc``; tested on every code point)."""
    return not text[:1].isalnum() and base.is_currency(text)


# the strings spaCy's functions look for in tuples (the tests check these against them)
BRACKETS = frozenset(("(", ")", "[", "]", "{", "}", "<", ">"))
QUOTES = frozenset(('"', "'", "`", "«", "»", "‘", "’", "‚", "‛", "“", "”", "„", "‟", "‹", "›", "❮", "❯",
                    "''", "``"))
LEFT_PUNCT = frozenset(("(", "[", "{", "<", '"', "'", "«", "‘", "‚", "‛", "“", "„", "‟", "‹", "❮", "``"))
RIGHT_PUNCT = frozenset((")", "]", "}", ">", '"', "'", "»", "’", "”", "›", "❯", "''"))


class _NormTable(dict[str, Any]):
    """The NORM exceptions, giving a string not in them lower-cased: its ``__getitem__`` is the
    ``norm`` getter, a dictionary look-up at C speed for the common case."""

    def __missing__(self, key: str) -> str:
        return key.lower()


# spaCy's function -> the same function, faster
_SAME: dict[Getter, Getter] = {
    base.lower: str.lower,
    base.prefix: operator.itemgetter(0),
    base.suffix: operator.itemgetter(slice(-3, None)),
    base.is_alpha: str.isalpha,
    base.is_digit: str.isdigit,
    base.is_lower: str.islower,
    base.is_space: str.isspace,
    base.is_title: str.istitle,
    base.is_upper: str.isupper,
    base.is_ascii: str.isascii,
    base.like_email: like_email,
    base.like_url: like_url,
    base.is_punct: is_punct,
    base.is_currency: is_currency,
    base.is_bracket: BRACKETS.__contains__,
    base.is_quote: QUOTES.__contains__,
    base.is_left_punct: LEFT_PUNCT.__contains__,
    base.is_right_punct: RIGHT_PUNCT.__contains__,
    en.like_num: like_num_en,
}


def _faster(getter: Getter) -> Getter:
    if getter in _SAME:
        return _SAME[getter]
    # norm: the lookup tables, then lower-casing (made by ``spacy.util.add_lookups``)
    if (isinstance(getter, functools.partial) and getter.func is spacy_util._get_attr_unless_lookup
            and not getter.keywords and len(getter.args) == 2 and getter.args[0] is base.lower
            and all(type(table) is dict for table in getter.args[1])):
        table = _NormTable()
        for lookup in reversed(getter.args[1]):  # the first table holding a string wins
            table.update(lookup)
        return table.__getitem__
    return getter


def faster_lex_attr_getters(getters: dict[int, Getter]) -> dict[int, Getter]:
    """``getters`` (a vocabulary's ``lex_attr_getters``) with spaCy's functions replaced by the
    faster equivalents above; same attributes, in the same order."""
    return {attr: _faster(getter) for attr, getter in getters.items()}
