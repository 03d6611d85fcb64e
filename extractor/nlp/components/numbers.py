"""``extractor_numbers``: find and normalise every number (see :mod:`extractor.nlp.numbers`).

Writes ``doc._.numbers`` (``[[start, end, value, flags], ...]``, JSON-safe). Numbers are not
values of their own, so by default they get no span group (a span per number costs as much as
the rest of this component); set ``span_key = "extractor.numbers"`` in the config to have one
(label ``NUMBER`` or ``WORD_NUMBER``; ``span.id_`` is the rule id).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.context import doc_lower, doc_text, shared
from extractor.nlp.numbers import Number, find_numbers

RULE_DIGITS = "numbers.digits.v1"
RULE_WORDS = "numbers.words.v1"


def _flags(is_int: bool, words: bool, signed: bool, percent: bool, sci: bool) -> str:
    return ("i" if is_int else "") + ("w" if words else "") + ("s" if signed else "") + \
        ("p" if percent else "") + ("e" if sci else "")


# every combination of the five flags, looked up instead of built per number
_FLAGS = {(a, b, c, d, e): _flags(a, b, c, d, e)
          for a in (False, True) for b in (False, True) for c in (False, True)
          for d in (False, True) for e in (False, True)}


def number_flags(n: Number) -> str:
    key = (n.is_int, n.words, n.signed, n.percent, n.sci)
    flags = _FLAGS.get(key)
    return flags if flags is not None else _flags(*key)


def numbers_from_doc(doc: Doc) -> list[Number]:
    """Rebuild the :class:`Number` list stored by ``extractor_numbers`` (or find them now)."""
    data = shared(doc)
    cached = data.get("numbers")
    if cached is not None:
        return list(cached)
    text = data["text"]
    stored = doc._.numbers
    if stored is None:
        return find_numbers(text)
    numbers = [Number(s, e, float(v), text[s:e], "i" in f, "w" in f, "s" in f, "p" in f, "e" in f)
               for s, e, v, f in stored]
    data["numbers"] = tuple(numbers)
    return numbers


class NumberNormalizer(RuleComponent):
    def __init__(self, nlp: Language, name: str, *, span_key: str, word_numbers: bool,
                 scorer: Scorer | None) -> None:
        super().__init__(nlp, name, span_key=span_key, scorer=scorer, word_numbers=word_numbers)

    def match(self, doc: Doc) -> list[Number]:
        found = find_numbers(doc_text(doc), doc_lower(doc))
        if not self.cfg.get("word_numbers", True):
            found = [n for n in found if not n.words]
        return found

    def set_annotations(self, doc: Doc, matches: list[Number]) -> None:
        doc._.numbers = [[n.start, n.end, n.value, number_flags(n)] for n in matches]
        shared(doc)["numbers"] = tuple(matches)
        if self.span_key:
            set_span_group(doc, self.span_key, (
                (n.start, n.end, "WORD_NUMBER" if n.words else "NUMBER",
                 RULE_WORDS if n.words else RULE_DIGITS) for n in matches))


@Language.factory(
    "extractor_numbers",
    assigns=["doc._.numbers", "doc.spans"],
    default_config={
        "span_key": "",
        "word_numbers": True,
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.numbers"},
    },
    default_score_weights={"spans_extractor.numbers_f": 0.0},
)
def make_numbers(nlp: Language, name: str, span_key: str, word_numbers: bool,
                 scorer: Scorer | None) -> NumberNormalizer:
    """Numbers with their values: digits, decimal commas, signs, number words."""
    component = NumberNormalizer(nlp, name, span_key=span_key, word_numbers=word_numbers,
                                 scorer=scorer)
    component.set_rules([])
    return component
