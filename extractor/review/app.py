"""The reviewer web app (Flask, server-rendered Jinja templates, a little vanilla JavaScript).

``create_app(store)`` builds the app; :mod:`extractor.review.server` serves it. Security:

* every page is rendered by Jinja with autoescaping (abstract text and reviewer input are data,
  never markup), and a Content-Security-Policy allows scripts only from ``/static``;
* every state-changing request (POST) must carry the session's CSRF token, as the form field
  ``csrf_token`` or the header ``X-CSRF-Token``;
* ``token``: when set (required when the server listens beyond 127.0.0.1), nobody gets past the
  start page without it;
* ``trusted_hosts``: Host names accepted (the server sets them to 127.0.0.1/localhost when it
  listens on loopback, which stops DNS-rebinding attacks from web pages).

Pooled preview: ``forest_plot`` is an optional callable ``(records) -> PNG bytes | None``; when
given, ``/accepted`` shows its image (``/accepted/forest.png``) of the accepted values.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup, escape

from extractor.errors import ConflictError, ExtractorError, InputError, PoolingError
from extractor.records import KINDS, ExtractionRecord, Value
from extractor.review.render import row_for, rows_for, segments
from extractor.review.store import (
    AbstractState,
    NotFoundError,
    Store,
    StoredValue,
    outcome_key,
)
from extractor.review.values import FIELDS, KIND_LABELS, describe, form_values, value_from_fields

ForestPlot = Callable[[list[ExtractionRecord]], bytes | None]

QUEUE_FILTER_LABELS = {
    "todo": "To do", "all": "All", "unreviewed": "Unreviewed", "conflicts": "Conflicts", "mine": "Mine",
}
PAGE_SIZE = 50
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]


def create_app(store: Store | str | Path, *, token: str | None = None,
               trusted_hosts: Sequence[str] | None = None, forest_plot: ForestPlot | None = None) -> Flask:
    """Build the review app on ``store`` (a :class:`Store` or a path to one)."""
    st = store if isinstance(store, Store) else Store(store, create=False)
    app = Flask(__name__)
    secret = st.setting("web.secret_key")
    app.config.update(
        SECRET_KEY=secret,
        # cookies are shared by every port of a host: one name per store keeps two servers apart
        SESSION_COOKIE_NAME="extractor_review_" + hashlib.sha256(secret.encode()).hexdigest()[:10],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1 << 20,
        TEMPLATES_AUTO_RELOAD=False,
    )
    if trusted_hosts:
        app.config["TRUSTED_HOSTS"] = list(trusted_hosts)
    app.extensions["review_store"] = st
    app.extensions["review_token"] = token or None
    app.extensions["review_forest"] = forest_plot
    app.jinja_env.filters["text"] = _text_filter
    app.jinja_env.globals.update(KINDS=KINDS, KIND_LABELS=KIND_LABELS, FIELDS=FIELDS, describe=describe,
                                 csrf_token=_csrf_token, store_name=st.path.name)
    _register(app)
    return app


def get_store() -> Store:
    from flask import current_app

    store: Store = current_app.extensions["review_store"]
    return store


# --------------------------------------------------------------------------------------------
# helpers


def _text_filter(text: str) -> Markup:
    """Escape text for a ``white-space: pre-wrap`` element, keeping carriage returns exact."""
    return Markup(str(escape(text)).replace("\r", "&#13;"))


def _csrf_token() -> str:
    tok = session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        session["csrf"] = tok
    return str(tok)


def _wants_json() -> bool:
    return (request.headers.get("X-Requested-With") == "fetch"
            or request.accept_mimetypes.best == "application/json")


def _reviewer() -> str:
    name = session.get("reviewer")
    if not name:
        abort(401)
    return str(name)


def _int(name: str, default: int | None = None) -> int:
    raw = request.values.get(name, "")
    if raw.strip() == "" and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InputError(f"{name}: {raw!r} is not a whole number") from None


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are allowed as redirect targets."""
    if not target:
        return url_for("queue")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("queue")
    return target


def _error(status: int, message: str) -> Response:
    if _wants_json():
        resp = jsonify(ok=False, error=message, status=status)
        resp.status_code = status
        return resp
    html = render_template("error.html", status=status, message=message, back=request.referrer)
    return Response(html, status=status, mimetype="text/html")


