"""Fixtures for the review store and web app tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.review.store import Store

from .sample import filled_store


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "review.db"


@pytest.fixture()
def store(store_path: Path) -> Iterator[Store]:
    s = filled_store(str(store_path))
    yield s
    s.close()
