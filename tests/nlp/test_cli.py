"""`extractor extract` and `extractor evaluate`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import app, main
from extractor.io import read_records

RUNNER = CliRunner()

ABSTRACT = ("Title\nForty patients were randomized. The VAS pain score fell from 6.1 ± 1.2 at baseline "
            "to 2.4 ± 1.1 at 6 weeks (p < 0.001).")


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write_input(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_extract_writes_every_format(tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_input(tmp_path / "in.jsonl", [json.dumps({"id": "pmid:1", "text": ABSTRACT}),
                                              json.dumps({"id": "pmid:2", "text": "No data."})])
    out = tmp_path / f"out{suffix}"
    code, _, err = run_cli(["extract", str(src), "--out", str(out), "--no-progress"], capsys)
    assert code == 0, err
    assert "records 2" in err and "problems 0" in err
    records = list(read_records(out))
    assert [r.id for r in records] == ["pmid:1", "pmid:2"]
    first = records[0]
    assert first.sample_size is not None and first.sample_size.n == 40
    assert [s.value for s in first.scores] == [6.1, 2.4]
    first.check_offsets(ABSTRACT)


def test_extract_reports_bad_lines_and_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_input(tmp_path / "in.jsonl", [
        json.dumps({"id": "a", "text": ABSTRACT}),
        "{not json",
        json.dumps({"text": "no id"}),
        json.dumps({"id": "b", "text": ABSTRACT}),
    ])
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(["extract", str(src), "--out", str(out), "--no-progress"], capsys)
    assert code != 0
    assert f"{src}:2" in err and "problems 1" in err
    # a line without an id gets the fetch stage's generated id "<file stem>:<line>"
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "in:3", "b"]


def test_extract_rejects_unknown_output_and_missing_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_input(tmp_path / "in.jsonl", [json.dumps({"id": "a", "text": ABSTRACT})])
    code, _, err = run_cli(["extract", str(src), "--out", str(tmp_path / "out.xml")], capsys)
    assert code == 2 and "unknown output type" in err
    missing = tmp_path / "missing.jsonl"
    code, _, err = run_cli(["extract", str(missing), "--out", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2 and "no such file" in err


def test_extract_with_a_saved_model_and_two_processes(tmp_path: Path, nlp: object,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    nlp.to_disk(tmp_path / "model")  # type: ignore[attr-defined]
    src = write_input(tmp_path / "in.jsonl", [json.dumps({"id": str(i), "text": ABSTRACT}) for i in range(5)])
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(["extract", str(src), "--out", str(out), "--model", str(tmp_path / "model"),
                            "--n-process", "2", "--batch-size", "2", "--no-progress"], capsys)
    assert code == 0, err
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["0", "1", "2", "3", "4"]


def test_extract_stream_loads_the_pipeline_anew_when_its_vocabulary_fills() -> None:
    import random
    import string

    from extractor.commands.extract import extract_stream
    from extractor.nlp import extract, load_pipeline
    from extractor.records import Abstract

    rng = random.Random(3)

    def word() -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=9))

    def text() -> str:
        return (f"{word().capitalize()} for pain in {rng.randint(20, 300)} patients: VAS "
                f"{rng.randint(3, 8)}.{rng.randint(0, 9)} vs {rng.randint(1, 5)}.{rng.randint(0, 9)} "
                f"(p = 0.0{rng.randint(1, 4)}). " + " ".join(word() for _ in range(20)) + ".")

    abstracts = [Abstract(id=str(i), text=text()) for i in range(60)]
    loaded = []

    def load() -> Any:
        loaded.append(load_pipeline(rules_only=True))
        return loaded[-1]

    first = load()
    limit = len(first.vocab.strings) + 300  # a segment of 2 batches of 4 brings ~8 × 25 new strings
    records = list(extract_stream(first, iter(abstracts), load, batch_size=4, vocab_limit=limit,
                                  segment_batches=2))
    assert len(loaded) >= 4  # renewed every other segment or so
    assert all(len(nlp.vocab.strings) < limit + 400 for nlp in loaded)
    alone = list(extract(load_pipeline(rules_only=True), abstracts, batch_size=4))
    assert [r.to_dict() for r in records] == [r.to_dict() for r in alone]
    assert sum(len(list(r.values())) for r in records) >= 120  # sample sizes, scores, p-values


def test_extract_command_lets_go_of_a_full_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """When `extractor extract` loads its pipeline anew, the full one is freed before the new one
    is loaded (nothing keeps it: two full vocabularies would double the memory)."""
    import gc
    import weakref

    import extractor.nlp
    import extractor.nlp.pipeline

    loaded: list[weakref.ref[Any]] = []
    alive_at_reload: list[bool] = []
    real_load = extractor.nlp.load_pipeline

    def load(*args: Any, **kwargs: Any) -> Any:
        gc.collect()
        alive_at_reload.extend(ref() is not None for ref in loaded)
        nlp = real_load(*args, **kwargs)
        loaded.append(weakref.ref(nlp))
        return nlp

    # a fresh pipeline's vocabulary is not full, one that has read a segment (160 batches of 1) is
    fresh = len(real_load(rules_only=True).vocab.strings)
    monkeypatch.setattr(extractor.nlp, "load_pipeline", load)
    monkeypatch.setattr(extractor.nlp.pipeline, "VOCAB_LIMIT", fresh)
    lines = [json.dumps({"id": str(i), "text": ABSTRACT}) for i in range(330)]
    src = write_input(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    code, _, err = run_cli(["extract", str(src), "--out", str(out), "--batch-size", "1", "--rules-only",
                            "--no-progress"], capsys)
    assert code == 0, err
    assert len(out.read_text().splitlines()) == 330
    assert len(loaded) == 3  # the first pipeline, and one before each segment after a full one
    assert alive_at_reload == [False, False, False]


def test_evaluate_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = write_input(tmp_path / "gold.jsonl", [json.dumps({
        "id": "a", "sample_size": 40, "arm_sizes": [], "scales": ["VAS"],
        "scores": [{"value": 6.1, "stat": "mean", "spread": "sd", "spread_values": [1.2], "days": 0}],
        "proportions": [], "p_values": [{"op": "<", "value": 0.001}]})])
    src = write_input(tmp_path / "in.jsonl", [json.dumps({"id": "a", "text": ABSTRACT})])
    pred = tmp_path / "pred.jsonl"
    assert run_cli(["extract", str(src), "--out", str(pred), "--no-progress"], capsys)[0] == 0
    code, out, _ = run_cli(["evaluate", str(gold), str(pred)], capsys)
    assert code == 0
    assert "sample_size accuracy: 1.000" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
    assert lines["p_values"][1:4] == ["1.000", "1.000", "1.000"]
    assert lines["scores"][2] == "1.000" and lines["scores"][1] == "0.500"  # 1 of 2 predicted is gold
    assert "days accuracy (matched scores, gold not null): 1.000 (1/1)" in out
    code, out, _ = run_cli(["evaluate", str(gold), str(pred), "--json"], capsys)
    assert json.loads(out)["sample_size_accuracy"] == 1.0
    assert json.loads(out)["diagnostics"]["days"] == {"correct": 1, "total": 1, "accuracy": 1.0}


@pytest.mark.shared
def test_evaluate_agrees_with_the_painbench_scorer(shared: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Our scoring reimplementation gives the same numbers as ../shared/painbench/score.py (which has
    no "diagnostics")."""
    pred = tmp_path / "pred.jsonl"
    code, _, err = run_cli(["extract", str(shared / "painbench" / "pool.jsonl"), "--out", str(pred),
                            "--no-progress"], capsys)
    assert code == 0, err
    gold = shared / "painbench" / "dev.jsonl"
    code, ours, _ = run_cli(["evaluate", str(gold), str(pred), "--json"], capsys)
    theirs = subprocess.run([sys.executable, str(shared / "painbench" / "score.py"), str(gold), str(pred),
                             "--json"], capture_output=True, text=True, check=True).stdout
    ours_result = json.loads(ours)
    assert set(ours_result.pop("diagnostics")) == {"days", "n"}
    assert ours_result == json.loads(theirs)


