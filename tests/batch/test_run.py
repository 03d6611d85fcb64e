"""`extractor run` on small dumps: correct final table, deletions, versions, counts, resume rules."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from extractor.batch import BatchOptions, Prefilter, read_values, run_batch
from extractor.batch.output import locked_output
from extractor.batch.prefilter import make_config
from extractor.errors import InputError
from extractor.fetch import DumpMerger, iter_source
from extractor.io import read_records
from extractor.nlp import extract, load_pipeline
from extractor.records import Abstract, Deletion, Problem

from .conftest import Dump, run_cli, snapshot

CHUNK = 7


def opts(sources: list[Path], out: Path, **kw: Any) -> BatchOptions:
    return BatchOptions(sources=tuple(sources), out=out, chunk_size=CHUNK, progress=False, **kw)


@pytest.fixture(scope="module")
def reference(dump: Dump, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "out"
    run_batch(opts(dump.files, out))
    return out


def expected_final(files: list[Path], prefilter: Prefilter) -> tuple[list[dict[str, Any]], set[str]]:
    """The final table computed another way: fetch's DumpMerger applies the files in order (last
    event of an id wins), then the pre-filter and the pipeline run on what is left."""
    nlp = load_pipeline()
    with DumpMerger() as merger:
        for path in files:
            for item in iter_source(path):
                assert not isinstance(item, Problem), item
                merger.add(item)
        final = list(merger.final())
    deleted = {d.id for d in final if isinstance(d, Deletion)}
    kept = [a for a in final if isinstance(a, Abstract) and prefilter.reason(a) is None]
    rows = []
    for a, record in zip(kept, extract(nlp, kept), strict=True):
        for row in record.to_rows():
            row.update(source_file=str(Path(a.metadata.get("file") or files[-1]).resolve()),
                       version=a.metadata.get("version"))
            rows.append(row)
    return rows, deleted


def _norm(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        r = dict(r)
        for k in ("days", "value", "percent", "p", "confidence"):
            if r.get(k) is not None:
                r[k] = float(r[k])
        out.append(r)
    return out


def test_final_table_equals_extraction_of_the_merged_dump(dump: Dump, reference: Path) -> None:
    rows, deleted = expected_final(dump.files, Prefilter())
    got = read_values(reference).to_pylist()
    # the JSONL rows carry no 'file' metadata: their source file is the JSONL itself
    assert _norm(got) == _norm(rows)
    assert {r["id"] for r in pq.read_table(reference / "deleted.parquet").to_pylist()} == deleted
    assert deleted == dump.deleted_final
    assert not deleted & {r["id"] for r in got}


def test_later_versions_and_deletions_win(dump: Dump, reference: Path) -> None:
    values = read_values(reference).to_pylist()
    by_id: dict[str, set[str]] = {}
    for r in values:
        by_id.setdefault(r["id"], set()).add(r["source_file"])
    assert all(len(s) == 1 for s in by_id.values())  # one version per id
    base = 31000000
    assert by_id[str(base + 0)] == {str(dump.update1)}   # re-issued: the update's version
    assert by_id[str(base + 12)] == {str(dump.update2)}  # deleted, then re-added
    assert by_id[str(base + 4)] == {str(dump.jsonl)}     # same id in the JSONL read last
    for pmid in (base + 1, base + 17, base + 26):        # re-issued as non-pain: now skipped
        assert str(pmid) not in by_id
    assert str(base + 2) not in by_id                    # non-pain in the baseline: skipped
    assert by_id[str(base + 7)] == {str(dump.baseline)}  # untouched baseline record


def test_counts_and_manifest(dump: Dump, reference: Path) -> None:
    n_items = Counter[str]()
    for path in dump.files:
        for item in iter_source(path):
            n_items["deletions" if isinstance(item, Deletion) else "abstracts"] += 1
    manifest = json.loads((reference / "manifest.json").read_text(encoding="utf-8"))
    t = manifest["totals"]
    assert t["read"] == n_items["abstracts"] + n_items["deletions"]
    assert t["deletions"] == n_items["deletions"] == 5
    assert t["abstracts"] == t["extracted"] + t["skipped"] == n_items["abstracts"]
    assert t["failed"] == 0
    assert set(t["skipped_by_reason"]) == {"no pain terms", "no numbers", "no abstract"}
    assert sum(t["skipped_by_reason"].values()) == t["skipped"]
    assert t["values"] == sum(t["values_by_kind"].values()) > 0
    assert manifest["complete"] is True
    assert [f["finished"] for f in manifest["files"]] == [True] * 4
    assert sum(p["items"] for p in manifest["partitions"]) == t["read"]
    on_disk = {f"parts/{p.name}" for p in (reference / "parts").iterdir()}
    assert {p["path"] for p in manifest["partitions"]} == on_disk
    final = manifest["final"]
    assert final["deleted_ids"] == len(dump.deleted_final)
    assert final["records"] == len({r["id"] for r in read_values(reference).to_pylist()})
    assert final["superseded_or_deleted"] > 0
    assert manifest["runs"][-1]["records"] == t["read"]


def test_partitions_hold_every_event_with_its_reason(reference: Path) -> None:
    rows = [r for p in sorted((reference / "parts").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    statuses = Counter(r["status"] for r in rows)
    assert set(statuses) == {"extracted", "skipped", "deleted"}
    for r in rows:
        if r["status"] != "extracted":
            assert r["kind"] is None
        assert (r["reason"] is not None) == (r["status"] == "skipped")
    seqs = [r["seq"] for r in rows]
    assert seqs == sorted(seqs)


def test_values_table_reads_back_as_records(reference: Path) -> None:
    records = [r for r in read_records(reference / "values.parquet") if not isinstance(r, Problem)]
    assert records and all(r.id for r in records)
    assert sum(len(list(r.values())) for r in records) == \
        json.loads((reference / "manifest.json").read_text())["final"]["value_rows"]


def test_rerun_is_a_no_op(dump: Dump, reference: Path, tmp_path: Path) -> None:
    before = snapshot(reference)
    result = run_batch(opts(dump.files, reference))
    assert result.resumed and result.chunks_this_run == 0 and result.records_this_run == 0
    assert snapshot(reference) == before


def test_pipeline_identity_is_stable_across_config_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    # spaCy renormalises [training.score_weights] on each read of nlp.config (0.51 reads 0.52 from the
    # second read on); a run started before and resumed after such a read must still match
    from extractor.batch import worker
    from extractor.batch.runner import _pipeline_identity
    from extractor.batch.worker import pipeline

    monkeypatch.setattr(worker, "_PIPELINES", {})  # a freshly loaded pipeline, whatever ran before
    first = _pipeline_identity(None)
    for _ in range(3):
        pipeline(None).config.to_str()
    assert _pipeline_identity(None) == first


def test_partition_rows_are_in_item_order_when_the_pipeline_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # a chunk whose only extracted abstract fails has no value rows: its failed row and the skipped
    # rows must still come in item order (failure injected: no real abstract makes the pipeline fail)
    import extractor.nlp
    from extractor.batch.chunks import ChunkInput, Event
    from extractor.batch.worker import build_table

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("injected")

    monkeypatch.setattr(extractor.nlp, "extract", broken)
    chunk = ChunkInput(0, 0, 0, 3, "in.jsonl", abstracts=[(1, Abstract(id="b", text="Pain 3"))],
                       events=[Event(0, "a", "skipped", "no numbers", None),
                               Event(2, "c", "skipped", "no pain terms", None)])
    counts: Counter[str] = Counter()
    table, events = build_table(chunk, None, 8, counts)
    assert table.column("id").to_pylist() == ["a", "b", "c"]
    assert table.column("status").to_pylist() == ["skipped", "failed", "skipped"]
    assert [e[0] for e in events] == ["a", "b", "c"]
    assert counts["failed: pipeline error"] == 1 and counts["skipped"] == 2


def test_files_added_at_the_end_are_new_work(dump: Dump, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_batch(opts(dump.files[:2], out))
    assert first.complete
    second = run_batch(opts(dump.files, out))
    assert second.resumed and second.chunks_this_run == 3  # update 2: one chunk; the JSONL: two
    assert snapshot(out)["values"] == snapshot(reference)["values"]
    assert snapshot(out)["parts"] == snapshot(reference)["parts"]


def test_changed_inputs_or_settings_are_refused(dump: Dump, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(dump.jsonl.read_bytes())
    out = tmp_path / "out"
    run_batch(opts([src], out))
    with pytest.raises(InputError, match="other settings.*chunk_size"):
        run_batch(BatchOptions(sources=(src,), out=out, chunk_size=3, progress=False))
    with pytest.raises(InputError, match="other settings.*prefilter"):
        run_batch(opts([src], out, prefilter=make_config(enabled=False)))
    with pytest.raises(InputError, match="in the same order"):
        run_batch(opts([dump.baseline], out))
    with src.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "new", "text": "Pain in 3 knees"}) + "\n")
    with pytest.raises(InputError, match="changed since this run started"):
        run_batch(opts([src], out))
    result = run_batch(opts([src], out, restart=True))
    assert not result.resumed and result.totals["read"] == 9


def test_output_folder_rules(dump: Dump, tmp_path: Path) -> None:
    stranger = tmp_path / "busy"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not empty and holds no batch run"):
        run_batch(opts([dump.jsonl], stranger))
    out = tmp_path / "out"
    with locked_output(out), pytest.raises(InputError, match="another `extractor run`"):
        run_batch(opts([dump.jsonl], out))
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is a file"):
        run_batch(opts([dump.jsonl], a_file))


def test_without_prefilter_every_abstract_is_extracted(dump: Dump, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_batch(opts(dump.files, out, prefilter=make_config(enabled=False)))
    assert result.totals["skipped"] == 0
    assert result.totals["extracted"] == result.totals["abstracts"]
    everything = read_values(out).to_pylist()
    filtered = read_values(reference).to_pylist()
    ids = {r["id"] for r in filtered}
    # the pre-filter changes which records are extracted, never what is extracted from them
    assert [r for r in everything if r["id"] in ids] == filtered
    assert len({r["id"] for r in everything}) > len(ids)


def test_unreadable_input_is_counted_and_the_rest_kept(dump: Dump, tmp_path: Path) -> None:
    bad_jsonl = tmp_path / "bad.jsonl"
    lines = dump.jsonl.read_text(encoding="utf-8").splitlines()
    bad_jsonl.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n", encoding="utf-8")
    cut = tmp_path / "cut.xml.gz"
    data = gzip.decompress(dump.baseline.read_bytes())
    cut.write_bytes(gzip.compress(data[: len(data) // 2]))
    out = tmp_path / "out"
    result = run_batch(opts([bad_jsonl, cut], out))
    assert result.failed == 2
    assert result.totals["failed_by_reason"] == {"unreadable": 2}
    assert any("not valid JSON" in p for p in result.problems)
    assert any("cut-off XML" in p or "truncated" in p for p in result.problems)
    assert result.totals["read"] >= 2 + 10


def test_summary_quotes_the_first_problems_and_counts_them_all(tmp_path: Path) -> None:
    # 300 broken lines in chunks of 10: every chunk keeps its problems, the summary the first 200
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(f"{{broken line {i}\n" for i in range(300)), encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("run", broken, "--out", out, "--workers", "1", "--chunk-size", "10", "--no-progress")
    assert done.returncode == 1, done.stderr  # records failed
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["failed_by_reason"] == {"unreadable": 300}
    assert len(manifest["problems"]) == 200
    first, last = manifest["problems"][0], manifest["problems"][-1]
    assert first.startswith(f"{broken}:1: ") and last.startswith(f"{broken}:200: ")
    assert "… and 280 more (the first 200 in" in done.stderr
    # run again: nothing left to do, the same summary
    result = run_batch(BatchOptions(sources=(broken,), out=out, chunk_size=10, workers=1, progress=False))
    assert result.failed == 300 and result.problems == manifest["problems"]


def test_pool_engine_writes_what_the_inline_engine_writes(dump: Dump, reference: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_batch(opts(dump.files, out, workers=2))
    assert 0 < result.peak_rss_worker_mb < 1024
    assert snapshot(out) == snapshot(reference)


def test_cli_summary_and_user_errors(dump: Dump, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli("run", dump.baseline, dump.update1, "--out", out, "--workers", "1", "--chunk-size", "10",
                   "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "read 50 (46 abstracts, 4 deletions)" in done.stderr
    assert "skipped" in done.stderr and "no pain terms" in done.stderr and "failed 0" in done.stderr
    assert "final table" in done.stderr
    cases: list[tuple[tuple[str | Path, ...], str]] = [
        (("--engine", "spark"), "--engine 'spark'"),
        (("--scheduler", "tcp://127.0.0.1:1"), "--scheduler needs --engine dask"),
        (("--pain-terms", tmp_path / "nope.txt"), "cannot read the pain-terms file"),
        (("--format", "docx"), "unknown format"),
    ]
    for args, message in cases:
        bad = run_cli("run", dump.jsonl, "--out", tmp_path / "o2", "--no-progress", *args)
        assert bad.returncode == 2, bad.stderr
        assert message in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli("run", tmp_path / "missing.xml.gz", "--out", tmp_path / "o3")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr


@pytest.mark.slow
def test_memory_does_not_grow_with_input(tmp_path: Path) -> None:
    """Peak memory of a run over 2,000 vs 12,000 records (mostly skipped by the pre-filter, so the
    test is quick): the 10,000 more abstracts take ~30 MB as objects, but streaming reading,
    bounded chunks and the on-disk journal keep the peak flat."""
    from extractor.batch.synth import SynthArticle, write_pubmed_xml

    def make(n: int) -> Path:
        path = tmp_path / f"n{n}.xml.gz"
        arts = [SynthArticle(pmid=str(50000000 + i), title=f"Statins in older adults {i}",
                             parts=((None, f"LDL fell by {i % 40}% in {100 + i % 900} adults; "
                                     + f"adverse events were rare in group {i}. " * 30),)) for i in range(n)]
        for i in range(0, n, 500):  # a few pain abstracts for the pipeline to chew on
            arts[i] = SynthArticle(pmid=arts[i].pmid, title="Knee pain trial",
                                   parts=((None, f"NRS pain fell from 7.{i % 9} to 3.1 in 40 patients "
                                                  "(p < 0.01)."),))
        write_pubmed_xml(path, arts)
        return path

    peaks = []
    for n in (2000, 12000):
        out = tmp_path / f"out{n}"
        done = run_cli("run", make(n), "--out", out, "--workers", "1", "--chunk-size", "1000",
                       "--no-progress")
        assert done.returncode == 0, done.stderr
        run = json.loads((out / "manifest.json").read_text())["runs"][-1]
        assert run["records"] == n
        peaks.append(run["peak_rss_mb_main"])
    assert peaks[1] < 1024
    assert peaks[1] - peaks[0] < 20, peaks


def test_workers_default_and_env(tmp_path: Path) -> None:
    from extractor.commands.run import _default_workers

    assert _default_workers() == len(os.sched_getaffinity(0))


def test_folders_empty_files_and_bad_checksums(dump: Dump, tmp_path: Path) -> None:
    """A folder is read like iter_source reads it (sorted, md5 files passed over); an empty
    PubmedArticleSet is a finished file with no chunk; a file whose .md5 does not match fails."""
    from extractor.batch.chunks import expand_sources
    from extractor.batch.synth import write_pubmed_xml

    folder = tmp_path / "mirror"
    (folder / "z").mkdir(parents=True)
    (folder / "z" / "pubmed26n0002.xml.gz").write_bytes(dump.update1.read_bytes())
    (folder / "pubmed26n0001.xml.gz").write_bytes(dump.baseline.read_bytes())
    (folder / "pubmed26n0001.xml.gz.md5").write_text("MD5(pubmed26n0001.xml.gz)= " + "0" * 32 + "\n")
    write_pubmed_xml(folder / "pubmed26n0000.xml", [])
    (folder / ".hidden.jsonl").write_text("{}\n", encoding="utf-8")
    files = expand_sources([folder])
    assert [Path(f.path).name for f in files] == ["pubmed26n0000.xml", "pubmed26n0001.xml.gz",
                                                  "pubmed26n0002.xml.gz"]
    out = tmp_path / "out"
    result = run_batch(opts([folder], out))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [(f["items"], f["chunks"]) for f in manifest["files"]] == [(0, 0), (1, 1), (14, 2)]
    assert result.complete and result.failed == 1
    assert any("MD5 mismatch" in p for p in result.problems)
    assert result.totals["read"] == 14


def test_progress_bar_shows_rate_and_eta(dump: Dump, tmp_path: Path) -> None:
    """On a terminal the bar shows records/s and, once the total is estimated, an ETA."""
    import fcntl
    import struct
    import subprocess
    import termios

    from .conftest import EXTRACTOR, REPO

    primary, replica = os.openpty()
    fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen([*EXTRACTOR, "run", *map(str, dump.files), "--out", str(tmp_path / "out"),
                             "--workers", "1", "--chunk-size", "3"], stdout=replica, stderr=replica, cwd=REPO)
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(60) == 0
    screen = b"".join(chunks).decode("utf-8", "replace").replace("\r", "\n")
    bars = [line for line in screen.splitlines() if line.startswith("run:") and "rec/s" in line]
    assert bars, screen
    assert any("<" in line and "%|" in line for line in bars), bars  # elapsed<remaining, percentage
    assert "60/60" in bars[-1] and "extracted" in bars[-1]


def test_a_lost_partition_is_reported(dump: Dump, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch(opts([dump.jsonl], out))
    next((out / "parts").glob("*.parquet")).unlink()
    with pytest.raises(InputError, match="missing.*--restart"):
        run_batch(opts([dump.jsonl], out))
    assert run_batch(opts([dump.jsonl], out, restart=True)).complete
