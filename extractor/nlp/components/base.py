"""What every rule component shares: rule loading, serialisation, error routing, scoring.

A component subclasses :class:`RuleComponent`, names its rule file (``rules_name``) and its span
group (``span_key``), and implements ``compile_rules``, ``match`` and ``set_annotations``.
Rules arrive in ``initialize()`` (from ``[initialize.components.<name>.patterns]``, by default the
packaged ``patterns/<file>.jsonl``); ``to_disk``/``from_disk`` and ``to_bytes``/``from_bytes``
store them with the component, so a saved pipeline loads with ``spacy.load`` alone.
"""



from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.training import Example

from extractor.nlp import extensions  # noqa: F401  (registers the Doc extensions)
from extractor.nlp.rules import Rule, read_packaged_rules, read_rules, write_rules

Scorer = Callable[..., dict[str, Any]]


class RuleComponent(Pipe):
    """Base of the rule-based components (not trainable)."""

    rules_name: ClassVar[str] = ""

    def __init__(self, nlp: Language, name: str, *, span_key: str, scorer: Scorer | None = None,
                 **cfg: Any) -> None:
        self.vocab = nlp.vocab
        self.name = name
        self.span_key = span_key
        self.scorer = scorer
        self.cfg: dict[str, Any] = {"span_key": span_key, **cfg}
        self.rules: list[Rule] = []
        self._ready = False

    # -- rules -------------------------------------------------------------------------------

    def initialize(self, get_examples: Callable[[], Iterable[Example]] | None = None, *,
                   nlp: Language | None = None, patterns: list[Rule] | None = None) -> None:
        """Load the rules (``patterns``; the packaged rule file when not given)."""
        if self.rules_name:
            self.set_rules(read_packaged_rules(self.rules_name) if patterns is None else patterns)
        else:
            self.set_rules([])

    def set_rules(self, rules: list[Rule]) -> None:
        rules = [dict(r) for r in rules]
        ids = [r.get("id") for r in rules]
        if any(not isinstance(i, str) or not i for i in ids):
            raise ValueError(f"{self.name}: every rule needs a string 'id'")
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: rule ids must be unique")
        self.compile_rules(rules)
        self.rules = rules
        self._ready = True

    def compile_rules(self, rules: list[Rule]) -> None:
        """Turn the rule dicts into whatever ``match`` needs (compiled regexes, lexicons)."""

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r["id"] == rule_id:
                return r
        raise KeyError(rule_id)

    # -- processing --------------------------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        error_handler = self.get_error_handler()
        try:
            if not self._ready:
                raise ValueError(f"component {self.name!r} has no rules: run nlp.initialize() "
                                 "or load a saved pipeline")
            matches = self.match(doc)
            self.set_annotations(doc, matches)
        except Exception as exc:  # routed to spaCy's error handler (raises by default)
            error_handler(self.name, self, [doc], exc)
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Process ``stream`` a batch at a time: this component runs over ``batch_size`` docs before
        the next component starts on them. The result is that of ``__call__`` on each doc; running
        one component's rules over many docs in a row keeps its regular expressions and code
        in the CPU caches (about 15% faster than one doc through every component at a time)."""
        docs_in = iter(stream)
        while docs := list(islice(docs_in, max(1, batch_size))):
            for doc in docs:
                self(doc)
            yield from docs

    def match(self, doc: Doc) -> Any:
        raise NotImplementedError

    def set_annotations(self, doc: Doc, matches: Any) -> None:
        raise NotImplementedError

    # -- scoring -----------------------------------------------------------------------------

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        if self.scorer is None:
            return {}
        return self.scorer(examples, **kwargs)

    # -- serialisation -----------------------------------------------------------------------

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", self.cfg)
        write_rules(path / "patterns.jsonl", self.rules)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> "RuleComponent":
        path = Path(path)
        if (path / "cfg").exists():
            self.cfg.update(srsly.read_json(path / "cfg"))
        self.set_rules(read_rules(path / "patterns.jsonl"))
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        data: bytes = srsly.msgpack_dumps({"cfg": self.cfg, "rules": self.rules})
        return data

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> "RuleComponent":
        data = srsly.msgpack_loads(bytes_data)
        self.cfg.update(data.get("cfg") or {})
        self.set_rules(list(data.get("rules") or []))
        return self


def set_span_group(doc: Doc, key: str, items: Iterable[tuple[int, int, str, str]]) -> None:
    """Write ``(start_char, end_char, label, rule_id)`` items to ``doc.spans[key]``.

    Offsets are widened to token boundaries (``alignment_mode="expand"``); items that cover no
    token (e.g. whitespace only) are skipped. A component that found nothing leaves no group.
    """
    spans: list[Span] = []
    items = list(items)
    if not items and key not in doc.spans:
        return  # nothing found: no empty group (saves its cost on the many docs without values)
    for start, end, label, rule_id in items:
        span = doc.char_span(start, end, label=label, alignment_mode="expand", span_id=rule_id)
        if span is not None and len(span):
            spans.append(span)
    doc.spans[key] = spans
