from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from extractor.nlp.timepoints import find_timepoints, unit_days


@pytest.mark.parametrize(("text", "expected"), [
    ("at baseline", [("baseline", 0.0)]),
    ("before the intervention", [("before the intervention", 0.0)]),
    ("at 24 h", [("24 h", 1.0)]),
    ("at 24h", [("24h", 1.0)]),
    ("after 30 minutes", [("30 minutes", 1 / 48)]),
    ("at week 12", [("week 12", 84.0)]),
    ("on day 15", [("day 15", 15.0)]),
    ("at 1 month", [("1 month", 30.0)]),
    ("after six weeks", [("six weeks", 42.0)]),
    ("after one year", [("one year", 365.0)]),
    ("by the fourth week", [("the fourth week", 28.0)]),
    ("at the last follow-up", [("the last follow-up", None)]),
    ("at 1, 4 and 8 weeks", [("1 weeks", 7.0), ("4 weeks", 28.0), ("8 weeks", 56.0)]),
    ("at 6, 12, 18 and 24 hour", [("6 hour", 0.25), ("12 hour", 0.5), ("18 hour", 0.75), ("24 hour", 1.0)]),
    ("at weeks 6, 12, and 16", [("weeks 6", 42.0), ("weeks 12", 84.0), ("weeks 16", 112.0)]),
])
def test_time_points_and_days(text: str, expected: list[tuple[str, float | None]]) -> None:
    got = find_timepoints(text)
    assert [(t.text, t.days) for t in got] == [(w, pytest.approx(d) if d is not None else None)
                                               for w, d in expected]
    for t in got:
        assert t.days is None or t.days >= 0


def test_lists_share_a_group() -> None:
    items = find_timepoints("scores at 2, 24 and 48 hours after surgery")
    assert len({t.group for t in items}) == 1 and items[0].group >= 0


@pytest.mark.parametrize(
    "text", ["patients aged 18 to 65 years", "a 5-year-old girl", "between 2010 and 2015"]
)
def test_ages_and_years_are_not_time_points(text: str) -> None:
    assert find_timepoints(text) == []


def test_unit_days() -> None:
    assert unit_days("h") == pytest.approx(1 / 24)
    assert unit_days("weeks") == 7
    assert unit_days("months") == 30
    assert unit_days("yr") == 365
    assert unit_days("parsec") is None


@pytest.mark.parametrize("text", [
    "Pain was lowest in the first hour and at 24 h.", "by the fourth week; the 3rd postoperative day",
    "during the first  day, the second\nweek and the 24th hour", "first, second and third doses",
    "at the 1st visit and 2nd day", "no ordinal here: at 6 weeks", "", "the  first hours; thirdly day",
    "The first hour, the Second day and the twelfth month",
])
def test_suffix_gates_change_no_time_point(text: str) -> None:
    from extractor.nlp.fastre import suffix_gates
    from extractor.nlp.rules import read_packaged_rules
    from extractor.nlp.timepoints import TimepointFinder

    rules = read_packaged_rules("timepoints")
    gated, ungated = TimepointFinder(rules), TimepointFinder(rules)
    gated._gates = [suffix_gates(rx) for _, _, rx in gated.rules]  # wherever a rule has gates
    ungated._gates = [None] * len(ungated.rules)
    assert any(g is not None for g in gated._gates)
    for s in (text, text.lower(), text * 2):
        assert gated.find(s) == ungated.find(s)


_LIST_PIECES = ["1", "4", "12", "2.5", "0", "one", "two", "four", "twelve", "ten", "eleven", ",", "and",
                "or", "&", " ", "  ", "\n", "\u00a0", "-", "weeks", "h", "hours", "min", "d", "s", "y",
                "day", "x", "for", "sand", "(", ".", "\u0663"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_LIST_PIECES), max_size=14).map("".join))
def test_list_check_holds_wherever_a_list_matches(text: str) -> None:
    from extractor.nlp.timepoints import _list_may_match, default_finder

    (_, _, list_re), = [r for r in default_finder().rules if r[0] == "timepoint.list.v1"]
    assert list_re.search(text) is None or _list_may_match(text)


def test_list_check_reads_white_space_and_digits_as_the_regex_engine_does() -> None:
    from extractor.nlp.fastre import all_characters

    chars = all_characters()
    assert "".join(re.findall(r"\s", chars)) == "".join(c for c in chars if c.isspace())
    assert "".join(re.findall(r"\d", chars)) == "".join(c for c in chars if c.isdecimal())


_EVENT_PIECES = ["the", "last", "final", "latest", "available", "follow", "-", "up", "end", "of", "study",
                 "trial", "follow-up", "at", "on", "after", "discharge", "pacu", "post", "anesthetic",
                 "anesthesia", "care", "unit", "recovery", "room", " ", "  ", "\n", ".", "x"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_EVENT_PIECES), max_size=12).map("".join))
@example("at the latest  available\nfollow up")
@example("at the final follow-up")
@example("at the last follow-up")
@example("the end\nof the therapy")
@example("on discharge")
@example("in the pacu")
@example("post-anesthesia care unit")
@example("postanesthetic care unit")
@example("in the recovery room")
def test_event_check_holds_wherever_an_event_matches(text: str) -> None:
    from extractor.nlp.timepoints import _event_may_match, default_finder

    (_, _, event_re), = [r for r in default_finder().rules if r[0] == "timepoint.event.v1"]
    assert event_re.search(text) is None or _event_may_match(text)


_WORD_PIECES = ["1", "24", "2.5", "1,5", "one", "two", "a", "an", "half an", "first", "the", "and", ",",
                "or", " ", "\n", "\u00a0", "\t", "-", "(", ")", "/", "é", "_", "A", "x", "h", "hour",
                "weeks", "day", "months", "s", "y", "aged", "old"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_WORD_PIECES), max_size=14).map("".join))
@example("1 h 2 h(3 h)-4 h\n5 h/6 h_7 h é8 h a week, an hour and 1, 4 and 8 weeks")
@example("24 h")
def test_word_start_scanner_gives_the_pattern_matches(text: str) -> None:
    from extractor.nlp.timepoints import WordStartScanner, default_finder

    scanners = [s for s in default_finder()._scanners if isinstance(s, WordStartScanner)]
    assert scanners  # (the number-led rules)
    for scanner in scanners:
        expected = [(m.span(), m.groupdict()) for m in scanner.pattern.finditer(text)]
        assert [(m.span(), m.groupdict()) for m in scanner.finditer(text)] == expected


@pytest.mark.parametrize(("pattern", "applies"), [
    (r"(?=[0-9a-c])\b\w+", True), (r"(?=[0-9a-c])\b\w*", False), (r"(?=[(a])\b\w+", False),
    (r"\b\w+", False), (r"(?=[A-Z])\b\w+", False),
])
def test_word_start_scanner_applies_to_word_led_patterns(pattern: str, applies: bool) -> None:
    from extractor.nlp.timepoints import WordStartScanner

    assert WordStartScanner.applies(re.compile(pattern)) is applies
