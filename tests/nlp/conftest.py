"""Fixtures of the NLP tests: one rules pipeline per session (built on ``spacy.blank("en")``; the
shipped trained components are left out: these tests pin the rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from spacy.language import Language

from extractor.nlp import load_pipeline

Values = Callable[[str, str], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def nlp() -> Language:
    return load_pipeline(rules_only=True)


@pytest.fixture(scope="session")
def values(nlp: Language) -> Values:
    """``values(text, kind)``: the final values of one kind; checks every offset on the way."""

    def run(text: str, kind: str) -> list[dict[str, Any]]:
        doc = nlp(text)
        out = []
        for e in doc._.extractions:
            assert text[e["start"]:e["end"]] == e["evidence"]
            assert text[e["sent_start"]:e["sent_end"]] == e["sentence"]
            if e["kind"] == kind:
                out.append(e)
        return out

    return run
