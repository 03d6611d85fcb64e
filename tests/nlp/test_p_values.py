from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from spacy.language import Language

from extractor.nlp.components.p_values import SUBPATTERNS, CaseSplit, _op_after_bracket, expand
from extractor.nlp.fastre import LeadFilter, all_characters
from extractor.nlp.rules import read_packaged_rules

Values = Callable[[str, str], list[dict[str, Any]]]



def pvals(values: Values, text: str) -> list[tuple[str, float]]:
    return [(e["op"], e["value"]) for e in values(text, "p_value")]


@pytest.mark.parametrize(("text", "expected"), [
    ("Pain fell (p<.001).", [("<", 0.001)]),
    ("Pain fell (P = 0,03).", [("=", 0.03)]),
    ("Pain fell (p\u2009=\u20090.004).", [("=", 0.004)]),
    ("Pain fell (P≤0.05) and (p ≥ 0.2).", [("<=", 0.05), (">=", 0.2)]),
    ("Pain fell (P < or = 0.02).", [("<=", 0.02)]),
    ("Pain fell (P less than 0.01).", [("<", 0.01)]),
    ("Pain fell (p-value of 0.04).", [("=", 0.04)]),
    ("Pain fell (P value = .02).", [("=", 0.02)]),
    ("A trend was seen (P for trend = 0.03).", [("=", 0.03)]),
    ("Pain fell (p < 1 × 10-5).", [("<", 1e-5)]),
    ("Pain fell (P<10(-4)).", [("<", 1e-4)]),
    ("Pain was lower at 1 and 4 hours (P≤0.001 and 0.026).", [("<=", 0.001), ("=", 0.026)]),
    ("Scores differed (P < 0.05 and < 0.01, respectively).", [("<", 0.05), ("<", 0.01)]),
    ("Both doses were better (all P < 0.05).", [("<", 0.05)]),
    ("No change (p = NS).", []),
    ("Statistical significance was set at P < 0.05.", []),
    ("P < 0.05 was considered statistically significant.", []),
    ("A p value of less than 0.05 was regarded as significant.", []),
    ("Group P received saline and P. aeruginosa grew.", []),
    ("Pain (p = 0.000) fell.", [("=", 0.0)]),
])
def test_p_value_styles(values: Values, text: str, expected: list[tuple[str, float]]) -> None:
    assert pvals(values, text) == expected


def test_provenance_of_p_values(values: Values) -> None:
    text = "Title\nThe VAS score fell (p < 0.001)."
    (e,) = values(text, "p_value")
    assert e["evidence"] == "p < 0.001"
    assert e["producer"] == "extractor_p_values"
    assert e["producer_id"].startswith("p_value.") and e["source"] == "rule"
    assert 0 < e["confidence"] <= 1
    assert e["sentence"] == "The VAS score fell (p < 0.001)."


_LEAD_TEXTS = [
    "p<0.05", "(P = .03)", "İp < 0.05; ſp = 0.01; Kp = 0.2; ıp=0.3; xp = 0.1", "-p = 0.2 /p = 0.3",
    "((< .001) [≤ 0.04] (< 0.5) ( <.02 )", "P\u2009=\u20090.004 and p-value of 0.04, ps ≤ 0.029",
    "ends with (", "ends with p", "", "PP = 0.01 pP=0.02 Ps=0.3", "(p<.001)(p<.002)",
]


@pytest.mark.parametrize("text", _LEAD_TEXTS)
def test_lead_filter_gives_the_pattern_matches(nlp: Language, text: str) -> None:
    component = nlp.get_pipe("extractor_p_values")
    for _, lead, _ in component._value:
        # the packaged rules all start with look-arounds (one with a letter of two cases)
        assert lead.parts if isinstance(lead, CaseSplit) else lead.starts is not None
        expected = [(m.span(), m.groupdict()) for m in lead.pattern.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in lead.finditer(text)] == expected


@pytest.mark.parametrize("pattern", [r"(?<=[ab])c", r"(?=[Cc])(?<!a)c\w", r"(?<![a-z])(?=x)x+", r"x?"])
def test_lead_filter_on_other_patterns(pattern: str) -> None:
    rx = re.compile(pattern, re.IGNORECASE)
    lead = LeadFilter(rx, all_characters())
    for text in ("ac bc Cc aC xx Ax xC", "c", "", "İc ſC Kx"):
        assert [m.span() for m in lead.finditer(text)] == [m.span() for m in rx.finditer(text)]


_P_PIECES = ["p", "P", "s", "S", "\u017f", "ps", "-", "value", "values", " ", "\u2009", "\u00a0", "(", ")",
             "[", "]", "<", "≤", "⩽", ">", "=", "<=", "or", "less than", "of", "for trend", "trend", "adj",
             ":",
             "0", ".", "001", "0.05", "1", "x", "e", "İ", "ı", "K", "/", "a", "\n", "NS", "10", "-5", "×"]
_P_TEXTS = st.lists(st.sampled_from(_P_PIECES), max_size=16).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_P_TEXTS)
@example("(P < 0.05) and xp=0.2, İp = 0.1, ıP ≤ .03 ps < 0.001 P-value of 0.04 /p=0.3 p\u2009=\u20090.5")
def test_case_split_gives_the_pattern_matches(text: str) -> None:
    splits = _case_splits()
    assert splits  # the packaged p-value rule is led by "(?=[Pp])"
    for split in splits:
        expected = [(m.span(), m.groupdict()) for m in split.pattern.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in split.finditer(text)] == expected


@pytest.mark.parametrize("pattern", [r"(?=[Kk])(?<![a-z])(?:[Kk]\w)", r"(?=[Pp])(?<!a)(?:[Pp]x)", r"p\w"])
def test_case_split_refuses_other_leads(pattern: str) -> None:
    # "k" has a third case form (the Kelvin sign); the others are not led that way
    assert CaseSplit.build(re.compile(pattern, re.IGNORECASE), _characters()) is None


@settings(max_examples=3000, deadline=None)
@given(_P_TEXTS)
@example("( \u2009< .001)")
@example("[⩽0.04]")
@example("(≤ 0.05)")
def test_bracket_check_holds_wherever_a_bare_p_value_matches(text: str) -> None:
    rx, spaces = _bare_rule()
    assert rx.search(text) is None or _op_after_bracket(text, spaces)


@functools.cache
def _characters() -> str:
    return all_characters()


@functools.cache
def _case_splits() -> list[CaseSplit]:
    rules = [r for r in read_packaged_rules("p_values") if r.get("kind") == "value"]
    return [s for r in rules
            if (s := CaseSplit.build(re.compile(expand(str(r["pattern"])), re.IGNORECASE), _characters()))]


@functools.cache
def _bare_rule() -> tuple[re.Pattern[str], frozenset[str]]:
    (rule,) = [r for r in read_packaged_rules("p_values") if r["id"] == "p_value.bare_parenthesised.v1"]
    return (re.compile(expand(str(rule["pattern"])), re.IGNORECASE),
            frozenset(re.findall(SUBPATTERNS["SP"], _characters(), re.IGNORECASE)))
