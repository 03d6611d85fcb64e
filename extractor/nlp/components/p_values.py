"""``extractor_p_values``: every reported p-value, in any style.

Handles ``P < .001``, ``p=0,03``, ``P≤0.05``, ``p < or = 0.02``, ``P less than 0.01``,
``p-value of 0.04``, ``P(trend) = 0.02``, ``ps ≤ 0.029``, ``p < 1 × 10-5``, Unicode and
no-break spaces, continuation lists (``P≤0.001 and 0.026``; ``P < 0.05 and < 0.01``) and a bare
``(< .001)``. Significance thresholds stated as a method ("P < 0.05 was considered
significant", "significance level of p < 0.05") are not reported p-values and are dropped;
"p = NS" has no number and never matches.

Candidates: ``kind="p_value"`` with ``op`` and ``value``; span group ``extractor.p_values``
(label ``P_VALUE``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extractor.nlp.components.base import RuleComponent, Scorer, set_span_group
from extractor.nlp.context import DocContext, add_candidates, doc_text
from extractor.nlp.fastre import LeadFilter, LiteralFilter, all_characters, char_class, finditer_merged
from extractor.nlp.numbers import find_numbers
from extractor.nlp.rules import Rule

SUBPATTERNS: dict[str, str] = {
    "SP": r"[ \t\u00a0\u2009\u202f\u200a\u2002\u2003\u2005]",
    "OP": (r"(?P<op><\s*or\s*=|>\s*or\s*=|<\s*=|>\s*=|=<|=>|=\s+<|=\s+>|≤|≥|⩽|⩾|≦|≧|<|>|=|"
           r"\?(?=\s*0?[.·]\d)|less\s+than(?:\s+or\s+equal\s+to)?|greater\s+than|lower\s+than|"
           r"smaller\s+than|(?:values?\s+)?(?:of|was|were|is|equal\s+to))"),
    "NUM": (r"(?P<num>10\s?(?:\^|\()\s?[-−–]\s?\d+\)?|10[⁻][⁰¹²³⁴⁵⁶⁷⁸⁹]+"
            r"|(?:\d+(?:[.·,]\d+)?|[.·]\d+)"
            r"(?:\s?[x×]\s?10\s?(?:\^\s?|\(\s?)?[-−–]\s?\d+\)?|\s?[x×]\s?10[⁻][⁰¹²³⁴⁵⁶⁷⁸⁹]+|[eE][-−]\d+)?)"),
    "QUAL": (r"(?:[ \t\u00a0\u2009\u202f]*(?:for|of)[ \t\u00a0\u2009\u202f]+"
             r"(?:linear\s+)?(?:trend|interaction|heterogeneity|difference|non-?inferiority|"
             r"superiority|equivalence)"
             r"|[ \t\u00a0\u2009\u202f]?[(\[_]?(?:trend|interaction|adj|adjusted|het|"
             r"heterogeneity|int|overall|corr|corrected|bonf|FDR)[)\]]?)"),
}
_SUB_RE = re.compile(r"<<([A-Z]+)>>")


def expand(pattern: str) -> str:
    """Replace ``<<NAME>>`` placeholders with the shared sub-patterns."""
    return _SUB_RE.sub(lambda m: SUBPATTERNS[m.group(1)], pattern)


@lru_cache(maxsize=1024)  # (a handful of spellings, each normalised with three regex calls)
def normalise_op(op: str | None) -> str:
    """Map a written operator to one of ``<``, ``<=``, ``=``, ``>``, ``>=``."""
    if not op:
        return "="
    raw = op.lower()
    if re.fullmatch(r"=\s+<", raw):
        return "<"  # "P = <0.01"
    if re.fullmatch(r"=\s+>", raw):
        return ">"
    o = re.sub(r"\s+", "", raw)
    if o in ("<", "lessthan", "lowerthan", "smallerthan"):
        return "<"
    if o in (">", "greaterthan"):
        return ">"
    if o in ("≤", "⩽", "≦", "<or=", "<=", "=<", "lessthanorequalto", "?"):
        return "<="  # "?" is a mis-encoded "≤" in many PubMed records
    if o in ("≥", "⩾", "≧", ">or=", ">=", "=>"):
        return ">="
    return "="


@dataclass(frozen=True, slots=True)
class PMatch:
    start: int
    end: int
    op: str
    value: float
    rule_id: str
    confidence: float


class PValueExtractor(RuleComponent):
    rules_name = "p_values"

    def compile_rules(self, rules: list[Rule]) -> None:
        self._value: list[tuple[str, LeadFilter | CaseSplit, float]] = []
        self._cont: list[tuple[str, re.Pattern[str], float]] = []
        self._after: list[LiteralFilter] = []
        self._before: list[LiteralFilter] = []
        characters = all_characters() if any(r.get("kind") == "value" for r in rules) else ""
        spaces = frozenset(re.findall(SUBPATTERNS["SP"], characters, re.IGNORECASE))
        # necessary conditions of a rule's match, checked before it is scanned (a rule id names
        # one pattern: a changed pattern gets a new id, so a check stays true to its rule)
        self._checks: dict[str, Callable[[str], bool]] = {
            "p_value.bare_parenthesised.v1": partial(_op_after_bracket, spaces=spaces),
        }
        for r in rules:
            kind = r.get("kind")
            rx = re.compile(expand(str(r["pattern"])), re.IGNORECASE)
            conf = float(r.get("confidence", 0.9))
            if kind == "value":
                split = CaseSplit.build(rx, characters)
                self._value.append((r["id"], LeadFilter(rx, characters) if split is None else split, conf))
            elif kind == "continuation":
                self._cont.append((r["id"], rx, conf))
            elif kind == "exclude_after":
                self._after.append(LiteralFilter(rx))
            elif kind == "exclude_before":
                self._before.append(LiteralFilter(rx))
            else:
                raise ValueError(f"{self.name}: rule {r['id']}: unknown kind {kind!r}")

    def _is_threshold(self, text: str, start: int, end: int) -> bool:
        post = text[end:end + 80]
        pre = text[max(0, start - 90):start]
        return (any(rx.search(post) for rx in self._after)
                or any(rx.search(pre) for rx in self._before))

    def match(self, doc: Doc) -> list[PMatch]:
        text = doc_text(doc)
        if "p" not in text and "P" not in text and "<" not in text:
            return []
        found: list[PMatch] = []
        taken: list[tuple[int, int]] = []
        for rule_id, rx, conf in self._value:
            check = self._checks.get(rule_id)
            if check is not None and not check(text):
                continue
            for m in rx.finditer(text):
                s, e = m.start(), m.end()
                if any(a < e and s < b for a, b in taken):
                    continue
                value = _p_number(m.group("num"))
                if value is None:
                    continue
                if self._is_threshold(text, s, e):
                    continue
                found.append(PMatch(s, e, normalise_op(m.group("op")), value, rule_id, conf))
                taken.append((s, e))
                k = e
                for cont_id, crx, cconf in self._cont:
                    while True:
                        c = crx.match(text, k)
                        if not c:
                            break
                        cv = _p_number(c.group("num"))
                        if cv is None or (cv >= 1.0 and not re.search(r"[.·]", c.group("num"))):
                            break
                        found.append(PMatch(c.start("num") if c.group("op") is None else
                                            c.start("op"), c.end(), normalise_op(c.group("op")),
                                            cv, cont_id, cconf))
                        taken.append((c.start(), c.end()))
                        k = c.end()
        found.sort(key=lambda p: p.start)
        return found

    def set_annotations(self, doc: Doc, matches: list[PMatch]) -> None:
        if not matches:
            return
        ctx = DocContext(doc)
        items: list[dict[str, Any]] = []
        for p in matches:
            items.append({
                "kind": "p_value", "op": p.op, "value": p.value,
                **ctx.provenance(p.start, p.end, producer=self.name, producer_id=p.rule_id,
                                 confidence=p.confidence),
                "features": {"rule": p.rule_id}, "accept": True,
            })
        add_candidates(doc, items)
        if self.span_key:
            set_span_group(doc, self.span_key,
                           ((p.start, p.end, "P_VALUE", p.rule_id) for p in matches))


class CaseSplit:
    """``finditer`` of a case-insensitive pattern led by a letter and the characters it must not
    follow, ``(?=[Pp])(?<![A-Za-z0-9.\\-/])(?:[Pp]...``, with exactly the pattern's matches.

    A case-insensitive pattern gives the regex engine no first character to skip ahead to, and
    :class:`LeadFilter` tries it from Python at every "p" that starts a word (22 per abstract, for
    2 p-values). Here it is searched for as two case-sensitive patterns, ``p(?<![...].)(?i:...)``
    and ``P(?<![...].)(?i:...)``, which start with literal text (the engine skips ahead to it at C
    speed) and then read the rest as the pattern does (the look-behind lists the characters its
    class holds under the pattern's flags); at a position only the one of its letter can match, so
    :func:`fastre.finditer_merged` gives their matches in the pattern's order.
    """

    __slots__ = ("pattern", "parts")

    _LEAD = re.compile(r"\(\?=\[(?P<letters>[A-Za-z]{2})\]\)\(\?<!\[(?P<before>(?:\\.|[^\]\\])+)\]\)"
                       r"\(\?:\[(?P=letters)\]")

    def __init__(self, pattern: re.Pattern[str], parts: list[re.Pattern[str]]) -> None:
        self.pattern = pattern
        self.parts = parts

    @classmethod
    def build(cls, pattern: re.Pattern[str], characters: str) -> CaseSplit | None:
        """The split of ``pattern`` (compiled with ``re.IGNORECASE``), or None when it is not led
        that way; ``characters``: every character (:func:`fastre.all_characters`)."""
        lead = cls._LEAD.match(pattern.pattern)
        if lead is None or pattern.flags & (re.LOCALE | re.MULTILINE | re.DOTALL) or not characters:
            return None
        letters = lead.group("letters")
        flags = pattern.flags
        if "".join(re.findall(f"[{letters}]", characters, flags)) != "".join(sorted(letters)):
            return None  # (a letter with other case forms, or not the two cases of one letter)
        before = char_class("".join(re.findall(f"[{lead.group('before')}]", characters, flags)))
        rest = "(?:" + pattern.pattern[lead.end():]  # (the group the lead's "(?:[Pp]" opened)
        parts = [re.compile(f"{letter}(?<!{before}.)(?i:{rest})", flags & ~re.IGNORECASE)
                 for letter in letters]
        if any(p.groups != pattern.groups or p.groupindex != pattern.groupindex for p in parts):
            return None
        return cls(pattern, parts)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """``pattern.finditer(text)``."""
        return finditer_merged(self.parts, text)


def _op_after_bracket(text: str, spaces: frozenset[str]) -> bool:
    """Is there a "<", "≤" or "⩽" right after "(" or "[" and ``spaces`` in ``text``? False only
    where ``p_value.bare_parenthesised.v1`` (``(?<=[(\\[])<<SP>>*(?P<op><|≤|⩽)...``: "(< .001)") finds
    nothing; it is tried from Python at every bracket (8 per abstract, for 1 match in 700
    abstracts), these characters are found at C speed."""
    for op in "<≤⩽":
        i = text.find(op)
        while i >= 0:
            k = i - 1
            while k >= 0 and text[k] in spaces:
                k -= 1
            if k >= 0 and text[k] in "([":
                return True
            i = text.find(op, i + 1)
    return False


@lru_cache(maxsize=4096)  # (p-values repeat: "0.05", "0.001"; find_numbers is the cost)
def _p_number(raw: str) -> float | None:
    if raw.count(",") == 1 and "." not in raw and re.fullmatch(r"\d+,\d+", raw):
        raw = raw.replace(",", ".")  # "0,03": a decimal comma inside a p-value
    nums = find_numbers(raw)
    if not nums:
        return None
    value = nums[0].value
    if not 0.0 <= value <= 1.0:
        return None
    return value


@Language.factory(
    "extractor_p_values",
    assigns=["doc._.candidates", "doc.spans"],
    requires=["token.is_sent_start"],
    default_config={
        "span_key": "extractor.p_values",
        "scorer": {"@scorers": "extractor.spans_scorer.v1", "span_key": "extractor.p_values"},
    },
    default_score_weights={"spans_extractor.p_values_f": 1.0},
)
def make_p_values(nlp: Language, name: str, span_key: str,
                  scorer: Scorer | None) -> PValueExtractor:
    """Reported p-values (rules in ``patterns/p_values.jsonl``)."""
    return PValueExtractor(nlp, name, span_key=span_key, scorer=scorer)
