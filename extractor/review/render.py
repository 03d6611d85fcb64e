"""View models for the review pages: highlighted text segments and value rows (no Flask here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.records import Value
from extractor.review.store import AbstractState, Decision, StoredValue, is_low
from extractor.review.values import FIELDS, KIND_LABELS, describe, form_values


@dataclass(frozen=True)
class Segment:
    """A run of abstract text between value boundaries; ``ids`` are the values covering it."""

    start: int
    text: str
    ids: tuple[int, ...] = ()
    kind: str | None = None  # colour: the kind of the shortest covering value
    status: str = ""  # "rejected" when every covering value is rejected, "decided" when all decided

    @property
    def classes(self) -> str:
        if not self.ids:
            return "seg"
        out = f"seg hl k-{self.kind}"
        if len(self.ids) > 1:
            out += " multi"
        if self.status:
            out += f" {self.status}"
        return out


def segments(text: str, rows: list[Row]) -> list[Segment]:
    """Split ``text`` at every value boundary so overlapping values can all be highlighted."""
    located = [r for r in rows if r.located and r.end > r.start]
    cuts = sorted({0, len(text), *(r.start for r in located), *(r.end for r in located)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a >= b:
            continue
        cover = [r for r in located if r.start <= a and b <= r.end]
        if not cover:
            out.append(Segment(a, text[a:b]))
            continue
        shortest = min(cover, key=lambda r: (r.end - r.start, r.id))
        statuses = {r.status for r in cover}
        status = ("rejected" if statuses == {"rejected"}
                  else "decided" if "undecided" not in statuses and "stale" not in statuses else "")
        out.append(Segment(a, text[a:b], tuple(r.id for r in cover), shortest.kind, status))
    return out


@dataclass
class Row:
    """One value as one reviewer sees it."""

    item: StoredValue
    reviewer: str
    decision: Decision | None
    version: int
    shown: Value
    status: str  # undecided | accepted | edited | rejected | added | stale
    form: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def start(self) -> int:
        return self.shown.prov.start

    @property
    def end(self) -> int:
        return self.shown.prov.end

    @property
    def located(self) -> bool:
        return self.item.located and bool(self.shown.prov.evidence)

    @property
    def summary(self) -> str:
        return describe(self.shown)

    @property
    def proposal(self) -> str:
        return describe(self.item.value)

    @property
    def confidence(self) -> float | None:
        return self.item.value.prov.confidence

    @property
    def low(self) -> bool:
        return is_low(self.confidence)

    @property
    def fields(self) -> tuple[object, ...]:
        return FIELDS[self.kind]


def row_for(item: StoredValue, reviewer: str) -> Row:
    d = item.decisions.get(reviewer)
    if d is None:
        status, shown = "undecided", item.value
    elif item.decision_stale(reviewer):
        status, shown = "stale", d.value or item.value
    elif d.action == "reject":
        status, shown = "rejected", item.value
    elif d.action == "edit":
        status, shown = "edited", d.value or item.value
    elif d.action == "add":
        status, shown = "added", d.value or item.value
    else:
        status, shown = "accepted", d.value or item.value
    return Row(item=item, reviewer=reviewer, decision=d, version=item.version(reviewer), shown=shown,
               status=status, form=form_values(shown))


def rows_for(state: AbstractState, reviewer: str) -> list[Row]:
    return [row_for(v, reviewer) for v in state.visible(reviewer)]
