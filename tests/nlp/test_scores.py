from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

Values = Callable[[str, str], list[dict[str, Any]]]


def scores(values: Values, text: str) -> list[tuple[Any, ...]]:
    return [(s["value"], s["stat"], s["spread"], tuple(s["spread_values"]), s["days"])
            for s in values(text, "score")]


@pytest.mark.parametrize(("text", "expected"), [
    # mean ± SD, with the "+/-" and glued forms
    ("The VAS pain score was 6.8 ± 2.2 at baseline.", [(6.8, "mean", "sd", (2.2,), 0)]),
    ("Pain scores were 5.3+/-1.2 in the block group.", [(5.3, "mean", "sd", (1.2,), None)]),
    # mean (SD) and an SE label
    ("The mean (SD) pain score was 4.1 (1.9).", [(4.1, "mean", "sd", (1.9,), None)]),
    ("Mean pain intensity was 3.2 (SE 0.4).", [(3.2, "mean", "se", (0.4,), None)]),
    # median (IQR) and median [range]
    ("Median pain scores were 3 (IQR 1-5) in group A.", [(3, "median", "iqr", (1, 5), None)]),
    ("The median NRS pain score was 2 [range, 0-7].", [(2, "median", "range", (0, 7), None)]),
    # 95% CI and a between-group difference
    ("The mean difference in pain was -1.4 (95% CI -2.1 to -0.7).",
     [(-1.4, "mean_difference", "ci95", (-2.1, -0.7), None)]),
    ("Pain decreased by 2.3 points (95% CI, 1.1 to 3.5) at 12 weeks.",
     [(2.3, "mean_change", "ci95", (1.1, 3.5), 84)]),
])
def test_value_statistic_and_spread(values: Values, text: str, expected: list[tuple[Any, ...]]) -> None:
    assert scores(values, text) == expected


def test_respectively_list_expands_in_order_with_time_points(values: Values) -> None:
    text = ("Pain scores (VAS) in the ketamine group at 2, 6, 12 and 24 hours were 4.2 ± 1.1, "
            "3.6 ± 1.0, 2.8 ± 0.9 and 1.9 ± 0.7, respectively.")
    got = scores(values, text)
    assert [g[0] for g in got] == [4.2, 3.6, 2.8, 1.9]
    assert [g[4] for g in got] == pytest.approx([2 / 24, 6 / 24, 12 / 24, 1.0])


def test_from_to_gives_baseline_and_follow_up(values: Values) -> None:
    text = "The mean VAS pain score decreased from 7.1 ± 1.3 at baseline to 2.9 ± 1.6 at 4 weeks."
    got = scores(values, text)
    assert got == [(7.1, "mean", "sd", (1.3,), 0), (2.9, "mean", "sd", (1.6,), 28)]


def test_comparison_of_two_arms(values: Values) -> None:
    text = "Pain scores were lower with the block than with placebo (VAS 2.1 vs 4.3; p = 0.01)."
    assert [g[0] for g in scores(values, text)] == [2.1, 4.3]


def test_other_outcomes_are_not_pain_scores(values: Values) -> None:
    text = ("Pain scores were similar (p = 0.4). Morphine consumption was 12.4 ± 3.1 mg versus "
            "18.2 ± 4.0 mg, and the duration of surgery was 65 ± 12 min.")
    assert scores(values, text) == []


def test_no_pain_no_scores(values: Values) -> None:
    assert scores(values, "Blood pressure fell from 150 ± 10 to 130 ± 12 mmHg.") == []


def test_score_fields_are_complete(values: Values) -> None:
    text = "At 24 h the mean NRS pain score was 3.4 ± 1.2 in the ketorolac group."
    (s,) = values(text, "score")
    assert s["scale"] == "NRS" and s["timepoint"] == "24 h" and s["days"] == 1
    assert s["arm"] and "ketorolac" in s["arm"]
    assert s["producer"] == "extractor_scores" and s["producer_id"].startswith("score.")


def test_negative_value_is_a_change(values: Values) -> None:
    text = "Over 72 hours the mean pain score (NRS) changed by a mean of -0.69 ± 0.97 with the patch."
    got = scores(values, text)
    assert [(g[0], g[1]) for g in got] == [(-0.69, "mean_change")]


