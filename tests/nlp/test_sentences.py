from __future__ import annotations

import pytest
from spacy.language import Language

from extractor.nlp.segment import section_of, sentence_starts


def pieces(text: str) -> list[str]:
    bounds = [0, *sentence_starts(text), len(text)]
    return [text[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False) if text[a:b].strip()]


@pytest.mark.parametrize(("text", "expected"), [
    ("Pain fell. Scores rose.", ["Pain fell.", "Scores rose."]),
    # abbreviations and initials do not end a sentence
    ("Pain was lower vs. placebo (Smith et al. 2001). It was also lower i.v. than p.o.",
     ["Pain was lower vs. placebo (Smith et al. 2001).", "It was also lower i.v. than p.o."]),
    ("Extract of G. kola was given. Pain fell.", ["Extract of G. kola was given.", "Pain fell."]),
    # a sentence may start with a number or a bracket
    ("Patients were enrolled. 120 completed the study.",
     ["Patients were enrolled.", "120 completed the study."]),
    # pre-tokenised text
    ("Pain fell . Scores rose .", ["Pain fell .", "Scores rose ."]),
    # section labels without a full stop before them, also right after an acronym
    ("in chronic low back pain METHODS We randomized 60 patients",
     ["in chronic low back pain", "METHODS We randomized 60 patients"]),
    ("scores were recorded in the PACU RESULTS Median scores were lower",
     ["scores were recorded in the PACU", "RESULTS Median scores were lower"]),
    # a multi-word label is one label
    ("Pain after surgery. MATERIALS AND METHODS We studied 40 women",
     ["Pain after surgery.", "MATERIALS AND METHODS We studied 40 women"]),
    # the title line is a sentence of its own
    ("Ketamine for pain\nWe studied 40 women.", ["Ketamine for pain", "We studied 40 women."]),
    # a mis-encoded "±" is not a question mark
    ("The score was 4.4 ? 1.6 at baseline.", ["The score was 4.4 ? 1.6 at baseline."]),
])
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_upper_case_words_that_are_not_labels_do_not_split() -> None:
    text = "Pain was rated on the VAS and NRS by the ICU staff."
    assert sentence_starts(text) == []


def test_section_of() -> None:
    text = "BACKGROUND Pain is common. METHODS We randomized 60 patients. RESULTS Pain fell."
    assert section_of(text, text.index("randomized")) == "METHODS"
    assert section_of(text, text.index("fell")) == "RESULTS"
    assert section_of("No labels here.", 5) is None


def test_component_sets_sentence_starts(nlp: Language) -> None:
    doc = nlp("Pain fell vs. placebo. RESULTS Scores rose.")
    assert [s.text for s in doc.sents] == ["Pain fell vs. placebo.", "RESULTS Scores rose."]
