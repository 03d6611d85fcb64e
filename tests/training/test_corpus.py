"""The corpus format: schema checks, the loader, references into ../shared, the fixed split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.training.corpus import (
    LABELS,
    ORIGINS,
    SPLITS,
    hash_split,
    load_corpus,
    split_key,
    text_sha1,
)
from extractor.training.refs import REF_FILES, build_refs, dumps

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
SCHEMA = json.loads((CORPUS / "schema.json").read_text(encoding="utf-8"))


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_own_text_entries_load_without_shared_and_offsets_hold() -> None:
    entries = load_corpus([CORPUS / "demo", CORPUS / "written"], shared_dir=None)
    assert Counter(e.origin for e in entries) == {"written": 38}
    for e in entries:
        assert e.record is not None and e.record["id"] == e.id
        for s in e.spans:
            assert s.label in LABELS and 0 <= s.start < s.end <= len(e.text)
        for key in ("scores", "proportions", "p_values", "arm_sizes"):
            for v in e.record.get(key) or ():
                assert e.text[v["start"]:v["end"]] == v["evidence"]
        gold = e.sample_size_gold()
        assert gold is not None and gold[1]  # a record annotates the headline completely
        # the SAMPLE_SIZE span (if any) holds the record's headline
        headline = e.record["sample_size"]
        assert e.values("SAMPLE_SIZE") == ([] if headline is None else [headline])
    written = [e for e in entries if e.id.startswith("written:")]
    assert {e.split for e in written} <= {"train", "tune", "dev"}
    assert all(e.split == hash_split(e.key) for e in written)


def test_reference_files_hold_ids_offsets_and_labels_never_text() -> None:
    allowed = set(SCHEMA["properties"])
    for name in REF_FILES:
        for entry in _lines(CORPUS / "refs" / name):
            assert set(entry) <= allowed - {"text", "title", "record"}, name
            assert set(entry["ref"]) == {"source", "id", "sha1"}
            assert entry["split"] in ("train", "tune", "dev")
            assert entry["origin"] in ORIGINS
            for span in entry.get("spans") or ():
                assert set(span) == {"start", "end", "label"}


def test_schema_file_matches_the_loader() -> None:
    assert SCHEMA["properties"]["split"]["enum"] == list(SPLITS)
    assert SCHEMA["properties"]["origin"]["enum"] == list(ORIGINS)
    assert SCHEMA["$defs"]["span"]["properties"]["label"]["enum"] == list(LABELS)


def test_split_is_fixed_and_keyed_by_pmid() -> None:
    assert split_key("ebm:0012345") == split_key("pico:12345") == split_key("12345") == "pmid:12345"
    assert split_key("ei:PMC42") == "ei:PMC42"
    assert hash_split("pmid:12345") == hash_split("pmid:12345")
    counts = Counter(hash_split(f"pmid:{i}") for i in range(20000))
    assert abs(counts["dev"] / 20000 - 0.20) < 0.01 and abs(counts["tune"] / 20000 - 0.10) < 0.01


@pytest.mark.parametrize("bad, message", [
    ({"id": "x", "origin": "written", "split": "train"}, "either 'text' or 'ref'"),
    ({"id": "x", "text": "t", "ref": {"source": "ebmnlp", "id": "1"}, "origin": "written", "split": "train"},
     "either 'text' or 'ref'"),
    ({"id": "x", "text": "abc", "origin": "written", "split": "later"}, "'split' must be"),
    ({"id": "x", "text": "abc", "origin": "mine", "split": "train"}, "'origin' must be"),
    ({"id": "x", "text": "abc", "origin": "written", "split": "train",
      "spans": [{"start": 1, "end": 9, "label": "SCORE"}]}, "outside the text"),
    ({"id": "x", "text": "abc", "origin": "written", "split": "train",
      "spans": [{"start": 0, "end": 1, "label": "HEADLINE"}]}, "unknown span label"),
    ({"id": "x", "text": "p = 0.2 here", "origin": "written", "split": "train",
      "record": {"sample_size": None, "p_values": [{"op": "=", "value": 0.2, "evidence": "p = 0.2",
                                                     "start": 1, "end": 8}]}}, "is not text"),
    ({"id": "x", "text": "abc", "origin": "written", "split": "train", "complete": ["EVERYTHING"]},
     "'complete'"),
])
def test_bad_entries_are_refused_with_where_and_why(tmp_path: Path, bad: dict[str, object],
                                                    message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message) as exc:
        load_corpus([path], shared_dir=None)
    assert "bad.jsonl:1" in str(exc.value)


def test_same_id_twice_in_one_origin_is_refused(tmp_path: Path) -> None:
    line = json.dumps({"id": "w:1", "text": "Ten patients.", "origin": "written", "split": "train"})
    path = tmp_path / "dup.jsonl"
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate id"):
        load_corpus([path], shared_dir=None)


def test_references_need_shared(tmp_path: Path) -> None:
    path = tmp_path / "ref.jsonl"
    path.write_text(json.dumps({"id": "ebm:1", "ref": {"source": "ebmnlp", "id": "1"}, "origin": "ebmnlp",
                                "split": "train"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="--shared"):
        load_corpus([path], shared_dir=None)


def test_sample_size_gold_per_label() -> None:
    from extractor.training.corpus import Entry, Span

    text = "Of 120 screened, eighty patients were randomized; 40 per arm."
    mention = Entry("e", text, "ebmnlp", "train", spans=(Span(3, 6, "SAMPLE_SIZE_MENTION"),
                                                          Span(17, 23, "SAMPLE_SIZE_MENTION")))
    assert mention.sample_size_gold() == ([120, 80], False)
    headline = Entry("p", text, "pico_corpus", "train", spans=(Span(17, 23, "SAMPLE_SIZE"),),
                     complete=("SAMPLE_SIZE",))
    assert headline.sample_size_gold() == ([80], True)
    none_stated = Entry("q", text, "pico_corpus", "train", complete=("SAMPLE_SIZE",))
    assert none_stated.sample_size_gold() == ([], True)
    assert Entry("r", text, "ebmnlp", "train").sample_size_gold() is None


@pytest.mark.shared
def test_references_resolve_and_match_their_checksums(shared: Path) -> None:
    entries = load_corpus([CORPUS], shared)
    by_origin = Counter(e.origin for e in entries)
    assert by_origin["painbench-silver"] == 276
    assert by_origin["pico_corpus"] > 700 and by_origin["ebmnlp"] > 1000
    for e in entries:
        if e.ref is not None:
            assert text_sha1(e.text) == e.ref["sha1"]
        assert e.sample_size_gold() is not None or e.origin == "written"


@pytest.mark.shared
def test_committed_references_are_what_the_generator_makes(shared: Path) -> None:
    built = build_refs(shared)
    for name in REF_FILES:
        committed = (CORPUS / "refs" / name).read_text(encoding="utf-8").splitlines()
        assert committed == [dumps(e) for e in built[name]], f"corpus/refs/{name} is stale: regenerate it"
