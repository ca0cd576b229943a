"""A phonetic key for French names: names that sound alike get the same key.

"Dupond" and "Dupont", "Lefèvre" and "Lefebvre", "Chevalier" and "Chevallier", "Mathieu" and
"Matthieu" are the same name to a nurse who heard it. No maintained library does French
phonetics, so this is ours: a short list of rewrite rules in the spirit of Soundex2/Phonex,
applied in order, each one a French spelling habit. Tested against known pairs (same sound) and
known different names (must stay apart).
"""

from __future__ import annotations

import re
import unicodedata

# (pattern, replacement), applied in this order to an upper-case name without accents.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^A-Z0-9]", ""),         # spaces, hyphens, apostrophes: "Le Goff" = "Legoff"
        (r"(?<=[AEIOUY])S(?=[AEIOUY])", "Z"),  # a single S between vowels is voiced: Rose = Roze
        (r"([A-Z])\1+", r"\1"),     # doubled letters: Chevallier, Matthieu, Philippe (not digits)
        (r"[DTSXZP]+$", ""),        # silent final consonants: Dupont = Dupond, Lambert = Lamber
        (r"^MAC", "MC"),
        (r"SCH|SH", "CH"),
        (r"CH(?=[RL])", "K"),       # Christophe = Cristof
        (r"PH", "F"),
        (r"TH", "T"),
        (r"(?<!C)H", ""),           # H is silent except in CH
        (r"QU|Q|CK", "K"),
        (r"C(?=[EIY])", "S"),
        (r"C", "K"),
        (r"GU(?=[EIY])", "G"),
        (r"G(?=[EIY])", "J"),
        (r"W", "V"),
        (r"BV", "V"),               # Lefebvre = Lefèvre
        (r"Y", "I"),
        (r"EAU|AU", "O"),
        (r"AI|EI|ER$", "E"),        # Mercier = Mercié
        (r"OU", "U"),
        (r"EN(?=[^AEIOUN]|$)|[EA]M(?=[BP])", "AN"),  # "en", "em", "am" sound "an": Lambert, Laurent
        (r"([^AEIOU])E$", r"\1"),    # silent final E: Fabre = Fabr
        (r"([A-Z])\1+", r"\1"),     # doubles made by the rules above
    )
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalise(name: str) -> str:
    """Upper case, no accents, letters and digits only: how names are compared in exact search."""
    return re.sub(r"[^A-Z0-9]", "", strip_accents(name).upper())


def key(name: str) -> str:
    value = strip_accents(name.upper().replace("Ç", "S").replace("Œ", "E"))  # Lœuillet = Leuillet
    for pattern, replacement in _RULES:
        value = pattern.sub(replacement, value)
    return value


def search_columns(birth_name: str, used_name: str | None, first_names: list[str]) -> dict[str, str]:
    """Normalised and phonetic forms of the names, stored beside them and indexed."""
    first = first_names[0] if first_names else ""
    return {
        "birth_name_norm": normalise(birth_name), "used_name_norm": normalise(used_name or ""),
        "first_name_norm": normalise(first), "birth_name_phon": key(birth_name),
        "used_name_phon": key(used_name or ""), "first_name_phon": key(first),
    }
