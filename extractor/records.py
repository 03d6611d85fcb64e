"""Record types shared by every stage.

Nothing here imports spaCy, requests or any stage: ``fetch``, ``nlp``, ``pool``, ``review`` and
``batch`` all import this module, never each other's internals.

Two families of records:

* **Input**: :class:`Abstract` (one citation, with the text extraction runs on) and
  :class:`Deletion` (a PubMed ``DeleteCitation`` entry). Fetchers yield these, and
  :class:`Skipped` (a citation a reader's pre-filter turned down: id, version and reason only).
* **Output**: one *value* per extracted number — :class:`SampleSize`, :class:`ArmSize`,
  :class:`ScaleMention`, :class:`Score`, :class:`Proportion`, :class:`PValue` — each with its
  :class:`Provenance`, gathered per abstract in an :class:`ExtractionRecord`.

``ExtractionRecord.to_dict()`` is a painbench record (``../shared/painbench/GUIDELINE.md``) field
for field, with provenance added on every value. Values are flat dicts: the guideline's fields
plus ``evidence``, ``start``, ``end``, ``sentence``, ``sent_start``, ``sent_end``, ``source``,
``producer``, ``producer_id`` and ``confidence``. The invariant ``text[start:end] == evidence``
holds for every value (tests assert it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, TypeAlias

# --------------------------------------------------------------------------------------------
# Vocabularies (from the painbench guideline)

SCALES: tuple[str, ...] = ("VAS", "NRS", "VRS", "BPI", "MPQ", "WOMAC", "FPS", "other", "unspecified")
STATS: tuple[str, ...] = ("mean", "median", "mean_change", "median_change", "mean_difference", "other")
SPREADS: tuple[str, ...] = ("sd", "se", "iqr", "range", "ci95")
P_OPS: tuple[str, ...] = ("<", "<=", "=", ">", ">=")
SOURCES: tuple[str, ...] = ("rule", "model", "reviewer")

Kind: TypeAlias = Literal["sample_size", "arm_size", "scale", "score", "proportion", "p_value"]
KINDS: tuple[Kind, ...] = ("sample_size", "arm_size", "scale", "score", "proportion", "p_value")


# --------------------------------------------------------------------------------------------
# Input records


@dataclass(frozen=True)
class Section:
    """A labelled part of a structured abstract; ``start``/``end`` index into ``Abstract.text``."""

    label: str | None
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Section:
        return cls(label=data.get("label"), start=int(data["start"]), end=int(data["end"]))


@dataclass(frozen=True)
class Abstract:
    """One citation, ready for extraction.

    ``text`` is what extraction runs on and what every offset points into: the title, a newline,
    then the abstract, with structured-abstract labels kept inline (``"RESULTS: ..."``), exactly
    like ``../shared/painbench/pool.jsonl``. ``sections`` locate the labelled parts in ``text``.

    ``source`` names where the record came from (``pubmed``, ``europepmc``, ``pubmed-dump``,
    ``ris``, ``medline``, ``csv``, ``jsonl``, ``txt``, or free text kept from an input file).
    ``metadata`` holds JSON-safe bibliographic fields when known: ``pmid``, ``pmcid``, ``doi``,
    ``journal``, ``year``, ``authors``, ``publication_types``, ``language``, ``version``,
    ``file``, ``line``.

    ``has_abstract`` is False for a citation with no abstract text: such records are kept and
    flagged, never dropped silently.
    """

    id: str
    text: str
    title: str = ""
    sections: tuple[Section, ...] = ()
    source: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    has_abstract: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("Abstract.id must be a non-empty string")
        if not isinstance(self.text, str):
            raise ValueError(f"Abstract {self.id}: text must be a string")
        for section in self.sections:
            if not 0 <= section.start <= section.end <= len(self.text):
                raise ValueError(f"Abstract {self.id}: section {section.label!r} lies outside the text")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "sections": [s.to_dict() for s in self.sections],
            "source": self.source,
            "metadata": dict(self.metadata),
            "has_abstract": self.has_abstract,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Abstract:
        """Build from a dict such as a JSONL line; ``{"id", "text"}`` alone is enough."""
        if "id" not in data or data["id"] in (None, ""):
            raise ValueError("record has no 'id'")
        if "text" not in data or not isinstance(data["text"], str):
            raise ValueError("record has no 'text' string")
        text: str = data["text"]
        has_abstract = data.get("has_abstract")
        return cls(
            id=str(data["id"]),
            text=text,
            title=str(data.get("title") or ""),
            sections=tuple(Section.from_dict(s) for s in data.get("sections") or ()),
            source=str(data.get("source") or ""),
            metadata=dict(data.get("metadata") or {}),
            has_abstract=bool(text.strip()) if has_abstract is None else bool(has_abstract),
        )


@dataclass(frozen=True)
class Deletion:
    """A PubMed ``DeleteCitation`` entry: the PMID must be removed from downstream outputs."""

    id: str
    source: str = "pubmed-dump"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "deleted": True, "source": self.source, "metadata": dict(self.metadata)}


@dataclass(frozen=True)
class Skipped:
    """A citation the reader's ``prefilter`` turned down (``iter_source(..., prefilter=...)``).

    It stands in for the :class:`Abstract` that was not built: ``id``, the ``reason`` the
    pre-filter gave, and ``metadata`` with ``version``, ``file`` and ``line`` where known (so that
    a later version of the id still supersedes an earlier one).
    """

    id: str
    reason: str
    source: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """An input item that could not be read: where it is and why. Readers yield these and go on."""

    where: str  # "file.jsonl:12", "pubmed26n0001.xml.gz", "PMID 12345"
    reason: str
    fatal_for_file: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


# --------------------------------------------------------------------------------------------
# Output records


@dataclass(frozen=True)
class Provenance:
    """Where a value came from and who produced it.

    ``start``/``end`` are character offsets into ``Abstract.text``; ``evidence`` is exactly
    ``text[start:end]``. ``sentence`` is the sentence holding the evidence, which starts at
    ``sent_start`` and ends at ``sent_end``. ``source`` is ``rule``, ``model`` or ``reviewer``;
    ``producer`` the spaCy factory (or reviewer name); ``producer_id`` the rule id (or model
    name and version); ``confidence`` in [0, 1].
    """

    start: int
    end: int
    evidence: str
    sentence: str = ""
    sent_start: int | None = None
    sent_end: int | None = None
    source: str = "rule"
    producer: str = ""
    producer_id: str = ""
    confidence: float | None = None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "evidence", "start", "end", "sentence", "sent_start", "sent_end",
        "source", "producer", "producer_id", "confidence",
    )

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad offsets {self.start}..{self.end}")
        if self.end - self.start != len(self.evidence):
            raise ValueError(f"evidence {self.evidence!r} does not span {self.start}..{self.end}")
        if self.confidence is not None and not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is outside [0, 1]")

    def check(self, text: str) -> None:
        """Raise ``ValueError`` unless the evidence is exactly ``text[start:end]``."""
        if text[self.start : self.end] != self.evidence:
            raise ValueError(
                f"evidence {self.evidence!r} != text[{self.start}:{self.end}] "
                f"{text[self.start:self.end]!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        evidence = str(data.get("evidence") or "")
        start = data.get("start")
        end = data.get("end")
        # Gold/third-party records may carry evidence without offsets: keep them, unlocated.
        start_i = int(start) if start is not None else 0
        end_i = int(end) if end is not None else start_i + len(evidence)
        confidence = data.get("confidence")
        return cls(
            start=start_i,
            end=end_i,
            evidence=evidence,
            sentence=str(data.get("sentence") or ""),
            sent_start=_opt_int(data.get("sent_start")),
            sent_end=_opt_int(data.get("sent_end")),
            source=str(data.get("source") or "rule"),
            producer=str(data.get("producer") or ""),
            producer_id=str(data.get("producer_id") or ""),
            confidence=None if confidence is None else float(confidence),
        )


def _opt_int(x: Any) -> int | None:
    return None if x is None else int(x)


def _opt_float(x: Any) -> float | None:
    if x is None or x == "":
        return None
    v = float(x)
    return None if math.isnan(v) else v


def _num(x: float | None) -> float | int | None:
    """Write integral floats as ints (``30.0`` → ``30``) so JSON stays as the guideline shows it."""
    if x is None:
        return None
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


@dataclass(frozen=True)
class _Value:
    """Base of every extracted value. Subclasses add their fields before ``prov``."""

    kind: ClassVar[Kind]
    prov: Provenance

    def payload(self) -> dict[str, Any]:
        """The guideline's fields of this value, without provenance."""
        names = _PAYLOAD_FIELDS.get(type(self))
        if names is None:
            names = _PAYLOAD_FIELDS[type(self)] = tuple(f.name for f in fields(self) if f.name != "prov")
        return {name: _jsonable(getattr(self, name)) for name in names}

    def to_dict(self) -> dict[str, Any]:
        """Flat dict: the guideline's fields, then the provenance fields."""
        return {**self.payload(), **self.prov.to_dict()}

    def to_row(self, record_id: str) -> dict[str, Any]:
        """One table row (CSV / Parquet) for this value; see :data:`ROW_COLUMNS`."""
        row: dict[str, Any] = dict.fromkeys(ROW_COLUMNS)
        row.update({"id": record_id, "kind": self.kind})
        for key, val in self.payload().items():
            row[_ROW_RENAME.get((self.kind, key), key)] = (
                ";".join(repr(v) if isinstance(v, float) else str(v) for v in val)
                if isinstance(val, list) else val
            )
        row.update(self.prov.to_dict())
        return row

    def with_provenance(self, **changes: Any) -> _Value:
        return replace(self, prov=replace(self.prov, **changes))


