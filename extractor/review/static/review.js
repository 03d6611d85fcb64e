/* extractor review: progressive enhancement of the server-rendered pages (no build step).
 * Every form works without this file; with it, decisions are saved in place, highlights and
 * table rows are linked, text selection adds or re-spans values, and keyboard shortcuts drive
 * the common path (press ? on an abstract page). */
(() => {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  document.querySelectorAll("select.autosubmit").forEach((s) =>
    s.addEventListener("change", () => s.form.submit()));

  const text = document.getElementById("text");
  if (!text) return;

  // ---- offsets: Python counts code points, JavaScript UTF-16 units ------------------------
  const cpLen = (s) => Array.from(s).length;
  const fullText = () => Array.from(text.querySelectorAll(".seg")).map((s) => s.textContent).join("");

  function pointOffset(node, off) {
    if (node.nodeType === Node.TEXT_NODE) {
      const seg = node.parentElement && node.parentElement.closest(".seg");
      if (!seg || !text.contains(seg)) return null;
      return Number(seg.dataset.s) + cpLen(node.data.slice(0, off));
    }
    if (node === text) {
      const segs = text.children;
      return off >= segs.length ? Number(text.dataset.len || cpLen(fullText())) : Number(segs[off].dataset.s);
    }
    const seg = node.closest ? node.closest(".seg") : null;
    if (!seg || !text.contains(seg)) return null;
    return Number(seg.dataset.s) + (off > 0 ? cpLen(seg.textContent) : 0);
  }

  function selectionSpan() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    if (!text.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== text) return null;
    let start = pointOffset(range.startContainer, range.startOffset);
    let end = pointOffset(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return null;
    const chars = Array.from(fullText());
    while (start < end && /\s/.test(chars[start])) start++;
    while (end > start && /\s/.test(chars[end - 1])) end--;
    if (end <= start) return null;
    return { start, end, evidence: chars.slice(start, end).join("") };
  }

  // ---- highlights <-> rows ----------------------------------------------------------------
  const table = document.getElementById("values");
  const segsFor = (id) => Array.from(text.querySelectorAll(".seg[data-v]"))
    .filter((s) => s.dataset.v.split(" ").includes(String(id)));

  function showEvidence(id, scroll = true) {
    text.querySelectorAll(".seg.focus").forEach((s) => s.classList.remove("focus", "flash"));
    const segs = segsFor(id);
    segs.forEach((s) => {
      s.classList.add("focus");
      s.classList.remove("flash");
      void s.offsetWidth; // restart the animation
      s.classList.add("flash");
    });
    if (scroll && segs.length) segs[0].scrollIntoView({ block: "center", behavior: "smooth" });
  }

  // conflicts page: a card shows its evidence
  document.querySelectorAll("article.conflict").forEach((card) =>
    card.addEventListener("click", (e) => {
      if (e.target.closest("button, a, input, select, summary")) return;
      showEvidence(card.dataset.id);
    }));
  if (!table) return;

  const pageData = JSON.parse(document.getElementById("page-data")?.textContent || "{}");
  const flash = document.getElementById("flash");
  const addForm = document.getElementById("add-form");
  let selected = null;
  let editing = null;

  const rows = () => Array.from(table.querySelectorAll("tbody.value"));
  const rowById = (id) => document.getElementById("v" + id);
  const undecided = (tb) => tb.classList.contains("st-undecided") || tb.classList.contains("st-stale");

  function select(tb, opts = {}) {
    if (!tb) return;
    rows().forEach((r) => r.classList.remove("selected"));
    tb.classList.add("selected");
    selected = tb;
    if (opts.row !== false) tb.scrollIntoView({ block: "nearest" });
    if (opts.evidence !== false) showEvidence(tb.dataset.id, opts.scroll !== false);
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const i = selected ? all.indexOf(selected) : -1;
    select(all[Math.min(all.length - 1, Math.max(0, i + step))]);
  }

  function nextUndecided(from) {
    const all = rows();
    const i = all.indexOf(from);
    return all.slice(i + 1).find(undecided) || all.find(undecided) || null;
  }

  table.addEventListener("click", (e) => {
    if (e.target.closest("button, a, input, select, label, tr.editor")) return;
    const tb = e.target.closest("tbody.value");
    if (tb) select(tb);
  });

  text.addEventListener("click", (e) => {
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed) return;
    const seg = e.target.closest(".seg[data-v]");
    if (!seg) return;
    const candidates = seg.dataset.v.split(" ").map(rowById).filter(Boolean);
    candidates.sort((a, b) => (a.dataset.end - a.dataset.start) - (b.dataset.end - b.dataset.start));
    if (candidates.length) select(candidates[0], { scroll: false });
  });

  // ---- messages -----------------------------------------------------------------------------
  function showError(message, status) {
    flash.querySelector(".flash-text").textContent = message;
    flash.querySelector(".js-reload").hidden = status !== 409;
    flash.hidden = false;
    flash.scrollIntoView({ block: "nearest" });
  }
  flash.querySelector(".js-reload").addEventListener("click", () => location.reload());

  // ---- saving ---------------------------------------------------------------------------------
  async function send(form, submitter) {
    const data = new FormData(form, submitter);
    let resp;
    let body;
    try {
      resp = await fetch(form.getAttribute("action"), {  // form.action is clobbered by name="action"
        method: "POST",
        body: new URLSearchParams(data),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", Accept: "application/json", "X-CSRF-Token": csrf },
      });
      body = await resp.json();
    } catch (err) {
      showError("Could not reach the review server: " + err.message + ". Nothing was saved.", 0);
      return null;
    }
    if (!resp.ok || !body.ok) {
      showError(body.error || "The server answered " + resp.status + ".", resp.status);
      return null;
    }
    flash.hidden = true;
    return body;
  }

  function apply(body) {
    text.innerHTML = body.text_html;
    let tb = null;
    if (body.html) {
      const tpl = document.createElement("template");
      tpl.innerHTML = body.html.trim();
      tb = tpl.content.querySelector("tbody");
      const old = rowById(body.id);
      if (old) old.replaceWith(tb); else table.appendChild(tb);
    }
    for (const [id, status] of Object.entries(body.statuses || {})) {
      const r = rowById(id);
      if (r && !r.classList.contains("st-" + status)) {
        r.className = r.className.replace(/\bst-\S+/, "st-" + status);
      }
    }
    document.getElementById("decided-count").textContent = body.decided;
    document.getElementById("total-count").textContent = body.total;
    const finish = document.getElementById("finish");
    if (finish) finish.disabled = body.decided < body.total;
    return tb;
  }

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!form.classList.contains("js-decide") && form !== addForm) return;
    e.preventDefault();
    const action = e.submitter ? e.submitter.value : form.querySelector('[name="action"]')?.value;
    const wasSelected = selected && selected.contains(form);
    const body = await send(form, e.submitter);
    if (!body) return;
    editing = null;
    const tb = apply(body);
    if (form === addForm) {
      closeAdd();
      window.getSelection()?.removeAllRanges();
      if (tb) select(tb, { scroll: false });
    } else if (tb && (wasSelected || !selected || !document.body.contains(selected))) {
      if (action === "accept" || action === "reject") {
        select(nextUndecided(tb) || tb);
      } else {
        select(tb, { scroll: false });
      }
    }
  });

  // ---- editing ------------------------------------------------------------------------------
  function openEditor(tb) {
    if (!tb) return;
    closeAdd();
    if (editing && editing !== tb) closeEditor();
    select(tb, { scroll: false });
    const ed = tb.querySelector("tr.editor");
    ed.hidden = false;
    editing = tb;
    const first = ed.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  }

  function closeEditor() {
    if (!editing) return;
    const ed = editing.querySelector("tr.editor");
    if (ed) {
      ed.hidden = true;
      ed.querySelector("form").reset();
    }
    editing = null;
  }

  table.addEventListener("click", (e) => {
    const btn = e.target.closest(".js-edit, .js-cancel");
    if (!btn) return;
    const tb = btn.closest("tbody.value");
    if (btn.classList.contains("js-edit")) openEditor(tb); else closeEditor();
  });

  // ---- adding a missing value from a text selection ------------------------------------------
  function guessKind(s) {
    if (/^p\s*[<=>≤≥]/i.test(s)) return "p_value";
    if (/^(VAS|NRS|VRS|BPI|MPQ|WOMAC|FPS)\b|scale|questionnaire|inventory/i.test(s)) return "scale";
    if (/\d+\s*\/\s*\d+|%/.test(s)) return "proportion";
    if (/\bn\s*=|patients|participants|women|men|adults|children|subjects/i.test(s)) return "sample_size";
    return "score";
  }

  function showKind(kind) {
    addForm.querySelectorAll("fieldset.kind-fields").forEach((fs) => {
      const on = fs.dataset.kind === kind;
      fs.hidden = !on;
      fs.disabled = !on;
    });
  }

  function openAdd(span) {
    addForm.elements.start.value = span.start;
    addForm.elements.end.value = span.end;
    addForm.elements.evidence.value = span.evidence;
    addForm.querySelector(".sel-text").textContent = span.evidence;
    const kind = guessKind(span.evidence);
    addForm.elements.kind.value = kind;
    showKind(kind);
    const num = span.evidence.match(/-?\d+(?:[.,]\d+)?/);
    const fs = addForm.querySelector(`fieldset[data-kind="${kind}"]`);
    if (num && fs) {
      const target = fs.querySelector('input[name="n"], input[name="value"], input[name="events"]');
      if (target && !target.value) target.value = num[0].replace(",", ".");
    }
    addForm.hidden = false;
    addForm.scrollIntoView({ block: "nearest" });
  }

  function closeAdd() {
    if (!addForm) return;
    addForm.hidden = true;
    addForm.reset();
  }

  if (addForm) {
    addForm.elements.kind.addEventListener("change", (e) => showKind(e.target.value));
    addForm.querySelector(".js-cancel-add").addEventListener("click", closeAdd);
  }

  function onSelect() {
    const span = selectionSpan();
    if (!span) return;
    if (editing) {
      const f = editing.querySelector("tr.editor form");
      f.elements.start.value = span.start;
      f.elements.end.value = span.end;
      return;
    }
    if (addForm) openAdd(span);
  }
  text.addEventListener("mouseup", () => setTimeout(onSelect, 0));
  text.addEventListener("keyup", (e) => { if (e.shiftKey) onSelect(); });

  // ---- keyboard -------------------------------------------------------------------------------
  function clickAction(action) {
    if (!selected) return;
    const form = selected.querySelector("form.js-decide:not(.edit-form)");
    const btn = form && form.querySelector(`button[value="${action}"]`);
    if (btn) form.requestSubmit(btn);
  }

  const help = document.getElementById("help");
  document.querySelector(".js-help")?.addEventListener("click", () => help.showModal());

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      if (editing) { closeEditor(); e.preventDefault(); }
      else if (addForm && !addForm.hidden) { closeAdd(); e.preventDefault(); }
      return;
    }
    if (e.target.closest && e.target.closest("input, select, textarea, dialog")) return;
    const keys = {
      j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
      a: () => clickAction("accept"), r: () => clickAction("reject"), u: () => clickAction("clear"),
      e: () => openEditor(selected),
      h: () => { const l = selected && selected.querySelector("a.history"); if (l) location.href = l.href; },
      f: () => { const b = document.getElementById("finish"); if (b && !b.disabled) b.form.requestSubmit(b); },
      n: () => { if (pageData.next) location.href = pageData.next; },
      "?": () => help.showModal(),
    };
    const fn = keys[e.key];
    if (!fn) return;
    e.preventDefault();
    fn();
  });

  // ---- start ------------------------------------------------------------------------------------
  const target = location.hash.startsWith("#v") ? rowById(location.hash.slice(2)) : null;
  const first = target || rows().find(undecided) || rows()[0];
  if (first) select(first, { scroll: Boolean(target), row: Boolean(target) });
})();
