"""The NLP stage's contract: load, extract, provenance, serialisation, multiprocessing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import DocBin

from extractor.nlp import doc_to_record, extract, load_pipeline
from extractor.records import Abstract, ExtractionRecord

TEXT = (
    "Ketamine for pain after tonsillectomy: a randomized trial\n"
    "METHODS: Eighty children were randomized to ketamine (n = 40) or saline (n = 40). Pain was "
    "rated on the Faces Pain Scale. RESULTS: At 24 h, pain scores were 2.1 ± 1.0 with ketamine and "
    "3.4 ± 1.2 with saline (p < 0.001). Rescue analgesia was needed in 6 of 40 children (15%) after "
    "ketamine. P < 0.05 was considered significant."
)


def test_default_pipeline_components(nlp: Language) -> None:
    assert nlp.pipe_names == [
        "extractor_sentences", "extractor_numbers", "extractor_p_values", "extractor_pain_scales",
        "extractor_timepoints", "extractor_sample_size", "extractor_scores", "extractor_proportions",
        "extractor_resolve",
    ]
    assert nlp.lang == "en"


def test_record_from_doc(nlp: Language) -> None:
    rec = doc_to_record(nlp(TEXT), "x1")
    assert rec.id == "x1"
    assert rec.sample_size is not None and rec.sample_size.n == 80
    assert sorted(a.n for a in rec.arm_sizes) == [40, 40]
    assert rec.scales == ["FPS"]
    assert [(s.value, s.spread_values, s.days) for s in rec.scores] == [(2.1, (1.0,), 1), (3.4, (1.2,), 1)]
    assert [(p.events, p.total, p.percent) for p in rec.proportions] == [(6, 40, 15)]
    assert [(p.op, p.value) for p in rec.p_values] == [("<", 0.001)]
    rec.check_offsets(TEXT)
    for value in rec.values():
        prov = value.prov
        assert TEXT[prov.start:prov.end] == prov.evidence
        assert prov.sent_start is not None and prov.sent_end is not None
        assert TEXT[prov.sent_start:prov.sent_end] == prov.sentence
        assert prov.source == "rule" and prov.producer.startswith("extractor_")
        assert prov.producer_id and prov.confidence is not None and 0 < prov.confidence <= 1


def test_extractions_are_json_safe_and_round_trip(nlp: Language) -> None:
    doc = nlp(TEXT)
    json.dumps(doc._.extractions)
    json.dumps(doc._.candidates)
    json.dumps(doc._.numbers)
    rec = doc_to_record(doc, "x1")
    assert ExtractionRecord.from_dict(json.loads(json.dumps(rec.to_dict()))).to_dict() == rec.to_dict()


def test_extract_keeps_order_and_ids(nlp: Language) -> None:
    abstracts = [Abstract(id=f"a{i}", text=TEXT if i % 2 else "No numbers here.") for i in range(7)]
    abstracts.append(Abstract(id="empty", text="", has_abstract=False))
    records = list(extract(nlp, abstracts, batch_size=3))
    assert [r.id for r in records] == [a.id for a in abstracts]
    assert records[1].sample_size is not None and records[0].sample_size is None
    assert records[-1].meta.get("no_abstract") is True and not list(records[-1].values())


def test_extract_with_two_processes_matches_one(nlp: Language) -> None:
    abstracts = [Abstract(id=f"a{i}", text=TEXT.replace("Eighty", str(20 + i))) for i in range(6)]
    one = [r.to_dict() for r in extract(nlp, abstracts, n_process=1, batch_size=2)]
    two = [r.to_dict() for r in extract(nlp, abstracts, n_process=2, batch_size=2)]
    assert one == two
    assert [r["id"] for r in two] == [a.id for a in abstracts]


def test_to_disk_and_spacy_load_round_trip(nlp: Language, tmp_path: Path) -> None:
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")  # factories come from entry points: no --code
    assert loaded.pipe_names == nlp.pipe_names
    assert [t.text for t in loaded.make_doc("p<.001")] == ["p", "<", ".001"]
    assert loaded(TEXT)._.extractions == nlp(TEXT)._.extractions
    again = load_pipeline(tmp_path / "model")
    assert doc_to_record(again(TEXT), "x").to_dict() == doc_to_record(nlp(TEXT), "x").to_dict()


def test_rules_are_saved_with_the_component(nlp: Language, tmp_path: Path) -> None:
    nlp.to_disk(tmp_path / "model")
    rules = (tmp_path / "model" / "extractor_p_values" / "patterns.jsonl").read_text("utf-8")
    assert "p_value.op_number.v1" in rules
    rules = (tmp_path / "model" / "extractor_timepoints" / "patterns.jsonl").read_text("utf-8")
    assert "timepoint.list.v1" in rules


def test_timepoint_rules_come_from_the_rule_file(tmp_path: Path) -> None:
    from extractor.nlp.timepoints import TimepointFinder

    only_baseline = [{"id": "timepoint.baseline.v1", "kind": "baseline", "pattern": r"\bbaseline\b"}]
    found = TimepointFinder(only_baseline).find("Pain at baseline and at 24 h.")
    assert [(t.text, t.days, t.rule) for t in found] == [("baseline", 0.0, "timepoint.baseline.v1")]
    with pytest.raises(ValueError, match="unknown kind"):
        TimepointFinder([{"id": "timepoint.x.v1", "kind": "nope", "pattern": "x"}])


def test_docbin_keeps_spans_and_extractions(nlp: Language) -> None:
    doc = nlp(TEXT)
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (back,) = DocBin().from_bytes(data).get_docs(nlp.vocab)
    # msgpack gives tuples for lists: compare the JSON forms
    assert json.loads(json.dumps(back._.extractions)) == json.loads(json.dumps(doc._.extractions))
    assert json.loads(json.dumps(back._.candidates)) == json.loads(json.dumps(doc._.candidates))
    assert doc_to_record(back, "x").to_dict() == doc_to_record(doc, "x").to_dict()
    for key in ("extractor.p_values", "extractor.scores", "extractor.sample_size"):
        assert [(s.start_char, s.end_char, s.label_, s.id_) for s in back.spans[key]] == \
            [(s.start_char, s.end_char, s.label_, s.id_) for s in doc.spans[key]]
    assert all(s.id_ for s in doc.spans["extractor.p_values"])


def test_pipe_with_two_processes(nlp: Language) -> None:
    texts = [TEXT, "Pain (p = 0.02).", ""]
    docs = list(nlp.pipe(texts, n_process=2, batch_size=1))
    assert [len(d._.extractions or []) for d in docs] == [len(nlp(t)._.extractions or []) for t in texts]


def test_component_without_rules_fails_clearly() -> None:
    blank = spacy.blank("en")
    blank.add_pipe("extractor_p_values")
    with pytest.raises(ValueError, match="nlp.initialize"):
        blank("P < 0.05")


def test_component_scorer(nlp: Language) -> None:
    from spacy.training import Example

    example = Example(nlp(TEXT), nlp(TEXT))  # (predicted, reference)
    result = nlp.get_pipe("extractor_p_values").score([example])
    assert result["spans_extractor.p_values_f"] == 1.0
    result = nlp.get_pipe("extractor_resolve").score([example])
    assert result["extractions_p_values_f"] == 1.0


def test_load_pipeline_reports_missing_model(tmp_path: Path) -> None:
    from extractor.errors import ExtractionError

    with pytest.raises(ExtractionError, match="no such model"):
        load_pipeline(tmp_path / "missing")
