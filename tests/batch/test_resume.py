"""Kill -9 a real `extractor run` at several points, run it again: the output is exactly that of
a run that was never interrupted (same partitions, same final tables, same journal; no duplicate,
no missing record, no temporary file left)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from extractor.batch import BatchOptions, run_batch

from .conftest import EXTRACTOR, REPO, Dump, run_cli, snapshot

CHUNK = 3


@pytest.fixture(scope="module")
def reference(dump: Dump, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("ref") / "out"
    run_batch(BatchOptions(sources=tuple(dump.files), out=out, chunk_size=CHUNK, progress=False))
    snap = snapshot(out)
    assert len(snap["parts"]) > 15
    return snap


def args(dump: Dump, out: Path, workers: int) -> list[str]:
    return ["run", *map(str, dump.files), "--out", str(out), "--workers", str(workers),
            "--chunk-size", str(CHUNK), "--no-progress"]


def killed_at(dump: Dump, out: Path, workers: int, point: str) -> None:
    done = run_cli(*args(dump, out, workers), env={"EXTRACTOR_BATCH_KILL_AT": point})
    assert done.returncode == -signal.SIGKILL, (point, done.returncode, done.stderr[-2000:])


def finish(dump: Dump, out: Path, workers: int) -> subprocess.CompletedProcess[str]:
    done = run_cli(*args(dump, out, workers))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming" in done.stderr
    return done


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "points"), [
    (1, ("written:2", "committed:3", "written:5", "compacted:1")),
    (2, ("written:3", "committed:4")),
])
def test_killed_between_steps_then_resumed(dump: Dump, reference: dict[str, object], tmp_path: Path,
                                           workers: int, points: tuple[str, ...]) -> None:
    """SIGKILL in each window of the commit protocol, several times over the same output:
    partition renamed but not committed; just committed; final table replaced but not recorded."""
    out = tmp_path / "out"
    for point in points:
        killed_at(dump, out, workers, point)
    assert not (out / "manifest.json").exists() or snapshot_or_none(out) != reference
    finish(dump, out, workers)
    assert snapshot(out) == reference


def snapshot_or_none(out: Path) -> dict[str, object] | None:
    try:
        return snapshot(out)
    except (OSError, ValueError, KeyError):
        return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_killed_from_outside_at_any_moment(dump: Dump, reference: dict[str, object], tmp_path: Path) -> None:
    """kill -9 of the main process of a 2-worker run as soon as k partitions exist (k = 2, 8):
    its worker processes stop too, and the resumed run completes the same output."""
    out = tmp_path / "out"
    parts = out / "parts"
    for k in (2, 8):
        proc = subprocess.Popen([*EXTRACTOR, *args(dump, out, 2)], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if parts.is_dir() and sum(1 for _ in parts.glob("*.parquet")) >= k:
                    break
                time.sleep(0.005)
            assert proc.poll() is None, "the run finished before it could be killed"
            proc.send_signal(signal.SIGKILL)  # the main process only, as `kill -9 PID` would
            proc.wait(10)
            deadline = time.monotonic() + 10
            while _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not _group_alive(proc.pid), "worker processes outlived the killed run"
        finally:
            if _group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
    finish(dump, out, 2)
    assert snapshot(out) == reference
