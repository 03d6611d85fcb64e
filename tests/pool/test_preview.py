"""The pooled preview used by the review app: common follow-up choice and the forest PNG."""

from __future__ import annotations

from extractor.pool.extractions import common_followup, preview_png
from extractor.records import ExtractionRecord, Provenance, SampleSize, Score


def _rec(rid: str, n: int, series: list[tuple[float, float, float]]) -> ExtractionRecord:
    """A single-arm record with NRS mean ± SD scores at the given (days, mean, sd)."""
    text = " ".join(f"{m} ± {sd}" for _, m, sd in series)
    values: list[object] = [SampleSize(n=n, prov=Provenance(0, 0, ""))]
    pos = 0
    for days, mean, sd in series:
        ev = f"{mean} ± {sd}"
        start = text.index(ev, pos)
        pos = start + len(ev)
        values.append(Score(scale="NRS", arm=None, timepoint=f"{days:g} d", days=days, stat="mean",
                            value=mean, spread="sd", spread_values=(sd,), n=n,
                            prov=Provenance(start, start + len(ev), ev)))
    return ExtractionRecord.from_values(rid, values)  # type: ignore[arg-type]


RECORDS = [
    _rec("a", 30, [(0, 7.1, 1.6), (28, 2.9, 2.0), (84, 2.5, 1.9)]),
    _rec("b", 24, [(0, 6.9, 2.0), (30, 3.1, 2.4)]),  # "1 month" counts for 4 weeks (±10 %)
    _rec("c", 41, [(0, 7.4, 1.2), (28, 3.2, 2.1)]),
    _rec("d", 15, [(0, 7.6, 1.3), (84, 4.4, 2.7)]),
    _rec("e", 20, [(28, 4.0, 2.0)]),  # no baseline: does not vote
]


def test_common_followup_picks_the_time_most_series_share() -> None:
    assert common_followup(RECORDS) == 28.0
    assert common_followup(RECORDS[3:]) == 84.0
    assert common_followup([RECORDS[4]]) is None


def test_preview_png_is_a_real_forest_plot() -> None:
    png = preview_png(RECORDS)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert preview_png(RECORDS, timepoint="12w") is not None  # a and d
    assert preview_png(RECORDS[:1], timepoint="4w") is None  # one study: nothing to pool
    assert preview_png([RECORDS[4]]) is None
