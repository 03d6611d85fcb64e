"""``extractor.heap.quiet_gc``: what is frozen, what is still collected, what comes back."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from extractor.heap import YOUNG_THRESHOLD, quiet_gc


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture(autouse=True)
def settings() -> Iterator[None]:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_objects_alive_on_entry_are_frozen_and_thawed_on_exit() -> None:
    before = gc.get_threshold()
    with quiet_gc():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_cycles_made_inside_are_still_collected() -> None:
    with quiet_gc():
        a, ref = cycle()
        del a
        gc.collect()
        assert ref() is None


def test_an_object_frozen_on_entry_is_collected_after_exit() -> None:
    a, ref = cycle()  # alive on entry, e.g. a pipeline dropped for a new one
    with quiet_gc():
        del a
        gc.collect()
        assert ref() is not None  # frozen: not walked
    gc.collect()
    assert ref() is None


def test_nested_and_concurrent_uses_restore_the_settings_once() -> None:
    before = gc.get_threshold()
    inside = threading.Barrier(3)
    leave = threading.Event()

    def work() -> None:
        with quiet_gc():
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    with quiet_gc():
        inside.wait()
        with quiet_gc():
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        leave.set()
        for t in threads:
            t.join()
        assert gc.get_freeze_count() > 0  # the last one out restores, not the first
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_the_callers_own_settings_are_kept() -> None:
    gc.set_threshold(0)  # collection switched off by the caller: stays off
    with quiet_gc():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0
    gc.set_threshold(50_000)  # a higher threshold is not lowered
    with quiet_gc():
        assert gc.get_threshold()[0] == 50_000
    gc.freeze()  # objects the caller froze stay frozen after exit, and nothing more is frozen
    frozen = gc.get_freeze_count()
    with quiet_gc():
        fresh = [Node() for _ in range(1000)]
        assert gc.get_freeze_count() <= frozen
    assert gc.get_freeze_count() > frozen // 2
    del fresh
