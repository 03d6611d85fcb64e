"""PubMed XML with a pre-filter: decide on each record's raw bytes, parse only the records kept.

:func:`iter_pubmed_fast` yields exactly the items of
``apply_prefilter(iter_pubmed_xml(stream, where), prefilter)`` — the same ``Abstract``\\ s (text,
sections, metadata, line numbers), ``Skipped``, ``Deletion`` and ``Problem`` items in the same
order — at a fraction of the cost when the pre-filter turns most records down:

1. The decompressed bytes are read in blocks of 1 MiB and fed to a libxml2 parser that builds
   nothing (a target without callbacks: well-formedness only, about a third of the cost of a bare
   ``iterparse``), so a malformed file is noticed exactly where the full reader notices it.
2. Each ``<PubmedArticle>`` is cut out of the block with byte searches (C speed). Its PMID and
   ``Version`` come from the head of the record; the pre-filter's inputs — ``Abstract.text`` and
   ``has_abstract`` — are rebuilt from the bytes of ``ArticleTitle`` / ``VernacularTitle`` and the
   ``AbstractText`` parts of ``Abstract`` (markup removed, ``&lt;``-style and ``&#177;``-style
   references decoded, then :func:`~extractor.fetch.text.decode_entities` and
   :func:`~extractor.fetch.text.compose_text`, exactly as the parser's ``flat``): they are the same
   strings the parser produces, so the decision is the pre-filter's own, not an approximation.
3. A record the pre-filter turns down becomes a ``Skipped`` (id, reason, version, line) without
   any parsing. A kept record, and any record whose bytes do not fit the plain layout (CDATA,
   comments or processing instructions inside, unknown entities, repeated or misplaced title or
   abstract elements, ``OtherAbstract`` in play, no PMID, ...), is parsed by lxml in the context of
   the file's own prolog and converted by the same code as the full reader
   (:func:`~extractor.fetch.pubmed_xml.convert_record`), line numbers shifted to the file's.
   Books and ``DeleteCitation`` blocks are always parsed.
4. Anything unexpected at the file level — another root element, an encoding other than UTF-8,
   an internal DTD subset, content between records, a syntax error, a truncated gzip stream, a
   stream that cannot seek — hands over to the full reader: from the start of the file when
   nothing was yielded yet, else by re-reading the file and passing over the items already
   yielded (the full reader yields the same items up to that point), so even a damaged file gives
   the same items and the same ``Problem`` as without the pre-filter.

``fetch`` never imports the batch stage: the pre-filter comes in as a function (see
:mod:`extractor.fetch.hook`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

from lxml import etree

from extractor.fetch.hook import PrefilterHook, RawReason, apply_prefilter
from extractor.fetch.pubmed_xml import convert_record, iter_pubmed_xml
from extractor.fetch.streams import READ_ERRORS
from extractor.fetch.text import compose_text, decode_entities, squash
from extractor.records import Abstract, Deletion, Problem, Skipped

Item = Abstract | Deletion | Problem | Skipped

BLOCK_SIZE = 1 << 20

# The attributes of a start tag; quoted values may hold '>' and '/'.
_ATTRS = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:<\?xml(?P<decl>\s[^<>?]*)\?>)?\s*(?:<!DOCTYPE\s[^\[\]<>]*>\s*)?"
    rb"<PubmedArticleSet(?P<attrs>" + _ATTRS + rb")\s*>"
)
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)[\"']")
_RECORD = re.compile(rb"\s*<(PubmedArticle|PubmedBookArticle|DeleteCitation)" + _ATTRS + rb"\s*(/?)>")
_NAMES = (b"PubmedArticle", b"PubmedBookArticle", b"DeleteCitation")
_RECORD_END = {name: b"</" + name + b">" for name in _NAMES}
_NESTED = tuple(b"<" + name for name in _NAMES)
# What may follow a record: the next record, the end of the set, or the end of the data read so far.
_NEXT = re.compile(rb"\s*(?:<(?:PubmedArticle|PubmedBookArticle|DeleteCitation)[\s/>]"
                   rb"|</PubmedArticleSet[\s>]|\Z)")
_SPACE = re.compile(rb"\s*")
_SET_END = re.compile(rb"</PubmedArticleSet\s*>")

_HEAD = re.compile(
    rb"<PubmedArticle" + _ATTRS + rb"\s*>\s*<MedlineCitation" + _ATTRS + rb"\s*>\s*"
    rb"<PMID(" + _ATTRS + rb")\s*>([^<&]*)</PMID\s*>"
)
_VERSION = re.compile(rb"\sVersion\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_LABEL = re.compile(rb"\sLabel\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


@dataclass(frozen=True)
class _Element:
    """How to find one element: its start tag (with attributes) and its plain end tag."""

    start: re.Pattern[bytes]
    end: bytes

    @classmethod
    def named(cls, name: bytes) -> _Element:
        return cls(re.compile(b"<" + name + b"(" + _ATTRS + rb")\s*(/?)>"), b"</" + name + b">")


_ARTICLE = _Element.named(b"Article")
_TITLE = _Element.named(b"ArticleTitle")
_VERNACULAR = _Element.named(b"VernacularTitle")
_ABSTRACT = _Element.named(b"Abstract")
_ABSTRACT_TEXT = _Element.named(b"AbstractText")
_TAG = re.compile(rb"</?[^\s/<>!?]+" + _ATTRS + rb"\s*/?>")
_EMPTY_TAG = re.compile(rb"<[^\s/<>!?]+" + _ATTRS + rb"\s*/>")
_XML_REF = re.compile(r"&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ATTR_SPACE = re.compile(r"[\t\n]")


class _Unsure(Exception):
    """The record's bytes do not fit the plain layout: parse it."""


