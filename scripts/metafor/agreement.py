#!/usr/bin/env python
"""Print how closely extractor.pool agrees with metafor, output by output.

    .venv/bin/python scripts/metafor/agreement.py [--shared ../shared]

Runs the same comparisons as tests/pool/test_pool_metafor_{shared,pinned}.py (whose helpers it
imports) over every case and prints, per output name, the number of values compared, the
largest relative difference (values with |metafor| >= 1e-3) and the largest absolute difference
(values with |metafor| < 1e-3). The pass rule is the issue's: within 1e-6 relative or 1e-9
absolute. Both numerical modes are reported: ``metafor`` (default control settings, against
metafor's default output) and ``exact`` (against metafor refitted with tight control).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "pool"))


def report(title: str, tally: object) -> None:
    t = tally
    print(f"\n== {title}: {sum(t.count.values())} values, {len(t.bad)} disagreements")  # type: ignore[attr-defined]
    names = sorted(t.count)  # type: ignore[attr-defined]
    print(f"  {'output':<30}{'n':>7}{'max rel':>12}{'max abs (|x|<1e-3)':>22}")
    for n in names:
        rel = t.raw_rel.get(n)  # type: ignore[attr-defined]
        ab = t.raw_abs.get(n)  # type: ignore[attr-defined]
        print(
            f"  {n:<30}{t.count[n]:>7}{'' if rel is None else f'{rel:.1e}':>12}"  # type: ignore[attr-defined]
            f"{'' if ab is None else f'{ab:.1e}':>22}"
        )
    if t.boundary_checks:  # type: ignore[attr-defined]
        print(f"  ({t.boundary_checks} I²/H²/τ values at a τ² = 0 boundary judged through τ²)")  # type: ignore[attr-defined]
    for line in t.bad[:20]:  # type: ignore[attr-defined]
        print("  !", line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()
    os.environ["EXTRACTOR_SHARED"] = str(args.shared)
    warnings.simplefilter("ignore")
    import test_pool_metafor_pinned as pinned
    from _pool_reference import Tally

    ref_path = args.shared / "metafor" / "reference.json"
    if ref_path.exists():
        import test_pool_metafor_shared as shared

        ref = shared.reference(str(ref_path))
        for mode, fn in (
            ("metafor", shared.compare_metafor_mode),
            ("exact", fn_exact := shared.compare_exact_mode),
        ):
            total = Tally()
            for key in ref["escalc"]:
                total.merge(fn(ref, key))
            report(f"shared reference.json ({len(ref['cases'])} fits), control={mode}", total)
        del fn_exact
    else:
        print(f"{ref_path} not found: shared reference skipped")
    for mode, fn in (("metafor", pinned.compare_metafor_mode), ("exact", pinned.compare_exact_mode)):
        total = Tally()
        for key in pinned.KEYS:
            total.merge(fn(key))
        report(f"pinned.json ({len(pinned.pinned()['cases'])} fits), control={mode}", total)


if __name__ == "__main__":
    main()
