"""Proof import: a delivery captured by the platform's own receiver, checked and recorded.

A platform that runs its own webhook receiver can still prove the round trip: the admin pastes
the raw POST body and its `X-Hub-Signature-256` header; the console verifies them with the
account's app secret (read through its credential reference at call time) and records the
delivery like a received one (`source="import"`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from wa_console.meta.webhooks import SIGNATURE_HEADER, WebhookFormatError, verify_signature

if TYPE_CHECKING:
    from wa_console.store.accounts import AccountStore
    from wa_console.store.messages import IngestResult

__all__ = ["ProofImportError", "import_capture"]

# The header value, optionally pasted with its name ("X-Hub-Signature-256: sha256=...").
_HEADER_RE: Final = re.compile(
    rf"^(?:{re.escape(SIGNATURE_HEADER)}\s*:\s*)?sha256=([0-9a-fA-F]{{64}})$", re.IGNORECASE)


class ProofImportError(Exception):
    """The capture cannot be recorded; `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def import_capture(store: AccountStore, account_id: int, raw_body: bytes,
                   signature_header: str) -> IngestResult:
    """Verify a captured delivery with the account's app secret and store it as an import.

    Raises:
        ProofImportError: no app secret, a missing/malformed header, a signature mismatch, or a
            body that is not a WhatsApp webhook.
    """
    from wa_console.store.messages import ingest

    record = store.get(account_id)
    ref = record.refs.get("app_secret")
    app_secret = store.secrets.get(ref) if ref is not None else None
    if not app_secret:
        raise ProofImportError(f"No app secret is stored for '{record.name}': enter the app "
                               "secret in the settings, then import the capture again.")
    match = _HEADER_RE.match((signature_header or "").strip())
    if match is None:
        raise ProofImportError(
            f"The {SIGNATURE_HEADER} header is missing or malformed: paste its value as "
            "received, sha256=<64 hex digits>.")
    header = "sha256=" + match.group(1).lower()  # Meta sends lowercase hex; case is cosmetic
    if not raw_body.strip():
        raise ProofImportError("The body is empty: paste the raw POST body as received.")
    body = _signed_body(app_secret, raw_body, header)
    if body is None:
        raise ProofImportError(
            "The signature does not match this account's app secret: paste the body exactly as "
            "received — re-serialised JSON (spaces, escaped slashes) changes the bytes — or "
            "check the app secret.")
    try:
        return ingest(store.engine, body, signature_valid=True, source="import")
    except WebhookFormatError as exc:
        raise ProofImportError(f"The body is signed but is not a WhatsApp webhook ({exc}): "
                               "paste the whole POST body of a messages notification.") from None


def _signed_body(app_secret: str, raw_body: bytes, header: str) -> bytes | None:
    """The bytes the signature covers: as pasted, or without the line break a paste adds."""
    for candidate in (raw_body, raw_body.rstrip(b"\r\n")):
        if verify_signature(app_secret, candidate, header):
            return candidate
    return None
