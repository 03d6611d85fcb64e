"""From extraction records to a pooled meta-analysis: pick comparable values, pool, explain.

:func:`pool_extractions` is what the CLI (``extractor pool``), the demo and the review app call.
It returns a :class:`PoolRun`: the study table (one :class:`StudyRow` per pooled study, with the
numbers used, their evidence and every conversion marked), the :class:`~extractor.pool.models.RmaResult`,
everything skipped with the reason (:class:`Skipped`), and the sensitivity analyses (other
pre/post correlations r, leave-one-out, Egger's test, cumulative, subgroups).
:func:`write_outputs` writes ``pool_table.csv``, ``pool_skipped.csv``, ``pool_result.json`` and
``forest``/``funnel`` plots as PNG and SVG.

How values are picked (per record = per study):

* **Time points.** ``timepoint`` is parsed by :func:`parse_timepoint` ("4w", "24h", "1m",
  "12 weeks", "day 7", "3 months", "1y", "30 min", a bare number = days; 1 month = 30 days,
  1 year = 365 days, as the extraction guideline converts). A score matches when its ``days``
  lie within ``window`` (default ±10 %) of the target — so 4 weeks (28 d) accepts 25.2–30.8 d,
  including "1 month" (30 d). A score without ``days`` is matched by parsing its time-point text.
  Among several matches the one closest to the target wins (the row notes the others).
  Baseline is ``days == 0`` (or "baseline"/"pre-treatment" text).
* **Pre/post measures (MC, SMCC, SMCR)** use, within one arm and one scale, the baseline score
  and the follow-up score at the time point: ``m1i`` = follow-up, ``m2i`` = baseline (so a
  negative effect is a pain reduction), with the user's pre/post correlation ``r``. A reported
  mean change with its SD is used directly for MC and SMCC (``r`` is then not needed). Every arm
  with data gives a row; a study contributing several arms is flagged (they are not independent:
  choose one with ``arm``).
* **Two-group measures (SMD, MD, ROM)** use two arms' scores at the same time point on the
  same scale: group 1 = the active arm, group 2 = the control arm, recognised by name
  (placebo, control, sham, saline, usual care, standard care, waiting list, no treatment) or,
  where ``control_arm`` matches an arm, that arm. Studies where the control arm cannot be told
  apart are skipped (so the sign of the effect is never a guess).
* **Proportions (PR, PLO, PAS, PFT)** use ``events``/``total`` (or ``percent`` of ``total`` / of the
  arm size, marked converted); **RR, OR, RD** two arms' proportions (control as above).
  ``what`` filters the outcome ("50%", "pain-free").
* **Sample size** for a score: its own ``n``, else the arm's size, else (single-arm only) the
  record's sample size.
* **Means and SDs**: a mean ± SD is used as reported; an SE or 95 % CI gives the SD, a median with
  IQR or range gives mean and SD (Luo 2018 / Wan 2014) — see ``conversions``; each conversion is
  listed in the row's ``conversions`` and ``converted`` is true.
* **Raw measures (MC, MD)** need one scale: when rows differ in scale (a 0–100 "VAS" is not a
  0–10 "VAS"), the most common scale is kept unless ``scale`` is given; the rest are skipped.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from extractor.errors import PoolingError
from extractor.pool.analyses import (
    RegTest,
    SequentialFits,
    SubgroupAnalysis,
    cumul,
    leave1out,
    regtest,
    subgroups,
)
from extractor.pool.conversions import MeanSD, score_mean_sd
from extractor.pool.effect_sizes import PRE_POST, PROPORTIONS, TWO_BY_TWO, TWO_GROUP_CONTINUOUS, escalc
from extractor.pool.models import Control, RmaResult, rma
from extractor.records import ExtractionRecord, Problem, Proportion, Score

POOLABLE = (*PRE_POST, *TWO_GROUP_CONTINUOUS, *PROPORTIONS, *TWO_BY_TWO)
CONTROL_WORDS = re.compile(
    r"placebo|control|sham|saline|usual[ -]care|standard[ -]care|standard[ -]treatment|"
    r"wait(?:ing)?[ -]?list|no[ -]treatment|no[ -]intervention|untreated",
    re.IGNORECASE,
)
DEFAULT_R_VALUES = (0.2, 0.5, 0.8)

# --------------------------------------------------------------------------------------------
# Time points

_UNIT_DAYS: dict[str, float] = {}
for _names, _days in (
    (("min", "mins", "minute", "minutes"), 1 / 1440),
    (("h", "hr", "hrs", "hour", "hours"), 1 / 24),
    (("d", "day", "days"), 1.0),
    (("w", "wk", "wks", "week", "weeks"), 7.0),
    (("m", "mo", "mos", "month", "months"), 30.0),
    (("y", "yr", "yrs", "year", "years"), 365.0),
):
    for _n in _names:
        _UNIT_DAYS[_n] = _days
_NUM_UNIT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*-?\s*([a-z]+)\.?\s*$")
_UNIT_NUM = re.compile(r"^\s*([a-z]+)\.?\s*(\d+(?:[.,]\d+)?)\s*$")
_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty-four": 24,
    "forty-eight": 48,
}
_BASELINE = re.compile(
    r"^\s*(baseline|pre[- ]?(treatment|operative|op|intervention|procedure)?|"
    r"before (treatment|the intervention|surgery)|day 0|week 0|t0)\s*$",
    re.IGNORECASE,
)


def parse_timepoint(text: str | float | int | None) -> float | None:
    """Days after treatment start for a time point such as ``"4w"``, ``"12 weeks"``, ``"24h"``,
    ``"1m"`` (month), ``"day 7"``, ``"30 min"`` or ``"baseline"`` (0); ``None`` if not a time.
    A bare number is a number of days."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text) if math.isfinite(text) and text >= 0 else None
    s = text.strip().lower()
    if not s:
        return None
    if _BASELINE.match(s):
        return 0.0
    for word, val in _WORDS.items():
        s = re.sub(rf"\b{word}\b", str(val), s)
    s = s.replace("-", " ") if not re.match(r"^\d", s) else s
    try:
        v = float(s.replace(",", "."))
        return v if v >= 0 else None
    except ValueError:
        pass
    for rx, num_first in ((_NUM_UNIT, True), (_UNIT_NUM, False)):
        m = rx.match(s)
        if m:
            num, unit = (m.group(1), m.group(2)) if num_first else (m.group(2), m.group(1))
            if unit in _UNIT_DAYS:
                return float(num.replace(",", ".")) * _UNIT_DAYS[unit]
    return None


