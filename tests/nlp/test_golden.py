"""Golden tests (STYLE §6): full records for abstracts written for this project.

``tests/golden/<name>.txt`` holds an abstract (title, a newline, the abstract) written for these
tests; ``<name>.expected.json`` the full extraction record (values and provenance). Run
``pytest --update-golden`` to rewrite the expected files, then review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.language import Language

from extractor.nlp import extract
from extractor.records import Abstract

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.txt"))


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 5


@pytest.mark.parametrize("name", CASES)
def test_golden_record(nlp: Language, name: str, update_golden: bool) -> None:
    text = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")
    (record,) = list(extract(nlp, [Abstract(id=name, text=text)]))
    record.check_offsets(text)
    got = json.loads(json.dumps(record.to_dict(), ensure_ascii=False))
    expected_path = GOLDEN / f"{name}.expected.json"
    if update_golden:
        expected_path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert expected_path.exists(), f"{expected_path.name} missing: run pytest --update-golden"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert got == expected
