"""Features of the headline sample-size choice: pure functions over the text and the candidates.

The rule component ``extractor_sample_size`` proposes every count of people as a ``sample_size``
candidate with its cue features (``doc._.candidates``); these functions turn one document's
candidates into one feature dict per candidate plus one for the *no headline* option ("the
abstract states no total"). Names are stable strings; a trained model keeps its own feature list,
so a feature the model has not seen (e.g. a new rule cue) is ignored, never an error.

The ranker adds its learned utility to the rules' own prior (the weighted cue score of the
candidate), so the cue hits themselves are *not* features here: what the rules already score stays
scored the rules' way, and the model learns what they do not see. Candidate features:

* the rule id and the noun as one-hot features, number words (``words``), the sentence index;
* the rule prior again as ``prior`` / ``prior_margin`` / ``prior_rank0`` / ``prior_rank`` (the
  ranker keeps their weights monotone: it may sharpen the rules' order, never invert it);
* the value among the other candidates: ``log n``, largest?, ratio to the largest, equal to the
  sum of two others?, one part of such a sum?, repeated?, used as a denominator (``x/n``,
  ``x of n``)? equal to the sum of the arm sizes the rules found?
* the sentence: other counts in it (a split into arms: "300 … and 270 patients"), a gender
  pair ("Six female and 18 male"), "another" after it.

No-headline features (``null:*``): a bias, the best rule prior and the gap to the second, the
number of candidates, whether the rules found an arm split and whether the best candidate is one
of its arms.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from extractor.nlp.fastre import finditer_merged

Features = dict[str, float]

_GENDER = re.compile(r"^(?:females?|males?|women|woman|men|man|girls?|boys?)$")
_DENOMINATOR = re.compile(r"\d\s*/\s*(\d+)|\bof\s+(?:the\s+)?(\d+)\b")
# its two alternatives apart, each found cheaply (see ``denominator_matches``)
_FRACTION = re.compile(r"\d\s*/\s*(\d+)")
_SLASH = re.compile(r"/\s*\d")
# "\b" before "of" written as a look-behind after it: the pattern starts with literal text, which
# the regex engine skips ahead to, instead of being tried at every character
_OF_NUMBER = re.compile(r"of(?<!\wof)\s+(?:the\s+)?(\d+)\b")
_ANOTHER = re.compile(r"another(?<!\wanother)\b")  # "\banother\b", led by its literal text (as _OF_NUMBER)
NULL_PREFIX = "null:"
# features of the rule candidate used as they are (everything else the rules put there — cue hits,
# position, arm flags — is already in the rule prior "score")
_ONE_HOT = ("rule", "noun")


class _FractionSearch:
    """``_FRACTION.search``, looked for from the slashes instead of from every digit.

    A match starts at the digit right before its slash (spaces apart), so each "/" followed by a
    number is a candidate whose digit, if any, is found by stepping back over the spaces; the
    slashes come in the order of the matches' starts. (Digits are common in abstracts, slashes
    after a number are not: several times faster.)
    """

    @staticmethod
    def search(text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        at = pos
        while (slash := _SLASH.search(text, at, endpos)) is not None:
            i = slash.start() - 1
            while i >= pos and text[i].isspace():  # str.isspace is "\s", str.isdecimal is "\d"
                i -= 1
            if i >= pos and text[i].isdecimal():
                return _FRACTION.match(text, i, endpos)
            at = slash.start() + 1
        return None


def denominator_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``_DENOMINATOR.finditer(text)`` (numbers written as denominators: "12/40",
    "of 40", "of the 40"; the number is ``group(1)``), from its two alternatives searched apart
    and merged (:func:`~extractor.nlp.fastre.finditer_merged`: a match of one starts with a digit,
    of the other with "o", so they never start at the same place)."""
    return finditer_merged((_FractionSearch, _OF_NUMBER), text)


def rule_accepted(candidate: Mapping[str, Any]) -> bool:
    """The rules' own decision on a candidate (kept in ``features`` once the ranker overrode it)."""
    features = candidate.get("features") or {}
    return bool(features["rule_accept"] if "rule_accept" in features else candidate.get("accept"))


def _num(x: Any) -> float | None:
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)) and math.isfinite(float(x)):
        return float(x)
    return None


def _short(rule_id: str) -> str:
    """``sample_size.count_persons.v1`` → ``count_persons.v1`` (the feature name stays unique)."""
    return rule_id.removeprefix("sample_size.")


def rule_prior(candidate: Mapping[str, Any]) -> float:
    """The rules' score of a candidate (``features["score"]``; 0 when absent)."""
    return float(_num((candidate.get("features") or {}).get("score")) or 0.0)


