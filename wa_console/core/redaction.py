"""One registry of secret values that must never appear in text that leaves the process.

The secret store registers every secret it reads or writes; the log filter (`wa_console.logs`)
and error formatting pass their text through `redact()`.
"""

from __future__ import annotations

import re
import threading
from typing import Final

from wa_console.core.credentials import mask

_MIN_LEN: Final = 4  # shorter values would redact ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Query parameters and headers that carry tokens in Graph API URLs and requests.
_TOKEN_PARAMS = re.compile(
    r"(?i)((?:access_token|input_token|client_secret|appsecret_proof)=)[^&\s\"']+"
)
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|oauth)\s+)[^\s'\"]+")


def register_secret(value: str | None) -> None:
    global _pattern
    if not value or len(value) < _MIN_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """Replace every registered secret and every token-shaped parameter in `text`."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(lambda m: mask(m.group(0)), text)
    text = _TOKEN_PARAMS.sub(r"\1<redacted>", text)
    return _AUTH_HEADER.sub(r"\1<redacted>", text)
