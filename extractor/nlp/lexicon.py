"""Shared vocabulary of the rule components (words, not rules: rules with ids live in patterns/).

Each constant is a regular-expression fragment; the compiled forms are module-level so every
component shares one compiled object.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.nlp.fastre import Scanner

# Words that make a sentence "about pain".
PAIN_WORDS = (
    r"pain\w*|ache|aches|aching|headaches?|migraines?|sore(?:ness)?|tender(?:ness)?|"
    r"analgesi\w*|hurt\w*|colic\w*|neuralgi\w*|dysmenorrh\w*|cramp\w*|odynophagia|dyspareunia|"
    r"backache|toothache|myalgi\w*|arthralgi\w*|sciatica|allodynia|hyperalgesi\w*|nocicept\w*|"
    r"hypersensitivity|SPID|TOTPAR"
)
PAIN_RE = re.compile(rf"\b(?:{PAIN_WORDS})\b", re.IGNORECASE)
# the same on lower-cased text (much faster than IGNORECASE): search ``text.lower()``
PAIN_LOWER_RE = re.compile(rf"\b(?:{PAIN_WORDS.lower()})\b")
# the same matches, found faster when all of them are wanted (see fastre); for the first one (or
# a few), which pain abstracts have early, the pattern itself is cheaper
PAIN_LOWER_SCAN = Scanner(PAIN_LOWER_RE)

# What else a rating scale measures: a scale next to one of these is not a pain scale.
NON_PAIN_TARGETS = (
    r"nause\w*|vomit\w*|emesis|anxi\w*|satisf\w*|comfort|discomfort|dyspn\w*|breathless\w*|"
    r"itch\w*|prurit\w*|fatigue|tired\w*|hunger|appetite|satiety|thirst|cosmetic\w*|scar\w*|"
    r"sedat\w*|mood|depress\w*|sleep\w*|drows\w*|stress|dizz\w*|vertigo|tinnitus|"
    r"cosmesis|appearance|aesthetic\w*|craving|urge\w*|dry\s+eye|dryness|burning|"
    r"quality\s+of\s+(?:life|sleep|recovery)|well-being|wellbeing|global\s+assessment|"
    r"disease\s+activity|stiffness|spasticity|tremor|dysphagia|swallow\w*|voice|"
    r"dyspepsia|heartburn|bloating|flatulence|congestion|rhinorrh\w*|sneez\w*|cough\w*|"
    r"difficult\w*|eas(?:e|ier|iest|y)|preference|acceptab\w*|tolerab\w*|confidence|knowledge|fear|perception|"
    r"physicians?|global|dyspnea|breath\w*|hunger|mood|comfort\w*"
)
NON_PAIN_TARGET_LOWER_RE = re.compile(rf"\b(?:{NON_PAIN_TARGETS})\b")
NON_PAIN_TARGET_LOWER_SCAN = Scanner(NON_PAIN_TARGET_LOWER_RE)

# Nouns for people (the units a sample size counts).
PERSON_NOUNS = (
    r"patients?|subjects?|participants?|individuals?|volunteers?|persons?|people|adults?|"
    r"children|child|infants?|neonates?|newborns?|babies|adolescents?|teenagers?|youths?|"
    r"students?|women|woman|men|man|males?|females?|girls?|boys?|mothers?|parturients?|"
    r"primigravidae?|primiparas?|nulliparas?|multiparas?|pregnant\s+women|elderly|"
    r"veterans?|athletes?|workers?|employees?|nurses?|residents?|inpatients?|outpatients?|"
    r"cases|recipients?|survivors?|smokers?|users?|responders?|completers?|enrollees?|"
    r"respondents?|members?|soldiers?|runners?|dancers?|pts|ladies|gentlemen|couples|"
    r"twins|pairs|dyads|families|caregivers?|clients?|consumers?|candidates?|"
    r"healthy\s+controls|controls|probands|teens?|toddlers?|preschoolers?|schoolchildren|"
    r"donors?|trainees?|physicians?|surgeons?|dentists?|musicians?|drivers?|pilots|"
    r"parents?|cancer\s+patients|sufferers|migraineurs|asthmatics|diabetics|epileptics|"
    r"mother-infant\s+pairs"
)

# Units that are not people: a count of these is never a sample size.
NON_PERSON_NOUNS = (
    r"studies|study|trials?|articles?|papers?|reports?|publications?|RCTs?|records?|"
    r"lesions?|tumou?rs?|metastases|nodules?|procedures?|operations?|surgeries|interventions?|"
    r"eyes?|teeth|tooth|knees?|hips?|shoulders?|feet|foot|hands?|limbs?|joints?|vertebrae|"
    r"levels?|segments?|sites?|wounds?|incisions?|ulcers?|fractures?|implants?|samples?|"
    r"specimens?|biopsies|images?|scans?|injections?|blocks?|sessions?|visits?|episodes?|"
    r"attacks?|cycles?|doses?|tablets?|capsules?|days?|weeks?|months?|years?|hours?|minutes?|"
    r"centres?|centers?|hospitals?|sites|countries|rats?|mice|dogs?|animals?|pigs?|rabbits?|"
    r"cadavers?|extremities|sides|arms|legs|molars?|quadrants?|catheters?|needles?|"
    r"deliveries|births|pregnancies|embryos?|oocytes?|events?|items?|questions?|cells?|"
    r"organisms?|isolates?|strains?|bacteria"
)


def doc_about_pain(lower_text: str, min_mentions: int = 2) -> bool:
    """Does a (lower-cased) abstract talk about pain at least ``min_mentions`` times?"""
    if min_mentions <= 0:
        return True
    matches = PAIN_LOWER_RE.finditer(lower_text)  # stops at the k-th match: no Scanner
    return all(next(matches, None) is not None for _ in range(min_mentions))


_ACRONYM_PAREN_RE = re.compile(r"\(\s*([A-Z][A-Za-z0-9-]{1,9})\s*\)")
_PAIN_BEFORE_ACRONYM_RE = re.compile(r"\b(?i:pain|ache|headache|neuralgia|dysmenorrhea)\w*"
                                     r"(?:\s+[A-Za-z-]+){0,2}\s*$")


@lru_cache(maxsize=8)
def pain_acronyms(text: str) -> frozenset[str]:
    """Acronyms an abstract defines for a pain condition: "postmastectomy pain syndrome (PMPS)",
    "low back pain (LBP)" → {"PMPS", "LBP"} (matched later as whole words, case-sensitive)."""
    out = set()
    for m in _ACRONYM_PAREN_RE.finditer(text):
        acr = m.group(1)
        if acr in out or not (acr.upper() == acr or sum(c.isupper() for c in acr) >= 2):
            continue
        if _PAIN_BEFORE_ACRONYM_RE.search(text, max(0, m.start() - 60), m.start()):
            out.add(acr)
    return frozenset(out)


# Literal stems whose absence means an abstract says nothing about pain (checked with ``in``,
# which is far cheaper than any regular expression).
PAIN_STEMS: tuple[str, ...] = (
    "pain", "analges", "headache", "backache", "toothache", " ache", "migrain", " sore",
    "tender", "hurt", "colic", "neuralg",
    "dysmenorr", "cramp", "odynia", "algia", "sciatica", "nocicept", "spid", "totpar",
    "visual analog", "rating scale", "discomfort",
)

def mentions_pain(lower_text: str) -> bool:
    """Could this (lower-cased) abstract report a pain outcome at all?"""
    return any(stem in lower_text for stem in PAIN_STEMS)