# the payload field names of each value class, in field order (``fields()`` is slow to call per value)
_PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {}


def _jsonable(x: Any) -> Any:
    if isinstance(x, tuple):
        return [_num(v) for v in x]
    if isinstance(x, float):
        return _num(x)
    return x


@dataclass(frozen=True)
class SampleSize(_Value):
    """The headline number of participants (guideline: randomized > enrolled > analyzed)."""

    kind: ClassVar[Kind] = "sample_size"
    n: int
    prov: Provenance


@dataclass(frozen=True)
class ArmSize(_Value):
    """Participants in one arm."""

    kind: ClassVar[Kind] = "arm_size"
    arm: str | None
    n: int
    prov: Provenance


@dataclass(frozen=True)
class ScaleMention(_Value):
    """A pain scale named in the abstract, canonicalised to one of :data:`SCALES`."""

    kind: ClassVar[Kind] = "scale"
    scale: str
    prov: Provenance


@dataclass(frozen=True)
class Score(_Value):
    """One pain-score number with its statistic, spread, arm and time point."""

    kind: ClassVar[Kind] = "score"
    scale: str
    arm: str | None
    timepoint: str | None
    days: float | None
    stat: str
    value: float
    spread: str | None
    spread_values: tuple[float, ...]
    n: int | None
    prov: Provenance

    def __post_init__(self) -> None:
        if self.stat not in STATS:
            raise ValueError(f"unknown stat {self.stat!r}")
        if self.spread is not None and self.spread not in SPREADS:
            raise ValueError(f"unknown spread {self.spread!r}")
        want = {None: 0, "sd": 1, "se": 1}.get(self.spread, 2)
        if len(self.spread_values) != want:
            raise ValueError(f"spread {self.spread!r} needs {want} value(s), got {list(self.spread_values)}")


