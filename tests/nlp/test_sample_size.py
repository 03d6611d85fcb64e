from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

Values = Callable[[str, str], list[dict[str, Any]]]


def headline(values: Values, text: str) -> int | None:
    found = values(text, "sample_size")
    assert len(found) <= 1
    return found[0]["n"] if found else None


def arms(values: Values, text: str) -> list[int]:
    return sorted(a["n"] for a in values(text, "arm_size"))


@pytest.mark.parametrize(("text", "n"), [
    ("Methods: Eighty-four women were randomized to acupuncture or sham.", 84),
    ("A total of 212 patients were enrolled and 190 completed the study.", 212),
    ("Of 340 patients screened, 120 were randomly assigned to two groups.", 120),
    ("We studied 46 consecutive adult patients undergoing knee surgery.", 46),
    ("RESULTS: Thirty of 40 eligible subjects participated in the trial.", 30),
    # planned numbers are not the sample
    ("The trial was designed to enroll 184 patients. In all, 93 patients were randomized.", 93),
    ("We calculated that 53 patients were needed. Fifty-two patients were included.", 52),
    ("Ninety-five women were approached; 81 (85.3%) consented and were randomised.", 81),
    # studies, factorial designs and compound modifiers are not counts of people
    ("DESIGN Two randomized controlled trials PARTICIPANTS Adults with knee pain.", None),
    ("We conducted a 2 × 2 factorial, randomized pilot trial of 100 female patients.", 100),
    ("After the first 2-tablet dose, patients took 2.5 more tablets on average.", None),
    ("Seventy ASA I-II patients scheduled for surgery were included.", 70),
    ("Patients with chronic neck pain (n = 58) were randomized.", 58),
    ("One hundred and twelve volunteers took part; 9 withdrew.", 112),
    ("A total of 15 studies involving 1,204 patients were pooled.", 1204),
    ("Twenty tumours in 12 patients were ablated.", 12),
    ("Twenty-five patients were treated.", 25),
    ("The results are reported.", None),
])
def test_headline_sample_size(values: Values, text: str, n: int | None) -> None:
    assert headline(values, text) == n


def test_randomized_beats_screened_and_analysed(values: Values) -> None:
    text = ("Methods: 310 patients were screened for eligibility. 150 patients were randomized. "
            "Results: 141 patients completed the trial and were analysed.")
    assert headline(values, text) == 150


@pytest.mark.parametrize(("text", "expected"), [
    ("Sixty patients were randomized to lidocaine (n = 30) or saline (n = 30).", [30, 30]),
    ("A total of 90 women were divided into three groups of 30 patients each.", [30, 30, 30]),
    ("Of 102 patients, 52 were randomized to the block group and 50 to the control group.", [50, 52]),
    ("Forty-eight patients were enrolled (25 in group A; 23 in group B).", [23, 25]),
    ("Group I (n = 21) received ropivacaine. Group II (n = 20) received saline.", [20, 21]),
    # arms named by a drug with its dose, or with the dose inside the bracket
    ("Patients received gabapentin 300 mg/day (n = 37) or pregabalin 75 mg twice daily (n = 38).",
     [37, 38]),
    ("Patients were randomized to celecoxib (200 mg b.i.d., n=98) or placebo (n=102).", [98, 102]),
])
def test_arm_sizes(values: Values, text: str, expected: list[int]) -> None:
    assert arms(values, text) == expected


def test_outcome_counts_are_not_arms(values: Values) -> None:
    text = ("Eighty patients were randomized. Nausea occurred in 12 patients in the placebo group "
            "and 4 patients in the ondansetron group.")
    assert arms(values, text) == []


def test_candidates_expose_features(nlp: Any) -> None:
    doc = nlp("Methods: 310 patients were screened and 150 patients were randomized.")
    cands = [c for c in doc._.candidates if c["kind"] == "sample_size"]
    assert [c["n"] for c in cands] == [310, 150]
    for c in cands:
        assert isinstance(c["features"], dict) and "score" in c["features"]
        assert all(isinstance(v, (str, int, float, bool)) or v is None for v in c["features"].values())
    assert [e["n"] for e in doc._.extractions if e["kind"] == "sample_size"] == [150]


def test_a_headline_that_is_one_arm_gives_way_to_the_arms(values: Values) -> None:
    # no total is stated: the arm sizes are not added up, and neither arm is the sample size
    text = "Patients were randomized to receive celecoxib (n = 98) or placebo (n = 102) for 12 weeks."
    assert arms(values, text) == [98, 102]
    assert headline(values, text) is None


GROUP_COUNT_PIECES = ["two", "three", "ten", "10", "1", "2", " ", "  ", "\n", "\u00a0", "equal", "treatment",
                      "groups", "arms", "cohorts", "forearms", "x", "-", "(", "_", "é", "often", "s"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(GROUP_COUNT_PIECES), max_size=20))
def test_group_count_search_finds_what_the_pattern_finds(pieces: list[str]) -> None:
    """The backwards search from the nouns gives the pattern's first match."""
    from extractor.nlp.arms import _GROUP_COUNT_RE, _group_count_search

    text = "".join(pieces)
    expected = _GROUP_COUNT_RE.search(text)
    found = _group_count_search(text)
    assert (found is None) == (expected is None)
    if found is not None and expected is not None:
        assert (found.span(), found.group("k")) == (expected.span(), expected.group("k"))


def test_word_char_is_the_regex_one() -> None:
    import re
    from array import array

    from extractor.nlp.arms import _is_word_char

    every = array("I", range(0x110000)).tobytes().decode("utf-32-le", "surrogatepass")
    word = re.compile(r"\w")
    assert all((word.fullmatch(c) is not None) == _is_word_char(c) for c in every)


IN_GROUP_WORDS = ["12", "patients", "women", "adult", "were", "who", "randomly", "assigned", "allocated",
                  "received", "to", "in", "each", "the", "group", "(", ")", ",", "%", ";", "-", "é"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(IN_GROUP_WORDS), st.sampled_from([" ", "", "  ", "\u00a0"])),
                max_size=8))
@example([("12", " "), ("patients", " "), ("in", " "), ("the", "")])
@example([("(", ""), ("12", " "), ("3d", " "), ("women", " "), ("were", " "), ("assigned", " "), ("to", " ")])
@example([("12", ","), ("patients", " "), ("who", " "), ("received", "\u00a0"), ("the", "")])
def test_in_group_match_is_the_ungated_one(pieces: list[tuple[str, str]]) -> None:
    """``_IN_GROUP.match`` (which gives up when no word follows the white space) matches exactly
    where its patterns do."""
    from extractor.nlp.components.sample_size import (
        _IN_GROUP,
        _IN_GROUP_PERSON,
        _IN_GROUP_PLAIN,
        _WORD_SPLIT_RE,
        PERSON_WORDS,
    )

    lower = "".join(word + space for word, space in pieces)
    for pos in range(len(lower) + 1):
        person_near = not PERSON_WORDS.isdisjoint(_WORD_SPLIT_RE.findall(lower, pos, pos + 60))
        expected = (_IN_GROUP_PERSON if person_near else _IN_GROUP_PLAIN).match(lower, pos)
        found = _IN_GROUP.match(lower, pos)
        assert (found is None) == (expected is None)
        if found is not None and expected is not None:
            assert found.span() == expected.span()
