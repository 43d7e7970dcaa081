"""Typed errors of the Graph API client. Every message is redacted and names the fix."""

from __future__ import annotations

from typing import Any

from wa_console.core.errors import ErrorInfo, Retry, explain
from wa_console.core.redaction import redact

# Codes that must never be retried automatically, whatever `is_transient` says (meta-api.md §f).
NEVER_RETRY_CODES = frozenset({0, 3, 10, 100, 190, 131008, 131009, 131047})


class MetaError(Exception):
    """Base of everything the client raises. `retryable`: whether retrying later can help."""

    retryable = False
    retry_after: float | None = None  # seconds Meta asked us to wait (Retry-After, BUC usage)

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def title(self) -> str:
        return "Meta request failed"

    @property
    def fix(self) -> str:
        return ""


class GraphApiError(MetaError):
    """Meta answered with an error envelope `{"error": {...}}`."""

    def __init__(self, http_status: int, error: dict[str, Any], method: str, path: str) -> None:
        self.http_status = http_status
        self.code = _int(error.get("code"))
        self.subcode = _int(error.get("error_subcode"))
        self.meta_message = str(error.get("message") or "")
        self.error_type = str(error.get("type") or "")
        self.user_title = str(error.get("error_user_title") or "")
        self.user_msg = str(error.get("error_user_msg") or "")
        self.fbtrace_id = str(error.get("fbtrace_id") or "")
        data = error.get("error_data")
        self.details = str(data.get("details") or "") if isinstance(data, dict) else ""
        self.is_transient = bool(error.get("is_transient"))
        self.method, self.path = method, path
        self.info: ErrorInfo | None = explain(self.code, self.subcode)
        if self.code in NEVER_RETRY_CODES or (200 <= (self.code or 0) <= 299):
            self.retryable = False
        elif self.info is not None:
            self.retryable = self.info.retry is Retry.BACKOFF or self.is_transient
        else:
            self.retryable = self.is_transient or http_status >= 500
        super().__init__(self._compose())

    def _compose(self) -> str:
        code = f"{self.code}" + (f"/{self.subcode}" if self.subcode is not None else "")
        parts = [f"{self.method} {self.path}: Meta error {code}"]
        if self.info is not None:
            parts.append(f"{self.info.meaning} What to do: {self.info.action}")
        parts.append(f"Meta said: {self.meta_message}" if self.meta_message else "")
        if self.user_msg:
            parts.append(f"{self.user_title}: {self.user_msg}" if self.user_title
                         else self.user_msg)
        if self.details:
            parts.append(f"Details: {self.details}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        return " | ".join(p for p in parts if p)

    @property
    def title(self) -> str:
        return self.user_title or (self.info.meaning if self.info else "Meta returned an error")

    @property
    def fix(self) -> str:
        return self.info.action if self.info else "Read Meta's message; the fbtrace_id helps Meta support."


class NetworkError(MetaError):
    """The request did not get an answer: connection refused/reset, DNS, timeout."""

    retryable = True

    @property
    def title(self) -> str:
        return "Could not reach Meta"

    @property
    def fix(self) -> str:
        return "Check the network connection or proxy; the console retried where it was safe."


class InvalidResponseError(MetaError):
    """An answer that is not the JSON Graph sends: an HTML error page, a truncated body."""

    def __init__(self, message: str, http_status: int, retryable: bool) -> None:
        self.http_status = http_status
        self.retryable = retryable
        super().__init__(message)

    @property
    def title(self) -> str:
        return "Meta sent an unreadable answer"

    @property
    def fix(self) -> str:
        return "Usually a proxy or a temporary outage at Meta: try again in a minute."


class OutcomeUnknownError(MetaError):
    """A send whose answer was lost: the message may or may not have gone out. Never retried
    automatically (that could send it twice); watch for its status webhook instead."""

    @property
    def title(self) -> str:
        return "Outcome unknown: the message may have been sent"

    @property
    def fix(self) -> str:
        return ("Do not resend yet. Wait for a status webhook for this recipient; resend only if "
                "none arrives.")


class PaginationError(MetaError):
    """The list paging went wrong (a cursor came back twice: it would never end)."""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