def test_statistic_named_by_the_subject_far_before_the_bracket(values: Values) -> None:
    text = ("Median pain scores on the numerical rating scale were lower in the block group than in "
            "the infiltration group at 10 minutes (0 vs 2; P = .04).")
    assert [(g[0], g[1]) for g in scores(values, text)] == [(0, "median"), (2, "median")]


def test_time_point_numbers_do_not_hide_a_change(values: Values) -> None:
    text = ("Patients reported an improvement in VAS pain scores from baseline at 16 and 32 weeks of "
            "17.9 ± 11.6 and 24.8 ± 10.5 points.")
    got = scores(values, text)
    assert [(g[0], g[1], g[4]) for g in got] == [(17.9, "mean_change", 112), (24.8, "mean_change", 224)]


def test_acronym_defined_for_a_pain_condition_is_a_pain_cue(values: Values) -> None:
    text = ("We studied chronic tension-type headache (CTTH). After treatment the CTTH score was "
            "lower with needling than with acupuncture (2.38 ± 1.22 vs 4.16 ± 2.54, P < 0.01).")
    assert [g[0] for g in scores(values, text)] == [2.38, 4.16]


def test_average_point_change_is_a_value_but_a_bare_point_change_is_a_threshold(values: Values) -> None:
    got = scores(values, "VAS pain scores showed an average 2.5-point decrease 60 minutes after injection.")
    assert [(g[0], g[1]) for g in got] == [(2.5, "mean_change")]
    assert scores(values, "In pain scores, a 2-point change was deemed clinically important.") == []


def days_of(values: Values, text: str) -> list[tuple[float, float | None]]:
    return [(s["value"], s["days"]) for s in values(text, "score")]


@pytest.mark.parametrize(("text", "expected"), [
    # the time point after a bracket of range and p-value, glued "24h" / "1month"
    ("Among treated knees the mean NRS pain score fell from 6.1 ± 2.0 (range, 0-10) at baseline to "
     "3.9 ± 2.1 (range, 0-8; p < 0.001) at 24h and 2.2 ± 2.0 (range 1-7; p < 0.01) at 1month.",
     [(6.1, 0), (3.9, 1), (2.2, 30)]),
    # "before" standing alone = baseline; a word-number duration written before "after"
    ("The mean VAS pain score was 7.2 ± 1.5 before and 3.1 ± 2.0 six weeks after the procedure.",
     [(7.2, 0), (3.1, 42)]),
    # a "respectively" list of single time points
    ("The mean VAS pain scores were 7.9 ± 1.2, 5.0 ± 2.2 and 3.8 ± 2.4 at baseline, 1 week and "
     "4 weeks, respectively.", [(7.9, 0), (5.0, 7), (3.8, 28)]),
    # list words that are no time point alone: before = baseline, "immediately after" unknown
    ("Mean pain intensity in the music group before, immediately after, 20 minutes and two hours "
     "after the intervention were 6.1, 3.3, 2.9 and 2.4, respectively. Corresponding values in the "
     "control group were 5.0, 4.9, 4.6 and 4.4, respectively.",
     [(6.1, 0), (3.3, None), (2.9, pytest.approx(20 / 1440)), (2.4, pytest.approx(2 / 24)),
      (5.0, 0), (4.9, None), (4.6, pytest.approx(20 / 1440)), (4.4, pytest.approx(2 / 24))]),
    # the time point that opens the sentence; "from baseline" of a change is not a time point
    ("At day 10, the mean changes in knee pain score from baseline in the A and B groups were "
     "-4.1 ± 2.0 and -3.9 ± 2.2, respectively.", [(-4.1, 10), (-3.9, 10)]),
    ("RESULTS From baseline to 8 weeks, the mean pain score decreased by 1.9 points in the active "
     "group and by 0.8 points in the sham group.", [(1.9, 56), (0.8, 56)]),
    ("At 12 weeks, the mean pain score decreased from 6.5 ± 1.1 to 3.2 ± 1.4 in the treated group.",
     [(6.5, 0), (3.2, 84)]),
    # values in a bracket right after their time point, later list items without a preposition
    ("Pain scores were lower with lidocaine than with saline at 15 minutes after the injection "
     "(median score 1 compared with 3, P = .01), 45 minutes (median score 1 compared with 2, "
     "P = .03) and at discharge (median score 1 compared with 2, P = .04).",
     [(1, pytest.approx(15 / 1440)), (3, pytest.approx(15 / 1440)), (1, pytest.approx(45 / 1440)),
      (2, pytest.approx(45 / 1440)), (1, None), (2, None)]),
    # the nearest time point before the value when the sentence has several
    ("The NRS pain score at 12 hours, reported as median [IQR], was 3 [1, 5] in group A and 4 [2, 6] "
     "in group B (P = .2) and at 6 months was 1 [0, 2] and 0 [0, 3] (P = .7).",
     [(3, 0.5), (4, 0.5), (1, 180), (0, 180)]),
    # values compared share the time point written after the last one
    ("Pain on movement was 3.5 ± 1.2 vs 4.1 ± 1.3 at 48 h, while pain at rest did not differ at 6 h.",
     [(3.5, 2), (4.1, 2)]),
    # "over baseline" after a change is its reference, not its time point
    ("By 8 weeks, mean WOMAC pain scores had improved by 41.2 % over baseline values in the "
     "treatment group (P < 0.05).", [(41.2, 56)]),
    # "respectively" in the order of the sentence's time points
    ("Compared with baseline, the mean NRS pain score decreased by 1.5 points at 6 weeks and 2.0 "
     "points at 12 weeks with yoga and by 0.7 and 0.9 points, respectively, with usual care.",
     [(1.5, 42), (0.7, 42), (0.9, 84)]),
])
def test_time_point_attachment(values: Values, text: str, expected: list[tuple[float, float | None]]) -> None:
    assert days_of(values, text) == expected