def sample_size_features(text: str, candidates: Sequence[Mapping[str, Any]],
                         arm_sizes: Sequence[Mapping[str, Any]] = (), *,
                         lower: str | None = None) -> tuple[list[Features], Features]:
    """Feature dicts of the ``sample_size`` candidates of one document, and of *no headline*.

    ``candidates`` are the ``kind == "sample_size"`` dicts of ``doc._.candidates`` (in text
    order); ``arm_sizes`` the ``kind == "arm_size"`` ones; ``lower`` is ``text.lower()`` when the
    caller has it already.
    """
    priors = [rule_prior(c) for c in candidates]
    null = null_features(candidates, arm_sizes, priors=priors)
    if not candidates:
        return [], null
    if lower is None:
        lower = text.lower()
    best = max(priors)
    order = sorted(range(len(candidates)), key=lambda i: (-priors[i], int(candidates[i]["start"])))
    rank = {i: r for r, i in enumerate(order)}
    values = [int(c["n"]) for c in candidates]
    # "largest" and "first" among the counts the rules accept (no screened, planned, lost or
    # per-group count): the largest plausible count is usually the headline, a screened one never
    plausible = [i for i, c in enumerate(candidates) if rule_accepted(c)] or list(range(len(candidates)))
    largest = max(values[i] for i in plausible)
    first_plausible = plausible[0]
    pair_sums = {a + b for i, a in enumerate(values) for b in values[i + 1:]}
    value_set = set(values)
    denominators = {int(m.group(1)) for m in denominator_matches(lower)}
    arm_total = sum(int(a["n"]) for a in arm_sizes)
    arm_values = {int(a["n"]) for a in arm_sizes}
    n_arms = len(arm_sizes)
    out: list[Features] = []
    for i, cand in enumerate(candidates):
        n = values[i]
        rule_feats = cand.get("features") or {}
        feats: Features = {f"{key}={_short(str(rule_feats[key])).lower()}": 1.0
                           for key in _ONE_HOT if isinstance(rule_feats.get(key), str)}
        feats["words"] = float(bool(rule_feats.get("words")))
        feats["sentence_index"] = float(min(_num(rule_feats.get("sentence_index")) or 0.0, 10.0))
        feats["prior"] = priors[i]
        feats["prior_margin"] = priors[i] - best
        feats["prior_rank0"] = float(rank[i] == 0)
        feats["prior_rank"] = float(min(rank[i], 5))
        feats["log_n"] = math.log(max(n, 1))
        feats["plausible"] = float(i in plausible)
        feats["is_largest"] = float(n == largest and i in plausible)
        feats["n_over_largest"] = min(n / largest, 2.0) if largest else 0.0
        feats["n_candidates"] = float(min(len(candidates), 10))
        feats["first"] = float(i == first_plausible)
        feats["repeated"] = float(values.count(n) > 1)
        feats["is_pair_sum"] = float(n in pair_sums)
        feats["part_of_sum"] = float(any(n + m in value_set for j, m in enumerate(values) if j != i))
        feats["denominator"] = float(n in denominators)
        feats["arm_total"] = float(n_arms >= 2 and n == arm_total)
        feats["arm_value"] = float(n in arm_values)
        sent = cand.get("sent_start")
        feats["sentence_position"] = (int(sent) / max(1, len(text))) if sent is not None else 0.0
        same = [c for c in candidates if c is not cand and c.get("sent_start") == sent]
        feats["same_sentence"] = float(min(len(same), 4))
        feats["same_sentence_other_value"] = float(any(int(c["n"]) != n for c in same))
        start, end = int(cand["start"]), int(cand["end"])
        feats["near_partner"] = float(any(abs(int(c["start"]) - end) < 60 or abs(start - int(c["end"])) < 60
                                          for c in same))
        noun = str((cand.get("features") or {}).get("noun") or "")
        feats["gender_pair"] = float(bool(_GENDER.match(noun)) and any(
            _GENDER.match(str((c.get("features") or {}).get("noun") or "")) for c in same))
        feats["another_after"] = float(_ANOTHER.search(lower, end, end + 60) is not None)
        out.append(feats)
    return out, null


def null_features(candidates: Sequence[Mapping[str, Any]],
                  arm_sizes: Sequence[Mapping[str, Any]] = (), *,
                  priors: Sequence[float] | None = None) -> Features:
    """Features of the *no headline* option of one document (all named ``null:*``); ``priors``
    are the candidates' :func:`rule_prior` values when the caller has them already."""
    if priors is None:
        priors = [rule_prior(c) for c in candidates]
    ranked = sorted(priors, reverse=True)
    feats: Features = {"bias": 1.0, "no_candidates": float(not candidates),
                       "n_candidates": float(min(len(candidates), 10)),
                       "arms_found": float(len(arm_sizes) >= 2)}
    if ranked:
        feats["best_prior"] = ranked[0]
        feats["best_gap"] = min(ranked[0] - ranked[1], 10.0) if len(ranked) > 1 else 10.0
        best = candidates[max(range(len(priors)), key=priors.__getitem__)]  # the first of the best
        feats["best_is_arm"] = float(bool((best.get("features") or {}).get("is_arm")))
        arm_values = {int(a["n"]) for a in arm_sizes}
        feats["best_in_arms"] = float(int(best["n"]) in arm_values)
    return {NULL_PREFIX + k: v for k, v in feats.items()}
