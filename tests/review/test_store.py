"""The review store: filling, decisions, audit trail, dual review, re-extraction, export."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from extractor.errors import InputError, StoreError
from extractor.io import read_records
from extractor.records import (
    Abstract,
    ArmSize,
    ExtractionRecord,
    Proportion,
    PValue,
    SampleSize,
    Score,
    Value,
)
from extractor.review.store import Store, check_reviewer

from .sample import KNEE_TEXT, RCT_TEXT, abstracts, at, knee_values, prov, rct_values, records, value_id


def _value(store: Store, vid: int) -> Value:
    return store.get_value(vid).value


def _score(store: Store, vid: int) -> Score:
    v = store.get_value(vid).value
    assert isinstance(v, Score)
    return v


def _fields(v: Value) -> dict[str, object]:
    return {"kind": v.kind, **v.to_dict()}


# ---- filling -------------------------------------------------------------------------------------


def test_add_abstracts_counts_new_and_changed_only(store_path: Path) -> None:
    with Store(store_path) as store:
        assert store.add_abstracts(abstracts()) == 3
        assert store.add_abstracts(abstracts()) == 0
        changed = replace(abstracts()[1], title="Duloxetine (revised)")
        assert store.add_abstracts([changed]) == 1
        assert store.get_abstract("PMID:1002").title == "Duloxetine (revised)"
        assert store.get_abstract("PMID:1001") == abstracts()[0]
        assert store.count_abstracts() == 3


def test_records_are_stored_with_full_provenance(store: Store) -> None:
    state = store.state("PMID:1001")
    stored = [_fields(v.value) for v in state.values]
    assert stored == [_fields(v) for v in rct_values()]
    assert all(v.origin == "extracted" and v.present and v.located for v in state.values)
    for v in state.values:
        assert RCT_TEXT[v.value.prov.start:v.value.prov.end] == v.value.prov.evidence
    assert state.run == "test-run-1"
    assert state.extraction_meta == {"pipeline": "extractor-test", "version": "1"}


def test_record_for_unknown_abstract_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="PMID:9999: its abstract is not in the store"):
        store.add_records([ExtractionRecord(id="PMID:9999")])


def test_evidence_must_be_in_the_text(store: Store) -> None:
    wrong = PValue(op="<", value=0.05, prov=prov(RCT_TEXT, "p < 0.001"))
    bad = replace(wrong, prov=replace(wrong.prov, evidence="p < 0.05!!", end=wrong.prov.start + 10))
    with pytest.raises(StoreError, match="evidence 'p < 0.05!!' is not in the abstract text"):
        store.add_records([ExtractionRecord.from_values("PMID:1001", [bad])])


def test_misplaced_evidence_is_moved_to_where_it_is(store_path: Path) -> None:
    with Store(store_path) as store:
        store.add_abstracts(abstracts())
        good = prov(KNEE_TEXT, "P < .01")
        shifted = replace(good, start=good.start - 3, end=good.end - 3)
        stats = store.import_records([ExtractionRecord.from_values(
            "PMID:1002", [PValue(op="<", value=0.01, prov=shifted)])])
        assert stats.relocated == 1
        (v,) = store.state("PMID:1002").values
        assert (v.value.prov.start, v.value.prov.end) == (good.start, good.end)


def test_gold_style_values_without_evidence_are_kept_unlocated(store_path: Path) -> None:
    with Store(store_path) as store:
        store.add_abstracts(abstracts())
        gold = ExtractionRecord.from_dict({"id": "PMID:1002", "sample_size": 120, "scales": ["WOMAC"]})
        store.add_records([gold])
        values = store.state("PMID:1002").values
        assert [(v.kind, v.located) for v in values] == [("sample_size", False), ("scale", False)]


# ---- decisions and audit trail -------------------------------------------------------------------


def test_accept_edit_reject_clear_with_audit_trail(store: Store) -> None:
    acc = value_id(store, "PMID:1001", "Eighty women")
    edt = value_id(store, "PMID:1001", "32 ± 9")
    rej = value_id(store, "PMID:1001", "p = 0.004")
    assert store.accept(acc, "alice", 0) == 1
    original = _value(store, edt)
    assert isinstance(original, Score)
    assert store.edit(edt, "alice", 0, replace(original, n=40, timepoint="6 hours"), note="n stated") == 1
    assert store.reject(rej, "alice", 0, note="baseline comparison") == 1
    state = store.state("PMID:1001")
    decisions = {v.id: v.decisions["alice"] for v in state.values if "alice" in v.decisions}
    assert decisions[acc].action == "accept"
    assert decisions[acc].value == _value(store, acc)
    edited = decisions[edt].value
    assert decisions[edt].action == "edit" and isinstance(edited, Score)
    assert (edited.n, edited.timepoint, edited.value) == (40, "6 hours", 32.0)
    assert (edited.prov.source, edited.prov.producer, edited.prov.producer_id) == ("reviewer", "alice",
                                                                                   "review.edit")
    assert edited.prov.evidence == "32 ± 9" and edited.prov.sentence == original.prov.sentence
    assert decisions[rej].action == "reject" and decisions[rej].value is None

    (entry,) = store.history(edt)
    assert (entry.who, entry.role, entry.action, entry.note) == ("alice", "reviewer", "edit", "n stated")
    assert entry.old is None and entry.new is not None and entry.new["action"] == "edit"
    assert entry.at.endswith("+00:00")

    assert store.decide(edt, "alice", "clear", 1) == 2
    trail = store.history(edt)
    assert [e.action for e in trail] == ["edit", "clear"]
    assert trail[1].old is not None and trail[1].old["value"]["n"] == 40 and trail[1].new is None
    assert "alice" not in store.get_value(edt).decisions
    # a cleared decision's version is not reused
    assert store.get_value(edt).version("alice") == 2
    assert store.accept(edt, "alice", 2) == 3
    changes = dict((k, (o, n)) for k, o, n in store.history(acc)[0].changes())
    assert changes == {}


def test_audit_changes_list_field_level_old_and_new(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "45 ± 12")
    v = _value(store, vid)
    assert isinstance(v, Score)
    store.accept(vid, "alice", 0)
    store.edit(vid, "alice", 1, replace(v, arm="pethidine 50 mg"))
    entry = store.history(vid)[-1]
    assert entry.changes() == [("arm", "pethidine", "pethidine 50 mg"), ("source", "model", "reviewer"),
                               ("producer", "extractor_scores", "alice"),
                               ("producer_id", "score.rule.v1", "review.edit"), ("confidence", 0.88, None)]
    assert entry.described("old") == "VAS mean 45 ± SD 12 · pethidine · 6 h (0.25 d)"
    assert entry.described("new") == "VAS mean 45 ± SD 12 · pethidine 50 mg · 6 h (0.25 d)"


def test_edit_equal_to_the_proposal_is_an_accept(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "45 ± 12")
    store.edit(vid, "alice", 0, _value(store, vid))
    assert store.get_value(vid).decisions["alice"].action == "accept"


@pytest.mark.parametrize(("change", "message"), [
    (lambda v: PValue(op="<", value=1.5, prov=v.prov), "a p-value lies between 0 and 1"),
    (lambda v: replace(v, prov=replace(v.prov, start=10_000, end=10_004, evidence="xxxx")),
     "lie outside the abstract"),
])
def test_bad_edits_are_refused_with_one_message(store: Store, change: object, message: str) -> None:
    vid = value_id(store, "PMID:1001", "p < 0.001")
    with pytest.raises(InputError, match=message):
        store.edit(vid, "alice", 0, change(_value(store, vid)))  # type: ignore[operator]
    assert store.get_value(vid).decisions == {}


def test_edit_cannot_change_the_kind(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "Eighty women")
    other = ArmSize(arm="all", n=80, prov=_value(store, vid).prov)
    with pytest.raises(InputError, match="is a sample_size; to record a arm_size, reject it"):
        store.edit(vid, "alice", 0, other)


def test_impossible_proportion_is_refused(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "28/40 (70%)")
    v = _value(store, vid)
    assert isinstance(v, Proportion)
    with pytest.raises(InputError, match=r"events \(41\) exceed total \(40\)"):
        store.edit(vid, "alice", 0, replace(v, events=41))


def test_one_sample_size_per_reviewer(store: Store) -> None:
    store.accept(value_id(store, "PMID:1001", "Eighty women"), "alice", 0)
    s, e = at(RCT_TEXT, "n = 40")
    extra = SampleSize(n=40, prov=prov(RCT_TEXT, "n = 40"))
    with pytest.raises(InputError, match="you already accepted a sample size for this abstract"):
        store.add_value("PMID:1001", "alice", extra)
    assert store.add_value("PMID:1001", "bob", extra) > 0  # bob has not accepted one
    assert (s, e) == (extra.prov.start, extra.prov.end)


def test_reviewer_names_are_checked() -> None:
    assert check_reviewer("  Dr.  Jane   O'Neil ") == "Dr. Jane O'Neil"
    for bad, msg in [("", "give your name"), ("<b>x</b>", "use letters"), ("x" * 61, "at most 60"),
                     ("system", "reserved")]:
        with pytest.raises(InputError, match=msg):
            check_reviewer(bad)


def test_adding_a_value_sets_reviewer_provenance(store: Store) -> None:
    span = prov(RCT_TEXT, "15/40 (37.5%)")
    value = Proportion(what="pain-free", arm="pethidine", timepoint="24 h", days=1.0, events=15, total=40,
                       percent=37.5, prov=replace(span, producer="", source="rule"))
    vid = store.add_value("PMID:1001", "alice", value, note="missed by the extractor")
    item = store.get_value(vid)
    assert item.origin == "reviewer" and item.created_by == "alice"
    p = item.value.prov
    assert (p.source, p.producer, p.producer_id, p.confidence) == ("reviewer", "alice", "review.add", None)
    assert RCT_TEXT[p.start:p.end] == "15/40 (37.5%)"
    assert p.sentence.startswith("Pain-free at 24 h:") and RCT_TEXT[p.sent_start:p.sent_end] == p.sentence
    assert item.decisions["alice"].action == "add"
    with pytest.raises(InputError, match=f"already listed as #{vid}"):
        store.add_value("PMID:1001", "alice", value)
    with pytest.raises(InputError, match="select the evidence"):
        store.add_value("PMID:1001", "alice", replace(value, prov=replace(value.prov, start=5, end=5,
                                                                         evidence="")))


def test_finish_needs_every_value_decided(store: Store) -> None:
    store.accept(value_id(store, "PMID:1002", "120 patients"), "alice", 0)
    with pytest.raises(InputError, match=r"3 value\(s\) still need your decision \(#11, #12, #13\)"):
        store.finish("PMID:1002", "alice")
    for v in store.state("PMID:1002").values:
        if "alice" not in v.decisions:
            store.accept(v.id, "alice", v.version("alice"))
    store.finish("PMID:1002", "alice")
    state = store.state("PMID:1002")
    assert state.reviews["alice"].finished and state.status == "reviewed"
    store.reopen("PMID:1002", "alice")
    assert not store.state("PMID:1002").reviews["alice"].finished
    assert [e.action for e in store.abstract_history("PMID:1002")][-2:] == ["finish", "reopen"]


def test_at_most_two_independent_reviewers(store: Store) -> None:
    vid = value_id(store, "PMID:1002", "P < .01")
    store.accept(vid, "alice", 0)
    store.reject(vid, "bob", 0)
    with pytest.raises(InputError, match=r"already has 2 independent reviewers \(alice and bob\)"):
        store.accept(vid, "carol", 0)


# ---- dual review, conflicts, resolution ----------------------------------------------------------


def _review_all(store: Store, abstract_id: str, reviewer: str, reject: frozenset[str] = frozenset()) -> None:
    for v in store.state(abstract_id).visible(reviewer):
        if reviewer in v.decisions:
            continue
        action = "reject" if v.value.prov.evidence in reject else "accept"
        store.decide(v.id, reviewer, action, v.version(reviewer))  # type: ignore[arg-type]
    store.finish(abstract_id, reviewer)


def test_disagreement_is_a_conflict_until_resolved(store: Store) -> None:
    _review_all(store, "PMID:1002", "alice")
    _review_all(store, "PMID:1002", "bob", reject=frozenset({"P < .01"}))
    state = store.state("PMID:1002")
    (conflict,) = state.conflicts()
    assert conflict.value.prov.evidence == "P < .01"
    assert state.status == "conflict" and state.open_conflicts == 1
    assert store.conflict_abstracts() == [("PMID:1002", KNEE_TEXT.split("\n")[0], 1)]
    # not exported while in conflict
    problems: list[str] = []
    (rec,) = [r for r in store.iter_accepted(1, problems) if r.id == "PMID:1002"]
    assert [v.kind for v in rec.values()] == ["sample_size", "scale", "score"]
    assert any("is in conflict" in p for p in problems)

    version = store.resolve(conflict.id, "carol", "accept", conflict.resolution_version, choose="bob",
                            note="threshold, not a result")
    assert version == 1
    state = store.state("PMID:1002")
    assert state.conflicts() == [] and state.status == "double_reviewed"
    assert len(state.conflicts(include_resolved=True)) == 1
    res = store.get_value(conflict.id).resolution
    assert res is not None and (res.adjudicator, res.action, res.value) == ("carol", "reject", None)
    trail = store.history(conflict.id)
    assert trail[-1].role == "adjudicator" and trail[-1].note.startswith("took bob's outcome")
    (rec,) = [r for r in store.iter_accepted(2) if r.id == "PMID:1002"]
    assert [v.kind for v in rec.values()] == ["sample_size", "scale", "score"]
    # the adjudicator can change their mind; the version guards it
    store.resolve(conflict.id, "carol", "accept", 1)
    (rec,) = [r for r in store.iter_accepted(2) if r.id == "PMID:1002"]
    assert [v.kind for v in rec.values()] == ["sample_size", "scale", "score", "p_value"]


def test_value_added_by_one_reviewer_only_is_a_conflict(store: Store) -> None:
    span = prov(KNEE_TEXT, "7.9 (SD 3.4)")
    missed = Score(scale="WOMAC", arm="duloxetine", timepoint="week 12", days=84.0, stat="mean", value=7.9,
                   spread="sd", spread_values=(3.4,), n=None, prov=span)
    store.add_value("PMID:1002", "alice", missed)
    _review_all(store, "PMID:1002", "alice")
    assert store.state("PMID:1002").conflicts() == []  # bob has not finished: no disagreement yet
    assert len(store.state("PMID:1002").visible("bob")) == 4  # alice's addition stays hidden from bob
    _review_all(store, "PMID:1002", "bob")
    (conflict,) = store.state("PMID:1002").conflicts()
    assert conflict.origin == "reviewer" and store.state("PMID:1002").outcomes(conflict)["bob"] is None


def test_identical_independent_additions_agree(store: Store) -> None:
    span = prov(KNEE_TEXT, "7.9 (SD 3.4)")
    missed = Score(scale="WOMAC", arm="duloxetine", timepoint="week 12", days=84.0, stat="mean", value=7.9,
                   spread="sd", spread_values=(3.4,), n=None, prov=span)
    a = store.add_value("PMID:1002", "alice", missed)
    b = store.add_value("PMID:1002", "bob", missed)
    assert a == b
    _review_all(store, "PMID:1002", "alice")
    _review_all(store, "PMID:1002", "bob")
    assert store.state("PMID:1002").conflicts() == []
    (rec,) = [r for r in store.iter_accepted(2) if r.id == "PMID:1002"]
    added = [s for s in rec.scores if s.value == 7.9]
    assert len(added) == 1 and added[0].prov.producer == "alice, bob" and added[0].prov.source == "reviewer"


def test_same_edit_by_both_reviewers_agrees(store: Store) -> None:
    vid = value_id(store, "PMID:1002", "11.2 (SD 3.1)")
    fixed = replace(_score(store, vid), arm="duloxetine 60 mg")
    store.edit(vid, "alice", 0, fixed)
    store.edit(vid, "bob", 0, fixed)
    final = store.state("PMID:1002").final(store.get_value(vid), min_reviews=2)
    assert final.status == "corrected" and final.value is not None
    assert final.value.prov.producer == "alice, bob"


# ---- re-extraction keeps decisions ---------------------------------------------------------------


def _rerun(store: Store, values: list[Value], run: str = "test-run-2") -> dict[str, int]:
    return store.import_records([ExtractionRecord.from_values("PMID:1001", values)], run=run).as_dict()


def test_same_extraction_again_changes_nothing(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "32 ± 9")
    store.accept(vid, "alice", 0)
    before = store.state("PMID:1001")
    stats = _rerun(store, rct_values())
    assert stats["unchanged"] == 9 and stats["new"] == stats["changed"] == stats["dropped"] == 0
    after = store.state("PMID:1001")
    assert [v.id for v in after.values] == [v.id for v in before.values]
    assert after.values[4].decisions == before.values[4].decisions
    assert store.get_value(vid).version("alice") == 1


def test_reextraction_with_new_confidence_keeps_decisions_and_versions(store: Store) -> None:
    vid = value_id(store, "PMID:1001", "32 ± 9")
    store.accept(vid, "alice", 0)
    newer: list[Value] = [replace(v, prov=replace(v.prov, confidence=0.77, producer_id="score.model.v2"))
                          if v.prov.evidence == "32 ± 9" else v for v in rct_values()]
    stats = _rerun(store, newer)
    assert stats["unchanged"] == 9
    item = store.get_value(vid)
    assert item.value.prov.confidence == 0.77 and item.run == "test-run-2"
    assert item.decisions["alice"].value is not None
    assert item.decisions["alice"].value.prov.confidence == 0.42  # what alice accepted
    assert not item.decision_stale("alice") and item.version("alice") == 1


def test_changed_value_keeps_the_decision_flags_it_and_reopens_the_review(store: Store) -> None:
    for v in store.state("PMID:1001").values:
        store.accept(v.id, "alice", 0) if v.kind != "sample_size" else store.reject(v.id, "alice", 0)
    store.finish("PMID:1001", "alice")
    vid = value_id(store, "PMID:1001", "32 ± 9")
    accepted = store.get_value(vid).decisions["alice"].value
    newer: list[Value] = [replace(v, arm="methadone 0.1 mg/kg") if isinstance(v, Score)
                          and v.prov.evidence == "32 ± 9" else v for v in rct_values()]
    stats = _rerun(store, newer)
    assert stats["changed"] == 1 and stats["reopened"] == 1
    item = store.get_value(vid)
    assert item.id == vid and isinstance(item.value, Score) and item.value.arm == "methadone 0.1 mg/kg"
    assert item.decisions["alice"].value == accepted  # the decision is untouched
    assert item.decision_stale("alice")
    assert item.version("alice") == 2  # rev 1 + one decision: an old page cannot save over it
    state = store.state("PMID:1001")
    assert not state.reviews["alice"].finished
    assert [v.id for v in state.undecided("alice")] == [vid]
    assert store.history(vid)[-1].who == "run test-run-2" and store.history(vid)[-1].action == "re-extracted"
    # the accepted value is still what is exported
    (rec,) = [r for r in store.iter_accepted() if r.id == "PMID:1001"]
    assert [s.arm for s in rec.scores] == ["methadone", "pethidine"]


def test_dropped_values_keep_their_decisions(store: Store) -> None:
    gone = value_id(store, "PMID:1001", "p = 0.004")
    undecided_gone = value_id(store, "PMID:1001", "p < 0.001")
    store.accept(gone, "alice", 0)
    stats = _rerun(store, [v for v in rct_values() if v.kind != "p_value"])
    assert stats["dropped"] == 2
    state = store.state("PMID:1001")
    visible = {v.id for v in state.visible("alice")}
    assert gone in visible and undecided_gone not in visible
    assert not store.get_value(gone).present
    (rec,) = [r for r in store.iter_accepted() if r.id == "PMID:1001"]
    assert [(p.op, p.value) for p in rec.p_values] == [("=", 0.004)]
    # proposed again later: the same value comes back with its decision
    _rerun(store, rct_values(), run="test-run-3")
    assert store.get_value(gone).present and store.get_value(gone).decisions["alice"].action == "accept"


def test_new_value_in_reextraction_reopens_a_finished_review(store: Store) -> None:
    _review_all(store, "PMID:1002", "alice")
    extra = Score(scale="WOMAC", arm="duloxetine", timepoint="week 12", days=84.0, stat="mean", value=7.9,
                  spread="sd", spread_values=(3.4,), n=None, prov=prov(KNEE_TEXT, "7.9 (SD 3.4)"))
    stats = store.import_records([ExtractionRecord.from_values("PMID:1002", [*knee_values(), extra])])
    assert stats.new == 1 and stats.reopened == 1
    assert store.state("PMID:1002").status == "in_progress"


def test_changed_text_moves_offsets_of_values_and_decisions(store: Store) -> None:
    vid = value_id(store, "PMID:1002", "11.2 (SD 3.1)")
    gone = value_id(store, "PMID:1002", "P < .01")
    store.accept(vid, "alice", 0)
    store.accept(gone, "alice", 0)
    new_text = KNEE_TEXT.replace("We enrolled", "In this trial we enrolled").replace(" (P < .01)", "")
    store.add_abstracts([replace(abstracts()[1], text=new_text)])
    item = store.get_value(vid)
    s, e = at(new_text, "11.2 (SD 3.1)")
    assert (item.value.prov.start, item.value.prov.end) == (s, e)
    decided = item.decisions["alice"].value
    assert decided is not None and (decided.prov.start, decided.prov.end) == (s, e)
    assert not store.get_value(gone).located
    problems: list[str] = []
    (rec,) = [r for r in store.iter_accepted(1, problems) if r.id == "PMID:1002"]
    rec.check_offsets(new_text)
    assert [v.kind for v in rec.values()] == ["score"]
    assert any("no longer in the abstract text" in p for p in problems)


# ---- export and training API ---------------------------------------------------------------------


def _decide_rct(store: Store) -> dict[str, int]:
    ids = {ev: value_id(store, "PMID:1001", ev) for ev in ("Eighty women", "32 ± 9", "p = 0.004", "45 ± 12")}
    store.accept(ids["Eighty women"], "alice", 0)
    store.edit(ids["32 ± 9"], "alice", 0, replace(_score(store, ids["32 ± 9"]), n=40))
    store.reject(ids["p = 0.004"], "alice", 0)
    store.accept(ids["45 ± 12"], "alice", 0)
    span = prov(RCT_TEXT, "15/40 (37.5%)")
    store.add_value("PMID:1001", "alice", Proportion(
        what="pain-free", arm="pethidine", timepoint="24 h", days=1.0, events=15, total=40, percent=37.5,
        prov=span))
    return ids


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_export_accepted_is_what_read_records_reads(store: Store, tmp_path: Path, suffix: str) -> None:
    _decide_rct(store)
    out = tmp_path / f"accepted.{suffix}"
    stats = store.export_accepted(out)
    assert (stats.records, stats.values, stats.problems) == (1, 4, [])
    (rec,) = list(read_records(out))
    assert isinstance(rec, ExtractionRecord) and rec.id == "PMID:1001"
    assert rec.sample_size is not None and rec.sample_size.n == 80
    assert rec.sample_size.prov.source == "model" and rec.sample_size.prov.producer == "extractor_sample_size"
    edited, accepted = rec.scores
    assert (edited.value, edited.n) == (32.0, 40)
    assert (edited.prov.source, edited.prov.producer) == ("reviewer", "alice")
    assert (accepted.value, accepted.prov.source, accepted.prov.confidence) == (45.0, "model", 0.88)
    (added,) = rec.proportions
    assert (added.events, added.total, added.prov.source, added.prov.producer, added.prov.producer_id) == (
        15, 40, "reviewer", "alice", "review.add")
    assert rec.p_values == ()
    rec.check_offsets(RCT_TEXT)
    if suffix == "jsonl":
        assert rec.meta["review"]["counts"] == {"accepted": 2, "corrected": 1, "added": 1, "rejected": 1,
                                                "conflict": 0, "undecided": 0}


def test_export_with_two_reviewers_needs_agreement(store: Store, tmp_path: Path) -> None:
    _decide_rct(store)
    assert store.export_accepted(tmp_path / "two.jsonl", min_reviews=2).values == 0
    sid = value_id(store, "PMID:1001", "Eighty women")
    store.accept(sid, "bob", 0)
    stats = store.export_accepted(tmp_path / "two.jsonl", min_reviews=2)
    assert stats.values == 1
    (rec,) = list(read_records(tmp_path / "two.jsonl"))
    assert isinstance(rec, ExtractionRecord) and [v.kind for v in rec.values()] == ["sample_size"]


def test_iter_reviewed_gives_text_corrections_and_rejections(store: Store) -> None:
    ids = _decide_rct(store)
    assert list(store.iter_reviewed()) == []  # nothing finished yet
    (partial,) = list(store.iter_reviewed(finished_only=False))
    assert not partial.complete
    for v in store.state("PMID:1001").undecided("alice"):
        store.accept(v.id, "alice", v.version("alice"))
    store.finish("PMID:1001", "alice")
    (done,) = list(store.iter_reviewed())
    assert done.complete and done.abstract.text == RCT_TEXT
    by_id = {v.value_id: v for v in done.values}
    corrected = by_id[ids["32 ± 9"]]
    assert corrected.status == "corrected"
    assert isinstance(corrected.original, Score) and corrected.original.n is None
    assert isinstance(corrected.value, Score) and corrected.value.n == 40
    assert by_id[ids["p = 0.004"]].status == "rejected" and by_id[ids["p = 0.004"]].value is None
    assert sorted(v.status for v in done.values).count("added") == 1
    record = done.record()
    record.check_offsets(done.abstract.text)
    assert len(list(record.values())) == 9  # 9 proposals - 1 rejected + 1 added


# ---- queue and progress --------------------------------------------------------------------------


def test_queue_filters_orders_and_progress(store: Store) -> None:
    rows, total = store.queue("alice")
    assert total == 3 and [r.id for r in rows] == ["PMID:1001", "PMID:1002", "PMID:1003"]
    rows, _ = store.queue("alice", order="low_confidence")
    assert [r.id for r in rows] == ["PMID:1001", "PMID:1002", "PMID:1003"]  # 0.42 < 0.95 < 0.99
    assert rows[0].min_confidence == 0.42
    _review_all(store, "PMID:1003", "alice")
    _review_all(store, "PMID:1003", "bob")
    _review_all(store, "PMID:1002", "carol")
    assert [r.id for r in store.queue("alice", filter="todo")[0]] == ["PMID:1001", "PMID:1002"]
    assert [r.id for r in store.queue("dave", filter="todo")[0]] == ["PMID:1001", "PMID:1002"]
    assert [r.id for r in store.queue("alice", filter="unreviewed")[0]] == ["PMID:1001"]
    assert [r.id for r in store.queue("alice", filter="mine")[0]] == ["PMID:1003"]
    assert store.queue("alice", filter="conflicts")[1] == 0
    assert [r.id for r in store.queue("alice", search="knee")[0]] == ["PMID:1002"]
    assert [r.id for r in store.queue("alice", search="100_")[0]] == []  # LIKE wildcards are literal
    assert store.next_abstract("alice") == "PMID:1001"
    assert store.next_abstract("alice", after="PMID:1001") == "PMID:1002"
    p = store.progress("alice")
    assert (p.total, p.reviewed, p.double_reviewed, p.conflicts, p.mine) == (3, 2, 1, 0, 1)
    row = store.queue("alice", filter="mine")[0][0]
    assert row.reviewers == (("alice", True), ("bob", True)) and row.mine("alice") == "finished"
    with pytest.raises(InputError, match="unknown queue filter"):
        store.queue("alice", filter="nope")


def test_records_from_other_stores_round_trip(store: Store, tmp_path: Path) -> None:
    """Every stored record equals the one added (the store loses nothing)."""
    for rec in records():
        state = store.state(rec.id)
        assert [_fields(v.value) for v in state.values] == [_fields(v) for v in rec.values()]
    assert store.get_abstract("PMID:1003") == abstracts()[2]
    assert isinstance(abstracts()[2], Abstract)


def test_deleted_abstracts_leave_the_store_but_not_the_audit_trail(store: Store, tmp_path: Path) -> None:
    vid = value_id(store, "PMID:1003", "p = 0.02")
    store.accept(vid, "alice", 0)
    assert store.delete_abstracts(["PMID:1003", "PMID:404"], reason="PubMed DeleteCitation") == 1
    with pytest.raises(StoreError, match="'PMID:1003' is not in the store"):
        store.state("PMID:1003")
    with pytest.raises(StoreError, match=f"value #{vid} is not in the store"):
        store.get_value(vid)
    assert [r.id for r in store.queue("alice")[0]] == ["PMID:1001", "PMID:1002"]
    assert store.export_accepted(tmp_path / "a.jsonl").records == 0
    trail = store.abstract_history("PMID:1003")
    assert [e.action for e in trail] == ["accept", "abstract deleted"]
    assert trail[-1].note == "PubMed DeleteCitation"
    # the same id can come back
    store.add_abstracts([abstracts()[2]])
    store.add_records([records()[2]])
    assert all(not v.decisions for v in store.state("PMID:1003").values)
