"""Evaluate step: the ablation of rules only vs rules + trained components.

* **painbench dev** — both pipelines extract over every abstract of ``painbench/pool.jsonl``; the
  predictions are scored against ``painbench/dev.jsonl`` by the benchmark's own ``score.py`` (run
  as a separate process, as a user would), every field.
* **held-out corpus splits** — headline sample-size accuracy on the corpus's ``dev`` entries,
  per origin: EBM-NLP (the choice is right when it is one of the crowd-marked sample-size
  numbers; abstracts without any are not counted), PICO (right when it is a marked
  ``total-participants`` number, or null when the abstract has none), painbench silver held out
  with them, and abstracts written here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language

from extractor.records import Abstract
from extractor.training.corpus import EVAL_GOLD, EVAL_POOL, Entry

PAINBENCH_FIELDS: tuple[str, ...] = (
    "scales", "scores", "scores_value", "proportions", "p_values", "arm_sizes")
HELD_OUT: tuple[tuple[str, str], ...] = (
    ("ebmnlp", "EBM-NLP sample size"),
    ("pico_corpus", "PICO total N"),
    ("painbench-silver", "painbench silver sample size"),
    ("written", "written abstracts sample size"),
)


def painbench_dev(nlp: Language, shared_dir: Path, out_path: Path | None = None) -> dict[str, Any]:
    """Extract over ``painbench/pool.jsonl`` and score against ``dev.jsonl`` with ``score.py``."""
    from extractor.io import RecordWriter
    from extractor.nlp import extract

    pool = shared_dir / EVAL_POOL
    gold = shared_dir / EVAL_GOLD
    scorer = shared_dir / "painbench" / "score.py"
    abstracts = []
    with pool.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                abstracts.append(Abstract.from_dict(json.loads(line)))
    with tempfile.TemporaryDirectory() as tmp:
        pred = out_path or Path(tmp) / "pred.jsonl"
        pred.parent.mkdir(parents=True, exist_ok=True)
        with RecordWriter(pred) as writer:
            for record in extract(nlp, abstracts):
                writer.write(record)
        done = subprocess.run([sys.executable, str(scorer), str(gold), str(pred), "--json"],
                              capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def headline_accuracy(nlp: Language, entries: Sequence[Entry]) -> dict[str, Any]:
    """Headline sample-size accuracy over the entries that carry headline gold."""
    from extractor.nlp import doc_to_record

    usable = [(e, g) for e in entries if (g := e.sample_size_gold()) is not None and (g[0] or g[1])]
    correct = 0
    for doc, (entry, (values, _complete)) in zip(nlp.pipe(e.text for e, _ in usable), usable, strict=True):
        record = doc_to_record(doc, entry.id)
        pred = None if record.sample_size is None else record.sample_size.n
        correct += (pred in values) if values else pred is None
    n = len(usable)
    return {"abstracts": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None}


def held_out_accuracy(nlp: Language, dev: Iterable[Entry]) -> dict[str, dict[str, Any]]:
    dev = list(dev)
    return {origin: headline_accuracy(nlp, [e for e in dev if e.origin == origin]) for origin, _ in HELD_OUT}


def ablation(pipelines: Mapping[str, Language], shared_dir: Path | None, dev: Sequence[Entry],
             demo: Sequence[Entry], pred_dir: Path | None = None) -> dict[str, Any]:
    """Every metric for every pipeline: ``{"painbench_dev": {name: …}, "held_out": {name: …}}``."""
    out: dict[str, Any] = {"painbench_dev": {}, "held_out": {}, "demo": {}}
    for name, nlp in pipelines.items():
        if shared_dir is not None and (shared_dir / EVAL_GOLD).is_file():
            pred = None if pred_dir is None else pred_dir / f"painbench-pool.{name}.jsonl"
            out["painbench_dev"][name] = painbench_dev(nlp, shared_dir, pred)
        out["held_out"][name] = held_out_accuracy(nlp, dev)
        out["demo"][name] = headline_accuracy(nlp, demo)
    return out


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def markdown_table(result: Mapping[str, Any], names: Sequence[str] = ("rules", "trained")) -> str:
    """The ablation as one Markdown table (rows: metrics; columns: pipelines)."""
    a, b = names
    header = f"| metric | {a} | {b} | Δ |\n|---|---:|---:|---:|"
    rows: list[str] = []

    def row(label: str, x: float | None, y: float | None, note: str = "") -> None:
        delta = "–" if x is None or y is None else f"{y - x:+.3f}"
        rows.append(f"| {label}{note} | {_fmt(x)} | {_fmt(y)} | {delta} |")

    pb = result.get("painbench_dev") or {}
    if a in pb and b in pb:
        n = pb[a]["abstracts"]
        row(f"painbench dev: sample_size accuracy ({n} abstracts)", pb[a]["sample_size_accuracy"],
            pb[b]["sample_size_accuracy"])
        for f in PAINBENCH_FIELDS:
            for k, short in (("precision", "P"), ("recall", "R"), ("f1", "F1")):
                row(f"painbench dev: {f} {short}", pb[a][f][k], pb[b][f][k])
    held = result.get("held_out") or {}
    for origin, label in HELD_OUT:
        x, y = held.get(a, {}).get(origin), held.get(b, {}).get(origin)
        if x and y and x["abstracts"]:
            row(f"held-out {label} accuracy ({x['abstracts']} abstracts)", x["accuracy"], y["accuracy"])
    demo = result.get("demo") or {}
    if demo.get(a) and demo[a]["abstracts"]:
        row(f"demo corpus sample size accuracy ({demo[a]['abstracts']} abstracts)", demo[a]["accuracy"],
            demo[b]["accuracy"])
    return "\n".join([header, *rows])


def regressions(result: Mapping[str, Any], names: Sequence[str] = ("rules", "trained")) -> list[str]:
    """Metrics where the trained pipeline is worse than the rules (F1 and accuracies)."""
    a, b = names
    worse: list[str] = []
    pb = result.get("painbench_dev") or {}
    if a in pb and b in pb:
        if pb[b]["sample_size_accuracy"] < pb[a]["sample_size_accuracy"]:
            worse.append("painbench dev sample_size")
        worse += [f"painbench dev {f} F1" for f in PAINBENCH_FIELDS if pb[b][f]["f1"] < pb[a][f]["f1"]]
    held = result.get("held_out") or {}
    for origin, label in HELD_OUT:
        x, y = held.get(a, {}).get(origin), held.get(b, {}).get(origin)
        if x and y and x["accuracy"] is not None and y["accuracy"] < x["accuracy"]:
            worse.append(f"held-out {label}")
    return worse