class _HandOver(Exception):
    """Something at the file level needs the full reader."""


class RawView(NamedTuple):
    """What the pre-filter needs of one ``<PubmedArticle>``, read from its bytes (a tuple: one is
    made per record, most of them only to be turned down)."""

    pmid: str
    version: int
    text: str
    has_abstract: bool


def _ref(m: re.Match[str]) -> str:
    if m.group(3):
        return _PREDEFINED[m.group(3)]
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    if code > 0x10FFFF:
        raise _Unsure
    return chr(code)


def _xml_unescape(text: str) -> str:
    """Decode XML references; an entity other than the five predefined ones is _Unsure."""
    if "&" not in text:
        return text
    out, n = _XML_REF.subn(_ref, text)
    if n != text.count("&"):
        raise _Unsure
    return out


def _decode(raw: bytes) -> str:
    if b"\r" in raw:  # XML end-of-line handling
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unsure from None


def _squashed_text(raw: bytes) -> str:
    """``squash(flat(element))`` of the parser, from the element's content bytes."""
    if b"<" in raw:
        raw = _TAG.sub(b"", raw)  # inline markup: flat() joins the text around it
        if b"<" in raw:
            raise _Unsure
    return squash(decode_entities(_xml_unescape(_decode(raw))))


def _raw_attribute(pattern: re.Pattern[bytes], attrs: bytes) -> bytes | None:
    """An attribute's value as written (``pattern`` has the double- and single-quoted forms)."""
    m = pattern.search(attrs)
    return None if m is None else m.group(1) if m.group(1) is not None else m.group(2)


def _attribute_value(raw: bytes) -> str:
    """An attribute's value as the parser gives it: white space normalised, then references decoded."""
    value = _decode(raw)
    if "\t" in value or "\n" in value:
        value = _ATTR_SPACE.sub(" ", value)
    return _xml_unescape(value)


def _depth(seg: bytes, lo: int, hi: int) -> int:
    """Open elements in ``seg[lo:hi]`` (no comments, PIs or CDATA there: checked before; the range
    starts after a tag and ends before one). Every ``<`` starts a tag and every ``</`` an end tag
    (``<`` is escaped everywhere else), but ``/>`` may be text or part of an attribute value
    (``>`` needs no escaping), so empty-element tags are counted as tags where ``/>`` occurs."""
    opened = seg.count(b"<", lo, hi) - 2 * seg.count(b"</", lo, hi)
    if seg.find(b"/>", lo, hi) < 0:
        return opened
    return opened - sum(1 for _ in _EMPTY_TAG.finditer(seg, lo, hi))