@dataclass(frozen=True)
class Proportion(_Value):
    """Patients reaching a pain outcome: ``events`` of ``total`` and/or ``percent``."""

    kind: ClassVar[Kind] = "proportion"
    what: str
    arm: str | None
    timepoint: str | None
    days: float | None
    events: int | None
    total: int | None
    percent: float | None
    prov: Provenance


@dataclass(frozen=True)
class PValue(_Value):
    """A reported p-value: ``op`` in :data:`P_OPS`, ``value`` in [0, 1]."""

    kind: ClassVar[Kind] = "p_value"
    op: str
    value: float
    prov: Provenance

    def __post_init__(self) -> None:
        if self.op not in P_OPS:
            raise ValueError(f"unknown p-value operator {self.op!r}")


Value: TypeAlias = SampleSize | ArmSize | ScaleMention | Score | Proportion | PValue
VALUE_TYPES: dict[Kind, type[_Value]] = {
    "sample_size": SampleSize, "arm_size": ArmSize, "scale": ScaleMention,
    "score": Score, "proportion": Proportion, "p_value": PValue,
}

# Table layout (CSV / Parquet): one row per value. Columns that clash between kinds are renamed.
_ROW_RENAME: dict[tuple[str, str], str] = {("p_value", "value"): "p", ("p_value", "op"): "p_op"}
ROW_COLUMNS: tuple[str, ...] = (
    "id", "kind", "n", "arm", "scale", "timepoint", "days", "stat", "value", "spread",
    "spread_values", "what", "events", "total", "percent", "p_op", "p",
    *Provenance.FIELDS,
    "design",  # the record's ``meta["design"]`` on each of its rows ("review" or empty)
)