def _value_from_form(state: AbstractState, kind: str, base: Value | None) -> Value:
    start = _int("start", base.prov.start if base else None)
    end = _int("end", base.prov.end if base else None)
    value = value_from_fields(kind, request.form, text=state.abstract.text, start=start, end=end)
    expected = request.form.get("evidence")
    if expected is not None and expected != "" and expected != value.prov.evidence:
        raise InputError(f"the selected text {expected!r} is not at {start}..{end} of the abstract "
                         f"(found {value.prov.evidence!r}); reload the page")
    return value


def _blinded(state: AbstractState, viewer: str) -> bool:
    """True while ``viewer`` is one of the abstract's reviewers and has not finished it."""
    review = state.reviews.get(viewer)
    return review is not None and not review.finished


def _outcome_text(item: StoredValue, reviewer: str, state: AbstractState) -> tuple[str, str]:
    d = item.decisions.get(reviewer)
    if d is None:
        if reviewer in state.finished_reviewers:
            return "absent", "did not add it (finished the abstract)"
        return "pending", "not decided yet"
    if d.value is None:
        return "rejected", "rejected"
    label = {"accept": "accepted", "edit": "corrected", "add": "added"}[d.action]
    return label, describe(d.value)


# --------------------------------------------------------------------------------------------
# routes


