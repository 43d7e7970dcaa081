"""Export / import of a channel account configuration as JSON.

The document holds the plain fields and, for secrets, only credential references: a secret never
appears in an export. Import checks everything and reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from wa_console.core.credentials import CredentialRef, CredentialRefError
from wa_console.core.schema import PLAIN_FIELDS, SECRET_FIELDS
from wa_console.core.validation import FieldIssue, Value, validate_settings

FORMAT: Final = "wa-console/channel-account"
SCHEMA_VERSION: Final = 1


def export_document(values: Mapping[str, Value], refs: Mapping[str, CredentialRef | None]) -> dict:
    """The JSON-ready export of one account. Session-only references are dropped (they cannot
    be resolved anywhere else)."""
    credentials = {
        spec.key: (str(ref) if (ref := refs.get(spec.key)) and ref.scheme != "session" else None)
        for spec in SECRET_FIELDS
    }
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "account": {spec.key: values.get(spec.key) for spec in PLAIN_FIELDS},
        "credentials": credentials,
    }


@dataclass
class ImportResult:
    values: dict[str, Value] = field(default_factory=dict)
    refs: dict[str, CredentialRef | None] = field(default_factory=dict)
    issues: list[FieldIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.is_error for i in self.issues)


def parse_import(doc: Any) -> ImportResult:
    """Check an export document; every problem is reported (key "" = the document itself)."""
    result = ImportResult()
    if not isinstance(doc, dict):
        result.issues.append(
            FieldIssue("", "The file is not a wa-console export (not a JSON object)"))
        return result
    if doc.get("format") != FORMAT:
        result.issues.append(FieldIssue(
            "", f"The file is not a wa-console channel-account export (format is "
            f"{doc.get('format')!r}, expected {FORMAT!r})"))
    version = doc.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
        result.issues.append(FieldIssue(
            "", f"Export schema version {version!r} is not supported by this console (it reads "
            f"version 1 to {SCHEMA_VERSION}); update wa-console"))
    account = doc.get("account")
    credentials = doc.get("credentials", {})
    if not isinstance(account, dict):
        result.issues.append(FieldIssue("", "The export has no 'account' object"))
        account = {}
    if not isinstance(credentials, dict):
        result.issues.append(FieldIssue("", "'credentials' must be an object of references"))
        credentials = {}

    plain_keys = {s.key for s in PLAIN_FIELDS}
    secret_keys = {s.key for s in SECRET_FIELDS}
    for key in sorted(set(account) - plain_keys):
        hint = " (secrets are never exported; give a credential reference under 'credentials')" \
            if key in secret_keys else ""
        result.issues.append(FieldIssue("", f"Unknown field 'account.{key}'{hint}"))
    for key in sorted(set(credentials) - secret_keys):
        result.issues.append(FieldIssue("", f"Unknown credential 'credentials.{key}'"))

    raw: dict[str, object] = {k: v for k, v in account.items() if k in plain_keys}
    bad_refs: set[str] = set()
    for spec in SECRET_FIELDS:
        text = credentials.get(spec.key)
        ref = None
        if text not in (None, ""):
            try:
                if not isinstance(text, str):
                    raise CredentialRefError("the credential reference must be a string")
                ref = CredentialRef.parse(text)
            except CredentialRefError as exc:
                result.issues.append(FieldIssue(spec.key, f"{spec.label}: {exc}"))
                bad_refs.add(spec.key)
        result.refs[spec.key] = ref
        raw[spec.key] = ref
    checked = validate_settings(raw)
    result.values = {s.key: checked.values.get(s.key) for s in PLAIN_FIELDS}
    # A malformed reference is the one problem to report for its field, not also "required".
    result.issues.extend(i for i in checked.issues if i.key not in bad_refs)
    return result