def _first_child(seg: bytes, element: _Element, lo: int) -> re.Match[bytes] | None:
    """``parent.find(name)`` on bytes: the start tag of the first element of this name after
    ``lo`` (where the parent's content starts) if it is a child of that parent; None when the
    parent has no such child; _Unsure when the first one after ``lo`` lies deeper. (In a
    well-formed record, 0 open elements between ``lo`` and it make it the parent's child, and an
    earlier child of that name would have been found first.)"""
    m = element.start.search(seg, lo)
    if m is None:
        return None
    depth = _depth(seg, lo, m.start())
    if depth < 0:
        return None  # the parent closed before it
    if depth > 0:
        raise _Unsure
    return m


def _content(seg: bytes, element: _Element, m: re.Match[bytes], stop: int) -> tuple[int, int]:
    """(content end, end) of a text element (title, AbstractText) whose start tag ``m`` matched,
    ending before ``stop``. The first end tag closes it unless a same-name element lies inside
    (_Unsure, as is an end tag written with white space, ``</Name >``)."""
    if m.group(2):  # <Name/>
        return m.end(), m.end()
    end = seg.find(element.end, m.end(), stop)
    if end < 0 or seg.find(element.end[:1] + element.end[2:-1], m.end(), end) >= 0:
        raise _Unsure
    return end, end + len(element.end)


def _id_version(head: re.Match[bytes]) -> tuple[str, int] | None:
    """PMID and ``Version`` from a match of ``_HEAD`` (raises _Unsure); None: no PMID."""
    pmid = head.group(2).decode("ascii") if head.group(2).isdigit() else squash(_decode(head.group(2)))
    if not pmid:
        return None
    raw_version = _raw_attribute(_VERSION, head.group(1))
    v = "1" if raw_version is None else _attribute_value(raw_version)
    return pmid, int(v) if v.isdigit() else 1


class _Located(NamedTuple):
    """The raw bytes of what a record's text is made of (see :func:`raw_view`)."""

    pmid: str
    version: int
    titles: list[bytes]  # ArticleTitle's content; VernacularTitle's too when the first may be empty
    labels: list[bytes | None]  # each AbstractText's Label attribute as written (None: no Label)
    contents: list[bytes]  # each AbstractText's content

    def raw_text(self) -> bytes:
        """Everything the text is drawn from, one space between pieces (a screen reads this)."""
        return b" ".join([*self.titles, *(label for label in self.labels if label), *self.contents])


# an ASCII letter or digit that is not part of a reference (run on text without markup)
_WORD_OUTSIDE_REFS = re.compile(rb"(?:^|;)[^&]*?[A-Za-z0-9]")


def _has_word(raw: bytes) -> bool:
    """Whether element content decodes to text holding an ASCII letter or digit (decided on its
    bytes: markup dropped, and not counting the letters and digits of references)."""
    if b"<" in raw:
        raw = _TAG.sub(b"", raw)
    return _WORD_OUTSIDE_REFS.search(raw) is not None


def _raw_title(seg: bytes, element: _Element, lo: int) -> bytes:
    m = _first_child(seg, element, lo)
    return b"" if m is None else seg[m.end():_content(seg, element, m, len(seg))[0]]


def _locate(seg: bytes) -> _Located | None:
    """The raw pieces of one ``<PubmedArticle>``'s text; None when parsing is needed (raises
    nothing: every doubt is None)."""
    head = _HEAD.match(seg)
    if head is None:
        return None
    try:
        ids = _id_version(head)
        if ids is None:
            return None
        article = _first_child(seg, _ARTICLE, head.end())
        if article is None or article.group(2):
            return None  # no Article (or an empty one): the citation is the holder
        lo = article.end()
        titles = [_raw_title(seg, _TITLE, lo)]
        if not _has_word(titles[0]):  # the title may be empty: the parser then takes VernacularTitle
            titles.append(_raw_title(seg, _VERNACULAR, lo))
        labels: list[bytes | None] = []
        contents: list[bytes] = []
        abstract = _first_child(seg, _ABSTRACT, lo)
        if abstract is not None and not abstract.group(2):
            pos = abstract.end()
            stop = seg.find(_ABSTRACT.end, pos)
            if stop < 0:
                raise _Unsure
            while (i := seg.find(b"<AbstractText", pos, stop)) >= 0:
                m = _ABSTRACT_TEXT.start.match(seg, i, stop)
                if m is None or (i > pos and _depth(seg, pos, i) != 0):
                    raise _Unsure
                content_end, pos = _content(seg, _ABSTRACT_TEXT, m, stop)
                labels.append(_raw_attribute(_LABEL, m.group(1)))
                contents.append(seg[m.end():content_end])
            if _depth(seg, pos, stop) != 0:
                raise _Unsure  # that end tag was not this Abstract's
        if not contents and b"<OtherAbstract" in seg:
            return None  # the parser would look at OtherAbstract elements
    except _Unsure:
        return None
    return _Located(ids[0], ids[1], titles, labels, contents)


