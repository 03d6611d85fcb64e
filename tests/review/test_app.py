"""HTTP-level tests of every route of the review app (Flask test client on a real store)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from extractor.errors import PoolingError
from extractor.io import read_records
from extractor.records import ExtractionRecord, Score
from extractor.review.app import create_app
from extractor.review.store import Store

from .sample import KNEE_TEXT, RCT_TEXT, at, value_id

FETCH = {"X-Requested-With": "fetch"}


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "page has no CSRF token"
    return m.group(1)


def signed_in(app: Flask, name: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    csrf = csrf_of(client.get("/start").text)
    resp = client.post("/start", data={"name": name, "csrf_token": csrf, "next": "/queue"})
    assert resp.status_code == 302, resp.text
    return client, csrf


@pytest.fixture()
def app(store: Store) -> Flask:
    return create_app(store)


@pytest.fixture()
def alice(app: Flask) -> tuple[FlaskClient, str]:
    return signed_in(app, "alice")


# ---- identity ------------------------------------------------------------------------------------


def test_root_and_pages_send_unnamed_visitors_to_start(app: Flask) -> None:
    client = app.test_client()
    resp = client.get("/")
    assert resp.status_code == 302 and resp.location.startswith("/start")
    resp = client.get("/abstract/PMID:1001")
    assert resp.status_code == 302 and resp.location == "/start?next=/abstract/PMID:1001?"
    start = client.get("/start")
    assert start.status_code == 200 and "Your name" in start.text


def test_start_records_the_reviewer_and_follows_next(app: Flask, store: Store) -> None:
    client = app.test_client()
    csrf = csrf_of(client.get("/start").text)
    bad = client.post("/start", data={"name": "  ", "csrf_token": csrf})
    assert bad.status_code == 400 and "give your name" in bad.text
    resp = client.post("/start", data={"name": " Jane  Doe ", "csrf_token": csrf,
                                       "next": "/abstract/PMID:1002"})
    assert resp.status_code == 302 and resp.location == "/abstract/PMID:1002"
    assert "Jane Doe" in client.get("/queue").text
    assert store.reviewers() == ["Jane Doe"]
    # next must stay on this site
    resp = client.post("/start", data={"name": "Jane Doe", "csrf_token": csrf, "next": "https://evil.example/"})
    assert resp.location == "/queue"
    resp = client.post("/start", data={"name": "Jane Doe", "csrf_token": csrf, "next": "//evil.example/x"})
    assert resp.location == "/queue"


def test_logout_forgets_the_name(alice: tuple[FlaskClient, str]) -> None:
    client, csrf = alice
    resp = client.post("/logout", data={"csrf_token": csrf})
    assert resp.status_code == 302 and resp.location == "/start"
    assert client.get("/queue").status_code == 302
    resp = client.post("/value/1/decide", data={"csrf_token": csrf, "action": "accept", "version": 0},
                       headers=FETCH)
    assert resp.status_code == 401 and resp.json is not None and "name yourself" in resp.json["error"]


# ---- queue ---------------------------------------------------------------------------------------


def _listed(page: str) -> list[str]:
    return re.findall(r'<td class="mono"><a href="/abstract/([^"]+)">', page)


def test_queue_shows_progress_filters_and_order(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, _ = alice
    page = client.get("/queue").text
    assert "<strong>0 / 3</strong> abstracts reviewed" in page
    assert _listed(page) == ["PMID:1001", "PMID:1002", "PMID:1003"]
    assert "0.42" in page and 'class="conf low"' in page
    for v in store.state("PMID:1003").values:
        store.accept(v.id, "bob", 0)
    store.finish("PMID:1003", "bob")
    page = client.get("/queue?filter=unreviewed").text
    assert _listed(page) == ["PMID:1001", "PMID:1002"]
    assert "<strong>1 / 3</strong> abstracts reviewed" in page
    assert _listed(client.get("/queue?filter=all&order=low_confidence&q=knee").text) == ["PMID:1002"]
    assert _listed(client.get("/queue?filter=conflicts").text) == []
    assert _listed(client.get("/queue?filter=mine").text) == []
    assert client.get("/queue?filter=bogus").status_code == 400
    assert client.get("/queue?page=x").status_code == 400


# ---- abstract view -------------------------------------------------------------------------------


def test_abstract_view_highlights_every_value_at_its_offsets(alice: tuple[FlaskClient, str],
                                                            store: Store) -> None:
    client, _ = alice
    page = client.get("/abstract/PMID:1001").text
    spans = re.findall(r'<span class="([^"]*)" data-s="(\d+)"(?: data-v="([\d ]+)")?>(.*?)</span>',
                       page.split('id="text"')[1].split("</div>")[0], flags=re.S)
    # the segments put back together are exactly the text
    assert "".join(html.unescape(s[3]) for s in spans) == RCT_TEXT
    for _cls, start, _ids, text in spans:
        assert RCT_TEXT[int(start):int(start) + len(html.unescape(text))] == html.unescape(text)
    covered = {int(i) for *_, ids, _ in spans if ids for i in ids.split()}
    assert covered == {v.id for v in store.state("PMID:1001").values}
    score = [s for s in spans if html.unescape(s[3]) == "32 ± 9"]
    assert score and "k-score" in score[0][0]
    for kind in ("sample_size", "arm_size", "scale", "score", "proportion", "p_value"):
        assert f"hl k-{kind}" in page
    assert page.count('<tbody class="value') == 9
    assert "VAS mean 32 ± SD 9 · methadone · 6 h (0.25 d)" in page
    assert 'id="add-form"' in page and 'id="finish"' in page and "Keyboard shortcuts" in page


def test_unknown_abstract_is_404(alice: tuple[FlaskClient, str]) -> None:
    client, _ = alice
    resp = client.get("/abstract/PMID:nope")
    assert resp.status_code == 404 and "PMID:nope" in resp.text
    assert client.get("/nowhere").status_code == 404


def _decide(client: FlaskClient, csrf: str, vid: int, action: str, version: int | str,
            **fields: object) -> TestResponse:
    return client.post(f"/value/{vid}/decide",
                       data={"csrf_token": csrf, "action": action, "version": version, **fields},
                       headers=FETCH)


def test_decide_accept_edit_reject_clear(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, csrf = alice
    acc = value_id(store, "PMID:1001", "Eighty women")
    edt = value_id(store, "PMID:1001", "45 ± 12")
    rej = value_id(store, "PMID:1001", "p = 0.004")
    r = _decide(client, csrf, acc, "accept", 0)
    assert r.status_code == 200 and r.json is not None
    assert r.json["status"] == "accepted" and r.json["version"] == 1 and r.json["decided"] == 1
    assert 'data-version="1"' in r.json["html"] and "st-accepted" in r.json["html"]
    assert "decided" in r.json["text_html"]
    s, e = at(RCT_TEXT, "45 ± 12")
    r = _decide(client, csrf, edt, "edit", 0, scale="VAS", stat="mean", value="45", spread="sd",
                spread_values="12", arm="pethidine", timepoint="6 h", days="0.25", n="40", start=s, end=e,
                note="n from methods")
    assert r.status_code == 200 and r.json is not None and r.json["status"] == "edited"
    edited = store.get_value(edt).decisions["alice"]
    assert edited.action == "edit" and isinstance(edited.value, Score) and edited.value.n == 40
    assert edited.note == "n from methods"
    r = _decide(client, csrf, rej, "reject", 0)
    assert r.status_code == 200 and r.json is not None and r.json["status"] == "rejected"
    r = _decide(client, csrf, rej, "clear", 1)
    assert r.json is not None and r.json["status"] == "undecided"
    assert "alice" not in store.get_value(rej).decisions
    # without JavaScript: a redirect back to the value
    r = client.post(f"/value/{rej}/decide", data={"csrf_token": csrf, "action": "reject", "version": 2})
    assert r.status_code == 302 and r.location == f"/abstract/PMID:1001#v{rej}"


def test_decide_rejects_bad_input_with_400(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, csrf = alice
    vid = value_id(store, "PMID:1001", "p < 0.001")
    r = _decide(client, csrf, vid, "edit", 0, op="<", value="1.7")
    assert r.status_code == 400 and r.json is not None and "between 0 and 1" in r.json["error"]
    r = _decide(client, csrf, vid, "edit", 0, op="<", value="abc")
    assert r.status_code == 400 and r.json is not None and "'abc' is not a number" in r.json["error"]
    r = _decide(client, csrf, vid, "maybe", 0)
    assert r.status_code == 400 and r.json is not None and "unknown decision" in r.json["error"]
    r = _decide(client, csrf, vid, "accept", "x")
    assert r.status_code == 400
    r = _decide(client, csrf, 99999, "accept", 0)
    assert r.status_code == 404 and r.json is not None and "#99999" in r.json["error"]
    assert store.get_value(vid).decisions == {}


def test_add_value_from_a_selection(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, csrf = alice
    s, e = at(RCT_TEXT, "15/40 (37.5%)")
    data = {"csrf_token": csrf, "kind": "proportion", "start": s, "end": e, "evidence": "15/40 (37.5%)",
            "what": "pain-free", "events": "15", "total": "40", "percent": "37.5", "arm": "pethidine",
            "timepoint": "24 h", "days": "1"}
    r = client.post("/abstract/PMID:1001/values", data=data, headers=FETCH)
    assert r.status_code == 200 and r.json is not None and r.json["status"] == "added"
    item = store.get_value(r.json["id"])
    assert item.origin == "reviewer" and item.value.prov.evidence == "15/40 (37.5%)"
    assert item.value.prov.producer == "alice"
    wrong = {**data, "evidence": "15/40"}
    r = client.post("/abstract/PMID:1001/values", data=wrong, headers=FETCH)
    assert r.status_code == 400 and r.json is not None and "reload the page" in r.json["error"]
    r = client.post("/abstract/PMID:1001/values", data={**data, "kind": "banana"}, headers=FETCH)
    assert r.status_code == 400
    r = client.post("/abstract/PMID:1001/values", data={**data, "end": 99999}, headers=FETCH)
    assert r.status_code == 400 and r.json is not None and "outside the abstract" in r.json["error"]


def test_finish_and_reopen(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, csrf = alice
    r = client.post("/abstract/PMID:1002/finish", data={"csrf_token": csrf})
    assert r.status_code == 400 and "still need your decision" in r.text
    for v in store.state("PMID:1002").values:
        _decide(client, csrf, v.id, "accept", 0)
    r = client.post("/abstract/PMID:1002/finish", data={"csrf_token": csrf})
    assert r.status_code == 302 and r.location == "/abstract/PMID:1003"  # the next one to do
    assert store.state("PMID:1002").reviews["alice"].finished
    assert "You finished this abstract" in client.get("/abstract/PMID:1002").text
    r = client.post("/abstract/PMID:1002/reopen", data={"csrf_token": csrf})
    assert r.status_code == 302 and not store.state("PMID:1002").reviews["alice"].finished


def test_third_reviewer_reads_but_cannot_decide(app: Flask, store: Store) -> None:
    vid = value_id(store, "PMID:1002", "P < .01")
    store.accept(vid, "alice", 0)
    store.accept(vid, "bob", 0)
    carol, csrf = signed_in(app, "carol")
    page = carol.get("/abstract/PMID:1002").text
    assert "already has two independent reviewers" in page and 'id="finish"' not in page
    r = _decide(carol, csrf, vid, "reject", 0)
    assert r.status_code == 400 and r.json is not None and "adjudicate" in r.json["error"]


# ---- audit trail ---------------------------------------------------------------------------------


def test_history_shows_who_when_old_and_new(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, csrf = alice
    vid = value_id(store, "PMID:1002", "11.2 (SD 3.1)")
    _decide(client, csrf, vid, "accept", 0)
    s, e = at(KNEE_TEXT, "11.2 (SD 3.1)")
    _decide(client, csrf, vid, "edit", 1, scale="WOMAC", stat="mean", value="11.2", spread="sd",
            spread_values="3.1", arm="duloxetine 60 mg", timepoint="baseline", days="0", start=s, end=e)
    page = client.get(f"/value/{vid}/history").text
    assert page.count("<td>alice") == 2
    assert "accept → edit" in page
    assert "<del>duloxetine</del> → <ins>duloxetine 60 mg</ins>" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page)
    assert client.get("/value/424242/history").status_code == 404


def test_history_hides_the_other_reviewer_until_finished(app: Flask, store: Store) -> None:
    vid = value_id(store, "PMID:1003", "p = 0.02")
    store.reject(vid, "bob", 0, note="bob's secret reason")
    alice, csrf = signed_in(app, "alice")
    _decide(alice, csrf, vid, "accept", 0)
    page = alice.get(f"/value/{vid}/history").text
    assert "secret reason" not in page and "1 entry by the other reviewer is hidden" in page
    for v in store.state("PMID:1003").visible("alice"):
        if "alice" not in v.decisions:
            _decide(alice, csrf, v.id, "accept", 0)
    alice.post("/abstract/PMID:1003/finish", data={"csrf_token": csrf})
    assert "secret reason" in alice.get(f"/value/{vid}/history").text


# ---- conflicts -----------------------------------------------------------------------------------


def _conflict(store: Store) -> int:
    vid = value_id(store, "PMID:1002", "P < .01")
    for reviewer, reject in (("alice", False), ("bob", True)):
        for v in store.state("PMID:1002").visible(reviewer):
            store.decide(v.id, reviewer, "reject" if reject and v.id == vid else "accept", 0)
        store.finish("PMID:1002", reviewer)
    return vid


def test_conflicts_list_view_and_resolution(app: Flask, store: Store) -> None:
    vid = _conflict(store)
    carol, csrf = signed_in(app, "carol")
    page = carol.get("/conflicts").text
    assert "PMID:1002" in page and "/conflicts/PMID:1002" in page
    page = carol.get("/conflicts/PMID:1002").text
    assert f'id="c{vid}"' in page and "Take alice's" in page and "Take bob's" in page
    assert 'class="badge out-rejected"' in page and 'class="badge out-accepted"' in page
    r = carol.post(f"/value/{vid}/resolve", data={"csrf_token": csrf, "choose": "alice", "version": 0,
                                                  "note": "reported result"})
    assert r.status_code == 302 and r.location == f"/conflicts/PMID:1002#c{vid}"
    res = store.get_value(vid).resolution
    assert res is not None and (res.adjudicator, res.action) == ("carol", "accept")
    assert "No open conflicts." in carol.get("/conflicts").text
    assert "Resolved by <strong>carol</strong>" in carol.get("/conflicts/PMID:1002").text
    # stale resolution version -> 409
    r = carol.post(f"/value/{vid}/resolve", data={"csrf_token": csrf, "action": "reject", "version": 0},
                   headers=FETCH)
    assert r.status_code == 409
    s, e = at(KNEE_TEXT, "P < .01")
    r = carol.post(f"/value/{vid}/resolve", data={"csrf_token": csrf, "action": "edit", "version": 1,
                                                  "op": "<", "value": "0.01", "start": s, "end": e},
                   headers=FETCH)
    assert r.status_code == 200 and r.json is not None and r.json["version"] == 2
    res = store.get_value(vid).resolution
    assert res is not None and res.value is not None and res.value.prov.producer == "carol"
    r = carol.post(f"/value/{vid}/resolve", data={"csrf_token": csrf, "action": "frobnicate", "version": 2},
                   headers=FETCH)
    assert r.status_code == 400


def test_finished_reviewer_sees_the_conflict_banner(app: Flask, store: Store) -> None:
    _conflict(store)
    alice, _ = signed_in(app, "alice")
    assert "differs between the reviewers" in alice.get("/abstract/PMID:1002").text


# ---- accepted, pooled preview, export ------------------------------------------------------------


def _accept_some(store: Store) -> None:
    store.accept(value_id(store, "PMID:1001", "32 ± 9"), "alice", 0)
    store.accept(value_id(store, "PMID:1001", "45 ± 12"), "alice", 0)
    store.reject(value_id(store, "PMID:1001", "p = 0.004"), "alice", 0)


def test_accepted_page_and_pooled_preview_slot(alice: tuple[FlaskClient, str], store: Store) -> None:
    client, _ = alice
    _accept_some(store)
    page = client.get("/accepted").text
    assert "VAS mean 32 ± SD 9" in page and "p = 0.004" not in page
    assert 'id="pooled-preview"' in page and "No pooled preview in this build" in page
    assert client.get("/accepted?min_reviews=2").text.count("VAS mean") == 0
    assert client.get("/accepted?min_reviews=3").status_code == 400
    r = client.get("/accepted/forest.png")
    assert r.status_code == 404 and "no pooled preview" in r.text


def test_forest_plot_hook(store: Store) -> None:
    _accept_some(store)
    seen: list[list[ExtractionRecord]] = []
    png = b"\x89PNG\r\n\x1a\nfake-but-bytes"

    def plot(records: list[ExtractionRecord]) -> bytes | None:
        seen.append(records)
        if not records:
            return None
        if len(records[0].scores) < 2:
            raise PoolingError("need two arms")
        return png

    app = create_app(store, forest_plot=plot)
    client, _ = signed_in(app, "alice")
    assert '<img src="/accepted/forest.png?min_reviews=1"' in client.get("/accepted").text
    r = client.get("/accepted/forest.png")
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data == png
    assert [s.value for s in seen[-1][0].scores] == [32.0, 45.0]
    r = client.get("/accepted/forest.png?min_reviews=2")
    assert r.status_code == 404 and "not enough accepted values" in r.text
    store.decide(value_id(store, "PMID:1001", "45 ± 12"), "alice", "clear", 1)
    r = client.get("/accepted/forest.png")
    assert r.status_code == 422 and "need two arms" in r.text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_downloads_are_pool_input(alice: tuple[FlaskClient, str], store: Store, tmp_path: Path,
                                         fmt: str) -> None:
    client, _ = alice
    _accept_some(store)
    page = client.get("/export").text
    assert "Download CSV" in page and "<strong>2</strong> values in <strong>1</strong> abstracts" in page
    r = client.get(f"/export/accepted.{fmt}")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == f'attachment; filename="review-accepted.{fmt}"'
    out = tmp_path / f"download.{fmt}"
    out.write_bytes(r.data)
    (rec,) = list(read_records(out))
    assert isinstance(rec, ExtractionRecord) and [s.value for s in rec.scores] == [32.0, 45.0]
    assert rec.p_values == ()
    direct = tmp_path / f"direct.{fmt}"
    store.export_accepted(direct)
    assert direct.read_bytes() == r.data
    r = client.get(f"/export/accepted.{fmt}?min_reviews=2")
    assert list(read_records(_write(tmp_path / f"two.{fmt}", r.data))) == []
    assert client.get("/export/accepted.xml").status_code == 404


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_static_files_are_served(app: Flask) -> None:
    client = app.test_client()
    js = client.get("/static/review.js")
    css = client.get("/static/review.css")
    assert js.status_code == 200 and "selectionSpan" in js.text
    assert css.status_code == 200 and ".seg.hl" in css.text
    js.close()
    css.close()


def test_method_not_allowed(alice: tuple[FlaskClient, str]) -> None:
    client, _ = alice
    assert client.get("/value/1/decide").status_code == 405
    assert client.get("/logout").status_code == 405


def test_large_request_refused(alice: tuple[FlaskClient, str]) -> None:
    client, csrf = alice
    r = client.post("/value/1/decide", data={"csrf_token": csrf, "note": "x" * (2 << 20)},
                    headers=FETCH)
    assert r.status_code == 413


def test_pages_render_for_a_store_given_as_path(store: Store, store_path: Path) -> None:
    app = create_app(store_path)
    client, _ = signed_in(app, "alice")
    assert client.get("/abstract/PMID:1003").status_code == 200
    assert io.BytesIO(client.get("/export/accepted.jsonl").data).read() == b""


def test_pooled_preview_with_the_real_pooling(store: Store) -> None:
    """The review command's preview (extractor.pool.preview_png) on accepted values."""
    from extractor.pool.extractions import preview_png
    from extractor.records import Abstract, Provenance, SampleSize, Score

    for i, (base, follow) in enumerate([((7.1, 1.6), (2.9, 2.0)), ((6.8, 2.2), (3.5, 2.1)),
                                        ((7.4, 1.2), (3.2, 2.1))]):
        text = (f"T{i}\nNRS fell from {base[0]} ± {base[1]} at baseline "
                f"to {follow[0]} ± {follow[1]} at 4 weeks.")
        store.add_abstracts([Abstract(id=f"S{i}", text=text)])
        vals = []
        for days, (m, sd) in ((0.0, base), (28.0, follow)):
            ev = f"{m} ± {sd}"
            st = text.index(ev)
            vals.append(Score(scale="NRS", arm=None, timepoint=f"{days:g} d", days=days, stat="mean", value=m,
                              spread="sd", spread_values=(sd,), n=30, prov=Provenance(st, st + len(ev), ev)))
        st = text.index("NRS")
        vals.append(SampleSize(n=30, prov=Provenance(st, st + 3, "NRS")))
        store.add_records([ExtractionRecord.from_values(f"S{i}", vals)])
        for item in store.state(f"S{i}").values:
            store.accept(item.id, "alice", 0)
    app = create_app(store, forest_plot=preview_png)
    client, _ = signed_in(app, "alice")
    r = client.get("/accepted/forest.png")
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data.startswith(b"\x89PNG")
