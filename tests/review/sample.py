"""Small hand-written pain-study abstracts and extraction records for the review tests.

Offsets are found by searching the text, so each value's evidence is exactly ``text[start:end]``.
"""

from __future__ import annotations

from extractor.records import (
    Abstract,
    ArmSize,
    ExtractionRecord,
    Proportion,
    Provenance,
    PValue,
    SampleSize,
    ScaleMention,
    Score,
    Value,
)
from extractor.review.store import Store

RCT_TEXT = (
    "Methadone versus pethidine for pain after caesarean section: a randomized trial\n"
    "BACKGROUND: Opioid choice after caesarean section is debated. "
    "METHODS: Eighty women were randomized to methadone (n = 40) or pethidine (n = 40). "
    "Pain was measured on a 100-mm visual analogue scale (VAS). "
    "RESULTS: At 6 h, mean VAS pain was 32 ± 9 mm with methadone and 45 ± 12 mm with pethidine "
    "(p < 0.001). Pain-free at 24 h: 28/40 (70%) with methadone vs 15/40 (37.5%) with pethidine, "
    "p = 0.004. CONCLUSIONS: Methadone gave better analgesia."
)

KNEE_TEXT = (
    "Duloxetine for chronic knee osteoarthritis pain\n"
    "We enrolled 120 patients with knee osteoarthritis. "
    "The WOMAC pain subscale fell from 11.2 (SD 3.1) at baseline to 7.9 (SD 3.4) at week 12 "
    "in the duloxetine group (P < .01). "
    "Fifty-two of 118 analyzed patients (44%) reported at least 50% pain reduction."
)

XSS_TEXT = (
    "Ketamine <script>alert('xss')</script> for migraine pain\n"
    "In 30 adults, NRS pain dropped by 3.1 points <img src=x onerror=alert(1)> after ketamine "
    "(p = 0.02). Rescue analgesia: 4/30 & more."
)


def at(text: str, evidence: str, occurrence: int = 1) -> tuple[int, int]:
    """Offsets of the ``occurrence``-th (1-based) appearance of ``evidence`` in ``text``."""
    i = -1
    for _ in range(occurrence):
        i = text.index(evidence, i + 1)
    return i, i + len(evidence)


def prov(text: str, evidence: str, occurrence: int = 1, *, confidence: float | None = None,
         producer: str = "extractor_scores", producer_id: str = "score.rule.v1") -> Provenance:
    start, end = at(text, evidence, occurrence)
    source = "model" if confidence is not None else "rule"
    return Provenance(start=start, end=end, evidence=evidence, sentence="", source=source,
                      producer=producer, producer_id=producer_id, confidence=confidence)


def rct_values() -> list[Value]:
    t = RCT_TEXT
    return [
        SampleSize(n=80, prov=prov(t, "Eighty women", producer="extractor_sample_size",
                                   producer_id="sample_size.words.v1", confidence=0.91)),
        ArmSize(arm="methadone", n=40, prov=prov(t, "n = 40", 1, producer="extractor_sample_size")),
        ArmSize(arm="pethidine", n=40, prov=prov(t, "n = 40", 2, producer="extractor_sample_size")),
        ScaleMention(scale="VAS", prov=prov(t, "visual analogue scale", producer="extractor_pain_scale")),
        Score(scale="VAS", arm="methadone", timepoint="6 h", days=0.25, stat="mean", value=32.0,
              spread="sd", spread_values=(9.0,), n=None, prov=prov(t, "32 ± 9", confidence=0.42)),
        Score(scale="VAS", arm="pethidine", timepoint="6 h", days=0.25, stat="mean", value=45.0,
              spread="sd", spread_values=(12.0,), n=None, prov=prov(t, "45 ± 12", confidence=0.88)),
        Proportion(what="pain-free", arm="methadone", timepoint="24 h", days=1.0, events=28, total=40,
                   percent=70.0, prov=prov(t, "28/40 (70%)", producer="extractor_proportions")),
        PValue(op="<", value=0.001, prov=prov(t, "p < 0.001", producer="extractor_p_value")),
        PValue(op="=", value=0.004, prov=prov(t, "p = 0.004", producer="extractor_p_value")),
    ]


def knee_values() -> list[Value]:
    t = KNEE_TEXT
    return [
        SampleSize(n=120, prov=prov(t, "120 patients", producer="extractor_sample_size", confidence=0.97)),
        ScaleMention(scale="WOMAC", prov=prov(t, "WOMAC pain subscale", producer="extractor_pain_scale")),
        Score(scale="WOMAC", arm="duloxetine", timepoint="baseline", days=0.0, stat="mean", value=11.2,
              spread="sd", spread_values=(3.1,), n=None, prov=prov(t, "11.2 (SD 3.1)", confidence=0.95)),
        PValue(op="<", value=0.01, prov=prov(t, "P < .01", producer="extractor_p_value")),
    ]


def xss_values() -> list[Value]:
    t = XSS_TEXT
    return [
        SampleSize(n=30, prov=prov(t, "30 adults", producer="extractor_sample_size", confidence=0.99)),
        ScaleMention(scale="NRS", prov=prov(t, "NRS", producer="extractor_pain_scale")),
        PValue(op="=", value=0.02, prov=prov(t, "p = 0.02", producer="extractor_p_value")),
    ]


def abstracts() -> list[Abstract]:
    return [
        Abstract(id="PMID:1001", text=RCT_TEXT, title=RCT_TEXT.split("\n")[0], source="jsonl",
                 metadata={"pmid": "1001", "year": 2021}),
        Abstract(id="PMID:1002", text=KNEE_TEXT, title=KNEE_TEXT.split("\n")[0], source="jsonl"),
        Abstract(id="PMID:1003", text=XSS_TEXT, title=XSS_TEXT.split("\n")[0], source="jsonl"),
    ]


def records() -> list[ExtractionRecord]:
    meta = {"pipeline": "extractor-test", "version": "1"}
    return [
        ExtractionRecord.from_values("PMID:1001", rct_values(), meta=meta),
        ExtractionRecord.from_values("PMID:1002", knee_values(), meta=meta),
        ExtractionRecord.from_values("PMID:1003", xss_values(), meta=meta),
    ]


def filled_store(path: str) -> Store:
    store = Store(path)
    store.add_abstracts(abstracts())
    store.add_records(records(), run="test-run-1")
    return store


def value_id(store: Store, abstract_id: str, evidence: str, kind: str | None = None) -> int:
    """The id of the stored value with this evidence (and kind)."""
    for v in store.state(abstract_id).values:
        if v.value.prov.evidence == evidence and (kind is None or v.kind == kind):
            return v.id
    raise KeyError(evidence)
