"""Helpers on extracted values for the review store and web app (no spaCy, no Flask).

* :func:`payload_key` — the canonical JSON of a value's guideline fields, used to decide whether
  two values say the same thing.
* :func:`check_value` — the plausibility rules a reviewer's value must pass (one clear message).
* :func:`value_from_fields` — build a value from form strings (the web app's edit/add forms).
* :func:`describe` — one short human line per value ("VAS mean 6.4 ± SD 0.9 · methadone · 6 h").
* :func:`sentence_around` / :func:`relocate` — provenance for reviewer-made values and for
  values whose abstract text changed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from extractor.errors import InputError
from extractor.records import (
    KINDS,
    P_OPS,
    SCALES,
    SPREADS,
    STATS,
    Proportion,
    PValue,
    Score,
    Value,
    value_from_dict,
)


def payload_key(value: Value) -> str:
    """Canonical JSON of the value's guideline fields (no provenance)."""
    return json.dumps(value.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def value_json(value: Value) -> str:
    return json.dumps({"kind": value.kind, **value.to_dict()}, ensure_ascii=False)


def value_from_json(data: str) -> Value:
    obj = json.loads(data)
    return value_from_dict(obj["kind"], obj)


# --------------------------------------------------------------------------------------------
# Validation


def check_value(value: Value) -> None:
    """Raise :class:`InputError` unless the value is plausible for a meta-analysis."""
    kind = value.kind
    p = value.payload()

    def bad(msg: str) -> InputError:
        return InputError(f"{kind.replace('_', ' ')}: {msg}")

    for name, x in p.items():
        if isinstance(x, float) and not math.isfinite(x):
            raise bad(f"{name} must be a finite number")
    if kind in ("sample_size", "arm_size") and p["n"] < 1:
        raise bad("n must be a whole number of at least 1")
    if "arm" in p and p["arm"] is not None and not str(p["arm"]).strip():
        raise bad("arm must be a name or empty")
    if kind == "scale" and p["scale"] not in SCALES:
        raise bad(f"scale must be one of {', '.join(SCALES)}")
    if isinstance(value, Score):
        if value.scale not in SCALES:
            raise bad(f"scale must be one of {', '.join(SCALES)}")
        if value.n is not None and value.n < 1:
            raise bad("n must be at least 1 (or empty)")
        if value.spread in ("sd", "se") and value.spread_values[0] < 0:
            raise bad(f"{value.spread} cannot be negative")
        if value.spread in ("iqr", "range", "ci95") and value.spread_values[0] > value.spread_values[1]:
            raise bad(f"{value.spread} low must not exceed high")
    if isinstance(value, Proportion):
        if value.events is None and value.total is None and value.percent is None:
            raise bad("give events, total or percent")
        if value.events is not None and value.events < 0:
            raise bad("events cannot be negative")
        if value.total is not None and value.total < 1:
            raise bad("total must be at least 1")
        if value.events is not None and value.total is not None and value.events > value.total:
            raise bad(f"events ({value.events}) exceed total ({value.total})")
        if value.percent is not None and not 0 <= value.percent <= 100:
            raise bad("percent must lie between 0 and 100")
    if isinstance(value, PValue) and not 0 <= value.value <= 1:
        raise bad("a p-value lies between 0 and 1")


# --------------------------------------------------------------------------------------------
# Form fields


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str  # "int", "float", "text", "choice", "floats"
    choices: tuple[str, ...] = ()
    required: bool = False
    placeholder: str = ""


FIELDS: dict[str, tuple[Field, ...]] = {
    "sample_size": (Field("n", "N", "int", required=True),),
    "arm_size": (Field("arm", "arm", "text"), Field("n", "n", "int", required=True)),
    "scale": (Field("scale", "scale", "choice", SCALES, required=True),),
    "score": (
        Field("scale", "scale", "choice", SCALES, required=True),
        Field("stat", "statistic", "choice", STATS, required=True),
        Field("value", "value", "float", required=True),
        Field("spread", "spread", "choice", ("", *SPREADS)),
        Field("spread_values", "spread values", "floats", placeholder="0.9  or  1.2; 3.4"),
        Field("arm", "arm", "text"),
        Field("timepoint", "time point", "text", placeholder="24 h"),
        Field("days", "days", "float"),
        Field("n", "n", "int"),
    ),
    "proportion": (
        Field("what", "outcome", "text", placeholder="pain-free"),
        Field("events", "events", "int"),
        Field("total", "total", "int"),
        Field("percent", "percent", "float"),
        Field("arm", "arm", "text"),
        Field("timepoint", "time point", "text"),
        Field("days", "days", "float"),
    ),
    "p_value": (
        Field("op", "operator", "choice", P_OPS, required=True),
        Field("value", "p", "float", required=True),
    ),
}

KIND_LABELS: dict[str, str] = {
    "sample_size": "sample size", "arm_size": "arm size", "scale": "scale",
    "score": "score", "proportion": "proportion", "p_value": "p-value",
}

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _parse_float(field: Field, raw: str) -> float:
    text = raw.strip().replace("\u2212", "-")
    if not _NUMBER.match(text):
        raise InputError(f"{field.label}: {raw!r} is not a number")
    return float(text.replace(",", "."))


def _parse_int(field: Field, raw: str) -> int:
    x = _parse_float(field, raw)
    if not x.is_integer():
        raise InputError(f"{field.label}: {raw!r} is not a whole number")
    return int(x)


def value_from_fields(kind: str, fields: Mapping[str, str], *, text: str, start: int, end: int,
                      provenance: Mapping[str, Any] | None = None) -> Value:
    """Build a value of ``kind`` from form strings; evidence is ``text[start:end]``.

    ``provenance`` gives the other provenance fields (the store overwrites them for reviewer
    values anyway). Raises :class:`InputError` with one message naming the bad field.
    """
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not 0 <= start <= end <= len(text):
        raise InputError(f"offsets {start}..{end} lie outside the abstract (0..{len(text)})")
    data: dict[str, Any] = {}
    for f in FIELDS[kind]:
        raw = str(fields.get(f.name) or "").strip()
        if not raw:
            if f.required:
                raise InputError(f"{KIND_LABELS[kind]}: {f.label} is required")
            data[f.name] = [] if f.type == "floats" else None
            continue
        if f.type == "int":
            data[f.name] = _parse_int(f, raw)
        elif f.type == "float":
            data[f.name] = _parse_float(f, raw)
        elif f.type == "floats":
            data[f.name] = [_parse_float(f, part) for part in re.split(r"[;\s]+", raw) if part]
        elif f.type == "choice":
            if raw not in f.choices:
                raise InputError(f"{f.label}: {raw!r} is not one of {', '.join(c for c in f.choices if c)}")
            data[f.name] = raw
        else:
            data[f.name] = raw
    if kind == "proportion" and data.get("what") is None:
        data["what"] = ""
    prov = dict(provenance or {})
    prov.update(start=start, end=end, evidence=text[start:end])
    try:
        value = value_from_dict(kind, {**prov, **data})
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{KIND_LABELS[kind]}: {exc}") from exc
    check_value(value)
    return value


def form_values(value: Value | None) -> dict[str, str]:
    """The value's fields as form strings (inverse of :func:`value_from_fields`)."""
    if value is None:
        return {}
    out: dict[str, str] = {}
    for name, x in value.payload().items():
        if x is None:
            out[name] = ""
        elif isinstance(x, list):
            out[name] = "; ".join(_fmt(v) for v in x)
        else:
            out[name] = _fmt(x) if isinstance(x, float | int) else str(x)
    return out


# --------------------------------------------------------------------------------------------
# Display


def _fmt(x: float | int | None) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


_SPREAD_LABEL = {"sd": "SD", "se": "SE", "iqr": "IQR", "range": "range", "ci95": "95% CI"}


def describe(value: Value) -> str:
    """One short line saying what the value claims."""
    p = value.payload()
    kind = value.kind
    if kind == "sample_size":
        return f"N = {p['n']}"
    if kind == "arm_size":
        return f"{p['arm'] or '(arm not named)'}: n = {p['n']}"
    if kind == "scale":
        return str(p["scale"])
    if kind == "p_value":
        return f"p {p['op']} {_fmt(p['value'])}"
    parts: list[str] = []
    if kind == "score":
        main = f"{p['scale']} {p['stat'].replace('_', ' ')} {_fmt(p['value'])}"
        if p["spread"] in ("sd", "se"):
            main += f" ± {_SPREAD_LABEL[p['spread']]} {_fmt(p['spread_values'][0])}"
        elif p["spread"]:
            lo, hi = p["spread_values"]
            main += f" ({_SPREAD_LABEL[p['spread']]} {_fmt(lo)} to {_fmt(hi)})"
        parts.append(main)
    else:
        count = ""
        if p["events"] is not None and p["total"] is not None:
            count = f"{p['events']}/{p['total']}"
        elif p["events"] is not None:
            count = f"{p['events']} events"
        elif p["total"] is not None:
            count = f"of {p['total']}"
        if p["percent"] is not None:
            count = f"{count} ({_fmt(p['percent'])}%)" if count else f"{_fmt(p['percent'])}%"
        parts.append(f"{p['what'] or 'responders'}: {count}")
    if p.get("arm"):
        parts.append(str(p["arm"]))
    if p.get("timepoint") or p.get("days") is not None:
        tp = str(p.get("timepoint") or "")
        if p.get("days") is not None:
            tp = f"{tp} ({_fmt(p['days'])} d)" if tp else f"day {_fmt(p['days'])}"
        parts.append(tp)
    if kind == "score" and p.get("n") is not None:
        parts.append(f"n = {p['n']}")
    return " · ".join(parts)


# --------------------------------------------------------------------------------------------
# Provenance helpers

_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])|\n+")


def sentence_around(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The sentence holding ``text[start:end]`` by a simple punctuation rule (no NLP here).

    Boundaries are newlines and ``.``/``!``/``?`` followed by white space and a capital letter,
    digit or opening bracket. Good enough to show context for a reviewer-made value.
    """
    s, e = 0, len(text)
    for m in _SENT_END.finditer(text):
        if m.end() <= start:
            s = m.end()
        elif m.start() >= end:
            e = m.start()
            break
    return text[s:e], s, e


def relocate(evidence: str, text: str, near: int) -> int | None:
    """Start of the occurrence of ``evidence`` in ``text`` closest to ``near`` (None if absent)."""
    if not evidence:
        return None
    best: int | None = None
    i = text.find(evidence)
    while i != -1:
        if best is None or abs(i - near) < abs(best - near):
            best = i
        i = text.find(evidence, i + 1)
    return best
