"""Security of the review app: escaping (XSS), CSRF, reviewer token, trusted hosts, headers."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from extractor.review.app import LOOPBACK_HOSTS, create_app
from extractor.review.store import Store

from .sample import XSS_TEXT, at, value_id
from .test_app import FETCH, csrf_of, signed_in

SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert(1)>"


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _no_markup_from_data(page: str) -> None:
    """No element or event handler came from data: only our own scripts, no <img>, no on*=."""
    assert SCRIPT not in page and "<script>alert" not in page
    assert IMG not in page and "<img src=x" not in page
    for tag, attrs in _Tags(page).tags:
        assert tag != "img" or str(attrs.get("src")).startswith("/accepted/forest.png")
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":  # ours: the external file or the inert JSON data block
            assert attrs in ({"src": "/static/review.js", "defer": None},
                             {"type": "application/json", "id": "page-data"}), attrs


def test_abstract_text_renders_as_text(store: Store) -> None:
    client, _ = signed_in(create_app(store), "alice")
    for url in ("/abstract/PMID:1003", "/queue", "/queue?filter=all&q=Ketamine"):
        page = client.get(url).text
        _no_markup_from_data(page)
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page
    page = client.get("/abstract/PMID:1003").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "4/30 &amp; more" in page


def test_reviewer_input_renders_as_text(store: Store) -> None:
    app = create_app(store)
    client, csrf = signed_in(app, "O'Brien (alice)")
    vid = value_id(store, "PMID:1003", "p = 0.02")
    hostile = '"><script>alert(2)</script><img src=x onerror=alert(3)>'
    r = client.post(f"/value/{vid}/decide", data={"csrf_token": csrf, "action": "reject", "version": 0,
                                                  "note": hostile}, headers=FETCH)
    assert r.status_code == 200 and r.json is not None
    assert "<script>alert(2)" not in r.json["html"]
    s, e = at(XSS_TEXT, "4/30")
    r = client.post("/abstract/PMID:1003/values", data={
        "csrf_token": csrf, "kind": "proportion", "start": s, "end": e, "what": hostile, "arm": hostile,
        "events": "4", "total": "30"}, headers=FETCH)
    assert r.status_code == 200 and r.json is not None
    added = r.json["id"]
    for url in ("/abstract/PMID:1003", f"/value/{vid}/history", f"/value/{added}/history", "/accepted",
                "/queue", "/export"):
        page = client.get(url).text
        assert "<script>alert(2)" not in page
        _no_markup_from_data(page)
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in client.get("/abstract/PMID:1003").text
    assert "O&#39;Brien (alice)" in client.get("/queue").text


def test_error_messages_are_escaped(store: Store) -> None:
    client, _ = signed_in(create_app(store), "alice")
    r = client.get("/abstract/<script>alert(1)</script>")
    assert r.status_code == 404 and "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text


def test_json_data_block_cannot_break_out(store: Store) -> None:
    from dataclasses import replace

    from .sample import abstracts

    a = replace(abstracts()[2], id="X</script><script>alert(1)</script>")
    store.add_abstracts([a])
    client, _ = signed_in(create_app(store), "alice")
    page = client.get("/abstract/X%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E").text
    _no_markup_from_data(page)


# ---- CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method_url", "data"), [
    ("/value/1/decide", {"action": "accept", "version": "0"}),
    ("/abstract/PMID:1001/values", {"kind": "p_value", "start": "0", "end": "3", "op": "<", "value": "0.1"}),
    ("/abstract/PMID:1001/finish", {}),
    ("/abstract/PMID:1001/reopen", {}),
    ("/value/1/resolve", {"action": "reject", "version": "0"}),
    ("/logout", {}),
])
def test_every_post_needs_the_csrf_token(store: Store, method_url: str, data: dict[str, str]) -> None:
    app = create_app(store)
    client, csrf = signed_in(app, "alice")
    before = len(store.abstract_history("PMID:1001"))
    for token in (None, "", "forged-token", csrf[:-1] + ("A" if csrf[-1] != "A" else "B")):
        body = dict(data) if token is None else {**data, "csrf_token": token}
        r = client.post(method_url, data=body)
        assert r.status_code == 400, (method_url, token)
        assert "security (CSRF) token is missing or out of date" in r.text
    assert len(store.abstract_history("PMID:1001")) == before
    assert store.get_value(1).decisions == {}
    # the header works as well as the form field (what the page's JavaScript sends)
    r = client.post("/value/1/decide", data={"action": "accept", "version": "0"},
                    headers={**FETCH, "X-CSRF-Token": csrf})
    assert r.status_code == 200


def test_start_form_needs_csrf_and_tokens_are_per_session(store: Store) -> None:
    app = create_app(store)
    client = app.test_client()
    r = client.post("/start", data={"name": "mallory"})
    assert r.status_code == 400 and store.reviewers() == []
    _, csrf_a = signed_in(app, "alice")
    other = app.test_client()
    other.get("/start")
    r = other.post("/start", data={"name": "bob", "csrf_token": csrf_a})
    assert r.status_code == 400 and store.reviewers() == ["alice"]


# ---- reviewer token, trusted hosts, headers --------------------------------------------------------------


def test_reviewer_token_guards_everything(store: Store) -> None:
    app = create_app(store, token="s3cret-token")
    client = app.test_client()
    r = client.get("/queue")
    assert r.status_code == 302 and r.location.startswith("/start")
    page = client.get("/start").text
    assert 'name="token"' in page
    csrf = csrf_of(page)
    r = client.post("/start", data={"name": "alice", "token": "wrong", "csrf_token": csrf})
    assert r.status_code == 400 and "wrong reviewer token" in r.text
    assert client.get("/queue").status_code == 302
    r = client.post("/value/1/decide", data={"action": "accept", "version": 0, "csrf_token": csrf})
    assert r.status_code == 403 and store.get_value(1).decisions == {}
    assert client.get("/export/accepted.csv").status_code == 302
    r = client.post("/start", data={"name": "alice", "token": "s3cret-token", "csrf_token": csrf})
    assert r.status_code == 302
    assert client.get("/queue").status_code == 200
    assert 'name="token"' not in client.get("/start").text


def test_trusted_hosts_stop_dns_rebinding(store: Store) -> None:
    app = create_app(store, trusted_hosts=LOOPBACK_HOSTS)
    client = app.test_client()
    assert client.get("/start", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/start", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/start", headers={"Host": "attacker.example"}).status_code == 400


def test_security_headers_and_cookie(app_client: tuple[FlaskClient, Flask]) -> None:
    client, _ = app_client
    r = client.get("/start")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_inline_script_or_style_on_any_page(store: Store) -> None:
    client, _ = signed_in(create_app(store), "alice")
    for url in ("/queue", "/abstract/PMID:1001", "/conflicts", "/conflicts/PMID:1001", "/accepted", "/export",
                "/value/1/history"):
        page = client.get(url).text
        assert "<style" not in page, url
        for tag, attrs in _Tags(page).tags:
            assert "style" not in attrs, (url, tag)  # the CSP would block inline styles
        _no_markup_from_data(page)


@pytest.fixture()
def app_client(store: Store) -> tuple[FlaskClient, Flask]:
    app = create_app(store)
    return app.test_client(), app