def n_of(values: Values, text: str) -> list[tuple[float, int | None]]:
    return [(s["value"], s["n"]) for s in values(text, "score")]


@pytest.mark.parametrize(("text", "expected"), [
    # the group the sentence is about, stated once before its values
    ("Among the 50 (50/61; 82%) patients with painful lesions, the mean NRS pain score dropped from "
     "6.1 ± 2.0 at baseline to 3.9 ± 2.1 at 24 h.", [(6.1, 50), (3.9, 50)]),
    ("RESULTS: Overall (n = 98), pain intensity improved at 2 weeks, including worst pain (7.1 to 5.2, "
     "P < 0.01) and average pain (4.4 to 3.5, P < 0.01).", [(7.1, 98), (5.2, 98), (4.4, 98), (3.5, 98)]),
    ("Among 180 randomized patients (mean [SD] age, 58.2 [9.1] years; mean [SD] baseline NRS pain "
     "score, 6.2 [1.4]), 170 completed the study.", [(6.2, 180)]),
    # "(n = 20)" right after the value and its unit
    ("Mean pain was lower 30 minutes after the spray (31 mm [n = 20]) than with placebo "
     "(47 mm [n = 18]).", [(31, 20), (47, 18)]),
    # no group stated before the values: no n
    ("Pain was 3.1 ± 1.0 in group A and 4.0 ± 1.1 in group B among the 80 patients.",
     [(3.1, None), (4.0, None)]),
])
def test_number_behind_the_value(values: Values, text: str, expected: list[tuple[float, int | None]]) -> None:
    assert n_of(values, text) == expected


def test_a_planned_size_is_not_the_group_behind_the_values(values: Values) -> None:
    text = ("RESULTS The trial was planned for 120 patients but was stopped after 60 patients because "
            "pain scores were higher with the new technique (pain score: 4.2 ± 1.5 vs 3.1 ± 1.2).")
    assert n_of(values, text) == [(4.2, None), (3.1, None)]


