from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

Values = Callable[[str, str], list[dict[str, Any]]]



def scales(values: Values, text: str) -> list[str]:
    return sorted({e["scale"] for e in values(text, "scale")})


@pytest.mark.parametrize(("text", "expected"), [
    ("Pain was rated on a 100-mm visual analogue scale (VAS).", ["VAS"]),
    ("Pain intensity was recorded on a numerical rating scale (NRS).", ["NRS"]),
    ("Pain was measured with the Numeric Pain Rating Scale.", ["NRS"]),
    ("Pain was graded on a four-point verbal rating scale.", ["VRS"]),
    ("We used the Brief Pain Inventory short form (BPI-SF).", ["BPI"]),
    ("The short-form McGill Pain Questionnaire (SF-MPQ) was completed.", ["MPQ"]),
    ("Knee pain was assessed with the WOMAC pain subscale.", ["WOMAC"]),
    ("Children rated pain on the Faces Pain Scale-Revised.", ["FPS"]),
    ("Nurses scored pain with the FLACC scale.", ["other"]),
    ("Postoperative pain scores were recorded every hour.", ["unspecified"]),
    ("Nausea was rated on a visual analogue scale.", []),
    # one scale for pain and another symptom
    ("Pain and itching were scored on a visual analogue scale for 6 weeks.", ["VAS"]),
    # a categorical scale recognised by its verbal anchors
    ("Pain was assessed with a four-point scale: 0 = no pain, 1 = mild, 2 = moderate, 3 = severe.",
     ["VRS"]),
    ("Anxiety (VAS) and satisfaction were recorded after surgery.", []),
    # no pain word at all: only instruments that are pain scales by name are read
    ("Function improved on the Western Ontario and McMaster Universities (WOMAC) index.", ["WOMAC"]),
    ("Stiffness was rated on a numerical rating scale (NRS) at week 4.", []),
])
def test_scale_canonicalisation_and_pain_context(values: Values, text: str, expected: list[str]) -> None:
    assert scales(values, text) == expected


def test_named_scale_replaces_unspecified(values: Values) -> None:
    text = "Pain scores were recorded. Pain intensity was rated on a visual analog scale."
    assert scales(values, text) == ["VAS"]


def test_every_mention_is_kept_with_offsets(values: Values) -> None:
    text = "Pain was rated on a visual analogue scale (VAS). The VAS fell by 2 points."
    mentions = values(text, "scale")
    assert [m["evidence"] for m in mentions] == ["visual analogue scale", "VAS", "VAS"]


TRIGGER_PIECES = ["VAS", "VASP", "VAPS", "NRS", "N-PRS", "NPRS", "VNRS", "S", "P", "-", " ", "WBFPS", "FPS",
                  "mOPS", "DOLOPLUS", "Doloplus", "x"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TRIGGER_PIECES), max_size=25))
def test_trigger_scan_finds_exactly_the_triggers_in_the_text(pieces: list[str]) -> None:
    from extractor.nlp.components.scales import _TriggerScan

    triggers = {"VAS", "VASP", "VAPS", "NRS", "NPRS", "N-PRS", "VNRS", "FPS", "WBFPS", "mOPS", "DOLOPLUS",
                "Doloplus", "PS"}
    text = "".join(pieces)
    present: set[str] = set()
    _TriggerScan(triggers).add_present(text, present)
    assert present == {t for t in triggers if t in text}


LOWER_TRIGGER_PIECES = ["point", "-point ", " ", "scale", "pain", "10", "0", " mm", "behavioral", "objective",
                        "score", "numer", "x", "-"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LOWER_TRIGGER_PIECES), max_size=25))
def test_lower_triggers_found_are_those_in_the_text(pieces: list[str]) -> None:
    """The shortcuts (a trigger's shorter triggers, its first word shared with others) skip only
    triggers that are not there."""
    from extractor.nlp.components.scales import _lower_triggers_in, _trigger_order

    triggers = {"point scale", "point pain", "-point ", "point numer", "pain", "10", "100 mm", "100-mm",
                "numer", "objective pain", "objective scale", "behavioral score", "behavioral pain", "scale"}
    text = "".join(pieces)
    assert _lower_triggers_in(_trigger_order(triggers), text) == {t for t in triggers if t in text}
