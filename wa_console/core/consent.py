"""Test-recipient consent rules (pure): which inbound texts opt a recipient out.

An inbound message whose whole text, trimmed and case-folded, is one of the keywords (default
STOP, UNSUBSCRIBE) opts the sender out at once (issue 7). Whole-message matching avoids opting
someone out for "don't stop the reminders"; trailing punctuation ("Stop!") still matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

OPT_OUT_KEYWORDS_KEY: Final = "opt_out_keywords"  # store.preferences key
DEFAULT_OPT_OUT_KEYWORDS: Final[tuple[str, ...]] = ("STOP", "UNSUBSCRIBE")
CONSENT_METHODS: Final[tuple[str, ...]] = (
    "written consent", "verbal consent (recorded)", "reply keyword", "staff member's own phone")
_EDGE_PUNCTUATION = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def normalize_keyword(text: str) -> str:
    return _EDGE_PUNCTUATION.sub("", text).casefold()


def is_opt_out(text: str | None, keywords: Iterable[str] = DEFAULT_OPT_OUT_KEYWORDS) -> bool:
    """True when the message text is exactly one of the opt-out keywords (see module doc)."""
    if not text:
        return False
    said = normalize_keyword(text)
    return bool(said) and said in {normalize_keyword(k) for k in keywords if k.strip()}
