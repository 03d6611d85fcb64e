from __future__ import annotations

import pytest

from extractor.nlp.numbers import Number, find_numbers, parse_number, parse_number_words


@pytest.mark.parametrize(("text", "value"), [
    ("12", 12.0), ("6.8", 6.8), (".001", 0.001), ("0,03", 0.03), ("2,5", 2.5), ("1,600", 1600.0),
    ("12,500,000", 12500000.0), ("−3.2", -3.2), ("-5.29", -5.29), ("+3.4", 3.4), ("6·8", 6.8),
    ("Twenty-one", 21.0), ("one hundred five", 105.0), ("Two-hundred seventy-eight", 278.0),
    ("One thousand three hundred and twenty eight", 1328.0), ("fourty two", 42.0), ("53.1%", 53.1),
    ("12\u2009500", 12500.0),
])
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1 and 2", "T0", "hundred"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_offsets_slice_to_text_and_ranges_are_not_signs() -> None:
    text = "VAS fell from 6.8 ± 2.2 (range, 0-10) to −1.5; 260 - 320 g; 1,2,4 h; p=2e-3; 1.2 × 10-5"
    nums = find_numbers(text)
    for n in nums:
        assert text[n.start:n.end] == n.text
    values = [n.value for n in nums]
    assert values[:5] == [6.8, 2.2, 0.0, 10.0, -1.5]
    assert 260.0 in values and 320.0 in values  # not -320
    assert [n.value for n in nums if n.text in ("1", "2", "4")] == [1.0, 2.0, 4.0]
    assert pytest.approx(0.002) in values and pytest.approx(1.2e-5) in values


def test_flags() -> None:
    (pct,) = find_numbers("53.1%")
    assert pct.percent and not pct.is_int
    (word,) = find_numbers("Sixty-six patients")
    assert word.words and word.is_int and word.int_value == 66
    (signed,) = find_numbers("( -1.3 in group H")
    assert signed.signed and signed.value == -1.3


def test_word_runs_split_into_separate_numbers() -> None:
    assert [v for _, _, v in parse_number_words("two three")] == [2, 3]
    assert [v for _, _, v in parse_number_words("twenty one")] == [21]


def test_huge_and_odd_inputs_do_not_crash() -> None:
    assert find_numbers("9" * 5000) == []  # larger than any plausible value: skipped
    assert find_numbers("") == []
    assert [n.value for n in find_numbers("x1e999 and 1e-999")] in ([0.0], [])


def test_number_init_is_the_dataclass_one() -> None:
    """``Number.__init__`` is written out (for speed): same parameters, defaults and result."""
    import dataclasses
    import inspect

    params = list(inspect.signature(Number).parameters.values())
    assert [p.name for p in params] == [f.name for f in dataclasses.fields(Number)]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(Number)]
    n = Number(3, 5, 12.0, "12", True, percent=True)
    assert (n.start, n.end, n.value, n.text, n.is_int, n.words, n.signed, n.percent, n.sci) == \
        (3, 5, 12.0, "12", True, False, False, True, False)
    assert n == Number(start=3, end=5, value=12.0, text="12", is_int=True, words=False, signed=False,
                       percent=True, sci=False)
    assert hash(n) == hash(dataclasses.replace(n)) and dataclasses.replace(n, end=6).end == 6
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(n, "start", 4)  # noqa: B010 (assigning a field of a frozen Number must fail)