def _register(app: Flask) -> None:  # noqa: C901 - one place for all routes reads best
    @app.before_request
    def _guard() -> Any:
        if request.endpoint in (None, "static"):
            return None
        token = app.extensions["review_token"]
        if token and not session.get("token_ok") and request.endpoint != "start":
            if request.method == "GET":
                return redirect(url_for("start", next=request.full_path))
            return _error(403, "this review server needs the reviewer token: open the start page")
        if request.method == "POST":
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
            want = session.get("csrf") or ""
            if not want or not hmac.compare_digest(str(sent), str(want)):
                return _error(400, "the form's security (CSRF) token is missing or out of date: "
                                   "reload the page and try again")
        if request.endpoint != "start" and not session.get("reviewer"):
            if request.method == "GET":
                return redirect(url_for("start", next=request.full_path))
            return _error(401, "name yourself on the start page first: every decision records who made it")
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        if resp.mimetype in ("text/html", "application/json"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(ExtractorError)
    def _extractor_error(exc: ExtractorError) -> Response:
        if isinstance(exc, ConflictError):
            return _error(409, str(exc))
        if isinstance(exc, NotFoundError):
            return _error(404, str(exc))
        return _error(400, str(exc))

    @app.errorhandler(401)
    def _e401(exc: Exception) -> Response:
        return _error(401, "name yourself on the start page first")

    @app.errorhandler(404)
    def _e404(exc: Exception) -> Response:
        return _error(404, "no such page")

    @app.errorhandler(405)
    def _e405(exc: Exception) -> Response:
        return _error(405, "this address does not accept that kind of request")

    @app.errorhandler(413)
    def _e413(exc: Exception) -> Response:
        return _error(413, "the request is too large")

    # ---- start / identity -------------------------------------------------------------------
    @app.get("/")
    def index() -> Any:
        return redirect(url_for("queue"))

    @app.route("/start", methods=["GET", "POST"])
    def start() -> Any:
        token = app.extensions["review_token"]
        store = get_store()
        nxt = _safe_next(request.values.get("next"))
        error = ""
        name = session.get("reviewer", "")
        if request.method == "POST":
            name = request.form.get("name", "")
            try:
                if token and not session.get("token_ok"):
                    given = request.form.get("token", "")
                    if not hmac.compare_digest(given.encode(), token.encode()):
                        raise InputError("wrong reviewer token: ask whoever started the server")
                    session["token_ok"] = True
                name = store.register_reviewer(name)
                session["reviewer"] = name
                return redirect(nxt)
            except InputError as exc:
                error = str(exc)
        status = 400 if error else 200
        return render_template("start.html", error=error, name=name, next=nxt,
                               need_token=bool(token and not session.get("token_ok")),
                               known=store.reviewers()), status

    @app.post("/logout")
    def logout() -> Any:
        session.pop("reviewer", None)
        return redirect(url_for("start"))

    # ---- queue ------------------------------------------------------------------------------
    @app.get("/queue")
    def queue() -> Any:
        store = get_store()
        me = _reviewer()
        flt = request.args.get("filter", "todo")
        order = request.args.get("order", "position")
        search = request.args.get("q", "")
        page = max(1, _int("page", 1))
        rows, total = store.queue(me, filter=flt, order=order, search=search, limit=PAGE_SIZE,
                                  offset=(page - 1) * PAGE_SIZE)
        return render_template("queue.html", rows=rows, total=total, page=page,
                               pages=max(1, -(-total // PAGE_SIZE)), filter=flt, order=order, q=search,
                               progress=store.progress(me), filters=QUEUE_FILTER_LABELS,
                               next_id=store.next_abstract(me))

    # ---- abstract view ----------------------------------------------------------------------
    @app.get("/abstract/<path:abstract_id>")
    def abstract(abstract_id: str) -> Any:
        store = get_store()
        me = _reviewer()
        state = store.state(abstract_id)
        rows = rows_for(state, me)
        review = state.reviews.get(me)
        others = [r for r in state.reviews.values() if r.reviewer != me]
        full = len(state.reviews) >= 2 and review is None
        return render_template(
            "abstract.html", state=state, a=state.abstract, rows=rows,
            segs=segments(state.abstract.text, rows), review=review, others=others, full=full,
            decided=sum(1 for r in rows if r.status not in ("undecided", "stale")),
            next_id=store.next_abstract(me, after=abstract_id),
            conflicts=(state.conflicts() if review is not None and review.finished else []),
            progress=store.progress(me))

    def _after_change(abstract_id: str, item_id: int | None, version: int | None = None) -> Any:
        store = get_store()
        me = _reviewer()
        if not _wants_json():
            anchor = f"#v{item_id}" if item_id else ""
            return redirect(url_for("abstract", abstract_id=abstract_id) + anchor)
        state = store.state(abstract_id)
        rows = rows_for(state, me)
        row = next((r for r in rows if r.id == item_id), None)
        html = render_template("_value.html", r=row) if row is not None else ""
        return jsonify(
            ok=True, id=item_id, version=version, html=html,
            status=None if row is None else row.status,
            statuses={r.id: r.status for r in rows},
            decided=sum(1 for r in rows if r.status not in ("undecided", "stale")), total=len(rows),
            finished=bool(state.reviews.get(me) and state.reviews[me].finished),
            text_html=render_template("_text.html", segs=segments(state.abstract.text, rows)))

    @app.post("/value/<int:value_id>/decide")
    def decide(value_id: int) -> Any:
        store = get_store()
        me = _reviewer()
        action = request.form.get("action", "")
        version = _int("version")
        item = store.get_value(value_id)
        value = None
        if action == "edit":
            value = _value_from_form(store.state(item.abstract_id), item.kind, item.value)
        new_version = store.decide(value_id, me, action, version, value=value,  # type: ignore[arg-type]
                                   note=request.form.get("note", ""))
        return _after_change(item.abstract_id, value_id, new_version)

    @app.post("/abstract/<path:abstract_id>/values")
    def add_value(abstract_id: str) -> Any:
        store = get_store()
        me = _reviewer()
        state = store.state(abstract_id)
        kind = request.form.get("kind", "")
        if kind not in KINDS:
            raise InputError(f"choose what kind of value to add ({', '.join(KINDS)})")
        value = _value_from_form(state, kind, None)
        new_id = store.add_value(abstract_id, me, value, note=request.form.get("note", ""))
        return _after_change(abstract_id, new_id)

    @app.post("/abstract/<path:abstract_id>/finish")
    def finish(abstract_id: str) -> Any:
        store = get_store()
        me = _reviewer()
        store.finish(abstract_id, me)
        nxt = store.next_abstract(me, after=abstract_id)
        target = url_for("abstract", abstract_id=nxt) if nxt else url_for("queue")
        if _wants_json():
            return jsonify(ok=True, next=target)
        return redirect(target)

    @app.post("/abstract/<path:abstract_id>/reopen")
    def reopen(abstract_id: str) -> Any:
        get_store().reopen(abstract_id, _reviewer())
        return redirect(url_for("abstract", abstract_id=abstract_id))

    # ---- audit trail ------------------------------------------------------------------------
    @app.get("/value/<int:value_id>/history")
    def history(value_id: int) -> Any:
        store = get_store()
        me = _reviewer()
        item = store.get_value(value_id)
        state = store.state(item.abstract_id)
        entries = store.history(value_id)
        hidden = 0
        if _blinded(state, me):
            keep = [e for e in entries if e.role == "system" or e.who == me]
            hidden = len(entries) - len(keep)
            entries = keep
        return render_template("history.html", item=item, a=state.abstract, entries=entries, hidden=hidden,
                               kind_label=KIND_LABELS[item.kind])

    # ---- conflicts --------------------------------------------------------------------------
    @app.get("/conflicts")
    def conflicts() -> Any:
        store = get_store()
        _reviewer()
        return render_template("conflicts.html", abstracts=store.conflict_abstracts(),
                               progress=store.progress(session.get("reviewer")))

    @app.get("/conflicts/<path:abstract_id>")
    def conflict_view(abstract_id: str) -> Any:
        store = get_store()
        me = _reviewer()
        state = store.state(abstract_id)
        items = state.conflicts(include_resolved=True)
        reviewers = sorted({r for v in items for r in state.outcomes(v)} | set(state.reviews))
        cards = []
        for v in items:
            outs = {r: _outcome_text(v, r, state) for r in reviewers}
            choices = []
            seen: set[Any] = set()
            for r in reviewers:
                d = v.decisions.get(r)
                key = outcome_key(d)
                if r in state.outcomes(v) and key not in seen:
                    seen.add(key)
                    choices.append(r)
            base = v.resolution.value if v.resolution and v.resolution.value else v.value
            cards.append({"item": v, "outs": outs, "choices": choices, "form": form_values(base),
                          "fields": FIELDS[v.kind]})
        rows = [row_for(v, me) for v in items]
        for row in rows:  # colour the text by the values in conflict, not by the viewer's decisions
            row.status, row.shown = "undecided", row.item.value
        return render_template("conflict.html", state=state, a=state.abstract, cards=cards,
                               reviewers=reviewers, segs=segments(state.abstract.text, rows),
                               blinded=_blinded(state, me))

    @app.post("/value/<int:value_id>/resolve")
    def resolve(value_id: int) -> Any:
        store = get_store()
        me = _reviewer()
        item = store.get_value(value_id)
        action = request.form.get("action", "")
        choose = request.form.get("choose") or None
        value = None
        if action == "edit":
            value = _value_from_form(store.state(item.abstract_id), item.kind, item.value)
        version = store.resolve(value_id, me, action, _int("version"), value=value,  # type: ignore[arg-type]
                                choose=choose, note=request.form.get("note", ""))
        if _wants_json():
            return jsonify(ok=True, id=value_id, version=version)
        return redirect(url_for("conflict_view", abstract_id=item.abstract_id) + f"#c{value_id}")

    # ---- accepted values, export and the pooled preview ---------------------------------------
    def _min_reviews() -> int:
        n = _int("min_reviews", 1)
        if n not in (1, 2):
            raise InputError("min_reviews is 1 (one reviewer is enough) or 2 (both must agree)")
        return n

    @app.get("/accepted")
    def accepted() -> Any:
        store = get_store()
        _reviewer()
        n = _min_reviews()
        problems: list[str] = []
        records = list(store.iter_accepted(n, problems))
        return render_template("accepted.html", records=records, problems=problems, min_reviews=n,
                               has_forest=app.extensions["review_forest"] is not None,
                               describe=describe)

    @app.get("/accepted/forest.png")
    def forest_png() -> Any:
        # POOLED PREVIEW: create_app(forest_plot=...) supplies the plot; see the module docstring.
        store = get_store()
        _reviewer()
        plot: ForestPlot | None = app.extensions["review_forest"]
        if plot is None:
            return _error(404, "this build has no pooled preview")
        try:
            png = plot(store.accepted_records(_min_reviews()))
        except PoolingError as exc:
            return _error(422, str(exc))
        if png is None:
            return _error(404, "not enough accepted values to pool yet")
        return Response(png, mimetype="image/png")

    @app.get("/export")
    def export() -> Any:
        store = get_store()
        _reviewer()
        summary = []
        for n in (1, 2):
            problems: list[str] = []
            recs = list(store.iter_accepted(n, problems))
            summary.append({"min_reviews": n, "records": len(recs),
                            "n_values": sum(1 for r in recs for _ in r.values()), "problems": problems})
        return render_template("export.html", summary=summary, progress=store.progress(session["reviewer"]))

    @app.get("/export/accepted.<fmt>")
    def export_file(fmt: str) -> Any:
        store = get_store()
        _reviewer()
        if fmt not in ("jsonl", "csv"):
            abort(404)
        n = _min_reviews()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"accepted.{fmt}"
            store.export_accepted(path, min_reviews=n)
            data = path.read_bytes()
        mime = "text/csv" if fmt == "csv" else "application/x-ndjson"
        name = f"{store.path.stem}-accepted{'-double' if n == 2 else ''}.{fmt}"
        return Response(data, mimetype=mime,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
