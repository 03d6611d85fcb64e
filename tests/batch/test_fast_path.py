"""Deciding the pre-filter on raw PubMed bytes changes nothing in a run's output: the same
partitions, values.parquet, deleted.parquet, journal and counts as parsing every record first
(``--parse-all``) — on the test dump, on every real PubMed file under ../shared/data/fetch, and on
a generated baseline-format file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from extractor.batch import BatchOptions, run_batch
from extractor.fetch.sources import detect_format

from .conftest import Dump, run_cli, snapshot

REPO = Path(__file__).resolve().parents[2]


def both(sources: list[Path], tmp: Path, chunk_size: int, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    snaps = []
    for parse_all in (False, True):
        out = tmp / f"out-{'full' if parse_all else 'fast'}"
        result = run_batch(BatchOptions(sources=tuple(sources), out=out, chunk_size=chunk_size,
                                        progress=False, parse_all=parse_all, **kw))
        assert result.complete
        snaps.append(snapshot(out))
    return snaps[0], snaps[1]


def test_dump_fast_equals_parse_all(dump: Dump, tmp_path: Path) -> None:
    fast, full = both(dump.files, tmp_path, 7)
    assert fast == full
    assert fast["totals"]["skipped"] > 10 and fast["deleted"]


def test_cli_parse_all_flag(dump: Dump, tmp_path: Path) -> None:
    fast = tmp_path / "fast"
    run_batch(BatchOptions(sources=(dump.baseline, dump.update1), out=fast, progress=False))
    full = tmp_path / "full"
    done = run_cli("run", dump.baseline, dump.update1, "--out", full, "--workers", "1", "--no-progress",
                   "--parse-all")
    assert done.returncode == 0, done.stderr
    assert snapshot(fast) == snapshot(full)


def _pubmed_files(root: Path) -> list[Path]:
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and (p.name.endswith(".xml") or p.name.endswith(".xml.gz")):
            try:
                if detect_format(p) == "pubmed-xml":
                    files.append(p)
            except Exception:  # noqa: BLE001  (not a readable XML file: not PubMed XML)
                continue
    return files


@pytest.mark.shared
def test_real_pubmed_files_fast_equals_parse_all(shared: Path, tmp_path: Path) -> None:
    """All real PubMed XML under ../shared/data/fetch (baseline and update samples with deletions,
    efetch files, medsamp): same output either way."""
    files = _pubmed_files(shared / "data" / "fetch")
    assert len(files) > 150
    fast, full = both(files, tmp_path, 50)
    assert fast == full
    totals = fast["totals"]
    assert totals["deletions"] > 200 and totals["skipped"] > 300 and totals["extracted"] > 5


@pytest.mark.shared
@pytest.mark.slow
def test_generated_baseline_file_fast_equals_parse_all(shared: Path, tmp_path: Path) -> None:
    """A baseline-format file built like benchmarks/batch_bench.py does (1,500 records here)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from batch_bench import build
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    path = tmp_path / "pubmed26n9001.xml.gz"
    build(path, 1500)
    fast, full = both([path], tmp_path, 500)
    assert fast == full
    manifest = json.loads((tmp_path / "out-fast" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["read"] == 1500 and manifest["totals"]["extracted"] > 100
