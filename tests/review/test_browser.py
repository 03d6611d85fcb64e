"""End to end in a real headless Chromium against the real server process.

Skips when /usr/bin/chromium (or playwright) is missing, unless EXTRACTOR_REQUIRE_BROWSER=1, in
which case it fails: CI installs Chromium and must run this test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from extractor.records import Abstract, Proportion, PValue, Score
from extractor.review.store import Store

from .browser import browser_missing, chromium_page, review_server, sign_in
from .sample import RCT_TEXT, XSS_TEXT, at, filled_store, value_id

pytestmark = [pytest.mark.browser, pytest.mark.network]

ME = "Browser Reviewer"
ASTRAL_TEXT = "Pain after 𝒜-type surgery 😀\r\nIn 12 patients, pain fell (p < 0.05)."


@pytest.fixture()
def browser_ready() -> None:
    why = browser_missing()
    if why is None:
        return
    if os.environ.get("EXTRACTOR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"EXTRACTOR_REQUIRE_BROWSER=1 but the browser test cannot run: {why}")
    pytest.skip(why)


def _select_text(page: object, start: int, end: int) -> None:
    """Select text[start:end] in the abstract the way a mouse drag does, then release the mouse."""
    page.evaluate(  # type: ignore[attr-defined]
        """([s, e]) => {
            const segs = [...document.querySelectorAll('#text .seg')];
            const at = (off) => { const seg = segs.filter(x => +x.dataset.s <= off).pop();
                                  return [seg.firstChild, off - +seg.dataset.s]; };
            const r = document.createRange(); r.setStart(...at(s)); r.setEnd(...at(e));
            const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
            document.getElementById('text').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }""", [start, end])


def test_review_an_abstract_in_chromium(browser_ready: None, tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    filled_store(str(db)).close()
    store = Store(db)
    store.add_abstracts([Abstract(id="PMID:1004", text=ASTRAL_TEXT)])
    ids = {ev: value_id(store, "PMID:1001", ev)
           for ev in ("Eighty women", "45 ± 12", "p = 0.004", "p < 0.001")}
    dialogs: list[str] = []
    errors: list[str] = []
    with review_server(db) as base, chromium_page() as page:
        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, base, ME)
        page.click("#continue")
        page.wait_for_url("**/abstract/PMID:1001")
        assert page.locator("#text .seg.hl").count() >= 9

        # click a row: its evidence is focused in the text
        row = page.locator(f"#v{ids['Eighty women']}")
        row.locator(".summary").click()
        assert page.locator("#text .seg.focus").first.inner_text() == "Eighty women"
        # accept with the button
        row.locator("button[value=accept]").click()
        page.wait_for_selector(f"#v{ids['Eighty women']}.st-accepted")

        # edit with the form: Enter saves
        edit = page.locator(f"#v{ids['45 ± 12']}")
        edit.locator(".js-edit").click()
        editor = edit.locator("tr.editor")
        editor.locator("input[name=n]").fill("40")
        editor.locator("input[name=arm]").fill("pethidine 50 mg")
        editor.locator("input[name=arm]").press("Enter")
        page.wait_for_selector(f"#v{ids['45 ± 12']}.st-edited")
        assert "pethidine 50 mg" in page.locator(f"#v{ids['45 ± 12']} .summary").inner_text()

        # reject with the keyboard: click the highlight, press r
        s, _ = at(RCT_TEXT, "p = 0.004")
        page.locator(f'#text .seg[data-s="{s}"]').click()
        assert "selected" in (page.locator(f"#v{ids['p = 0.004']}").get_attribute("class") or "")
        page.keyboard.press("r")
        page.wait_for_selector(f"#v{ids['p = 0.004']}.st-rejected")
        assert page.locator(f'#text .seg[data-s="{s}"]').get_attribute("class").endswith("rejected")

        # add a missing value by selecting its text
        s, e = at(RCT_TEXT, "15/40 (37.5%)")
        _select_text(page, s, e)
        page.wait_for_selector("#add-form:not([hidden])")
        assert page.locator("#add-form .sel-text").inner_text() == "15/40 (37.5%)"
        assert page.locator("#add-form select[name=kind]").input_value() == "proportion"
        fs = page.locator('#add-form fieldset[data-kind="proportion"]')
        fs.locator("input[name=what]").fill("pain-free")
        fs.locator("input[name=total]").fill("40")
        fs.locator("input[name=percent]").fill("37.5")
        page.click("#add-form button[type=submit]")
        page.wait_for_selector("tbody.value.st-added")
        assert page.locator("#decided-count").inner_text() == "4"

        # a save based on an old version gets a clear conflict message
        store.accept(ids["p < 0.001"], ME, 0)  # e.g. the same reviewer in another tab
        page.locator(f"#v{ids['p < 0.001']} button[value=reject]").click()
        page.wait_for_selector("#flash:not([hidden])")
        assert "was changed by Browser Reviewer" in page.locator("#flash").inner_text()

        page.screenshot(path=str(tmp_path / "abstract.png"))

        # offsets count code points like Python, not UTF-16 units; CR LF survives the HTML
        page.goto(base + "/abstract/PMID:1004")
        page.evaluate("""(needle) => {
            const node = [...document.querySelectorAll('#text .seg')].map(s => s.firstChild)
                .find(n => n.data.includes(needle));
            const i = node.data.indexOf(needle);
            const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + needle.length);
            const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
            document.getElementById('text').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }""", "p < 0.05")
        page.wait_for_selector("#add-form:not([hidden])")
        assert page.locator("#add-form select[name=kind]").input_value() == "p_value"
        pv = page.locator('#add-form fieldset[data-kind="p_value"]')
        pv.locator("input[name=value]").fill("0.05")
        page.click("#add-form button[type=submit]")
        page.wait_for_selector("tbody.value.st-added")

        # hostile abstract text is shown as text and runs nothing
        page.goto(base + "/abstract/PMID:1003")
        text = page.locator("#text").inner_text()
        assert "<script>alert('xss')</script>" in text and "<img src=x onerror=alert(1)>" in text
        assert text == XSS_TEXT
        assert page.locator("#text script, #text img").count() == 0

    assert dialogs == [] and errors == []

    state = store.state("PMID:1001")
    mine = {v.id: v.decisions[ME] for v in state.values if ME in v.decisions}
    assert mine[ids["Eighty women"]].action == "accept"
    edited = mine[ids["45 ± 12"]]
    assert edited.action == "edit" and isinstance(edited.value, Score)
    assert (edited.value.n, edited.value.arm, edited.value.value) == (40, "pethidine 50 mg", 45.0)
    assert (edited.value.prov.source, edited.value.prov.producer) == ("reviewer", ME)
    assert mine[ids["p = 0.004"]].action == "reject" and mine[ids["p = 0.004"]].value is None
    assert mine[ids["p < 0.001"]].action == "accept"  # the stale reject was not saved
    (added,) = [v for v in state.values if v.origin == "reviewer"]
    assert isinstance(added.value, Proportion)
    assert (added.value.events, added.value.total, added.value.percent) == (15, 40, 37.5)
    assert added.value.prov.evidence == "15/40 (37.5%)" and added.created_by == ME
    assert [e.who for e in store.history(ids["45 ± 12"])] == [ME]
    (p_added,) = [v for v in store.state("PMID:1004").values]
    assert isinstance(p_added.value, PValue) and (p_added.value.op, p_added.value.value) == ("<", 0.05)
    s, e = at(ASTRAL_TEXT, "p < 0.05")
    assert (p_added.value.prov.start, p_added.value.prov.end) == (s, e)
    store.close()
