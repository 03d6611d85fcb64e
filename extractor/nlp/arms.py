"""Names of study arms as written, and the number of arms an abstract states (pure functions).

Used by the sample-size, score and proportion components to label values with their arm.
"""

from __future__ import annotations

import re

from extractor.nlp.numbers import parse_number_words

# words that cannot start or end an arm name
_EDGE_STOP = frozenset({
    "a", "an", "the", "to", "of", "in", "into", "on", "at", "by", "for", "with", "without", "from", "or",
    "and", "either", "both", "each", "every", "all", "receive", "received", "receiving", "given", "were",
    "was", "be", "been", "being", "are", "is", "who", "which", "that", "this", "these", "those",
    "patients", "subjects", "participants", "women", "men", "children", "group", "groups", "arm", "arms",
    "treated", "allocated", "assigned", "randomized", "randomised", "randomly", "divided", "underwent",
    "using", "use", "used", "vs", "versus", "compared", "than", "as", "while", "whereas", "but", "also",
    "only", "then", "after", "before", "during", "plus", "n", "respectively",
})
_EDGE_STOP_NOT_ARM = _EDGE_STOP - {"group", "arm"}  # "control group" may end an arm name
_WORD_RE = re.compile(r"[A-Za-z0-9][\w+./'’-]*|\(|\)")
# a dose written after a drug name: "50 mg/day", "4 mg every 4 weeks", "0.5 %"
_DOSE_RE = re.compile(r"\s\d[\d.,]*\s*(?:mg|µg|μg|mcg|ng|g|ml|mL|l|iu|IU|units?|mmol|%)(?![A-Za-z])")
_UNITS = frozenset({"mg", "µg", "μg", "mcg", "ng", "g", "ml", "l", "iu", "units", "unit", "mmol", "%",
                    "mg/kg", "µg/kg", "mcg/kg"})
_CLAUSE_BREAK = re.compile(r"[;:!?\n]|\.(?!\d)|,\s|\(|\)|\[|\]")

GROUP_WORDS = r"(?:group|arm|cohort)"
_NAMED_GROUP_RE = re.compile(
    r"\b(?:group|arm|cohort)\s+(?P<label>[A-Z]{1,3}\d{0,2}(?:\.\d)?|[IVX]{1,4}|\d{1,2}|[A-Z][a-z]+(?:[+-][A-Za-z]+)?)\b"
)
_GROUP_COUNT_RE = re.compile(
    r"\b(?P<k>two|three|four|five|six|seven|eight|nine|ten|2|3|4|5|6|7|8|9|10)\s+"
    r"(?:(?:equal|parallel|treatment|study|different|separate|randomi[sz]ed|independent|matched)\s+)?"
    r"(?:groups|arms|cohorts)\b"
)
_WORD_K = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def stated_group_count(lower: str) -> int | None:
    """The number of arms an abstract states ("randomized into three groups"), if any."""
    m = _group_count_search(lower)
    if not m:
        return None
    k = m.group("k")
    return int(k) if k.isdigit() else _WORD_K.get(k)


_GROUP_NOUNS = ("groups", "arms", "cohorts")


def _group_count_search(text: str) -> re.Match[str] | None:
    """``_GROUP_COUNT_RE.search(text)``, looked for from the nouns ("groups", "arms", "cohorts")
    backwards instead of from every digit and number word forwards.

    A match is a number, spaces, perhaps one modifier word and spaces, then the noun; the number
    and the modifier are whole words (a word boundary before, spaces after). So a match ending at
    a noun can only start at the word before it or at the one before that, and the pattern is
    tried there (the farther first). Matches ending at different nouns cannot overlap (a noun is
    no number or modifier), so the first noun with a match has the leftmost one.
    """
    nouns: list[int] = []
    for noun in _GROUP_NOUNS:
        at = text.find(noun)
        while at >= 0:
            nouns.append(at)
            at = text.find(noun, at + 1)
    match = _GROUP_COUNT_RE.match
    for at in sorted(nouns):
        starts: list[int] = []
        end = at
        for _ in range(2):  # the word before the noun, then the one before that
            word_end = end
            while word_end > 0 and text[word_end - 1].isspace():  # str.isspace is "\s"
                word_end -= 1
            if word_end == end:
                break  # no space before: no match ends here (through this word)
            start = word_end
            while start > 0 and _is_word_char(text[start - 1]):
                start -= 1
            if start == word_end:
                break
            starts.append(start)
            end = start
        for start in reversed(starts):
            m = match(text, start)
            if m is not None:
                return m
    return None


