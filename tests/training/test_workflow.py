"""`extractor train` end to end on a tiny corpus: the smoke run, reproducibility, reviews, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from spacy.tokens import DocBin

from extractor.cli import app
from extractor.errors import InputError
from extractor.nlp import build_pipeline, doc_to_record
from extractor.nlp.trained import add_trained_components
from extractor.nlp.trained.sample_size_ranker import get_gold
from extractor.records import Abstract, ExtractionRecord, Provenance, PValue, SampleSize
from extractor.review.store import Store
from extractor.training.convert import ENTRY_KEY
from extractor.training.reviews import entries_from_store
from extractor.training.workflow import Settings, run


def _settings(tmp: Path, corpus: Path, name: str, reviews: tuple[Path, ...] = ()) -> Settings:
    return Settings(corpus=(corpus,), shared=None, reviews=reviews, build_dir=tmp / name / "build",
                    model_dir=tmp / name / "model", max_epochs=4, evaluate_painbench=False,
                    overrides=(("training.eval_frequency", 2),))


def _quiet(_msg: str) -> None:
    pass


def test_smoke_training_run_is_reproducible(tiny_corpus: Path, tmp_path: Path) -> None:
    first = run(_settings(tmp_path, tiny_corpus, "a"), log=_quiet, command="pytest")
    second = run(_settings(tmp_path, tiny_corpus, "b"), log=_quiet, command="pytest")
    model = tmp_path / "a" / "model"
    assert sorted(p.name for p in model.iterdir()) == [
        "BUILD.md", "extractor_sample_size_ranker", "meta.json"]
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    assert meta["data"]["examples"] == {"train": 7, "tune": 1}
    assert meta["training"]["seed"] == 1 and meta["command"] == "pytest"
    assert "| metric | rules | trained |" in (model / "BUILD.md").read_text(encoding="utf-8")
    # same data, same seed -> the same weights and the same scores
    for name in ("W.npy", "b.npy"):
        a = np.load(model / "extractor_sample_size_ranker" / name, allow_pickle=False)
        b = np.load(tmp_path / "b" / "model" / "extractor_sample_size_ranker" / name, allow_pickle=False)
        assert np.array_equal(a, b)
    assert first["evaluate"] == second["evaluate"]
    assert first["convert"]["data_sha1"] == second["convert"]["data_sha1"]
    held = first["evaluate"]["held_out"]
    assert held["rules"]["written"]["abstracts"] == held["trained"]["written"]["abstracts"] == 2
    # the packaged model plugs into the rules pipeline
    nlp = add_trained_components(build_pipeline(), model)
    assert "extractor_sample_size_ranker" in nlp.pipe_names
    doc = nlp("Heat for dysmenorrhoea\nSixty women were randomized to heat or ibuprofen (p = 0.02).")
    doc_to_record(doc, "x").check_offsets(doc.text)


# -- reviews ---------------------------------------------------------------------------------------

T_CORRECT = ("Heat wraps for primary dysmenorrhoea: a randomized trial\nOf 180 women screened, 64 were "
             "randomized to heat wraps or ibuprofen. Pain fell in both groups (p < 0.001).")
T_REJECT = ("Ketamine versus placebo for migraine in the emergency department\nPatients were randomized to "
            "ketamine (n = 21) or placebo (n = 19). Relief at 1 hour did not differ (p = 0.44).")
T_ADD = ("Lavender oil massage for labour pain\nForty women in active labour received massage with lavender "
         "oil. Pain scores fell after 30 minutes (p = 0.01).")
T_OPEN = ("Cold therapy after knee arthroscopy\nThirty patients used a cold-therapy device for 3 days. Pain "
          "was lower than in historical controls (p = 0.03).")


def _prov(text: str, evidence: str, producer: str = "extractor_sample_size") -> Provenance:
    start = text.index(evidence)
    return Provenance(start=start, end=start + len(evidence), evidence=evidence, producer=producer)


def _p(text: str, evidence: str, value: float) -> PValue:
    return PValue(op="<" if "<" in evidence else "=", value=value,
                  prov=_prov(text, evidence, "extractor_p_values"))


def make_review_store(path: Path) -> Path:
    """A review store filled and reviewed through the Store API."""
    texts = {"PMID:9001": T_CORRECT, "PMID:9002": T_REJECT, "PMID:9003": T_ADD, "PMID:9004": T_OPEN}
    records = [
        ExtractionRecord.from_values("PMID:9001", [SampleSize(n=180, prov=_prov(T_CORRECT, "180")),
                                                   _p(T_CORRECT, "p < 0.001", 0.001)]),
        ExtractionRecord.from_values("PMID:9002", [SampleSize(n=21, prov=_prov(T_REJECT, "21")),
                                                   _p(T_REJECT, "p = 0.44", 0.44)]),
        ExtractionRecord.from_values("PMID:9003", [_p(T_ADD, "p = 0.01", 0.01)]),
        ExtractionRecord.from_values("PMID:9004", [SampleSize(n=30, prov=_prov(T_OPEN, "Thirty"))]),
    ]
    with Store(path) as store:
        store.add_abstracts(Abstract(id=i, text=t) for i, t in texts.items())
        store.add_records(records, run="rules 0.1")
        for aid in ("PMID:9001", "PMID:9002", "PMID:9003"):
            for item in store.state(aid).undecided("alice"):
                v = item.value
                if aid == "PMID:9001" and v.kind == "sample_size":
                    store.edit(item.id, "alice", item.version("alice"),
                               SampleSize(n=64, prov=_prov(T_CORRECT, "64", "alice")))
                elif aid == "PMID:9002" and v.kind == "sample_size":
                    store.reject(item.id, "alice", item.version("alice"))
                else:
                    store.accept(item.id, "alice", item.version("alice"))
            if aid == "PMID:9003":
                store.add_value(aid, "alice", SampleSize(n=40, prov=_prov(T_ADD, "Forty", "alice")))
            store.finish(aid, "alice")
        # PMID:9004 is not finished: not a complete annotation, not used
    return path


def test_reviewed_values_become_training_entries(tmp_path: Path) -> None:
    entries, problems = entries_from_store(make_review_store(tmp_path / "review.db"))
    assert problems == []
    by_id = {e.id: e for e in entries}
    assert sorted(by_id) == ["PMID:9001", "PMID:9002", "PMID:9003"]
    assert by_id["PMID:9001"].sample_size_gold() == ([64], True)  # corrected
    assert by_id["PMID:9002"].sample_size_gold() == ([], True)  # rejected, none added: no headline
    assert by_id["PMID:9003"].sample_size_gold() == ([40], True)  # added by the reviewer
    for e in entries:
        assert e.origin == "review" and e.split in ("train", "tune")
        ExtractionRecord.from_dict(e.record).check_offsets(e.text)


def test_train_with_reviews_adds_them_to_the_training_data(tiny_corpus: Path, tmp_path: Path) -> None:
    store = make_review_store(tmp_path / "review.db")
    settings = _settings(tmp_path, tiny_corpus, "r", reviews=(store,))
    out = run(settings, steps=("convert",), log=_quiet)
    assert out["convert"]["reviews"][0]["abstracts"] == 3
    gold = {}
    for split in ("train", "tune"):
        db = DocBin(store_user_data=True).from_disk(settings.build_dir / f"{split}.spacy")
        for doc in db.get_docs(build_pipeline().vocab):
            entry = doc.user_data[ENTRY_KEY]
            if entry["origin"] == "review":
                gold[entry["id"]] = get_gold(doc)
    assert {k: (list(v["values"]), v["complete"]) for k, v in gold.items()} == {
        "PMID:9001": ([64], True), "PMID:9002": ([], True), "PMID:9003": ([40], True)}
    assert all(v["weight"] == 3.0 for v in gold.values())


def test_a_reviewed_abstract_held_out_in_the_corpus_is_not_trained_on(tiny_corpus: Path,
                                                                       tmp_path: Path) -> None:
    dev_entry = json.loads(tiny_corpus.read_text(encoding="utf-8").splitlines()[-1])
    assert dev_entry["split"] == "dev"
    path = tmp_path / "held.db"
    with Store(path) as store:
        store.add_abstracts([Abstract(id=dev_entry["id"], text=dev_entry["text"])])
        n = dev_entry["record"]["sample_size"]
        start = dev_entry["text"].index(str(n))
        store.add_value(dev_entry["id"], "bob", SampleSize(n=n, prov=Provenance(
            start=start, end=start + len(str(n)), evidence=str(n), producer="bob")))
        store.finish(dev_entry["id"], "bob")
    out = run(_settings(tmp_path, tiny_corpus, "h", reviews=(path,)), steps=("convert",), log=_quiet)
    assert out["convert"]["reviews"][0]["abstracts"] == 1
    assert any(x["id"] == dev_entry["id"] and "dev" in x["reason"] for x in out["convert"]["excluded"])


def test_cli_train_reports_a_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from extractor.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["train", "--with-reviews", str(tmp_path / "none.db"), "--build-dir", str(tmp_path / "b"),
              "--steps", "convert"])
    assert exc.value.code == InputError.exit_code
    assert "no such review store" in capsys.readouterr().err
    assert app.registered_commands  # the train command is registered


def test_cli_train_rejects_unknown_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from extractor.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--steps", "convert,deploy", "--build-dir", str(tmp_path / "b")])
    assert "unknown step" in capsys.readouterr().err
