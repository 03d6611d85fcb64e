"""The trained headline sample-size ranker: features, gold, component, serialisation, shipped model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language
from spacy.training import Example
from thinc.api import Model
from thinc.types import Floats2d

from extractor.nlp import doc_to_record, load_pipeline
from extractor.nlp.trained import MODEL_NAME, MODEL_VERSION, add_trained_components, default_model_dir
from extractor.nlp.trained.features import NULL_PREFIX, sample_size_features
from extractor.nlp.trained.sample_size_ranker import (
    GOLD_KEY,
    MONOTONE,
    RULE_THRESHOLD,
    SampleSizeRanker,
    chosen_sample_size,
    gold_options,
    make_choice_scorer,
    set_gold,
)

from .conftest import written_entries

TEXT = ("Ketamine for pain after spinal fusion\nWe screened 210 patients; 120 patients were randomized to "
        "ketamine (n = 60) or placebo (n = 60) and 108 patients completed the study.")


def _cand(n: int, start: int, score: float, **features: object) -> dict[str, object]:
    return {"kind": "sample_size", "n": n, "start": start, "end": start + len(str(n)), "sent_start": 0,
            "accept": score > -1.5, "features": {"score": score, "noun": "patients", **features}}


def test_features_describe_each_candidate_and_the_no_headline_option() -> None:
    cands = [_cand(210, 50, -3.0), _cand(120, 70, 3.0), _cand(108, 160, -1.0)]
    arms = [{"kind": "arm_size", "n": 60}, {"kind": "arm_size", "n": 60}]
    rows, null = sample_size_features(TEXT, cands, arms)
    assert len(rows) == 3 and all(k.startswith(NULL_PREFIX) for k in null)
    screened, randomized, completed = rows
    assert screened["is_largest"] == 0.0 and screened["plausible"] == 0.0  # never the largest *plausible*
    assert randomized["is_largest"] == randomized["arm_total"] == randomized["prior_rank0"] == 1.0
    assert completed["prior_margin"] == -4.0 and randomized["first"] == 1.0
    assert null[NULL_PREFIX + "arms_found"] == 1.0 and null[NULL_PREFIX + "best_gap"] == 4.0
    empty_rows, empty_null = sample_size_features(TEXT, [], [])
    assert empty_rows == [] and empty_null[NULL_PREFIX + "no_candidates"] == 1.0


def test_gender_pair_and_denominator_features() -> None:
    text = "Six female and 18 male volunteers; 5/24 had pain."
    f, m = (_cand(6, 0, 0.2, noun="female"), _cand(18, 15, -2.0, noun="male"))
    rows, _ = sample_size_features(text, [f, m], [])
    assert rows[0]["gender_pair"] == rows[1]["gender_pair"] == 1.0
    rows, _ = sample_size_features("24 patients; 5/24 had pain.", [_cand(24, 0, 1.0)], [])
    assert rows[0]["denominator"] == 1.0


def test_gold_options_sets_are_narrowed_by_the_rule_prior() -> None:
    cands = [_cand(210, 0, -3.0), _cand(120, 20, 3.0), _cand(108, 40, -1.0)]
    assert gold_options({"values": [120]}, cands) == [1]
    # a corpus marking both the screened and the randomized count teaches the randomized one
    assert gold_options({"values": [210, 120]}, cands) == [1]
    assert gold_options({"values": [], "complete": True}, cands) == [3]  # "no headline"
    assert gold_options({"values": [], "complete": False}, cands) is None
    assert gold_options({"values": [99]}, cands) is None  # not among the candidates


def _ranker(nlp: Language, scorer: Any = None) -> SampleSizeRanker:
    model: Model[Floats2d, Floats2d] = spacy.registry.architectures.get("extractor.LinearRanker.v1")()
    return SampleSizeRanker(nlp.vocab, model, "extractor_sample_size_ranker", min_count=1,
                            null_offset=RULE_THRESHOLD, scorer=scorer)


def _trained_on_written(rules: Language) -> tuple[Language, SampleSizeRanker]:
    """Rules + a ranker trained for a few passes on the written abstracts (no spacy train loop)."""
    nlp = rules
    docs = list(nlp.pipe(e["text"] for e in written_entries()))
    examples = []
    for doc, e in zip(docs, written_entries(), strict=True):
        n = e["record"]["sample_size"]
        set_gold(doc, [] if n is None else [n], complete=True)
        examples.append(Example(doc, doc))
    ranker = _ranker(nlp, make_choice_scorer())
    ranker.initialize(lambda: examples)
    from thinc.api import Adam

    sgd = Adam(0.05)
    losses: dict[str, float] = {}
    for _ in range(30):
        ranker.update(examples, sgd=sgd, losses=losses)
    return nlp, ranker


def test_component_learns_sets_annotations_and_round_trips(rules_nlp: Language, tmp_path: Path) -> None:
    nlp, ranker = _trained_on_written(rules_nlp)
    docs = list(nlp.pipe(e["text"] for e in written_entries()))
    probs = ranker.predict(docs)
    assert all(abs(p.sum() - 1.0) < 1e-6 for p in probs)
    ranker.set_annotations(docs, probs)
    gold = [e["record"]["sample_size"] for e in written_entries()]
    right = sum(chosen_sample_size(d) == g for d, g in zip(docs, gold, strict=True))
    assert right >= 20  # learned from these very abstracts: most choices are right
    chosen = [c for d in docs for c in d._.candidates if c["kind"] == "sample_size" and c["accept"]]
    assert chosen and all(c["source"] == "model" and c["producer"] == "extractor_sample_size_ranker"
                          and 0.0 <= c["confidence"] <= 1.0 for c in chosen)
    # to_disk writes JSON + .npy only (no pickle) and from_disk restores the same probabilities
    ranker.to_disk(tmp_path / "ranker")
    assert sorted(p.name for p in (tmp_path / "ranker").iterdir()) == ["W.npy", "b.npy", "cfg"]
    np.load(tmp_path / "ranker" / "W.npy", allow_pickle=False)
    json.loads((tmp_path / "ranker" / "cfg").read_text(encoding="utf-8"))
    again = _ranker(nlp)
    again.from_disk(tmp_path / "ranker")
    for a, b in zip(again.predict(docs), probs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    restored = _ranker(nlp)
    restored.from_bytes(ranker.to_bytes())
    np.testing.assert_allclose(restored.predict(docs[:1])[0], probs[0], rtol=1e-6)


def test_untrained_ranker_says_so(rules_nlp: Language) -> None:
    ranker = _ranker(rules_nlp)
    with pytest.raises(ValueError, match="train it"):
        ranker.predict([rules_nlp(TEXT)])
    with pytest.raises(ValueError, match="not a trained"):
        ranker.from_disk(Path("/nonexistent"))


def test_choice_scorer_counts_sets_and_null() -> None:
    nlp = spacy.blank("en")
    a, b, c = nlp("a"), nlp("b"), nlp("c")
    a._.candidates = [{**_cand(120, 0, 1.0), "accept": True, "confidence": 0.9}]
    b._.candidates = [{**_cand(30, 0, 1.0), "accept": False, "confidence": 0.2}]
    c._.candidates = []
    set_gold(a, [210, 120], complete=False)
    set_gold(b, [], complete=True)
    set_gold(c, [], complete=False)  # no usable gold: not counted
    score = make_choice_scorer()([Example(a, a), Example(b, b), Example(c, c)])
    assert score == {"sample_size_choice_acc": 1.0}
    assert GOLD_KEY in a.user_data


# -- the shipped model ------------------------------------------------------------------------------


def test_shipped_model_is_versioned_small_documented_and_pickle_free() -> None:
    model_dir = default_model_dir()
    assert model_dir.name == f"{MODEL_NAME}-{MODEL_VERSION}"
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == MODEL_VERSION and meta["components"] == ["extractor_sample_size_ranker"]
    assert meta["training"]["seed"] is not None and meta["data"]["data_sha1"]
    build = (model_dir / "BUILD.md").read_text(encoding="utf-8")
    assert "extractor train" in build and "painbench dev" in build
    size = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    assert size < 25 * 1024 * 1024
    for p in model_dir.rglob("*"):
        if p.suffix == ".npy":
            np.load(p, allow_pickle=False)
        elif p.is_file() and p.suffix != ".md":
            json.loads(p.read_text(encoding="utf-8"))


def test_load_pipeline_adds_the_trained_ranker_unless_rules_only() -> None:
    trained, rules = load_pipeline(), load_pipeline(rules_only=True)
    names = trained.pipe_names
    assert names.index("extractor_sample_size_ranker") == names.index("extractor_resolve") - 1
    assert "extractor_sample_size_ranker" not in rules.pipe_names
    assert trained.meta["name"] == MODEL_NAME and trained.meta["version"] == MODEL_VERSION
    record = doc_to_record(trained(TEXT), "t")
    assert record.sample_size is not None and record.sample_size.n == 120
    assert record.sample_size.prov.source == "model"
    assert record.sample_size.prov.producer_id == f"{MODEL_NAME}-{MODEL_VERSION}"
    record.check_offsets(TEXT)


def test_trained_pipeline_saves_and_loads_with_spacy_load(tmp_path: Path) -> None:
    nlp = load_pipeline()
    nlp.to_disk(tmp_path / "pipe")
    again = load_pipeline(tmp_path / "pipe")
    assert again.pipe_names == nlp.pipe_names
    assert doc_to_record(again(TEXT), "t").to_dict() == doc_to_record(nlp(TEXT), "t").to_dict()


def test_trained_pipeline_is_not_worse_than_rules_on_the_demo_corpus() -> None:
    path = Path(__file__).resolve().parents[2] / "corpus" / "demo" / "abstracts.jsonl"
    demo = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for nlp in (load_pipeline(), load_pipeline(rules_only=True)):
        right = sum(doc_to_record(nlp(d["text"]), d["id"]).to_dict()["sample_size"]
                    == d["record"]["sample_size"] for d in demo)
        assert right == len(demo)


def test_add_trained_components_needs_a_model_dir(rules_nlp: Language, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        add_trained_components(rules_nlp, tmp_path)


def test_with_zero_weights_the_ranker_chooses_as_the_rules_do(rules_nlp: Language) -> None:
    texts = [e["text"] for e in written_entries()] + [t for t, _ in GUIDELINE]
    docs = list(rules_nlp.pipe(texts))
    rules_choice = [chosen_sample_size(d) for d in docs]
    ranker = _ranker(rules_nlp)
    ranker.initialize(lambda: [Example(d, d) for d in docs])  # features and scaling; weights stay zero
    ranker.set_annotations(docs, ranker.predict(docs))
    assert [chosen_sample_size(d) for d in docs] == rules_choice


def test_training_keeps_prior_weights_monotone(rules_nlp: Language) -> None:
    _, ranker = _trained_on_written(rules_nlp)
    W = ranker.model.get_param("W")[0]
    names = ranker.cfg["features"]
    for name, sign in MONOTONE.items():
        if name in names:
            assert W[names.index(name)] * sign >= 0.0, name


# the guideline's order (randomized > enrolled > analysed; never screened, planned or lost; people,
# not lesions or studies; no total when only arms are given), on sentences written for this test
GUIDELINE: list[tuple[str, int | None]] = [
    ("We screened 412 adults with sciatica; 180 were randomized to surgery or physiotherapy.", 180),
    ("The study was powered for 240 participants, but only 96 women were enrolled.", 96),
    ("Eighty-eight patients were enrolled and 79 were analysed at 12 weeks.", 88),
    ("Patients were allocated to celecoxib (n = 45) or placebo (n = 47).", None),
    ("We included 64 children with 71 fractures.", 64),
    ("A total of 1,018 patients from 12 trials were pooled.", 1018),
    ("Fifty-two volunteers took part; 6 dropped out.", 52),
    ("Two hundred patients were enrolled; 164 were followed up at one year.", 200),
]


@pytest.mark.parametrize(("text", "n"), GUIDELINE)
def test_shipped_pipeline_follows_the_guideline(text: str, n: int | None) -> None:
    record = doc_to_record(_shipped()(text), "g")
    assert (None if record.sample_size is None else record.sample_size.n) == n


_PIPE: list[Language] = []


def _shipped() -> Language:
    if not _PIPE:
        _PIPE.append(load_pipeline())
    return _PIPE[0]


DENOMINATOR_WORDS = ["of", " ", "the ", "1", "23", "/", " / ", "o", "f", "x", "\n", "é", "_", "٣", "of the",
                     "3/", "prof", "of-"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(DENOMINATOR_WORDS), max_size=30))
def test_denominator_parts_find_what_the_pattern_finds(words: list[str]) -> None:
    """The denominator scan, split in two merged searches, gives exactly the single pattern's
    matches."""
    from extractor.nlp.trained import features

    text = "".join(words)
    merged = [(m.span(), m.group(1)) for m in features.denominator_matches(text)]
    single = [(m.span(), m.group(1) or m.group(2)) for m in features._DENOMINATOR.finditer(text)]
    assert merged == single
