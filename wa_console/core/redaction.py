"""One registry of secret values that must never appear in text that leaves the process.

The secret store registers every secret it reads or writes; the log filter (`wa_console.logs`)
and error formatting pass their text through `redact()`.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Final

from wa_console.core.credentials import mask

_MIN_LEN: Final = 4  # shorter values would redact ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Query parameters and headers that carry tokens in Graph API URLs and requests, and the verify
# token in a webhook handshake URL (the self-test's and Meta's GET).
_TOKEN_PARAMS = re.compile(
    r"(?i)((?:access_token|input_token|client_secret|appsecret_proof|hub\.verify_token)=)"
    r"[^&\s\"']+"
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


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record it sees.

    Installed on third-party loggers that print request URLs (urllib3 logs
    `GET /v23.0/debug_token?input_token=…` at DEBUG) so no handler ever receives a secret.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_third_party_logs(*logger_names: str) -> None:
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
