"""Study design: systematic reviews and meta-analyses are recognised (own example texts)."""

from __future__ import annotations

import pytest

from extractor.nlp import extract, load_pipeline
from extractor.nlp.design import study_design
from extractor.records import Abstract


@pytest.mark.parametrize(
    "text",
    [
        "Radiofrequency ablation for osteoid osteoma: a systematic review and meta-analysis\n"
        "Fourteen studies (412 patients) were included.",
        "Nerve blocks after knee replacement: a network meta-analysis\nVAS fell by 2.1 points.",
        "Acupuncture for chronic neck pain: an umbrella review\nWe summarised 9 reviews.",
        "Opioid-sparing analgesia\nMethods: We searched MEDLINE, Embase and CENTRAL up to May 2023. "
        "Results: Twelve randomized trials were included (n = 1,024).",
        "Opioid-sparing analgesia\nMethods: Electronic databases were searched (PubMed, Scopus). "
        "We included 7 RCTs with 530 patients.",
    ],
)
def test_reviews_are_recognised(text: str) -> None:
    assert study_design(text) == "review"


@pytest.mark.parametrize(
    "text",
    [
        "Cryoablation of painful bone metastases: a prospective study\nForty patients were included; "
        "NRS fell from 7.1 ± 1.6 to 2.9 ± 2.0 at 4 weeks.",
        "Pain after hernia repair\nWe searched our institutional database and identified 120 patients.",
        "Ketamine for migraine\nUnlike earlier meta-analyses, this randomized trial enrolled 60 adults.",
        "A meta-analysis of",  # no line break: no title to read, and no search or included studies
        "",
    ],
)
def test_primary_studies_are_not_reviews(text: str) -> None:
    assert study_design(text) is None


def test_the_record_carries_the_design() -> None:
    nlp = load_pipeline(rules_only=True)
    review = Abstract(id="r", title="", text="Spinal cord stimulation: a systematic review\n"
                      "Ten studies with 310 patients were included.")
    trial = Abstract(id="t", title="", text="Spinal cord stimulation in 40 patients\nVAS fell.")
    got = {rec.id: rec for rec in extract(nlp, [review, trial])}
    assert got["r"].meta.get("design") == "review" and "design" not in got["t"].meta
    assert {row["design"] for row in got["r"].to_rows()} == {"review"}


def test_a_lower_case_text_of_another_length_is_not_trusted() -> None:
    text = "İstanbul pain registry\nWe searched PubMed and Embase; 8 trials were included."
    assert len(text.lower()) != len(text)
    assert study_design(text, text.lower()) == "review"
    assert study_design("İİİ a meta-analysis\nx", "i̇i̇i̇ a meta-analysis\nx") == "review"


def test_offsets_hold_after_characters_whose_lower_case_is_longer() -> None:
    nlp = load_pipeline(rules_only=True)
    text = ("İİİ İzmir pain clinic\nForty patients were treated. Pain on the visual analogue scale "
            "(VAS) fell from 7.2 ± 1.1 at baseline to 3.4 ± 1.9 at 4 weeks (p < 0.001).")
    rec = next(extract(nlp, [Abstract(id="i", title="", text=text)]))
    assert rec.scales == ["VAS"]
    for value in rec.values():
        assert text[value.prov.start:value.prov.end] == value.prov.evidence
    assert {m.prov.evidence for m in rec.scale_mentions} >= {"VAS"}
