"""Rule data: the ``patterns/*.jsonl`` files shipped in the package, and their registry functions.

Every rule is one JSON object per line with a stable ``"id"`` (``<thing>.<pattern>.v<N>``: bump
the version rather than edit a rule in place). Components receive their rules in ``initialize()``
through ``[initialize.components.<name>.patterns]``, which points at one of the registered
functions below; ``to_disk`` writes the rules next to the component so a saved pipeline keeps the
exact rules it was built with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import spacy

Rule = dict[str, Any]

PATTERN_FILES: dict[str, str] = {
    "p_values": "p_values.jsonl",
    "scales": "scales.jsonl",
    "sample_size": "sample_size.jsonl",
    "scores": "scores.jsonl",
    "proportions": "proportions.jsonl",
    "timepoints": "timepoints.jsonl",
}


def parse_rules(lines: Iterable[str], where: str) -> list[Rule]:
    """Parse JSONL rule lines (blank lines and ``//`` comments skipped); every rule needs an id."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for no, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        try:
            rule = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}:{no}: not valid JSON: {exc.msg}") from exc
        if not isinstance(rule, dict) or not isinstance(rule.get("id"), str):
            raise ValueError(f"{where}:{no}: a rule must be an object with a string 'id'")
        if rule["id"] in seen:
            raise ValueError(f"{where}:{no}: duplicate rule id {rule['id']!r}")
        seen.add(rule["id"])
        rules.append(rule)
    return rules


def split_expression_rules(rules: Iterable[Rule], family: str, lexicons: Iterable[str]
                           ) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """``(rule_ids, confidence, lexicon)`` of a rule file of ``expression`` and ``lexicon`` rules.

    ``rule_ids`` and ``confidence`` (default 0.6) are keyed by an expression's ``pattern`` (the name
    of the code that implements it); ``lexicon`` maps each word list's name to its pattern. Any
    other rule type, or a missing lexicon of ``lexicons``, is a ``ValueError``.
    """
    rule_ids: dict[str, str] = {}
    confidence: dict[str, float] = {}
    lexicon: dict[str, str] = {}
    for r in rules:
        if r.get("type") == "expression":
            rule_ids[str(r["pattern"])] = str(r["id"])
            confidence[str(r["pattern"])] = float(r.get("confidence", 0.6))
        elif r.get("type") == "lexicon":
            lexicon[str(r["name"])] = str(r["pattern"])
        else:
            raise ValueError(f"{family} rule {r.get('id')}: unknown type {r.get('type')!r}")
    missing = set(lexicons) - set(lexicon)
    if missing:
        raise ValueError(f"{family} rules: missing lexicons {sorted(missing)}")
    return rule_ids, confidence, lexicon


def read_packaged_rules(name: str) -> list[Rule]:
    """The rules of ``patterns/<file>`` shipped inside the package."""
    filename = PATTERN_FILES[name]
    text = resources.files("extractor.nlp").joinpath("patterns", filename).read_text("utf-8")
    return parse_rules(text.splitlines(), f"patterns/{filename}")


def write_rules(path: Path, rules: Iterable[Rule]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for rule in rules:
            fh.write(json.dumps(rule, ensure_ascii=False) + "\n")


def read_rules(path: Path) -> list[Rule]:
    with path.open(encoding="utf-8") as fh:
        return parse_rules(fh, str(path))


# One registered function per rule file: ``{"@misc": "extractor.p_value_patterns.v1"}`` etc.
# Each returns the rules themselves, so ``[initialize.components.<name>.patterns]`` resolves to a
# list of dicts.
@spacy.registry.misc("extractor.p_value_patterns.v1")
def p_value_patterns() -> list[Rule]:
    return read_packaged_rules("p_values")


@spacy.registry.misc("extractor.scale_patterns.v1")
def scale_patterns() -> list[Rule]:
    return read_packaged_rules("scales")


@spacy.registry.misc("extractor.sample_size_patterns.v1")
def sample_size_patterns() -> list[Rule]:
    return read_packaged_rules("sample_size")

@spacy.registry.misc("extractor.score_patterns.v1")
def score_patterns() -> list[Rule]:
    return read_packaged_rules("scores")


@spacy.registry.misc("extractor.proportion_patterns.v1")
def proportion_patterns() -> list[Rule]:
    return read_packaged_rules("proportions")


@spacy.registry.misc("extractor.timepoint_patterns.v1")
def timepoint_patterns() -> list[Rule]:
    return read_packaged_rules("timepoints")
