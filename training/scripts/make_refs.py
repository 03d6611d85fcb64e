"""Regenerate corpus/refs/*.jsonl from ../shared (ids, offsets and labels only; never text).

usage: python training/scripts/make_refs.py [SHARED_DIR] [OUT_DIR]
       (defaults: ../shared relative to the repository, corpus/refs)

The painbench pool abstracts (dev and hidden test) are left out by id, PMID and text; splits are
the fixed hash split of the PMID (see extractor/training/corpus.py). A test checks that the
committed files equal what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from extractor.training.refs import write_refs

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> None:
    shared = Path(argv[0]) if argv else REPO.parent / "shared"
    out = Path(argv[1]) if len(argv) > 1 else REPO / "corpus" / "refs"
    for name, n in write_refs(shared, out).items():
        print(f"{out / name}: {n} entries")


if __name__ == "__main__":
    main(sys.argv[1:])
