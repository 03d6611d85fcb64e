"""`extractor demo`: the whole job on the bundled corpus, end to end (no network, no ../shared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app, main
from extractor.io import read_records
from extractor.records import Problem
from extractor.review.store import Store

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "demo" / "abstracts.jsonl"


def test_demo_writes_every_output_and_pools(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("extractions.jsonl", "extractions.csv", "pool_result.json", "pool_table.csv",
                 "forest.png", "forest.svg", "funnel.png", "review.db"):
        assert (out / name).is_file(), name
    assert (out / "forest.png").read_bytes().startswith(b"\x89PNG")

    texts = {json.loads(line)["id"]: json.loads(line)["text"]
             for line in CORPUS.read_text(encoding="utf-8").splitlines()}
    records = [r for r in read_records(out / "extractions.jsonl") if not isinstance(r, Problem)]
    assert len(records) == len(texts) >= 12
    for rec in records:
        rec.check_offsets(texts[rec.id])
    csv_ids = {r.id for r in read_records(out / "extractions.csv") if not isinstance(r, Problem)}
    assert csv_ids == set(texts)

    pooled = json.loads((out / "pool_result.json").read_text(encoding="utf-8"))
    assert pooled["measure"] == "SMCC" and pooled["method"] == "REML"
    assert pooled["k"] >= 5 and pooled["result"] is not None
    result = pooled["result"]
    assert result["ci_lb"] < result["b"] < result["ci_ub"] < 0  # pain falls after treatment
    assert "SMCC at 4w" in res.output
    assert "sample_size accuracy" in res.output
    assert f"review {out / 'review.db'}" in res.output

    with Store(out / "review.db") as store:
        rows, total = store.queue(filter="all", limit=100)
    assert total == len(texts)


def test_demo_rejects_a_bad_timepoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--out", str(tmp_path), "--timepoint", "soon"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--timepoint 'soon': not a time point" in err and "Traceback" not in err