def _score_days(days: float | None, timepoint: str | None) -> float | None:
    if days is not None:
        return float(days)
    return parse_timepoint(timepoint)


def _matches(days: float | None, target: float, window: float) -> bool:
    if days is None:
        return False
    if target == 0:
        return days == 0
    return abs(days - target) <= window * target + 1e-9


# --------------------------------------------------------------------------------------------
# Result types


@dataclass(frozen=True)
class Skipped:
    """A study (or one arm/scale of it) that could not be used, and why."""

    study: str
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"study": self.study, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class StudyRow:
    """One pooled study: what was taken from the record and the effect size computed from it."""

    study: str
    label: str
    scale: str
    arm: str | None
    timepoint: str
    days: float | None
    inputs: Mapping[str, float]
    n_source: str
    yi: float
    vi: float
    converted: bool
    conversions: tuple[str, ...]
    evidence: tuple[str, ...]
    notes: tuple[str, ...] = ()
    subgroup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "label": self.label,
            "scale": self.scale,
            "arm": self.arm,
            "timepoint": self.timepoint,
            "days": self.days,
            **{k: _num(v) for k, v in self.inputs.items()},
            "n_source": self.n_source,
            "yi": _num(self.yi),
            "vi": _num(self.vi),
            "converted": self.converted,
            "conversions": list(self.conversions),
            "evidence": list(self.evidence),
            "notes": list(self.notes),
            "subgroup": self.subgroup,
        }


def _num(x: Any) -> Any:
    if x is None:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None


