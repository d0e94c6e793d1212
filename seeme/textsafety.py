"""Characters no stored text may hold: NUL (PostgreSQL refuses it in text, and it cuts C
strings) and lone UTF-16 surrogates (they cannot be encoded as UTF-8, so neither database
takes them). A well-formed surrogate pair in JSON (``"\\ud83d\\ude00"``) is decoded into one
character and is fine; only a half of one is left as a surrogate code point.

One check for the JSON parser (``seeme.api.parsers``) and for addresses and query strings
(``seeme.middleware``), so every way in refuses the same characters with a 400.
"""

import re

REFUSED = re.compile("[\x00\ud800-\udfff]")
REFUSED_TEXT = "a NUL character or a lone UTF-16 surrogate"


def has_refused_character(value: str) -> bool:
    return REFUSED.search(value) is not None