@pytest.mark.parametrize(("text", "expected"), [
    # a difference between pre- and post-treatment (or baseline and later) is a change
    ("The largest mean difference between pre- and post-treatment pain scores was seen at 8 weeks, "
     "with a standardized mean difference of -2.9 (95% CI: -3.8 to -2.0; p < 0.001).",
     [(-2.9, "mean_change", 56)]),
    ("The mean difference in pain between baseline and 6 months was 2.4 (95% CI 1.6 to 3.2).",
     [(2.4, "mean_change", 180)]),
    # a difference between arms stays one
    ("The mean difference in pain between the two groups was 1.1 (95% CI 0.4 to 1.8).",
     [(1.1, "mean_difference", None)]),
])
def test_within_patient_difference_is_a_change(values: Values, text: str,
                                               expected: list[tuple[float, str, float | None]]) -> None:
    assert [(g[0], g[1], g[4]) for g in scores(values, text)] == expected


def test_changes_listed_with_by_are_all_changes(values: Values) -> None:
    text = ("From baseline to 6 weeks, the mean NRS pain score decreased by 2.10 points in the laser "
            "group, by 1.20 points in the sham group, and by 0.80 points in the usual care group.")
    assert [(g[0], g[1], g[4]) for g in scores(values, text)] == [
        (2.1, "mean_change", 42), (1.2, "mean_change", 42), (0.8, "mean_change", 42)]


@pytest.mark.parametrize("text", [
    "At week 8, both arms reported a rise in mean worst pain score, but no mean differences were found "
    "between groups (TA 3.1 vs. MA 2.9, P = .71).",
    "Pain scores did not differ between groups (3.1 ± 1.0 vs 2.9 ± 1.1).",
])
def test_values_after_a_negated_difference_are_levels(values: Values, text: str) -> None:
    assert [g[1] for g in scores(values, text)] == ["mean", "mean"]


def test_value_written_after_its_range(values: Values) -> None:
    text = ("Patients rated their pain before treatment in a range from 2.1 to 4.5 (mean: 3.4). One month "
            "after treatment, pain was graded in a range from 1.0 to 3.5 (mean: 1.9). The reduction in "
            "pain grade ranged from \u20130.5 to 2.9 (mean: 1.5).")  # an en dash as the minus sign
    assert scores(values, text) == [(3.4, "mean", "range", (2.1, 4.5), 0),
                                    (1.9, "mean", "range", (1.0, 3.5), 30),
                                    (1.5, "mean_change", "range", (-0.5, 2.9), None)]


def test_pain_level_of_a_group_is_a_pain_score(values: Values) -> None:
    text = ("As assessed by the WOMAC index, pain level of the herbal group decreased by 48% [95% "
            "confidence interval (CI) = 41, 55], stiffness by 52% (95% CI = 45, 60).")
    assert scores(values, text) == [(48, "other", "ci95", (41, 55), None)]


# fragments of the words and operators _THRESHOLD_BEFORE_RE is made of, with case and Unicode
# variants IGNORECASE treats specially ("ſ" is an "s", "K" a "k", "İ" an "i")
_THRESHOLD_WORDS = [
    "at", "least", "more", "than", "less", "greater", "over", "under", "above", "below", "exceed",
    "exceeded", "of", "cut", "off", "-", "cut-off", "threshold", "scale", "from", "0", "to", "ranging",
    "range", "ranges", "between", "score", ":", ",", "≥", "≤", "<", ">", "=", "grade", "step", "phase",
    "group", "groups", "arm", "arms", "type", "class", "stage", "day", "week", "month", "visit", "pod",
    "level", "n", "version", "item", "number", "no", ".", "figure", "table", "a", "x", "_", "1", "K",
    "ſ", "İ", "ı", "é", "AT", "Least", " ", "  ", "\n", "\t",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_THRESHOLD_WORDS), max_size=10))
def test_threshold_before_is_the_regex_read_backwards(words: list[str]) -> None:
    from extractor.nlp.scores import _THRESHOLD_BEFORE_RE, _THRESHOLD_BEFORE_REVERSED_RE, _threshold_before

    text = "".join(words)
    want = _THRESHOLD_BEFORE_RE.search(text) is not None
    assert (_THRESHOLD_BEFORE_REVERSED_RE.match(text[::-1]) is not None) == want
    lower = text.lower()  # what _threshold_before is given
    assert _threshold_before(lower) == (_THRESHOLD_BEFORE_RE.search(lower) is not None)