def _compose(located: _Located) -> RawView | None:
    """The :class:`RawView` of located pieces (decoded exactly as the parser does); None when
    decoding needs the parser."""
    try:
        title = ""
        for raw in located.titles:
            title = _squashed_text(raw)
            if title:
                break
        parts: list[tuple[str | None, str]] = []
        for raw_label, raw_content in zip(located.labels, located.contents, strict=True):
            label = None if raw_label is None else _attribute_value(raw_label)
            parts.append((squash(label) if label else label, _squashed_text(raw_content)))
    except _Unsure:
        return None
    text, has_abstract = compose_text(title, parts, squashed=True)
    return RawView(pmid=located.pmid, version=located.version, text=text, has_abstract=has_abstract)


def raw_view(seg: bytes) -> RawView | None:
    """Id, version, text and has_abstract of one ``<PubmedArticle>…</PubmedArticle>``, from its
    bytes, exactly as the parser gives them; None when they cannot be read without parsing."""
    located = _locate(seg)
    return None if located is None else _compose(located)


class _Watch:
    """The validator's target: builds nothing, notes comments and processing instructions."""

    def __init__(self) -> None:
        self.odd = False

    def comment(self, text: str) -> None:
        self.odd = True

    def pi(self, target: str, data: str | None = None) -> None:
        self.odd = True

    def close(self) -> None:
        return None


def _parser(**kwargs: Any) -> Any:
    # the options of the full reader's iterparse
    return etree.XMLParser(huge_tree=True, resolve_entities=False, load_dtd=False, no_network=True, **kwargs)


