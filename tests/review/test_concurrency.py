"""Optimistic concurrency: two saves of the same value version never both succeed."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path

import pytest

from extractor.errors import ConflictError
from extractor.review.app import create_app
from extractor.review.store import Store

from .sample import value_id
from .test_app import signed_in


def test_second_save_of_the_same_version_raises_conflict(store: Store, store_path: Path) -> None:
    vid = value_id(store, "PMID:1001", "32 ± 9")
    other = Store(store_path)  # a second connection, as another process would have
    try:
        seen = other.get_value(vid).version("alice")
        assert store.accept(vid, "alice", seen) == seen + 1
        with pytest.raises(ConflictError) as info:
            other.reject(vid, "alice", seen)
        msg = str(info.value)
        assert f"value #{vid}" in msg and "was changed by alice (accept" in msg
        assert "based on version 0, it is now at version 1" in msg and "Nothing was saved" in msg
        assert store.get_value(vid).decisions["alice"].action == "accept"
        assert [e.action for e in store.history(vid)] == ["accept"]
    finally:
        other.close()


def test_independent_reviewers_do_not_block_each_other(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "32 ± 9")
    assert store.accept(vid, "alice", 0) == 1
    assert store.reject(vid, "bob", 0) == 1


def test_racing_threads_one_winner(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "45 ± 12")
    barrier = threading.Barrier(6)
    results: list[str] = []
    lock = threading.Lock()

    def save(action: str) -> None:
        barrier.wait()
        try:
            store.decide(vid, "alice", action, 0)  # type: ignore[arg-type]
            outcome = "ok"
        except ConflictError:
            outcome = "conflict"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=save, args=("accept" if i % 2 else "reject",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 5 + ["ok"]
    assert len(store.history(vid)) == 1


def _save_in_process(path: str, vid: int, action: str, barrier: object, out: object) -> None:
    store = Store(path)
    barrier.wait()  # type: ignore[attr-defined]
    try:
        store.decide(vid, "alice", action, 0)  # type: ignore[arg-type]
        out.put("ok")  # type: ignore[attr-defined]
    except ConflictError:
        out.put("conflict")  # type: ignore[attr-defined]
    finally:
        store.close()


def test_racing_processes_one_winner(store: Store, store_path: Path) -> None:
    vid = value_id(store, "PMID:1002", "P < .01")
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    procs = [ctx.Process(target=_save_in_process, args=(str(store_path), vid, action, barrier, out))
             for action in ("accept", "reject")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert all(p.exitcode == 0 for p in procs)
    assert sorted(out.get(timeout=5) for _ in procs) == ["conflict", "ok"]
    assert len(store.get_value(vid).decisions) == 1


def test_http_409_for_the_second_tab(store: Store) -> None:
    app = create_app(store)
    tab1, csrf1 = signed_in(app, "alice")
    tab2, csrf2 = signed_in(app, "alice")
    vid = value_id(store, "PMID:1001", "p < 0.001")
    fetch = {"X-Requested-With": "fetch"}
    r1 = tab1.post(f"/value/{vid}/decide", data={"csrf_token": csrf1, "action": "accept", "version": 0},
                   headers=fetch)
    assert r1.status_code == 200 and r1.json is not None and r1.json["version"] == 1
    r2 = tab2.post(f"/value/{vid}/decide", data={"csrf_token": csrf2, "action": "reject", "version": 0},
                   headers=fetch)
    assert r2.status_code == 409 and r2.json is not None
    assert r2.json["ok"] is False and "was changed by alice" in r2.json["error"]
    assert "reload the abstract" in r2.json["error"]
    # without JavaScript the same conflict is a 409 page
    r3 = tab2.post(f"/value/{vid}/decide", data={"csrf_token": csrf2, "action": "reject", "version": 0})
    assert r3.status_code == 409 and "Someone else saved first" in r3.text
    assert store.get_value(vid).decisions["alice"].action == "accept"
