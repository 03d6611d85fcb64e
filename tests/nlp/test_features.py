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