def value_from_dict(kind: Kind | str, data: Mapping[str, Any]) -> Value:
    """Rebuild a value from its flat dict (as written by ``to_dict``); raises ``ValueError``."""
    if kind not in VALUE_TYPES:
        raise ValueError(f"unknown value kind {kind!r}")
    prov = Provenance.from_dict(data)
    k: Kind = kind
    if k == "sample_size":
        return SampleSize(n=int(data["n"]), prov=prov)
    if k == "arm_size":
        return ArmSize(arm=data.get("arm"), n=int(data["n"]), prov=prov)
    if k == "scale":
        return ScaleMention(scale=str(data["scale"]), prov=prov)
    if k == "score":
        return Score(
            scale=str(data.get("scale") or "unspecified"),
            arm=data.get("arm"),
            timepoint=data.get("timepoint"),
            days=_opt_float(data.get("days")),
            stat=str(data.get("stat") or "other"),
            value=float(data["value"]),
            spread=data.get("spread") or None,
            spread_values=tuple(float(v) for v in data.get("spread_values") or ()),
            n=_opt_int(data.get("n")),
            prov=prov,
        )
    if k == "proportion":
        return Proportion(
            what=str(data.get("what") or ""),
            arm=data.get("arm"),
            timepoint=data.get("timepoint"),
            days=_opt_float(data.get("days")),
            events=_opt_int(data.get("events")),
            total=_opt_int(data.get("total")),
            percent=_opt_float(data.get("percent")),
            prov=prov,
        )
    return PValue(op=str(data["op"]), value=float(data["value"]), prov=prov)


def value_from_row(row: Mapping[str, Any]) -> Value:
    """Inverse of ``to_row`` (accepts a CSV/Parquet row; empty cells are missing values)."""
    clean = {k: (None if _missing(v) else v) for k, v in row.items()}
    kind = str(clean.get("kind"))
    if kind == "p_value":
        clean["op"], clean["value"] = clean.get("p_op"), clean.get("p")
    sv = clean.get("spread_values")
    if isinstance(sv, str):
        clean["spread_values"] = [float(v) for v in sv.split(";") if v.strip()]
    return value_from_dict(kind, clean)


