"""pool_extractions: picking comparable values, conversions marked, skips explained, outputs written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln

from extractor.errors import PoolingError
from extractor.pool import escalc, parse_timepoint, pool_extractions, rma, write_outputs
from extractor.records import ArmSize, ExtractionRecord, Proportion, Provenance, SampleSize, Score


def prov(evidence: str) -> Provenance:
    return Provenance(start=0, end=len(evidence), evidence=evidence)


def sc(
    scale: str,
    tp: str,
    days: float | None,
    value: float,
    spread: str | None = "sd",
    sv: tuple[float, ...] = (1.0,),
    n: int | None = None,
    arm: str | None = None,
    stat: str = "mean",
) -> Score:
    return Score(
        scale=scale,
        arm=arm,
        timepoint=tp,
        days=days,
        stat=stat,
        value=value,
        spread=spread,
        spread_values=sv if spread else (),
        n=n,
        prov=prov(f"{value} {spread or ''} {sv}"),
    )


def rec(rid: str, *values: object) -> ExtractionRecord:
    return ExtractionRecord.from_values(rid, list(values))  # type: ignore[arg-type]


def prepost_records() -> list[ExtractionRecord]:
    return [
        rec(
            "S1",
            sc("NRS", "baseline", 0, 6.8, sv=(2.2,), n=64),
            sc("NRS", "4 weeks", 28, 4.1, sv=(2.4,), n=64),
        ),
        rec(
            "S2",
            SampleSize(n=40, prov=prov("40")),
            sc("NRS", "baseline", 0, 7.0, sv=(1.5,)),
            sc("NRS", "1 month", 30, 4.0, "iqr", (3.0, 5.5), stat="median"),
        ),
        rec(
            "S3",
            SampleSize(n=30, prov=prov("30")),
            sc("NRS", "baseline", 0, 7.0, "se", (0.3,)),
            sc("NRS", "4w", None, 4.5, sv=(2.0,)),
        ),
        rec("S4", SampleSize(n=30, prov=prov("30")), sc("NRS", "4 weeks", 28, 4.5, sv=(2.0,))),
        rec(
            "S5",
            SampleSize(n=30, prov=prov("30")),
            sc("NRS", "baseline", 0, 7.0, None),
            sc("NRS", "4 weeks", 28, 4.5, None),
        ),
        rec(
            "S6",
            ArmSize(arm="active", n=25, prov=prov("25")),
            ArmSize(arm="placebo", n=24, prov=prov("24")),
            sc("VAS", "baseline", 0, 71, sv=(12,), arm="active"),
            sc("VAS", "4 weeks", 28, 38, sv=(20,), arm="active"),
            sc("VAS", "baseline", 0, 69, sv=(13,), arm="placebo"),
            sc("VAS", "4 weeks", 28, 55, sv=(18,), arm="placebo"),
        ),
        rec(
            "S7",
            sc("NRS", "baseline", 0, 6.0, sv=(2.0,), arm="x"),
            sc("NRS", "4 weeks", 28, 4.0, sv=(2.0,), arm="x"),
            sc("NRS", "baseline", 0, 6.0, sv=(2.0,), arm="y"),
        ),
        rec(
            "S8", sc("NRS", "baseline", 0, 6.0, sv=(2.0,), n=1), sc("NRS", "4 weeks", 28, 4.0, sv=(2.0,), n=1)
        ),
        rec("S9", sc("NRS", "4 weeks", 28, -2.5, sv=(2.1,), n=50, stat="mean_change")),
        rec("S10"),
    ]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("4w", 28),
        ("4 weeks", 28),
        ("week 12", 84),
        ("12 weeks", 84),
        ("24h", 1),
        ("6 hours", 0.25),
        ("1m", 30),
        ("3 months", 90),
        ("1y", 365),
        ("day 7", 7),
        ("7d", 7),
        ("30 min", 30 / 1440),
        ("baseline", 0),
        ("10", 10),
        ("six weeks", 42),
        ("last follow-up", None),
        ("", None),
        ("2.5 days", 2.5),
    ],
)
def test_parse_timepoint(text: str, days: float | None) -> None:
    got = parse_timepoint(text)
    assert got == (pytest.approx(days) if days is not None else None)


def test_smcc_picks_baseline_and_follow_up_and_explains_skips() -> None:
    run = pool_extractions(prepost_records(), measure="SMCC", timepoint="4w", r=0.5)
    labels = [s.label for s in run.studies]
    assert labels == [
        "S1 [NRS]",
        "S2 [NRS]",
        "S3 [NRS]",
        "S6 (active) [VAS]",
        "S6 (placebo) [VAS]",
        "S9 [NRS]",
    ]
    s1 = run.studies[0]
    want = escalc("SMCC", m1i=4.1, m2i=6.8, sd1i=2.4, sd2i=2.2, ni=64, ri=0.5)
    assert s1.yi == pytest.approx(float(want.yi)) and s1.vi == pytest.approx(float(want.vi))
    assert not s1.converted and s1.n_source == "score n"
    s2 = run.studies[1]  # "1 month" (30 d) is inside ±10 % of 4 weeks; its median was converted
    assert s2.converted and "Luo 2018" in s2.conversions[0] and s2.n_source == "sample size"
    s3 = run.studies[2]  # follow-up matched from its time-point text, baseline SD from the SE
    assert s3.converted and "SE" in s3.conversions[0] and s3.inputs["sd_pre"] == pytest.approx(0.3 * 30**0.5)
    s9 = run.studies[-1]
    assert "mean change reported directly" in s9.notes[0]
    j = float(np.exp(gammaln(49 / 2) - 0.5 * np.log(49 / 2) - gammaln(48 / 2)))
    assert s9.yi == pytest.approx(j * -2.5 / 2.1) and s9.vi == pytest.approx(1 / 50 + s9.yi**2 / 100)
    reasons = {(s.study, s.reason) for s in run.skipped}
    assert reasons == {
        ("S4", "no baseline"),
        ("S5", "no SD"),
        ("S7", "n missing"),
        ("S7", "no score at 4w"),
        ("S8", "n < 2"),
        ("S10", "no pain scores"),
    }
    assert next(s for s in run.skipped if s.study == "S7" and s.reason == "n missing").detail.startswith(
        "NRS, arm x"
    )
    assert any("S6 contributes 2 rows" in w for w in run.warnings)
    res = run.result
    assert res is not None and res.k == 6
    direct = rma(np.array([s.yi for s in run.studies]), np.array([s.vi for s in run.studies]))
    assert res.b == direct.b and res.tau2 == direct.tau2
    assert [round(s.r, 2) for s in run.sensitivity] == [0.2, 0.5, 0.8]
    assert run.sensitivity[1].b == pytest.approx(res.b)
    assert run.sensitivity[0].b != run.sensitivity[2].b
    assert run.leave1out is not None and len(run.leave1out.estimate) == 6
    assert run.egger is not None and run.cumulative is not None
    json.dumps(run.to_dict(), allow_nan=False)


def test_raw_mean_change_keeps_one_scale_and_arm_filter() -> None:
    run = pool_extractions(prepost_records(), measure="MC", timepoint="4w")
    assert all(s.scale == "NRS" for s in run.studies)
    assert any(s.reason == "different scale" and s.study == "S6" for s in run.skipped)
    only_active = pool_extractions(prepost_records(), measure="SMCC", timepoint="4w", arm="active")
    assert [s.label for s in only_active.studies] == ["S6 (active) [VAS]"]
    assert only_active.result is None and "only 1 study" in (only_active.error or "")


def two_arm_records() -> list[ExtractionRecord]:
    return [
        rec(
            "T1",
            sc("VAS", "24 h", 1, 3.1, sv=(1.2,), n=30, arm="ketamine"),
            sc("VAS", "24 h", 1, 4.6, sv=(1.5,), n=31, arm="placebo"),
        ),
        rec(
            "T2",
            ArmSize(arm="methadone", n=40, prov=prov("40")),
            ArmSize(arm="pethidine", n=40, prov=prov("40")),
            sc("VAS", "24 hour", 1, 0.5, sv=(0.5,), arm="methadone"),
            sc("VAS", "24 hour", 1, 0.8, sv=(0.6,), arm="pethidine"),
        ),
        rec(
            "T3",
            ArmSize(arm="intervention", n=22, prov=prov("22")),
            ArmSize(arm="control group", n=20, prov=prov("20")),
            sc("NRS", "day 1", 1, 2.9, "ci95", (2.2, 3.6), arm="intervention"),
            sc("NRS", "day 1", 1, 4.1, sv=(1.4,), arm="control group"),
        ),
        rec("T4", sc("VAS", "24 h", 1, 3.0, sv=(1.0,), n=20, arm="only")),
    ]


def test_smd_needs_a_recognisable_control_arm() -> None:
    run = pool_extractions(two_arm_records(), measure="SMD", timepoint="24h")
    assert [s.study for s in run.studies] == ["T1", "T3"]
    t1 = run.studies[0]
    assert t1.arm == "ketamine vs placebo"
    want = escalc("SMD", m1i=3.1, sd1i=1.2, n1i=30, m2i=4.6, sd2i=1.5, n2i=31)
    assert t1.yi == pytest.approx(float(want.yi))
    assert run.studies[1].converted and "CI" in run.studies[1].conversions[0]
    reasons = {s.study: (s.reason, s.detail) for s in run.skipped}
    assert reasons["T2"][0] == "arms not comparable" and "control" in reasons["T2"][1]
    assert reasons["T4"][0] == "one arm only"
    chosen = pool_extractions(
        two_arm_records(), measure="MD", timepoint="24h", control_arm="pethidine", scale="VAS"
    )
    assert [s.study for s in chosen.studies] == ["T1", "T2"]


def proportion_records() -> list[ExtractionRecord]:
    def p(what: str, arm: str | None, events: int | None, total: int | None, pct: float | None) -> Proportion:
        return Proportion(
            what=what,
            arm=arm,
            timepoint="4 weeks",
            days=28,
            events=events,
            total=total,
            percent=pct,
            prov=prov(f"{events}/{total}"),
        )

    return [
        rec("P1", p("pain relief >= 50%", None, 30, 60, None)),
        rec("P2", p("pain relief >= 50%", None, None, 50, 40.0)),
        rec("P3", SampleSize(n=80, prov=prov("80")), p("pain relief >= 50%", None, 25, None, None)),
        rec("P4", p("pain relief >= 50%", None, 70, 50, None)),
        rec("P5", p("pain-free", None, 5, 40, None)),
        rec(
            "R1",
            p("pain relief >= 50%", "drug", 20, 40, None),
            p("pain relief >= 50%", "placebo", 10, 41, None),
        ),
    ]


def test_proportions_and_two_arm_counts() -> None:
    run = pool_extractions(proportion_records(), measure="PLO", timepoint="4w", what="50%", arm="^$|none")
    studies = {s.study: s for s in run.studies}
    assert set(studies) == {"P1", "P2", "P3"}
    assert studies["P2"].inputs["xi"] == 20 and "events = 40% × 50" in studies["P2"].conversions[0]
    assert "total from the sample size" in studies["P3"].conversions[0]
    assert {s.study: s.reason for s in run.skipped}["P4"] == "events > n"
    assert run.result is not None and run.result.transformed is not None
    rr = pool_extractions(
        proportion_records()
        + [
            rec(
                "R2",
                Proportion(
                    what="pain relief >= 50%",
                    arm="active",
                    timepoint="4 weeks",
                    days=28,
                    events=12,
                    total=30,
                    percent=None,
                    prov=prov("12/30"),
                ),
                Proportion(
                    what="pain relief >= 50%",
                    arm="control",
                    timepoint="4 weeks",
                    days=28,
                    events=6,
                    total=29,
                    percent=None,
                    prov=prov("6/29"),
                ),
            )
        ],
        measure="RR",
        timepoint="4w",
        what="50%",
    )
    assert [s.study for s in rr.studies] == ["R1", "R2"]
    assert rr.studies[0].yi == pytest.approx(float(escalc("RR", ai=20, n1i=40, ci=10, n2i=41).yi))


def test_arguments_are_checked() -> None:
    recs = prepost_records()
    with pytest.raises(PoolingError, match="strictly between -1 and 1"):
        pool_extractions(recs, measure="SMCC", timepoint="4w", r=1.0)
    with pytest.raises(PoolingError, match="cannot read the time point"):
        pool_extractions(recs, measure="SMCC", timepoint="soon")
    with pytest.raises(PoolingError, match="needs a time point"):
        pool_extractions(recs, measure="SMCC")
    with pytest.raises(PoolingError, match="several time points"):
        pool_extractions(recs, measure="SMCC", timepoint="24h,4w")
    with pytest.raises(PoolingError, match="cannot be pooled"):
        pool_extractions(recs, measure="GEN", timepoint="4w")


def test_subgroups_by_timepoint_and_scale() -> None:
    recs = prepost_records() + [
        rec(
            "S11",
            sc("NRS", "baseline", 0, 6.5, sv=(1.8,), n=40),
            sc("NRS", "12 weeks", 84, 3.5, sv=(2.0,), n=40),
            sc("NRS", "4 weeks", 28, 4.4, sv=(2.1,), n=40),
        ),
        rec(
            "S12",
            sc("NRS", "baseline", 0, 7.1, sv=(1.6,), n=33),
            sc("NRS", "12 weeks", 84, 3.0, sv=(2.3,), n=33),
        ),
    ]
    run = pool_extractions(recs, measure="SMCC", timepoint="4w,12w", subgroup="timepoint")
    assert run.subgroup is not None and set(run.subgroup.groups) == {"4w", "12w"}
    assert run.subgroup.Q_between is not None and 0 <= run.subgroup.p_between <= 1  # type: ignore[operator]
    by_scale = pool_extractions(recs, measure="SMCC", timepoint="4w", subgroup="scale")
    assert by_scale.subgroup is not None and set(by_scale.subgroup.groups) == {"NRS", "VAS"}


def test_write_outputs(tmp_path: Path) -> None:
    run = pool_extractions(prepost_records(), measure="SMCC", timepoint="4w", test="knha", subgroup="scale")
    paths = write_outputs(run, tmp_path)
    assert set(paths) == {"table", "skipped", "json", "forest.png", "forest.svg", "funnel.png", "funnel.svg"}
    rows = list(csv.DictReader(paths["table"].open()))
    assert [r["study"] for r in rows] == [s.study for s in run.studies]
    assert rows[1]["converted"] == "True" and "Luo 2018" in rows[1]["conversions"]
    assert abs(sum(float(r["weight_pct"]) for r in rows) - 100) < 1e-9
    skipped = list(csv.DictReader(paths["skipped"].open()))
    assert {r["study"] for r in skipped} == {"S4", "S5", "S7", "S8", "S10"}
    data = json.loads(paths["json"].read_text())
    assert data["result"]["k"] == 6 and data["subgroups"]["Q_between"] is not None
    assert paths["forest.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths["funnel.svg"].read_bytes()[:500]


def test_too_few_studies_is_reported_not_raised(tmp_path: Path) -> None:
    run = pool_extractions(prepost_records()[:1], measure="SMCC", timepoint="4w")
    assert run.result is None and run.error and "need at least 2" in run.error
    paths = write_outputs(run, tmp_path)
    assert "forest.png" not in paths and json.loads(paths["json"].read_text())["error"] == run.error


def test_reviews_are_skipped_unless_asked_for() -> None:
    review = ExtractionRecord.from_values(
        "R1", [sc("unspecified", "4 weeks", 28, -2.9, "ci95", (-3.8, -2.0), n=288, stat="mean_change")],
        meta={"design": "review"},
    )
    records = [*prepost_records(), review]
    run = pool_extractions(records, measure="SMCC", timepoint="4w")
    assert "R1" not in {s.study for s in run.studies}
    skip = next(s for s in run.skipped if s.study == "R1")
    assert skip.reason == "review or meta-analysis" and "include_reviews" in skip.detail
    kept = pool_extractions(records, measure="SMCC", timepoint="4w", include_reviews=True, scale="NRS")
    assert not any(s.study == "R1" and s.reason == "review or meta-analysis" for s in kept.skipped)
