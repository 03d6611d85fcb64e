"""Turning titles and abstract parts into ``Abstract.text`` with section offsets.

Every reader ends here, so every source follows one rule:

* ``text = title + "\\n" + body``; the body joins the abstract's parts with one space, each part
  written as ``"LABEL: content"`` when it has a label (``"RESULTS: ..."``), else ``"content"``.
* ``sections`` hold one :class:`~extractor.records.Section` per part: its label and the offsets
  of the whole part in ``text`` — ``text[s.start:s.end] == "RESULTS: ..."``.
* Runs of ASCII whitespace (space, tab, CR, LF) become one space and parts are stripped; no other
  character is changed, so ``±``, ``−``, ``≤``, ``·`` and thin spaces (U+2009) stay as they are.
* A record with an empty body has ``has_abstract=False``; its text is ``title + "\\n"``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from extractor.records import Abstract, Section

_ASCII_WS = re.compile(r"[ \t\r\n\f\v]+")
_OTHER_ASCII_WS = ("\n", "\t", "\r", "\f", "\v")
# Entities left escaped in the text (double-escaped upstream, e.g. "&amp;lt;" in the XML).
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# HTML/JATS inline and block tags that appear inside abstracts from Europe PMC, RIS exports, ...
# Only these names are treated as markup, so "p<0.05" or "<1 year" are never mistaken for tags.
_TAG_NAMES = (
    "a|abbr|b|big|bold|br|code|em|font|hr|i|inf|italic|li|ol|p|s|sc|small|span|strike|strong|sub|"
    "sup|tt|u|ul|underline|div|h[1-6]|title|sec|abstract|abstracttext|label|mml:[a-z]+|math|"
    "m:[a-z]+|ext-link|xref|named-content|inline-formula|disp-formula|list|list-item|caption"
)
_TAG = re.compile(rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_HEADING = re.compile(r"<h[1-6](?:\s[^<>]*)?>(.*?)</h[1-6]\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"</?(?:p|br|div|li|ul|ol|hr|sec)(?:\s[^<>]*)?/?>", re.IGNORECASE)
# Inline structured-abstract labels in plain text: "BACKGROUND: ", "MATERIALS AND METHODS: ".
_INLINE_LABEL = re.compile(r"(?:^|(?<=[.!?)\]]\s)|(?<=[.!?)\]]\s\s))([A-Z][A-Z0-9 &/,()'-]{2,60}[A-Z)]):\s")


def squash(text: str | None) -> str:
    """Collapse runs of ASCII whitespace to one space and strip; Unicode spaces are kept."""
    if not text:
        return ""
    # The same as _ASCII_WS.sub(" ", text).strip(" "), in substring operations (C speed): most
    # texts have single spaces only, and the rest few runs.
    for ch in _OTHER_ASCII_WS:
        if ch in text:
            text = text.replace(ch, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip(" ")


def decode_entities(text: str) -> str:
    """Decode HTML/XML character references still present in already-parsed text."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def strip_markup(text: str) -> str:
    """Drop known HTML/JATS tags, keeping their content (``m<sup>2</sup>`` → ``m2``).

    Block tags (``<p>``, ``<br>``) become a space so words on either side stay apart; inline tags
    vanish without a space, so ``<i>n</i> = 40`` → ``n = 40``. Then entities are decoded (after
    tag removal, so an escaped ``&lt;b&gt;`` stays text).
    """
    if "<" in text:
        text = _BLOCK.sub(" ", text)
        text = _TAG.sub("", text)
    return decode_entities(text)


def split_html_headings(text: str) -> list[tuple[str | None, str]]:
    """Split an HTML abstract on ``<h4>Label</h4>`` headings (Europe PMC) into (label, html) parts."""
    parts: list[tuple[str | None, str]] = []
    pos = 0
    label: str | None = None
    for m in _HEADING.finditer(text):
        chunk = text[pos : m.start()]
        if chunk.strip() or label is not None:
            parts.append((label, chunk))
        label = squash(strip_markup(m.group(1))) or None
        pos = m.end()
    tail = text[pos:]
    if tail.strip() or label is not None:
        parts.append((label, tail))
    return parts


