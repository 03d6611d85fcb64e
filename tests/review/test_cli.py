"""`extractor review`: argument checks, --export, and the real waitress server over HTTP."""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from extractor.cli import app
from extractor.io import read_records
from extractor.records import ExtractionRecord
from extractor.review.server import is_loopback
from extractor.review.store import Store

from .browser import review_server
from .sample import value_id


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "extractor", "review", *args], capture_output=True,
                          text=True, timeout=60)


def test_missing_store_is_one_clear_line(tmp_path: Path) -> None:
    r = _run(str(tmp_path / "nope.db"))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"extractor: error: {tmp_path / 'nope.db'}: no such review store; fill one "
                                f"with `extractor extract ... --store {tmp_path / 'nope.db'}`")


def test_binding_beyond_loopback_needs_a_token(store: Store, store_path: Path) -> None:
    r = _run(str(store_path), "--host", "0.0.0.0", "--port", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "listening on 0.0.0.0 exposes the review page to the network: give a reviewer token" in r.stderr


def test_not_a_store_is_one_clear_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("hello" * 1000)
    r = _run(str(junk), "--export", str(tmp_path / "x.jsonl"))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "junk.db" in r.stderr


def test_export_option_writes_pool_input(store: Store, store_path: Path, tmp_path: Path) -> None:
    store.accept(value_id(store, "PMID:1001", "32 ± 9"), "alice", 0)
    out = tmp_path / "accepted.csv"
    r = _run(str(store_path), "--export", str(out))
    assert r.returncode == 0, r.stderr
    assert "exported 1 values from 1 abstracts" in r.stderr
    (rec,) = list(read_records(out))
    assert isinstance(rec, ExtractionRecord) and [s.value for s in rec.scores] == [32.0]
    r = _run(str(store_path), "--export", str(tmp_path / "two.jsonl"), "--min-reviews", "2")
    assert r.returncode == 0 and "exported 0 values from 0 abstracts" in r.stderr


def test_help_lists_the_options() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["review", "--help"])
    assert result.exit_code == 0
    for opt in ("--host", "--port", "--token", "--export", "--min-reviews"):
        assert opt in result.output


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                            ("example.org", False)])
def test_is_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


@pytest.mark.network
def test_real_server_serves_pages_and_refuses_foreign_hosts(store: Store, store_path: Path) -> None:
    with review_server(store_path) as base:
        parts = urlsplit(base)
        assert parts.hostname == "127.0.0.1"
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/start")
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 200 and "Review extracted values" in body
        assert r.getheader("Server") == "extractor-review"
        assert "script-src 'self'" in (r.getheader("Content-Security-Policy") or "")
        conn.request("GET", "/start", headers={"Host": "attacker.example"})
        r = conn.getresponse()
        r.read()
        assert r.status == 400
        conn.close()


@pytest.mark.network
def test_real_server_with_token_on_all_interfaces(store: Store, store_path: Path) -> None:
    with review_server(store_path, "--host", "0.0.0.0", "--token", "tok-123") as base:
        port = urlsplit(base).port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/queue")
        r = conn.getresponse()
        r.read()
        assert r.status == 302 and (r.getheader("Location") or "").startswith("/start")
        conn.close()


def test_review_never_imports_spacy() -> None:
    code = ("import sys, extractor.review.store, extractor.review.app, extractor.review.server, "
            "extractor.commands.review; assert 'spacy' not in sys.modules, 'spacy imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
