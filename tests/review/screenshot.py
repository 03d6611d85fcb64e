"""Make the README screenshot of the abstract view: ``python tests/review/screenshot.py docs/review.png``.

Builds a store from the test abstracts, records a few decisions, serves it with the real server
and photographs the abstract view in headless Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractor.records import Score  # noqa: E402
from review.browser import chromium_page, review_server, sign_in  # noqa: E402
from review.sample import RCT_TEXT, at, filled_store, value_id  # noqa: E402


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo-review.db"
        store = filled_store(str(db))
        me = "Dr. A. Reviewer"
        for ev in ("Eighty women", "n = 40", "visual analogue scale", "p < 0.001"):
            store.accept(value_id(store, "PMID:1001", ev), me, 0)
        sid = value_id(store, "PMID:1001", "45 ± 12")
        item = store.get_value(sid)
        assert isinstance(item.value, Score)
        fixed = replace(item.value, n=40)
        store.edit(sid, me, 0, fixed, note="n per arm stated in methods")
        store.reject(value_id(store, "PMID:1001", "p = 0.004"), me, 0)
        store.close()
        with review_server(db) as base, chromium_page(1440, 860) as page:
            sign_in(page, base, me)
            page.goto(base + "/abstract/PMID:1001")
            page.click("#v5 .summary")
            s, e = at(RCT_TEXT, "15/40 (37.5%)")
            page.evaluate("""([s, e]) => {
                const segs = [...document.querySelectorAll('#text .seg')];
                const find = (off) => { const seg = segs.filter(x => +x.dataset.s <= off).pop();
                                        return [seg.firstChild, off - +seg.dataset.s]; };
                const r = document.createRange(); r.setStart(...find(s)); r.setEnd(...find(e));
                const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
                document.getElementById('text').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
            }""", [s, e])
            page.wait_for_selector("#add-form:not([hidden])")
            page.evaluate("window.scrollTo(0, 0)")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/review.png"))
