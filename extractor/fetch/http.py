"""HTTP for the remote fetchers: one ``requests.Session``, a rate limit, timeouts and bounded retries.

A request is retried on HTTP 429 and 5xx, on timeouts and dropped connections, and when the
caller's ``validate`` says the body is incomplete (e.g. cut-off XML). Waits grow exponentially
(``backoff * factor**attempt``, capped at ``max_backoff``, or the server's ``Retry-After`` when
it is larger, also capped). After ``max_attempts`` the request fails with :class:`FetchError`.
Other 4xx answers are not retried: they mean the request itself is wrong.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from extractor import __version__
from extractor.errors import FetchError

RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 507, 508, 509, 520, 521, 522, 523, 524})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries. Tests pass tiny ``backoff``/``max_backoff`` to keep waits short."""

    max_attempts: int = 6
    backoff: float = 1.0
    factor: float = 2.0
    max_backoff: float = 60.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff < 0 or self.max_backoff < 0 or self.factor < 1:
            raise ValueError("backoff and max_backoff must be >= 0 and factor >= 1")

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        base = min(self.max_backoff, self.backoff * self.factor**attempt)
        if retry_after is not None:
            base = max(base, min(retry_after, self.max_backoff))
        return base * (1 + random.uniform(0, self.jitter)) if base else 0.0


class RateLimiter:
    """At most ``rate`` requests per second, spaced evenly (thread-safe)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass
class HttpStats:
    requests: int = 0
    retries: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def note(self, reason: str) -> None:
        self.retries += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


class HttpClient:
    """GET/POST returning the body bytes, with rate limit, timeout and retries."""

    def __init__(
        self,
        *,
        rate: float,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent or f"extractor/{__version__} (python-requests)"
        self.limiter = RateLimiter(rate, sleep=sleep)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.stats = HttpStats()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        validate: Callable[[bytes], str | None] | None = None,
    ) -> bytes:
        return self.request("GET", url, params=params, validate=validate)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        validate: Callable[[bytes], str | None] | None = None,
    ) -> bytes:
        return self.request("POST", url, data=data, validate=validate)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        validate: Callable[[bytes], str | None] | None = None,
    ) -> bytes:
        last = ""
        for attempt in range(self.retry.max_attempts):
            retry_after: float | None = None
            self.limiter.wait()
            self.stats.requests += 1
            try:
                resp = self.session.request(method, url, params=params, data=data, timeout=self.timeout)
                body = resp.content  # reads the whole body: a cut connection raises here
            except requests.Timeout:
                last = f"timed out after {self.timeout:g} s"
            except (
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                last = f"connection failed ({type(exc).__name__})"
            else:
                if resp.status_code in RETRY_STATUS:
                    last = f"HTTP {resp.status_code}"
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                elif resp.status_code >= 400:
                    snippet = body[:200].decode("utf-8", "replace").strip()
                    raise FetchError(
                        f"{method} {url} failed: HTTP {resp.status_code} {resp.reason}"
                        + (f": {snippet}" if snippet else "")
                    )
                else:
                    problem = validate(body) if validate else None
                    if problem is None:
                        return body
                    last = problem
            self.stats.note(last.split(" (")[0])
            if attempt + 1 < self.retry.max_attempts:
                self.sleep(self.retry.wait(attempt, retry_after))
        raise FetchError(f"{method} {url} failed after {self.retry.max_attempts} attempts: {last}")

    def close(self) -> None:
        self.session.close()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