def _missing(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


@dataclass(frozen=True)
class ExtractionRecord:
    """Everything extracted from one abstract, in painbench shape (see module docstring).

    ``meta`` carries JSON-safe run information (pipeline name and version, flags such as
    ``no_abstract``); it is written under ``"meta"``.
    """

    id: str
    sample_size: SampleSize | None = None
    arm_sizes: tuple[ArmSize, ...] = ()
    scale_mentions: tuple[ScaleMention, ...] = ()
    scores: tuple[Score, ...] = ()
    proportions: tuple[Proportion, ...] = ()
    p_values: tuple[PValue, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scales(self) -> list[str]:
        """Canonical scale names, unique and sorted (the guideline's ``scales`` field)."""
        return sorted({m.scale for m in self.scale_mentions})

    def values(self) -> Iterator[Value]:
        if self.sample_size is not None:
            yield self.sample_size
        yield from self.arm_sizes
        yield from self.scale_mentions
        yield from self.scores
        yield from self.proportions
        yield from self.p_values

    @classmethod
    def from_values(cls, record_id: str, values: Iterable[Value],
                    meta: Mapping[str, Any] | None = None) -> ExtractionRecord:
        """Group values by kind (order kept). At most one ``SampleSize`` is allowed."""
        groups: dict[str, list[Value]] = {k: [] for k in KINDS}
        for v in values:
            groups[v.kind].append(v)
        if len(groups["sample_size"]) > 1:
            raise ValueError(f"{record_id}: more than one sample size")
        sample = groups["sample_size"][0] if groups["sample_size"] else None
        return cls(
            id=record_id,
            sample_size=sample,  # type: ignore[arg-type]
            arm_sizes=tuple(groups["arm_size"]),  # type: ignore[arg-type]
            scale_mentions=tuple(groups["scale"]),  # type: ignore[arg-type]
            scores=tuple(groups["score"]),  # type: ignore[arg-type]
            proportions=tuple(groups["proportion"]),  # type: ignore[arg-type]
            p_values=tuple(groups["p_value"]),  # type: ignore[arg-type]
            meta=dict(meta or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The painbench record with provenance (scorer-compatible)."""
        return {
            "id": self.id,
            "sample_size": None if self.sample_size is None else self.sample_size.n,
            "sample_size_provenance": None if self.sample_size is None else self.sample_size.prov.to_dict(),
            "arm_sizes": [a.to_dict() for a in self.arm_sizes],
            "scales": self.scales,
            "scale_mentions": [m.to_dict() for m in self.scale_mentions],
            "scores": [s.to_dict() for s in self.scores],
            "proportions": [p.to_dict() for p in self.proportions],
            "p_values": [p.to_dict() for p in self.p_values],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtractionRecord:
        """Read a record written by ``to_dict`` — or a bare painbench gold record.

        Gold records carry no offsets and no ``scale_mentions``; their scales become mentions
        with empty evidence so the record round-trips through the same type.
        """
        if "id" not in data:
            raise ValueError("record has no 'id'")
        rid = str(data["id"])
        values: list[Value] = []
        if data.get("sample_size") is not None:
            prov = data.get("sample_size_provenance") or {"evidence": ""}
            values.append(value_from_dict("sample_size", {**prov, "n": data["sample_size"]}))
        values += [value_from_dict("arm_size", a) for a in data.get("arm_sizes") or ()]
        mentions = data.get("scale_mentions")
        if mentions is None:
            mentions = [{"scale": s, "evidence": ""} for s in data.get("scales") or ()]
        values += [value_from_dict("scale", m) for m in mentions]
        values += [value_from_dict("score", s) for s in data.get("scores") or ()]
        values += [value_from_dict("proportion", p) for p in data.get("proportions") or ()]
        values += [value_from_dict("p_value", p) for p in data.get("p_values") or ()]
        return cls.from_values(rid, values, meta=data.get("meta") or {})

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per value (:data:`ROW_COLUMNS`), for CSV and Parquet.

        A record with no values still gets one row (``kind`` empty) so no abstract disappears.
        """
        rows = [v.to_row(self.id) for v in self.values()]
        rows = rows or [{**dict.fromkeys(ROW_COLUMNS), "id": self.id}]
        design = self.meta.get("design")
        if design:
            for row in rows:
                row["design"] = design
        return rows

    def check_offsets(self, text: str) -> None:
        """Raise ``ValueError`` if any value's evidence is not ``text[start:end]``."""
        for v in self.values():
            v.prov.check(text)


def records_from_rows(rows: Sequence[Mapping[str, Any]]) -> list[ExtractionRecord]:
    """Group table rows (CSV / Parquet, one per value) back into records, keeping first-seen order."""
    grouped: dict[str, list[Value]] = {}
    designs: dict[str, str] = {}
    for row in rows:
        rid = str(row["id"])
        bucket = grouped.setdefault(rid, [])
        design = row.get("design")
        if not _missing(design):
            designs[rid] = str(design)
        if _missing(row.get("kind")):  # a record with no values is written as an id-only row
            continue
        bucket.append(value_from_row(row))
    return [ExtractionRecord.from_values(rid, vals, meta={"design": designs[rid]} if rid in designs else None)
            for rid, vals in grouped.items()]