def split_inline_labels(body: str) -> list[tuple[str | None, str]]:
    """Split plain text on inline upper-case labels (``"BACKGROUND: ... RESULTS: ..."``).

    Used for sources that carry the abstract as one string (MEDLINE text, RIS). Mixed-case labels
    are left alone: "Results: ..." cannot be told apart from an ordinary sentence reliably.
    """
    matches = list(_INLINE_LABEL.finditer(body))
    if not matches:
        return [(None, body)] if body.strip() else []
    parts: list[tuple[str | None, str]] = []
    if body[: matches[0].start()].strip():
        parts.append((None, body[: matches[0].start()]))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        parts.append((m.group(1), body[m.end() : end]))
    return parts


_UNLABELLED = {"UNLABELLED", "UNLABELED", "UNASSIGNED"}


def _pieces(parts: Sequence[tuple[str | None, str]], squashed: bool) -> list[tuple[str | None, str]]:
    """``(label, "LABEL: content")`` of each part that is not empty (see :func:`compose`)."""
    pieces: list[tuple[str | None, str]] = []
    for raw_label, raw_content in parts:
        content = raw_content if squashed else squash(raw_content)
        label = (raw_label if squashed else squash(raw_label)) if raw_label else None
        if label and label.upper() in _UNLABELLED:
            label = None
        if not content and not label:
            continue
        pieces.append((label, f"{label}: {content}" if label and content else (label or content)))
    return pieces


def compose(title: str, parts: Sequence[tuple[str | None, str]], *, squashed: bool = False
            ) -> tuple[str, tuple[Section, ...], bool]:
    """Build ``(text, sections, has_abstract)`` from a title and (label, content) parts.

    Content and labels are squashed (see module docstring; ``squashed=True``: the caller already
    did); empty parts are dropped; NLM's ``UNLABELLED`` label is treated as no label.
    """
    title = squash(title)
    pieces = _pieces(parts, squashed)
    sections: list[Section] = []
    pos = len(title) + 1
    for label, piece in pieces:
        if sections:
            pos += 1  # the joining space
        sections.append(Section(label=label, start=pos, end=pos + len(piece)))
        pos += len(piece)
    body = " ".join(piece for _label, piece in pieces)
    return f"{title}\n{body}", tuple(sections), bool(body.strip())


def compose_text(title: str, parts: Sequence[tuple[str | None, str]], *, squashed: bool = False
                 ) -> tuple[str, bool]:
    """``(text, has_abstract)`` of :func:`compose` without the sections (for a reader that only
    asks the pre-filter)."""
    body = " ".join(piece for _label, piece in _pieces(parts, squashed))
    return f"{squash(title)}\n{body}", bool(body.strip())


def composed_abstract(record_id: str, title: str, parts: Sequence[tuple[str | None, str]], *, source: str,
                      metadata: Mapping[str, Any]) -> Abstract:
    """The :class:`Abstract` of a title and abstract parts: text, sections and ``has_abstract`` from
    :func:`compose`, the title as it stands in the text (squashed)."""
    text, sections, has_abstract = compose(title, parts)
    return Abstract(id=record_id, text=text, title=text.split("\n", 1)[0], sections=sections, source=source,
                    metadata=metadata, has_abstract=has_abstract)


def body_parts_from_plain(body: str, *, labels: bool = True) -> list[tuple[str | None, str]]:
    """Parts of a one-string abstract; with ``labels`` the inline upper-case labels are split out."""
    body = squash(body)
    if not body:
        return []
    return split_inline_labels(body) if labels else [(None, body)]


def join_nonempty(items: Iterable[str | None], sep: str = " ") -> str:
    return sep.join(s for s in (squash(i) for i in items) if s)
