from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.io import RecordWriter, read_jsonl, read_records
from extractor.records import (
    Abstract,
    ExtractionRecord,
    Problem,
    Provenance,
    PValue,
    SampleSize,
    ScaleMention,
    Score,
)

TEXT = "Title\nThe mean NRS dropped from 6.8 ± 2.2 at baseline (n = 64; p < 0.0001)."


def prov(evidence: str, **kw: object) -> Provenance:
    start = TEXT.index(evidence)
    return Provenance(start=start, end=start + len(evidence), evidence=evidence, **kw)  # type: ignore[arg-type]


def make_record() -> ExtractionRecord:
    return ExtractionRecord.from_values("x1", [
        SampleSize(n=64, prov=prov("64", confidence=0.9)),
        ScaleMention(scale="NRS", prov=prov("NRS")),
        Score(scale="NRS", arm=None, timepoint="baseline", days=0.0, stat="mean", value=6.8,
              spread="sd", spread_values=(2.2,), n=64, prov=prov("6.8 ± 2.2")),
        PValue(op="<", value=0.0001, prov=prov("p < 0.0001")),
    ])


def test_record_is_painbench_shaped_and_offsets_hold() -> None:
    rec = make_record()
    d = rec.to_dict()
    assert d["sample_size"] == 64
    assert d["scales"] == ["NRS"]
    assert d["scores"][0]["days"] == 0 and d["scores"][0]["spread_values"] == [2.2]
    assert d["p_values"] == [{**d["p_values"][0], "op": "<", "value": 0.0001}]
    rec.check_offsets(TEXT)
    for v in rec.values():
        assert TEXT[v.prov.start:v.prov.end] == v.prov.evidence


def test_dict_round_trip() -> None:
    rec = make_record()
    again = ExtractionRecord.from_dict(json.loads(json.dumps(rec.to_dict())))
    assert again.to_dict() == rec.to_dict()


def test_gold_record_without_offsets_loads() -> None:
    gold = {"id": "g", "sample_size": 3, "arm_sizes": [{"arm": "a", "n": 1}], "scales": ["VAS"],
            "scores": [], "proportions": [], "p_values": [{"op": "=", "value": 0.03, "evidence": "p=0.03"}]}
    rec = ExtractionRecord.from_dict(gold)
    assert rec.scales == ["VAS"] and rec.sample_size is not None and rec.sample_size.n == 3


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Provenance(start=3, end=5, evidence="abc")
    with pytest.raises(ValueError):
        Score(scale="VAS", arm=None, timepoint=None, days=None, stat="mean", value=1.0,
              spread="iqr", spread_values=(1.0,), n=None, prov=prov("6.8 ± 2.2"))
    with pytest.raises(ValueError):
        PValue(op="~", value=0.1, prov=prov("p < 0.0001"))
    with pytest.raises(ValueError):
        Abstract(id="", text="x")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_writer_round_trips_every_format(tmp_path: Path, suffix: str) -> None:
    empty = ExtractionRecord(id="empty")
    path = tmp_path / f"out{suffix}"
    with RecordWriter(path) as w:
        w.write(make_record())
        w.write(empty)
    back = [r for r in read_records(path) if not isinstance(r, Problem)]
    assert [r.id for r in back] == ["x1", "empty"]
    assert back[0].to_dict() == make_record().to_dict()
    assert back[1].to_dict() == empty.to_dict()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_design_survives_every_format(tmp_path: Path, suffix: str) -> None:
    review = ExtractionRecord.from_values("r1", list(make_record().values()), meta={"design": "review"})
    bare = ExtractionRecord(id="r2", meta={"design": "review"})
    path = tmp_path / f"out{suffix}"
    with RecordWriter(path) as w:
        w.write(review)
        w.write(bare)
        w.write(make_record())
    back = [r for r in read_records(path) if not isinstance(r, Problem)]
    assert [r.meta.get("design") for r in back] == ["review", "review", None]


def test_read_jsonl_reports_bad_lines_and_goes_on(tmp_path: Path) -> None:
    p = tmp_path / "in.jsonl"
    p.write_bytes(b'{"id": "a", "text": "x"}\n{not json\n\xff\xfe\n[1]\n\n{"id": "b", "text": "y"}\n')
    items = list(read_jsonl(p))
    good = [i for i in items if not isinstance(i, Problem)]
    bad = [i for i in items if isinstance(i, Problem)]
    assert [no for no, _ in good] == [1, 6]
    assert [b.where for b in bad] == [f"{p}:2", f"{p}:3", f"{p}:4"]


def test_abstract_from_painbench_line() -> None:
    a = Abstract.from_dict({"id": "ebm:1", "source": "EBM-NLP (train)", "title": "T", "text": "T\nbody"})
    assert a.has_abstract and a.to_dict()["text"] == "T\nbody"
