"""Helpers for the headless-browser tests and the README screenshot: a real server, real Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed ({exc})"
    return None


@contextmanager
def review_server(db: Path, *extra: str, timeout: float = 20.0) -> Iterator[str]:
    """Run ``extractor review DB --port 0`` as a real process; yield its base URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EXTRACTOR_REVIEW_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "review", str(db), "--port", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"review server exited with {proc.returncode}: {err}")
            m = re.search(r"(http://\S+?)/?\s", line)
            if m:
                yield m.group(1)
                break
        else:
            raise RuntimeError(f"review server did not announce its address in {timeout} s: {line!r}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def chromium_page(width: int = 1440, height: int = 900) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(base + "/")
    page.fill("input[name=name]", name)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue**")
