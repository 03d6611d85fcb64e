"""The ranker's features: the cheaper scans give what the plain regular expressions give."""

from __future__ import annotations

import pytest

from extractor.nlp.trained.features import _DENOMINATOR, denominator_matches


@pytest.mark.parametrize("text", [
    "", "12/40", "12 / 40 and 3 /4", "1/2/3", "of 5/10", "of the 40 patients, 12 of 40", "x/5 5/",
    "of5", "proof 40", "tof 3", "out of\u00a012", "7 /\u2009 8", "١٢/٤٠ and of ٣", "3 / / 4", "/ 4 2/",
    "34/64 of 60 (of the 59)", "12\n/\n5", "9 of 10/11 of 12",
])
def test_denominators_are_those_of_the_pattern(text: str) -> None:
    expected = [(m.span(), m.group(1) or m.group(2)) for m in _DENOMINATOR.finditer(text)]
    assert [(m.span(), m.group(1)) for m in denominator_matches(text)] == expected


@pytest.mark.parametrize("text", [
    "", "another", "anothers", "xanother", "_another", "1another", "éanother", "an another one",
    "another_", "another2", "another-", "one and another.", "not another\u00a0", "ANOTHER another",
])
def test_another_is_the_word_another(text: str) -> None:
    import re

    from extractor.nlp.trained.features import _ANOTHER

    plain = re.compile(r"\banother\b")
    for pos in range(len(text) + 1):
        for endpos in range(pos, len(text) + 2):
            expected = plain.search(text, pos, endpos)
            found = _ANOTHER.search(text, pos, endpos)
            assert (found and found.span()) == (expected and expected.span())