def test_extract_reads_pubmed_xml_and_fills_the_store(tmp_path: Path) -> None:
    """Any fetch format is accepted, and --store gets the abstracts and their values."""
    from extractor.review.store import Store

    xml = tmp_path / "one.xml"
    xml.write_text(
        '<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE">'
        '<PMID Version="1">424242</PMID><Article><ArticleTitle>Cryoablation for bone pain</ArticleTitle>'
        "<Abstract><AbstractText Label=\"RESULTS\">Thirty patients were treated. The mean NRS fell from "
        "7.2 &#177; 1.5 at baseline to 3.0 &#177; 2.1 at 4 weeks (<i>P</i>&lt;0.001).</AbstractText>"
        "</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>",
        encoding="utf-8",
    )
    db = tmp_path / "review.db"
    out = tmp_path / "out.jsonl"
    res = RUNNER.invoke(app, ["extract", str(xml), "--out", str(out), "--store", str(db), "--no-progress"])
    assert res.exit_code == 0, res.output
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["id"] == "424242" and rec["sample_size"] == 30
    assert [s["value"] for s in rec["scores"]] == [7.2, 3.0]
    assert rec["p_values"][0]["op"] == "<" and rec["p_values"][0]["value"] == 0.001
    with Store(db) as store:
        state = store.state("424242")
        stored = sorted(item.value.prov.evidence for item in state.values)
    assert "7.2 ± 1.5" in stored and "P<0.001" in stored
