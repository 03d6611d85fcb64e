from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Values = Callable[[str, str], list[dict[str, Any]]]


def props(values: Values, text: str) -> list[tuple[Any, Any, Any]]:
    return [(p["events"], p["total"], p["percent"]) for p in values(text, "proportion")]


@pytest.mark.parametrize(("text", "expected"), [
    ("Twenty-one patients (21/40; 52.5%) were pain-free at 6 months.", [(21, 40, 52.5)]),
    ("Complete pain relief was reported by 18 (45%) of 40 patients.", [(18, 40, 45)]),
    ("Rescue analgesia was required in 12 of 30 patients in the placebo group.", [(12, 30, None)]),
    ("More patients were pain-free with the block (44% vs 17%).", [(None, None, 44), (None, None, 17)]),
    ("Sixty percent of patients reported moderate or severe pain at 24 hours.", [(None, None, 60)]),
    # a share written as a fraction: the percent (guideline), not the CI bounds
    ("At 8 weeks, the pooled proportion of patients reporting pain relief was 0.74 (95% CI: 0.66 to "
     "0.81; p < 0.001).", [(None, None, 74)]),
])
def test_responder_proportions(values: Values, text: str, expected: list[tuple[Any, Any, Any]]) -> None:
    assert props(values, text) == expected


@pytest.mark.parametrize("text", [
    "Pain decreased by 40% in the treatment group.",            # a change of a score
    "Wound infection occurred in 5 of 40 patients (12.5%).",     # not a pain outcome
    "We used 0.5% bupivacaine for the pain block.",              # a concentration
    "Pain relief was better (95% CI 1.2 to 3.4).",               # a confidence level
    "Remission was defined by the presence of ≥4 of 6 criteria (pain score ≤15, no tender joint).",
])
def test_not_proportions(values: Values, text: str) -> None:
    assert props(values, text) == []


def test_percent_change_of_pain_is_a_score(values: Values) -> None:
    (s,) = values("Pain scores were reduced by 40% in the treatment group.", "score")
    assert s["value"] == 40 and s["stat"] == "other"


def test_response_rate_counts_in_an_abstract_about_pain(values: Values) -> None:
    about_pain = ("Radiotherapy for painful bone metastases. Pain was scored daily; pain relief and pain "
                  "flare were recorded by the pain nurse. ")
    result = "The number of responders was 21 (78%) in the single-fraction group."
    assert props(values, about_pain + result) == [(21, None, 78)]
    # the same sentence in an abstract that barely mentions pain is not read as a pain outcome
    assert props(values, "Tumour control after radiotherapy for pain. " + result) == []


@pytest.mark.parametrize("text", [
    "95% CI 1-2", "(95 % confidence interval, 3 to 4); p", "a95% CI", "x 99%CI", "_90% Cl", "995% CI",
    "٩95% CI", "9 95% ci", "95%CI", "95 % Confidence Intervals of", "see 95% CI.", "", "9",
])
def test_ci_span_pattern_is_the_word_bounded_one(text: str) -> None:
    import re

    from extractor.nlp.proportions import _CI_SPAN_RE

    reference = re.compile(r"\b(?:9[059])\s?%\s?(?:CI|Cl|confidence\s+intervals?)\b[^)\];]{0,40}",
                           re.IGNORECASE)
    for s in (text, text * 2, f"a {text} b"):
        assert [m.span() for m in _CI_SPAN_RE.finditer(s)] == [m.span() for m in reference.finditer(s)]


def test_a_sentence_the_gate_turns_down_holds_no_proportion() -> None:
    """``_may_hold_proportion`` is False only where ``_sentence`` finds nothing: checked on random
    sentences built from the pieces the expressions read (counts, percents, fractions, brackets,
    "of", person words, list separators, share words)."""
    import random

    from extractor.nlp.numbers import find_numbers
    from extractor.nlp.proportions import ProportionFinder, _may_hold_proportion
    from extractor.nlp.rules import read_packaged_rules

    finder = ProportionFinder(read_packaged_rules("proportions"))
    pieces = ["12", "3", "0.4", "0.74", "1.5e3", "-2", "+4", "45%", "52.5 %", "twenty", "Fifty-nine percent",
              "/", " / ", "(", ")", "[", "]", " of ", " out of ", "of", " patients ", " patient ", "Women",
              " the ", ", ", " and ", "; ", " were ", " pain relief ", " proportion of patients was ",
              " share ", " n = ", " vs ", " 2019 ", " mg ", "\u00a0", "  "]
    rng = random.Random(14)
    turned_down = 0
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(2, 12)))
        lower = text.lower()
        nums = find_numbers(text, lower)
        if nums and not _may_hold_proportion(text, lower, 0, len(text), nums):
            turned_down += 1
            assert finder._sentence(text, lower, 0, len(text), nums, {n.start: n for n in nums}) == [], text
    assert turned_down > 500  # the check above was exercised
