"""Small batch inputs written for these tests: PubMed baseline/update XML and JSONL.

The abstracts are generated from templates written here (pain trials with scores, p-values and
responder counts; non-pain trials with numbers; pain abstracts without numbers; title-only
records), with numbers varied per record, so every pre-filter branch and the extractor are
exercised. ``dump`` lays out a job like a PubMed mirror:

* ``pubmed26n0001.xml.gz`` — baseline: 36 citations (PMIDs 31000000…);
* ``pubmed26n0002.xml.gz`` — update: new versions of 6 baseline PMIDs (3 turned into non-pain
  text, so the pre-filter now skips them), 4 new PMIDs, and a ``DeleteCitation`` of 4 PMIDs;
* ``pubmed26n0003.xml.gz`` — update: re-adds one deleted PMID and deletes one of the new ones;
* ``extra.jsonl`` — 8 abstracts with non-PMID ids, one repeating a baseline PMID (the JSONL,
  read last, wins).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from extractor.batch.synth import SynthArticle, write_pubmed_xml

REPO = Path(__file__).resolve().parents[2]
EXTRACTOR = [sys.executable, "-m", "extractor.cli"]

Parts = tuple[tuple[str | None, str], ...]


def _pain_trial(rng: random.Random, i: int) -> tuple[str, Parts]:
    n_a, n_b = rng.randint(20, 80), rng.randint(20, 80)
    base = round(rng.uniform(5.5, 8.5), 1)
    a24, b24 = round(base - rng.uniform(2, 4), 1), round(base - rng.uniform(0.5, 1.5), 1)
    sd = round(rng.uniform(0.8, 2.2), 1)
    p = rng.choice(["0.001", "0.01", "0.03", "0.004"])
    drug = rng.choice(["ketamine", "lidocaine", "dexmedetomidine", "pregabalin", "ibuprofen"])
    title = f"{drug.capitalize()} for postoperative pain after knee arthroplasty: a randomised trial {i}"
    return title, (
        ("BACKGROUND", f"We asked whether {drug} reduces pain after total knee arthroplasty."),
        ("METHODS", f"A total of {n_a + n_b} patients were randomised to {drug} (n = {n_a}) or placebo "
                    f"(n = {n_b}). Pain was rated on a 0-10 numeric rating scale (NRS)."),
        ("RESULTS", f"Mean NRS pain at 24 h was {a24} ± {sd} with {drug} and {b24} ± {sd} with placebo "
                    f"(p = {p}). {rng.randint(5, n_a)} of {n_a} patients needed rescue analgesia."),
        ("CONCLUSIONS", f"{drug.capitalize()} lowered pain scores in the first day."),
    )


def _vas_single_arm(rng: random.Random, i: int) -> tuple[str, Parts]:
    n = rng.randint(12, 60)
    before, after = round(rng.uniform(6, 9), 1), round(rng.uniform(1, 4), 1)
    return (f"Radiofrequency ablation of painful bone metastases: case series {i}", (
        (None, f"We treated {n} patients with painful bone metastases. The visual analogue scale (VAS) score "
               f"fell from {before} to {after} at 4 weeks (P < 0.001). {rng.randint(3, n)} patients were "
               "pain-free at last follow-up."),
    ))


def _non_pain(rng: random.Random, i: int) -> tuple[str, Parts]:
    n = rng.randint(100, 900)
    return (f"Statins and LDL cholesterol in older adults {i}", (
        (None, f"In {n} adults aged over 70, atorvastatin lowered LDL cholesterol by {rng.randint(20, 45)}% "
               f"compared with placebo (p = 0.0{rng.randint(1, 4)}). Adverse events were rare."),
    ))


def _pain_no_numbers(rng: random.Random, i: int) -> tuple[str, Parts]:
    return ("Why do we undertreat chronic pain? An essay", (
        (None, "Chronic pain is common, costly and poorly treated. We discuss barriers to good "
               "analgesia in primary care and what clinicians can change."),
    ))


def _title_only(rng: random.Random, i: int) -> tuple[str, Parts]:
    return (f"Erratum: low back pain study {i}", ())


TEMPLATES: tuple[Callable[[random.Random, int], tuple[str, Parts]], ...] = (
    _pain_trial, _vas_single_arm, _non_pain, _pain_trial, _pain_no_numbers, _non_pain, _title_only,
    _vas_single_arm, _pain_trial,
)


def articles(start: int, n: int, seed: int, version: int = 1) -> list[SynthArticle]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        title, parts = TEMPLATES[k % len(TEMPLATES)](rng, start + k)
        out.append(SynthArticle(pmid=str(start + k), title=title, parts=parts, version=version))
    return out


def non_pain_version(pmid: str, seed: int) -> SynthArticle:
    title, parts = _non_pain(random.Random(seed), int(pmid))
    return SynthArticle(pmid=pmid, title=title, parts=parts, version=2)


@dataclass(frozen=True)
class Dump:
    root: Path
    baseline: Path
    update1: Path
    update2: Path
    jsonl: Path
    deleted_final: frozenset[str]   # ids whose last event is a deletion
    superseded: frozenset[str]      # baseline ids re-issued later

    @property
    def files(self) -> list[Path]:
        return [self.baseline, self.update1, self.update2, self.jsonl]


def write_dump(root: Path) -> Dump:
    base = 31000000
    baseline = articles(base, 36, seed=1)
    # update 1: 3 re-issued as pain (new numbers), 3 re-issued as non-pain, 4 new, 4 deleted
    reissued = [a for a in articles(base, 36, seed=2, version=2)
                if a.pmid in {str(base + 0), str(base + 3), str(base + 8)}]
    turned = [non_pain_version(str(base + k), seed=k) for k in (1, 17, 26)]
    new = articles(base + 100, 4, seed=3)
    deleted1 = [str(base + 9), str(base + 12), str(base + 21), str(base + 30)]
    update1 = root / "pubmed26n0002.xml.gz"
    write_pubmed_xml(update1, [*reissued, *turned, *new], deletions=deleted1)
    # update 2: re-add one deleted PMID, delete one of the new ones
    readd = [a for a in articles(base, 36, seed=4, version=2) if a.pmid == str(base + 12)]
    deleted2 = [str(base + 101)]
    update2 = root / "pubmed26n0003.xml.gz"
    write_pubmed_xml(update2, readd, deletions=deleted2)
    baseline_path = root / "pubmed26n0001.xml.gz"
    write_pubmed_xml(baseline_path, baseline)
    jsonl = root / "extra.jsonl"
    rng = random.Random(5)
    lines = []
    for k in range(7):
        title, parts = TEMPLATES[k % len(TEMPLATES)](rng, 500 + k)
        body = " ".join(f"{label}: {text}" if label else text for label, text in parts)
        lines.append({"id": f"local:{k}", "title": title, "text": f"{title}\n{body}"})
    title, parts = _vas_single_arm(rng, 999)
    lines.append({"id": str(base + 4), "title": title,
                  "text": title + "\n" + " ".join(t for _, t in parts)})
    jsonl.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return Dump(root=root, baseline=baseline_path, update1=update1, update2=update2, jsonl=jsonl,
                deleted_final=frozenset({str(base + 9), str(base + 21), str(base + 30), str(base + 101)}),
                superseded=frozenset({str(base + k) for k in (0, 3, 8, 1, 17, 26, 12, 4)}))


@pytest.fixture(scope="session")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Dump:
    return write_dump(tmp_path_factory.mktemp("dump"))


def run_cli(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([*EXTRACTOR, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env={**os.environ, **(env or {})})


def snapshot(out: Path) -> dict[str, Any]:
    """Everything a run's output means, without timings: partitions, final tables, journal."""
    import sqlite3

    import pyarrow.parquet as pq

    parts = {p.name: pq.read_table(p).to_pylist() for p in sorted((out / "parts").glob("*.parquet"))}
    db = sqlite3.connect(out / "journal.sqlite")
    try:
        latest = db.execute("SELECT id, seq, status FROM latest ORDER BY id").fetchall()
        chunks = db.execute("SELECT file, chunk, first_item, items, rows, partition, counts, problems "
                            "FROM chunks ORDER BY file, chunk").fetchall()
        files = db.execute("SELECT idx, path, items, chunks FROM files ORDER BY idx").fetchall()
    finally:
        db.close()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {
        "parts": parts,
        "values": pq.read_table(out / "values.parquet").to_pylist(),
        "deleted": pq.read_table(out / "deleted.parquet").to_pylist(),
        "latest": latest, "chunks": chunks, "files": files,
        "totals": manifest["totals"], "final": manifest["final"], "complete": manifest["complete"],
        "leftovers": sorted(p.name for p in out.rglob(".*.tmp")),
    }