class _Scanner:
    """The fast path over one stream; raises _HandOver when the full reader must take over."""

    def __init__(self, stream: IO[bytes], where: str, prefilter: PrefilterHook, source: str) -> None:
        self.stream = stream
        self.where = where
        self.prefilter = prefilter
        self.raw_reason: RawReason | None = getattr(prefilter, "raw_reason", None)
        self.source = source
        self.watch = _Watch()
        self.validator = _parser(target=self.watch)
        self.record_parser = _parser(remove_comments=True, remove_pis=True)
        self.eof = False
        self.next_at: dict[bytes, int] = {}

    def read(self, buf: bytes, pos: int) -> bytes:
        """``buf[pos:]`` and the next block (fed to the validator first); at the end of the stream
        the validator must agree that the document is complete."""
        if self.eof:
            return buf[pos:]
        try:
            block = self.stream.read(BLOCK_SIZE)
        except READ_ERRORS as exc:  # truncated or corrupt gzip stream
            raise _HandOver from exc
        try:
            if block:
                self.validator.feed(block)
            else:
                self.eof = True
                self.validator.close()
        except etree.XMLSyntaxError as exc:
            raise _HandOver from exc
        buf = buf[pos:] + block
        self.next_at = {}
        # Comments, processing instructions and CDATA sections are legal but never in NLM's files;
        # they could hide tags from byte searches, so such a file goes to the full reader.
        if self.watch.odd or b"<![CDATA[" in buf:
            raise _HandOver
        return buf

    def items(self) -> Iterator[Item]:
        buf = self.read(b"", 0)
        while not self.eof and len(buf) < 4096:
            buf = self.read(buf, 0)
        prolog = _PROLOG.match(buf)
        if prolog is None or b"xmlns" in prolog.group("attrs"):
            raise _HandOver
        decl = prolog.group("decl")
        encoding = _ENCODING.search(decl) if decl else None
        if encoding is not None and encoding.group(1).lower() != b"utf-8":
            raise _HandOver
        head = buf[:prolog.end()]
        head_lines = head.count(b"\n") + 1
        pos = prolog.end()
        line = head_lines  # the line `pos` is on
        while True:
            m = _RECORD.match(buf, pos)
            if m is None:
                if not self.eof and buf.find(b">", pos) < 0:  # the next tag is not complete yet
                    buf, pos = self.read(buf, pos), 0
                    continue
                break
            name = m.group(1)
            if m.group(2):  # <PubmedArticle/>
                stop = m.end()
            else:
                stop = buf.find(_RECORD_END[name], m.end())
                stop = stop + len(_RECORD_END[name]) if stop >= 0 else -1
            after = _NEXT.match(buf, stop) if stop >= 0 else None
            if after is None or (after.end() == len(buf) and not self.eof):
                if self.eof:
                    raise _HandOver  # cut off inside a record, or something odd after it
                buf, pos = self.read(buf, pos), 0
                continue
            start = m.start(1) - 1
            if self.nested(buf, name, start, stop):
                raise _HandOver  # a record inside a record
            line += buf.count(b"\n", pos, start)
            yield from self.record(name, buf[start:stop], head, line, line - head_lines)
            line += buf.count(b"\n", start, stop)
            pos = stop
        # the end of the set, then nothing but white space
        end = _SET_END.match(buf, _SPACE.match(buf, pos).end())  # type: ignore[union-attr]
        if end is None:
            raise _HandOver  # not a record, nor the end of the set: the full reader knows what to say
        rest = buf[end.end():]
        while rest.strip() == b"":
            if self.eof:
                return
            rest = self.read(rest, 0)
        raise _HandOver

    def nested(self, buf: bytes, name: bytes, start: int, stop: int) -> bool:
        """Whether a record of another kind starts inside ``buf[start:stop]`` (one of the same kind
        would end this one early: _NEXT notices that). The next position of each kind in ``buf`` is
        kept, so each buffer is searched about once."""
        for tag in _NESTED:
            if tag[1:] == name:
                continue
            at = self.next_at.get(tag)
            if at is None or -1 < at <= start:
                at = self.next_at[tag] = buf.find(tag, start + 1)
            if 0 <= at < stop:
                return True
        return False

    def record(self, name: bytes, seg: bytes, head: bytes, line: int, line_offset: int) -> Iterator[Item]:
        located = _locate(seg) if name == b"PubmedArticle" else None
        if located is not None and self.raw_reason is not None \
                and (reason := self.raw_reason(located.raw_text())) is not None:
            # the hook's answer for any text drawn from these bytes: no need to decode them
            yield Skipped(id=located.pmid, reason=reason, source=self.source,
                          metadata={"version": located.version, "file": self.where, "line": line})
            return
        view = None if located is None else _compose(located)
        if view is not None:
            reason = self.prefilter(view.text, view.has_abstract)
            if reason is not None:
                yield Skipped(id=view.pmid, reason=reason, source=self.source,
                              metadata={"version": view.version, "file": self.where, "line": line})
                return
        try:
            root = etree.fromstring(head + seg + b"</PubmedArticleSet>", self.record_parser)
        except etree.XMLSyntaxError as exc:
            raise _HandOver from exc
        if len(root) != 1:
            raise _HandOver
        items = convert_record(root[0], self.where, source=self.source, line_offset=line_offset)
        # A record kept on its raw view has been asked already (the parser gives the same text).
        yield from items if view is not None else apply_prefilter(items, self.prefilter)


def iter_pubmed_fast(stream: IO[bytes], where: str, prefilter: PrefilterHook, *, source: str = "pubmed-dump"
                     ) -> Iterator[Item]:
    """``apply_prefilter(iter_pubmed_xml(stream, where), prefilter)``, deciding on raw bytes where it
    can (see the module docstring). ``stream`` must be seekable for the hand-over to the full
    reader; when it is not, the full reader is used from the start."""
    yielded = 0
    if stream.seekable():
        try:
            for item in _Scanner(stream, where, prefilter, source).items():
                yield item
                yielded += 1
            return
        except _HandOver:
            pass
        stream.seek(0)
    for index, item in enumerate(iter_pubmed_xml(stream, where, source=source)):
        # the full reader yields the same items up to where the fast path stopped
        if index >= yielded:
            yield from apply_prefilter((item,), prefilter)
        elif isinstance(item, Problem) and item.fatal_for_file:
            yield item
