"""`extractor fetch ... --store DB` fills the review store; deletions remove abstracts from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.review.store import NotFoundError, Store

RUNNER = CliRunner()


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _ids(db: Path) -> set[str]:
    with Store(db) as store:
        rows, total = store.queue(filter="all", limit=100)
    assert total == len(rows)
    return {r.id for r in rows}


def test_fetch_file_fills_store_and_applies_deletions(tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    first = _write(tmp_path / "a.jsonl", [
        {"id": "101", "title": "T1", "text": "T1\nVAS fell from 7.0 ± 1.2 to 3.1 ± 1.9 (p < 0.001)."},
        {"id": "102", "title": "T2", "text": "T2\nForty patients were randomized."},
    ])
    res = RUNNER.invoke(app, ["fetch", "file", str(first), "--out", str(tmp_path / "o1.jsonl"),
                              "--store", str(db), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert _ids(db) == {"101", "102"}
    with Store(db) as store:
        assert store.state("101").abstract.text.endswith("(p < 0.001).")

    second = _write(tmp_path / "b.jsonl", [{"id": "101", "deleted": True}])
    res = RUNNER.invoke(app, ["fetch", "file", str(second), "--out", str(tmp_path / "o2.jsonl"),
                              "--store", str(db), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "1 deleted" in res.output
    assert _ids(db) == {"102"}
    with Store(db) as store, pytest.raises(NotFoundError):
        store.state("101")