def _is_word_char(c: str) -> bool:
    r"""``re.fullmatch(r"\w", c)`` (Unicode)."""
    return c.isalnum() or c == "_"


def clean_arm(name: str) -> str | None:
    """Strip function words from both ends of a candidate arm name; None if nothing is left."""
    words = name.split()
    while words and words[0].lower().strip("(),;:") in _EDGE_STOP:
        words.pop(0)
    while words and words[-1].lower().strip("(),;:") in _EDGE_STOP_NOT_ARM:
        words.pop()
    out = " ".join(words).strip(" ,;:(")
    if out.endswith(")") and "(" not in out:
        out = out.rstrip(")").strip()
    if not out or len(out) > 60:
        return None
    if all(w.lower() in ("one", "two", "three", "four") for w in words) and parse_number_words(out):
        return None
    return out


def arm_name_before(text: str, pos: int, max_words: int = 4) -> str | None:
    """The arm named right before ``pos`` ("Experimental group ( n = 15 )" → "Experimental group")."""
    start = max(0, pos - 80)
    chunk = text[start:pos].rstrip(" \t(")
    # stop at the last clause break
    last = 0
    for m in _CLAUSE_BREAK.finditer(chunk):
        last = m.end()
    chunk = chunk[last:]
    for dose in _DOSE_RE.finditer(chunk):
        head = chunk[:dose.start()].split()
        if head and head[-1].lower() not in _EDGE_STOP:
            chunk = chunk[:dose.start()]  # "ibandronate 50 mg/day (n = 137)" → "ibandronate"
            break
    words = [m.group(0) for m in _WORD_RE.finditer(chunk) if m.group(0) not in "()"]
    if not words:
        return None
    picked = words[-max_words:]
    # drop everything up to the last function word inside the window
    for i in range(len(picked) - 1, -1, -1):
        word = picked[i].lower()
        if word in _EDGE_STOP and i < len(picked) - 1 and word not in ("group", "arm"):
            picked = picked[i + 1:]
            break
    # and a leading dose ("with 20 ml bupivacaine" → "bupivacaine")
    while len(picked) > 1 and (picked[0][0].isdigit() or picked[0].lower() in _UNITS):
        picked = picked[1:]
    return clean_arm(" ".join(picked))


def arm_name_after(text: str, pos: int, max_words: int = 5) -> str | None:
    """The arm named right after ``pos`` ("in the control group" → "control group")."""
    chunk = text[pos:pos + 80]
    m = _CLAUSE_BREAK.search(chunk)
    if m:
        chunk = chunk[:m.start()]
    words = [w.group(0) for w in _WORD_RE.finditer(chunk)]
    lead = 0
    while lead < len(words) and words[lead].lower() in _EDGE_STOP_NOT_ARM:
        lead += 1
    words = words[lead:]
    # end at "group"/"arm" if it comes soon ("the control group and ..." → "control group")
    for i, w in enumerate(words[:max_words]):
        if w.lower() in ("group", "arm", "groups", "arms", "cohort"):
            return clean_arm(" ".join(words[: i + 1]))
    out: list[str] = []
    for w in words[:max_words]:
        if w.lower() in _EDGE_STOP:
            break
        out.append(w)
    return clean_arm(" ".join(out)) if out else None


def named_groups(text: str) -> list[tuple[int, int, str]]:
    """Explicit group labels: "group A", "Group II", "group 1", "group PL" → (start, end, name)."""
    return [(m.start(), m.end(), m.group(0)) for m in _NAMED_GROUP_RE.finditer(text)]
