"""Check that a change to the NLP stage leaves its output unchanged (for speed refactors).

Usage::

    python benchmarks/extract_equivalence.py snapshot DIR   # write the reference outputs
    python benchmarks/extract_equivalence.py compare DIR    # re-run and compare with DIR

For each input (by default ``../shared/painbench/pool.jsonl``, ``../shared/painbench/train_pool.jsonl``
and ``../shared/data/abstracts_pool.jsonl``; ``--input`` to choose) it writes two files:

* ``<name>.records.jsonl``: the output of ``extractor extract IN --out …`` (run as a user runs it,
  in a fresh process);
* ``<name>.docs.jsonl``: one line per abstract with everything the pipeline leaves on the doc —
  the tokens (text and whitespace), sentence starts, every span group (start/end char, label,
  ``id_``), ``doc._.numbers``, ``doc._.candidates`` (with their features) and
  ``doc._.extractions``. A trained component reads the candidates, so they must not change either.

``compare`` writes the new files next to the reference ones (``DIR/after/``) and reports, per file,
whether they are byte-identical, and the first differing abstracts otherwise. Exit status 1 on any
difference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEFAULT_INPUTS = (
    SHARED / "painbench" / "pool.jsonl",
    SHARED / "painbench" / "train_pool.jsonl",
    SHARED / "data" / "abstracts_pool.jsonl",
)


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if line.strip():
                obj = json.loads(line)
                yield str(obj.get("id") or no), str(obj.get("text") or "")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def doc_dump(doc: Any, record_id: str) -> dict[str, Any]:
    """Everything the pipeline leaves on ``doc``, as JSON-safe values."""
    return {
        "id": record_id,
        "tokens": [[t.text, t.whitespace_] for t in doc],
        "sent_starts": [t.i for t in doc if t.is_sent_start] if doc.has_annotation("SENT_START")
        else None,
        "spans": {key: [[s.start_char, s.end_char, s.label_, s.id_] for s in group]
                  for key, group in sorted(doc.spans.items())},
        "numbers": _jsonable(doc._.numbers),
        "candidates": _jsonable(doc._.candidates),
        "extractions": _jsonable(doc._.extractions),
    }


def write_outputs(inputs: list[Path], out_dir: Path) -> None:
    from extractor.nlp import load_pipeline

    out_dir.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("extractor")
    nlp = load_pipeline()
    for path in inputs:
        name = path.stem
        records = out_dir / f"{name}.records.jsonl"
        subprocess.run([str(exe), "extract", str(path), "--out", str(records), "--no-progress"],
                       check=True, stdout=subprocess.DEVNULL)
        items = list(_texts(path))
        with (out_dir / f"{name}.docs.jsonl").open("w", encoding="utf-8") as fh:
            docs = nlp.pipe(((text, rid) for rid, text in items), as_tuples=True)
            for doc, rid in docs:
                fh.write(json.dumps(doc_dump(doc, rid), ensure_ascii=False, sort_keys=True) + "\n")
        print(f"wrote {records.name}, {name}.docs.jsonl ({len(items)} abstracts)")


def compare_files(ref: Path, new: Path, show: int = 3) -> bool:
    a, b = ref.read_bytes(), new.read_bytes()
    if a == b:
        print(f"  {ref.name}: identical ({len(a):,} bytes)")
        return True
    la, lb = a.splitlines(), b.splitlines()
    diffs = [i for i in range(max(len(la), len(lb)))
             if i >= len(la) or i >= len(lb) or la[i] != lb[i]]
    print(f"  {ref.name}: DIFFERENT: {len(diffs)} of {len(la)} lines differ "
          f"(new file has {len(lb)} lines)")
    for i in diffs[:show]:
        old = json.loads(la[i]) if i < len(la) else {}
        cur = json.loads(lb[i]) if i < len(lb) else {}
        keys = sorted(k for k in set(old) | set(cur) if old.get(k) != cur.get(k))
        print(f"    line {i + 1} id={old.get('id', cur.get('id'))}: fields {keys}")
        for k in keys[:3]:
            print(f"      {k}: before {json.dumps(old.get(k))[:300]}")
            print(f"      {k}: after  {json.dumps(cur.get(k))[:300]}")
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("snapshot", "compare"))
    ap.add_argument("dir", type=Path, help="reference folder")
    ap.add_argument("--input", type=Path, action="append", help="abstracts JSONL (repeatable)")
    args = ap.parse_args(argv)
    inputs = list(args.input or DEFAULT_INPUTS)
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        sys.exit(f"not found: {', '.join(missing)}")
    if args.mode == "snapshot":
        write_outputs(inputs, args.dir)
        return 0
    after = args.dir / "after"
    write_outputs(inputs, after)
    ok = True
    for path in inputs:
        for suffix in ("records", "docs"):
            name = f"{path.stem}.{suffix}.jsonl"
            ok = compare_files(args.dir / name, after / name) and ok
    print("equivalent: all outputs byte-identical" if ok else "NOT equivalent")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