@dataclass(frozen=True)
class SensitivityRow:
    """The pooled result under another pre/post correlation r."""

    r: float
    k: int
    b: float
    ci_lb: float
    ci_ub: float
    tau2: float
    I2: float | None
    pi_lb: float | None
    pi_ub: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: (_num(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class PoolRun:
    """Everything :func:`pool_extractions` produced (see the module docstring)."""

    measure: str
    timepoints: tuple[str, ...]
    method: str
    test: str
    level: float
    r: float | None
    studies: tuple[StudyRow, ...]
    skipped: tuple[Skipped, ...]
    result: RmaResult | None
    error: str | None = None
    subgroup_by: str | None = None
    subgroup: SubgroupAnalysis | None = None
    sensitivity: tuple[SensitivityRow, ...] = ()
    leave1out: SequentialFits | None = None
    cumulative: SequentialFits | None = None
    egger: RegTest | None = None
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def k(self) -> int:
        return len(self.studies)

    def table(self) -> list[dict[str, Any]]:
        """The study table: one dict per pooled study, with its weight in percent."""
        weights = self.result.weights if self.result is not None else ()
        rows = []
        for i, s in enumerate(self.studies):
            d = s.to_dict()
            d["conversions"] = "; ".join(s.conversions)
            d["evidence"] = " | ".join(s.evidence)
            d["notes"] = "; ".join(s.notes)
            d["weight_pct"] = _num(weights[i]) if i < len(weights) else None
            d["sei"] = _num(math.sqrt(s.vi)) if s.vi >= 0 else None
            rows.append(d)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "timepoints": list(self.timepoints),
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "r": self.r,
            "k": self.k,
            "error": self.error,
            "result": None if self.result is None else self.result.to_dict(),
            "studies": [s.to_dict() for s in self.studies],
            "skipped": [s.to_dict() for s in self.skipped],
            "subgroup_by": self.subgroup_by,
            "subgroups": None if self.subgroup is None else self.subgroup.to_dict(),
            "sensitivity_r": [s.to_dict() for s in self.sensitivity],
            "leave1out": None if self.leave1out is None else self.leave1out.to_dict(),
            "cumulative": None if self.cumulative is None else self.cumulative.to_dict(),
            "egger": None if self.egger is None else self.egger.to_dict(),
            "warnings": list(self.warnings),
            "problems": list(self.problems),
        }

    def summary_lines(self) -> list[str]:
        out = [
            f"{self.measure} at {', '.join(self.timepoints) or 'any time point'}: "
            f"{self.k} studies pooled, {len(self.skipped)} skipped"
        ]
        if self.result is not None:
            out += self.result.summary().splitlines()
        if self.error:
            out.append(f"not pooled: {self.error}")
        return out


# --------------------------------------------------------------------------------------------
# Picking


@dataclass
class _Pick:
    """Working state for one candidate row."""

    study: str
    scale: str
    arm: str | None
    timepoint: str
    days: float | None
    inputs: dict[str, float]
    n_source: str
    conversions: list[str]
    evidence: list[str]
    notes: list[str]
    kind: str  # "prepost", "change", "two", "prop", "twoprop"
    scale_range: str = ""


def _arm_key(arm: str | None) -> str:
    return (arm or "").strip().lower()


def _arm_n(rec: ExtractionRecord, arm: str | None) -> int | None:
    key = _arm_key(arm)
    for a in rec.arm_sizes:
        if _arm_key(a.arm) == key and key:
            return a.n
    return None


def _n_for(
    rec: ExtractionRecord, arm: str | None, own: int | None, single_arm: bool
) -> tuple[int | None, str]:
    if own is not None:
        return own, "score n"
    n = _arm_n(rec, arm)
    if n is not None:
        return n, "arm size"
    if single_arm and rec.sample_size is not None:
        return rec.sample_size.n, "sample size"
    return None, ""


def _range_label(values: Iterable[float]) -> str:
    vals = [abs(v) for v in values if v is not None and math.isfinite(v)]
    return "0-100" if vals and max(vals) > 10 else "0-10"


def _mean_sd(score: Score, n: int | None, median_method: str) -> MeanSD:
    return score_mean_sd(score.value, score.stat, score.spread, score.spread_values, n, method=median_method)


def _closest(scores: list[Score], target: float) -> tuple[Score, list[str]]:
    ranked = sorted(scores, key=lambda s: abs((_score_days(s.days, s.timepoint) or 0) - target))
    notes = []
    if len(ranked) > 1:
        notes.append(
            f"{len(ranked)} candidate values at this time point; took "
            f"'{ranked[0].prov.evidence or ranked[0].value}'"
        )
    return ranked[0], notes


def _is_level(s: Score) -> bool:
    return s.stat in ("mean", "median")


def _is_change(s: Score) -> bool:
    return s.stat in ("mean_change", "median_change")


def _pick_prepost(
    rec: ExtractionRecord,
    target: float,
    label: str,
    window: float,
    arm_rx: re.Pattern[str] | None,
    measure: str,
    median_method: str,
    skipped: list[Skipped],
) -> list[_Pick]:
    groups: dict[tuple[str, str], list[Score]] = {}
    for s in rec.scores:
        groups.setdefault((s.scale, _arm_key(s.arm)), []).append(s)
    arms = {_arm_key(s.arm) for s in rec.scores}
    single_arm = len(arms) <= 1
    out: list[_Pick] = []
    reasons: list[Skipped] = []
    for (scale, _akey), scores in groups.items():
        arm = scores[0].arm
        if arm_rx is not None and not arm_rx.search(arm or ""):
            continue
        where = f"{scale}{', arm ' + arm if arm else ''}"
        follow = [
            s
            for s in scores
            if _matches(_score_days(s.days, s.timepoint), target, window) and (_is_level(s) or _is_change(s))
        ]
        base = [s for s in scores if _score_days(s.days, s.timepoint) == 0 and _is_level(s)]
        if not follow:
            reasons.append(Skipped(rec.id, f"no score at {label}", where))
            continue
        changes = [s for s in follow if _is_change(s)]
        levels = [s for s in follow if _is_level(s)]
        if levels and base:
            fu, notes = _closest(levels, target)
            bl, notes_b = _closest(base, 0.0)
            notes += [n.replace("this time point", "baseline") for n in notes_b]
            n, n_src = _n_for(rec, arm, fu.n if fu.n is not None else bl.n, single_arm)
            if n is None:
                reasons.append(
                    Skipped(
                        rec.id,
                        "n missing",
                        f"{where}: no n with the scores, no arm size"
                        + ("" if single_arm else " (several arms, so the total is not used)"),
                    )
                )
                continue
            if n < 2:
                reasons.append(Skipped(rec.id, "n < 2", f"{where}: n = {n}"))
                continue
            try:
                post = _mean_sd(fu, n, median_method)
                pre = _mean_sd(bl, n, median_method)
            except PoolingError as exc:
                reasons.append(
                    Skipped(
                        rec.id,
                        "no SD" if "spread" in str(exc) or "SD" in str(exc) else "cannot convert",
                        f"{where}: {exc}",
                    )
                )
                continue
            conv = [f"follow-up: {post.how}"] if post.converted else []
            conv += [f"baseline: {pre.how}"] if pre.converted else []
            out.append(
                _Pick(
                    rec.id,
                    scale,
                    arm,
                    fu.timepoint or label,
                    _score_days(fu.days, fu.timepoint),
                    {
                        "n": float(n),
                        "m_pre": pre.mean,
                        "sd_pre": pre.sd,
                        "m_post": post.mean,
                        "sd_post": post.sd,
                    },
                    n_src,
                    conv,
                    [bl.prov.evidence, fu.prov.evidence],
                    notes,
                    "prepost",
                    _range_label([pre.mean, post.mean]),
                )
            )
            continue
        if changes and measure in ("MC", "SMCC"):
            ch, notes = _closest(changes, target)
            n, n_src = _n_for(rec, arm, ch.n, single_arm)
            if n is None:
                reasons.append(Skipped(rec.id, "n missing", f"{where}: mean change without n"))
                continue
            if n < 2:
                reasons.append(Skipped(rec.id, "n < 2", f"{where}: n = {n}"))
                continue
            try:
                c = _mean_sd(ch, n, median_method)
            except PoolingError as exc:
                reasons.append(Skipped(rec.id, "no SD", f"{where}: change score: {exc}"))
                continue
            out.append(
                _Pick(
                    rec.id,
                    scale,
                    arm,
                    ch.timepoint or label,
                    _score_days(ch.days, ch.timepoint),
                    {"n": float(n), "m_change": c.mean, "sd_change": c.sd},
                    n_src,
                    [f"change: {c.how}"] if c.converted else [],
                    [ch.prov.evidence],
                    notes + ["mean change reported directly (r not used)"],
                    "change",
                    _range_label([c.mean]),
                )
            )
            continue
        if not base:
            reasons.append(Skipped(rec.id, "no baseline", f"{where}: no score at baseline (days = 0)"))
        else:
            reasons.append(
                Skipped(
                    rec.id,
                    "no follow-up mean",
                    f"{where}: the value at {label} is a {follow[0].stat}, not a mean or median",
                )
            )
    if not out:
        skipped.extend(
            reasons
            or [
                Skipped(rec.id, "no matching arm", f"no arm matches '{arm_rx.pattern}'")
                if rec.scores and arm_rx is not None
                else Skipped(rec.id, "no pain scores")
            ]
        )
    return out


def _control_split(
    arms: list[str | None], control_rx: re.Pattern[str] | None, treatment_rx: re.Pattern[str] | None
) -> tuple[str | None, str | None, str]:
    """(treatment arm, control arm, problem) among the arms with data."""
    names = [a for a in arms if a is not None]
    if len(names) < 2:
        return None, None, "fewer than two arms"
    # an explicit control pattern wins within a study; otherwise the usual control words
    ctrl = [a for a in names if control_rx is not None and control_rx.search(a)]
    if not ctrl:
        ctrl = [a for a in names if CONTROL_WORDS.search(a)]
    if treatment_rx is not None:
        trt = [a for a in names if treatment_rx.search(a) and a not in ctrl]
    else:
        trt = [a for a in names if a not in ctrl]
    if len(ctrl) != 1:
        return (
            None,
            None,
            (
                "no arm recognised as the control"
                if not ctrl
                else f"several arms look like controls ({', '.join(ctrl)})"
            ),
        )
    if len(trt) != 1:
        return (
            None,
            None,
            (
                f"{len(trt)} active arms ({', '.join(trt)}): choose one with treatment_arm="
                if trt
                else "no active arm"
            ),
        )
    return trt[0], ctrl[0], ""


def _pick_two_group(
    rec: ExtractionRecord,
    target: float,
    label: str,
    window: float,
    control_rx: re.Pattern[str] | None,
    treatment_rx: re.Pattern[str] | None,
    median_method: str,
    skipped: list[Skipped],
) -> list[_Pick]:
    by_scale: dict[str, list[Score]] = {}
    for s in rec.scores:
        if _matches(_score_days(s.days, s.timepoint), target, window) and (_is_level(s) or _is_change(s)):
            by_scale.setdefault(s.scale, []).append(s)
    if not by_scale:
        skipped.append(Skipped(rec.id, f"no score at {label}"))
        return []
    out: list[_Pick] = []
    problems: list[Skipped] = []
    for scale, scores in by_scale.items():
        arm_order = list(dict.fromkeys(s.arm for s in scores))
        trt, ctl, problem = _control_split(arm_order, control_rx, treatment_rx)
        if problem:
            problems.append(
                Skipped(
                    rec.id,
                    "arms not comparable" if "two arms" not in problem else "one arm only",
                    f"{scale}: {problem}",
                )
            )
            continue
        s1 = [s for s in scores if s.arm == trt]
        s2 = [s for s in scores if s.arm == ctl]
        use_change = False
        l1, l2 = [s for s in s1 if _is_level(s)], [s for s in s2 if _is_level(s)]
        if not (l1 and l2):
            l1, l2 = [s for s in s1 if _is_change(s)], [s for s in s2 if _is_change(s)]
            use_change = True
            if not (l1 and l2):
                problems.append(
                    Skipped(
                        rec.id,
                        "arms not comparable",
                        f"{scale}: the two arms report different statistics (final value vs change)",
                    )
                )
                continue
        a, notes1 = _closest(l1, target)
        b, notes2 = _closest(l2, target)
        n1, src1 = _n_for(rec, trt, a.n, False)
        n2, src2 = _n_for(rec, ctl, b.n, False)
        if n1 is None or n2 is None:
            problems.append(
                Skipped(
                    rec.id,
                    "n missing",
                    f"{scale}: no n for arm {trt if n1 is None else ctl} (no n with the score, no arm size)",
                )
            )
            continue
        if n1 < 2 or n2 < 2:
            problems.append(Skipped(rec.id, "n < 2", f"{scale}: n = {n1} and {n2}"))
            continue
        try:
            x1, x2 = _mean_sd(a, n1, median_method), _mean_sd(b, n2, median_method)
        except PoolingError as exc:
            problems.append(Skipped(rec.id, "no SD", f"{scale}: {exc}"))
            continue
        conv = ([f"{trt}: {x1.how}"] if x1.converted else []) + ([f"{ctl}: {x2.how}"] if x2.converted else [])
        notes = notes1 + notes2 + (["change scores (both arms report mean change)"] if use_change else [])
        out.append(
            _Pick(
                rec.id,
                scale,
                f"{trt} vs {ctl}",
                a.timepoint or label,
                _score_days(a.days, a.timepoint),
                {"n1": float(n1), "m1": x1.mean, "sd1": x1.sd, "n2": float(n2), "m2": x2.mean, "sd2": x2.sd},
                f"{src1} / {src2}",
                conv,
                [a.prov.evidence, b.prov.evidence],
                notes,
                "two",
                _range_label([x1.mean, x2.mean]),
            )
        )
    if not out:
        skipped.extend(problems)
    return out


def _prop_counts(rec: ExtractionRecord, p: Proportion, single_arm: bool) -> tuple[int, int, list[str]] | str:
    conv: list[str] = []
    total = p.total
    if total is None:
        n, src = _n_for(rec, p.arm, None, single_arm)
        if n is None:
            return "no total (n) for the proportion"
        total = n
        conv.append(f"total from the {src}")
    events = p.events
    if events is None:
        if p.percent is None:
            return "neither events nor percent"
        events = round(p.percent * total / 100)
        conv.append(f"events = {p.percent:g}% × {total}")
    if total < 1:
        return "total < 1"
    if events < 0 or events > total:
        return f"events ({events}) > total ({total})" if events > total else "negative events"
    return events, total, conv


def _pick_props(
    rec: ExtractionRecord,
    target: float | None,
    label: str,
    window: float,
    what_rx: re.Pattern[str] | None,
    arm_rx: re.Pattern[str] | None,
    two: bool,
    control_rx: re.Pattern[str] | None,
    treatment_rx: re.Pattern[str] | None,
    skipped: list[Skipped],
) -> list[_Pick]:
    props = [p for p in rec.proportions if what_rx is None or what_rx.search(p.what or "")]
    if target is not None:
        props = [p for p in props if _matches(_score_days(p.days, p.timepoint), target, window)]
    if not props:
        skipped.append(
            Skipped(
                rec.id,
                "no proportion" + (f" at {label}" if target is not None else ""),
                "" if what_rx is None else f"matching '{what_rx.pattern}'",
            )
        )
        return []
    arms = list(dict.fromkeys(p.arm for p in props))
    single_arm = len({_arm_key(a.arm) for a in rec.arm_sizes} | {_arm_key(a) for a in arms}) <= 1
    if two:
        trt, ctl, problem = _control_split(arms, control_rx, treatment_rx)
        if problem:
            skipped.append(Skipped(rec.id, "arms not comparable", problem))
            return []
        p1 = next(p for p in props if p.arm == trt)
        p2 = next(p for p in props if p.arm == ctl)
        c1, c2 = _prop_counts(rec, p1, False), _prop_counts(rec, p2, False)
        if isinstance(c1, str) or isinstance(c2, str):
            skipped.append(
                Skipped(
                    rec.id,
                    "counts missing" if "events >" not in str(c1) + str(c2) else "events > n",
                    f"{c1 if isinstance(c1, str) else c2}",
                )
            )
            return []
        notes = [
            f"{sum(1 for p in props if p.arm == a)} proportions for arm {a}; took the first"
            for a in (trt, ctl)
            if sum(1 for p in props if p.arm == a) > 1
        ]
        return [
            _Pick(
                rec.id,
                "",
                f"{trt} vs {ctl}",
                p1.timepoint or label,
                _score_days(p1.days, p1.timepoint),
                {"ai": float(c1[0]), "n1": float(c1[1]), "ci": float(c2[0]), "n2": float(c2[1])},
                "reported totals",
                [f"{trt}: {x}" for x in c1[2]] + [f"{ctl}: {x}" for x in c2[2]],
                [p1.prov.evidence, p2.prov.evidence],
                notes,
                "twoprop",
            )
        ]
    out: list[_Pick] = []
    for arm in arms:
        if arm_rx is not None and not arm_rx.search(arm or ""):
            continue
        cands = [p for p in props if p.arm == arm]
        p = cands[0]
        counts = _prop_counts(rec, p, single_arm)
        if isinstance(counts, str):
            skipped.append(
                Skipped(
                    rec.id,
                    "events > n" if "events (" in counts else "counts missing",
                    f"{'arm ' + arm + ': ' if arm else ''}{counts}",
                )
            )
            continue
        notes = [f"{len(cands)} proportions; took '{p.what}'"] if len(cands) > 1 else []
        out.append(
            _Pick(
                rec.id,
                "",
                arm,
                p.timepoint or label,
                _score_days(p.days, p.timepoint),
                {"xi": float(counts[0]), "ni": float(counts[1])},
                "reported total",
                counts[2],
                [p.prov.evidence],
                notes,
                "prop",
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Effect sizes for picked rows


def _effect(pick: _Pick, measure: str, r: float) -> tuple[float, float]:
    x = pick.inputs
    if pick.kind == "prepost":
        kw: dict[str, Any] = {"m1i": x["m_post"], "m2i": x["m_pre"], "ni": x["n"], "ri": r}
        if measure == "SMCR":
            kw["sd1i"] = x["sd_pre"]
        else:
            kw["sd1i"], kw["sd2i"] = x["sd_post"], x["sd_pre"]
        es = escalc(measure, **kw)
    elif pick.kind == "change":
        # metafor's recipe for a reported change: m1i = change, m2i = 0, sd1i = SD of change,
        # sd2i = 0, ri = 0 (only MC and SMCC; no correlation is needed)
        es = _change_effect(measure, x)
    elif pick.kind == "two":
        es = escalc(measure, m1i=x["m1"], sd1i=x["sd1"], n1i=x["n1"], m2i=x["m2"], sd2i=x["sd2"], n2i=x["n2"])
    elif pick.kind == "prop":
        es = escalc(measure, xi=x["xi"], ni=x["ni"])
    else:
        es = escalc(measure, ai=x["ai"], n1i=x["n1"], ci=x["ci"], n2i=x["n2"])
    return float(es.yi), float(es.vi)


def _change_effect(measure: str, x: Mapping[str, float]) -> Any:
    from extractor.pool.effect_sizes import EffectSizes, cmicalc

    n, d, sd = x["n"], x["m_change"], x["sd_change"]
    if measure == "MC":
        return EffectSizes("MC", np.asarray(d), np.asarray(sd**2 / n), np.asarray(n))
    yi = float(cmicalc(n - 1)) * d / sd
    return EffectSizes("SMCC", np.asarray(yi), np.asarray(1 / n + yi**2 / (2 * n)), np.asarray(n))


# --------------------------------------------------------------------------------------------
# The entry point


def _rx(pattern: str | None, what: str) -> re.Pattern[str] | None:
    if pattern is None or pattern == "":
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise PoolingError(f"{what}: not a valid pattern ({exc})") from exc


def _records(
    records: Iterable[ExtractionRecord | Problem | Mapping[str, Any]],
) -> tuple[list[ExtractionRecord], list[str]]:
    out: list[ExtractionRecord] = []
    problems: list[str] = []
    for rec in records:
        if isinstance(rec, Problem):
            problems.append(str(rec))
        elif isinstance(rec, ExtractionRecord):
            out.append(rec)
        else:
            try:
                out.append(ExtractionRecord.from_dict(rec))
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"record {rec.get('id', '?')}: {exc}")
    return out, problems


def pool_extractions(
    records: Iterable[ExtractionRecord | Problem | Mapping[str, Any]],
    measure: str = "SMCC",
    timepoint: str | Sequence[str] | None = None,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
    r: float = 0.5,
    r_values: Sequence[float] = DEFAULT_R_VALUES,
    subgroup: str | None = None,
    scale: str | None = None,
    arm: str | None = None,
    control_arm: str | None = None,
    treatment_arm: str | None = None,
    what: str | None = None,
    window: float = 0.10,
    median_method: str = "luo",
    control: Control | str | None = None,
    include_reviews: bool = False,
) -> PoolRun:
    """Pick comparable values from extraction records and pool them (see the module docstring).

    ``timepoint`` may list several time points ("4w,12w") only with ``subgroup="timepoint"``.
    ``subgroup`` is ``None``, ``"scale"`` or ``"timepoint"``. ``arm``/``control_arm``/
    ``treatment_arm``/``what`` are case-insensitive regular expressions. Returns a
    :class:`PoolRun`; when fewer than two studies remain, ``run.result`` is ``None`` and
    ``run.error`` says why (with everything skipped listed). Records of systematic reviews and
    meta-analyses (``meta["design"] == "review"``, set by the NLP stage) are skipped: their values
    pool other studies, which would count those twice; ``include_reviews=True`` keeps them.
    """
    m = measure.upper() if measure.upper() in POOLABLE else measure
    if m not in POOLABLE:
        raise PoolingError(
            f"measure {measure!r} cannot be pooled from extractions; use one of: " + ", ".join(POOLABLE)
        )
    if not -1 < r < 1:
        raise PoolingError(f"the pre/post correlation r must lie strictly between -1 and 1 (got {r})")
    for rv in r_values:
        if not -1 < rv < 1:
            raise PoolingError(f"sensitivity correlations must lie strictly between -1 and 1 (got {rv})")
    if subgroup not in (None, "scale", "timepoint"):
        raise PoolingError("subgroup must be 'scale' or 'timepoint'")
    if not 0 <= window < 1:
        raise PoolingError("window must be a fraction in [0, 1) (0.10 = ±10 %)")
    if isinstance(timepoint, str):
        labels = [t.strip() for t in timepoint.split(",") if t.strip()]
    else:
        labels = [str(t) for t in (timepoint or [])]
    targets: list[tuple[str, float]] = []
    for lab in labels:
        days = parse_timepoint(lab)
        if days is None:
            raise PoolingError(f"cannot read the time point {lab!r}; write e.g. 4w, 24h, 1m, 12 weeks, day 7")
        targets.append((lab, days))
    if m not in PROPORTIONS + TWO_BY_TWO and not targets:
        raise PoolingError(f"measure {m} needs a time point (e.g. --timepoint 4w)")
    if m in PRE_POST and any(d == 0 for _, d in targets):
        raise PoolingError("the follow-up time point of a pre/post measure cannot be the baseline (0 days)")
    if len(targets) > 1 and subgroup != "timepoint":
        raise PoolingError(
            "several time points pool the same studies twice; add subgroup='timepoint' "
            "(--subgroup timepoint) to analyse them as subgroups"
        )
    arm_rx, control_rx = _rx(arm, "arm"), _rx(control_arm, "control_arm")
    treatment_rx, what_rx = _rx(treatment_arm, "treatment_arm"), _rx(what, "what")
    recs, problems = _records(records)
    skipped: list[Skipped] = []
    picks: list[tuple[_Pick, str]] = []
    seen: set[str] = set()
    for rec in recs:
        if rec.id in seen:
            skipped.append(
                Skipped(rec.id, "duplicate record", "the same id appeared earlier; kept the first")
            )
            continue
        seen.add(rec.id)
        if rec.meta.get("design") == "review" and not include_reviews:
            why = "its values pool other studies (include_reviews / --include-reviews keeps it)"
            skipped.append(Skipped(rec.id, "review or meta-analysis", why))
            continue
        wanted: list[tuple[str, float | None]] = list(targets) if targets else [("any time point", None)]
        for lab, days in wanted:
            if m in PRE_POST:
                assert days is not None
                got = _pick_prepost(rec, days, lab, window, arm_rx, m, median_method, skipped)
            elif m in TWO_GROUP_CONTINUOUS:
                assert days is not None
                got = _pick_two_group(
                    rec, days, lab, window, control_rx, treatment_rx, median_method, skipped
                )
            else:
                got = _pick_props(
                    rec,
                    days,
                    lab,
                    window,
                    what_rx,
                    arm_rx,
                    m in TWO_BY_TWO,
                    control_rx,
                    treatment_rx,
                    skipped,
                )
            picks += [(p, lab) for p in got]
    warnings_: list[str] = []
    # Raw measures need one scale (and one range: 0-10 vs 0-100).
    if m in ("MC", "MD"):
        keyed = [(f"{p.scale} ({p.scale_range})", p, lab) for p, lab in picks]
        if scale is not None:
            want = {k for k, p, _ in keyed if p.scale.lower() == scale.lower()}
        else:
            counts = Counter(k for k, _, _ in keyed)
            want = {counts.most_common(1)[0][0]} if counts else set()
        kept = []
        for key, p, lab in keyed:
            if key in want:
                kept.append((p, lab))
            else:
                skipped.append(
                    Skipped(
                        p.study,
                        "different scale",
                        f"{key}; the analysis uses {', '.join(sorted(want)) or scale}",
                    )
                )
        picks = kept
        if len(want) > 1:
            warnings_.append(f"scale {scale} comes in several ranges ({', '.join(sorted(want))})")
    elif scale is not None:
        kept = []
        for p, lab in picks:
            if p.scale.lower() == scale.lower() or p.kind in ("prop", "twoprop"):
                kept.append((p, lab))
            else:
                skipped.append(Skipped(p.study, "different scale", f"{p.scale}; asked for {scale}"))
        picks = kept
    kinds = {
        ("change" if any("change scores" in n for n in p.notes) or p.kind == "change" else "final")
        for p, _ in picks
    }
    if m == "SMD" and len(kinds) > 1:
        warnings_.append(
            "some studies give change scores and others final values; standardised effects "
            "of the two are not on the same scale (Cochrane Handbook §10.5.2)"
        )
    multi = Counter((p.study, lab) for p, lab in picks)
    for (study, lab), count in multi.items():
        if count > 1:
            warnings_.append(
                f"{study} contributes {count} rows at {lab} (several arms or scales); they are "
                "not independent — restrict with arm= / scale="
            )
    rows: list[StudyRow] = []
    used: list[_Pick] = []
    for p, lab in picks:
        try:
            yi, vi = _effect(p, m, r)
        except PoolingError as exc:
            skipped.append(Skipped(p.study, "invalid values", str(exc)))
            continue
        if not (math.isfinite(yi) and math.isfinite(vi)):
            skipped.append(
                Skipped(
                    p.study,
                    "effect size undefined",
                    "the effect or its variance is not a finite number (e.g. a zero SD of change)",
                )
            )
            continue
        sub = None
        if subgroup == "scale":
            sub = p.scale or "unspecified"
        elif subgroup == "timepoint":
            sub = lab
        arm_txt = f" ({p.arm})" if p.arm else ""
        scale_txt = f" [{p.scale}]" if p.scale and m not in PROPORTIONS + TWO_BY_TWO else ""
        rows.append(
            StudyRow(
                p.study,
                f"{p.study}{arm_txt}{scale_txt}",
                p.scale,
                p.arm,
                p.timepoint,
                p.days,
                dict(p.inputs),
                p.n_source,
                yi,
                vi,
                bool(p.conversions),
                tuple(p.conversions),
                tuple(e for e in p.evidence if e),
                tuple(p.notes),
                sub,
            )
        )
        used.append(p)
    base: dict[str, Any] = {
        "measure": m,
        "timepoints": tuple(labels),
        "method": method,
        "test": test,
        "level": level,
        "r": r if m in PRE_POST else None,
        "subgroup_by": subgroup,
        "problems": tuple(problems),
    }
    if len(rows) < 2:
        reasons = Counter(s.reason for s in skipped)
        why = ", ".join(f"{n} × {reason}" for reason, n in reasons.most_common(5)) or "no usable records"
        return PoolRun(
            studies=tuple(rows),
            skipped=tuple(skipped),
            result=None,
            error=f"only {len(rows)} study could be pooled (need at least 2); skipped: {why}",
            warnings=tuple(warnings_),
            **base,
        )
    yi_a = np.array([s.yi for s in rows])
    vi_a = np.array([s.vi for s in rows])
    ni_a = np.array([_row_n(s) for s in rows])
    labels_a = [s.label for s in rows]
    try:
        result = rma(
            yi_a,
            vi_a,
            method=method,
            test=test,
            level=level,
            measure=m,
            ni=ni_a,
            control=control,
            emit_warnings=False,
        )
    except PoolingError as exc:
        return PoolRun(
            studies=tuple(rows),
            skipped=tuple(skipped),
            result=None,
            error=str(exc),
            warnings=tuple(warnings_),
            **base,
        )
    warnings_ += list(result.warnings)
    sub_res = None
    if subgroup is not None:
        sub_res = subgroups(
            yi_a,
            vi_a,
            [s.subgroup or "" for s in rows],
            method=method,
            test=test,
            level=level,
            measure=m,
            ni=ni_a,
            control=control,
        )
    sens: list[SensitivityRow] = []
    if m in PRE_POST:
        for rv in sorted({*r_values, r}):
            try:
                alt = [_effect(p, m, rv) for p in used]
            except PoolingError:
                continue
            ys = np.array([a for a, _ in alt])
            vs = np.array([b for _, b in alt])
            ok = np.isfinite(ys) & np.isfinite(vs)
            try:
                res = rma(
                    ys[ok],
                    vs[ok],
                    method=method,
                    test=test,
                    level=level,
                    control=control,
                    emit_warnings=False,
                )
            except PoolingError:
                continue
            sens.append(
                SensitivityRow(
                    float(rv), res.k, res.b, res.ci_lb, res.ci_ub, res.tau2, res.I2, res.pi_lb, res.pi_ub
                )
            )
    l1o = leave1out(yi_a, vi_a, labels=labels_a, method=method, test=test, level=level, control=control)
    cum = cumul(yi_a, vi_a, labels=labels_a, method=method, test=test, level=level, control=control)
    egger = None
    if len(rows) >= 3:
        try:
            egger = regtest(result, control=control)
        except PoolingError as exc:
            warnings_.append(f"Egger's test not computed: {exc}")
    return PoolRun(
        studies=tuple(rows),
        skipped=tuple(skipped),
        result=result,
        subgroup=sub_res,
        sensitivity=tuple(sens),
        leave1out=l1o,
        cumulative=cum,
        egger=egger,
        warnings=tuple(dict.fromkeys(warnings_)),
        **base,
    )


def _row_n(s: StudyRow) -> float:
    x = s.inputs
    for key in ("n", "ni"):
        if key in x:
            return float(x[key])
    if "n1" in x and "n2" in x:
        return float(x["n1"] + x["n2"])
    return float("nan")


# --------------------------------------------------------------------------------------------
# Writing


TABLE_COLUMNS = (
    "study",
    "label",
    "subgroup",
    "scale",
    "arm",
    "timepoint",
    "days",
    "n",
    "m_pre",
    "sd_pre",
    "m_post",
    "sd_post",
    "m_change",
    "sd_change",
    "n1",
    "m1",
    "sd1",
    "n2",
    "m2",
    "sd2",
    "xi",
    "ni",
    "ai",
    "ci",
    "n_source",
    "yi",
    "vi",
    "sei",
    "weight_pct",
    "converted",
    "conversions",
    "notes",
    "evidence",
)


def write_outputs(run: PoolRun, outdir: Path, *, formats: Sequence[str] = ("png", "svg")) -> dict[str, Path]:
    """Write the study table, the skipped list, the JSON result and the plots into ``outdir``.

    Files: ``pool_table.csv``, ``pool_skipped.csv``, ``pool_result.json`` and, when a model
    was fitted, ``forest.png``/``.svg`` and ``funnel.png``/``.svg``. Returns name → path.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    table = outdir / "pool_table.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(TABLE_COLUMNS), extrasaction="ignore")
        w.writeheader()
        for row in run.table():
            w.writerow({k: ("" if v is None else v) for k, v in row.items()})
    paths["table"] = table
    sk = outdir / "pool_skipped.csv"
    with sk.open("w", newline="", encoding="utf-8") as fh:
        w2 = csv.DictWriter(fh, fieldnames=["study", "reason", "detail"])
        w2.writeheader()
        for s in run.skipped:
            w2.writerow(s.to_dict())
    paths["skipped"] = sk
    js = outdir / "pool_result.json"
    js.write_text(
        json.dumps(run.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
    )
    paths["json"] = js
    if run.result is not None and formats:
        from extractor.pool.plots import forest_plot, funnel_plot, save_figure

        title = f"{run.measure}{' at ' + ', '.join(run.timepoints) if run.timepoints else ''}"
        groups = [s.subgroup or "" for s in run.studies] if run.subgroup is not None else None
        ni = [_row_n(s) for s in run.studies]
        fig = forest_plot(
            run.result,
            [s.label for s in run.studies],
            groups=groups,
            subgroup=run.subgroup,
            ni=ni,
            title=title,
        )
        for p in save_figure(fig, outdir / "forest", formats):
            paths[f"forest.{p.suffix[1:]}"] = p
        fig2 = funnel_plot(run.result, title=title)
        for p in save_figure(fig2, outdir / "funnel", formats):
            paths[f"funnel.{p.suffix[1:]}"] = p
    return paths


def common_followup(records: Iterable[ExtractionRecord], window: float = 0.10) -> float | None:
    """The follow-up time (days > 0) reached by the most single-arm-or-arm pre/post series.

    A series counts for a time point when it has a baseline score (days = 0) and a score within
    ``window`` of that time, same scale and arm. Ties go to the earlier time point. ``None`` when
    no record has both a baseline and a follow-up score.
    """
    series_followups: list[list[float]] = []
    for rec in records:
        if not isinstance(rec, ExtractionRecord):
            continue
        series: dict[tuple[str, str], set[float]] = {}
        for s in rec.scores:
            d = _score_days(s.days, s.timepoint)
            if d is not None and s.stat in ("mean", "median"):
                series.setdefault((s.scale, _arm_key(s.arm)), set()).add(d)
        series_followups += [sorted(d for d in days if d > 0) for days in series.values() if 0.0 in days]
    candidates = sorted({d for f in series_followups for d in f})
    votes = Counter({t: sum(any(_matches(d, t, window) for d in f) for f in series_followups)
                     for t in candidates})
    if not votes:
        return None
    best = max(votes.values())
    return min(d for d, v in votes.items() if v == best)


def preview_png(records: Sequence[ExtractionRecord], *, measure: str = "SMCC", timepoint: str | None = None,
                method: str = "REML", test: str = "knha", r: float = 0.5) -> bytes | None:
    """A forest plot (PNG bytes) of ``records`` pooled at ``timepoint`` (default: the most common
    follow-up, see :func:`common_followup`); ``None`` when fewer than two studies can be pooled.

    Used by the review app's pooled preview of the accepted values.
    """
    import io

    from extractor.pool.plots import forest_plot

    if timepoint is None and measure in PRE_POST:
        days = common_followup(records)
        if days is None:
            return None
        timepoint = f"{days:g}d"
    run = pool_extractions(records, measure, timepoint, method=method, test=test, r=r)
    if run.result is None:
        return None
    fig = forest_plot(run.result, [s.label for s in run.studies], ni=[_row_n(s) for s in run.studies],
                      title=f"{measure} at {', '.join(run.timepoints) or 'any time point'} (accepted values)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()
