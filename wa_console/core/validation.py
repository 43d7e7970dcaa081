"""Validation of channel-account settings: the mistakes admins really make, each named precisely.

`validate_settings(values)` takes the raw form values keyed by `FieldSpec.key` and returns the
cleaned values plus every issue found (all fields, all at once). Secret fields take either the
secret itself (a str, fully checked) or a `CredentialRef` (set elsewhere; only "is set" counts).
"""

from __future__ import annotations

import enum
import ipaddress
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

from wa_console.core.credentials import KEEP, CredentialRef, CredentialRefError, SecretEdit
from wa_console.core.schema import (
    CHANNEL_FIELDS,
    FIELDS_BY_KEY,
    PLAIN_FIELDS,
    SECRET_FIELDS,
    FieldSpec,
    Kind,
    Value,
)


class Severity(enum.Enum):
    ERROR = "error"  # blocks saving
    WARNING = "warning"  # shown, does not block


@dataclass(frozen=True)
class FieldIssue:
    key: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass
class ValidationResult:
    values: dict[str, Value]
    issues: list[FieldIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.is_error for i in self.issues)

    def for_field(self, key: str) -> list[FieldIssue]:
        return [i for i in self.issues if i.key == key]


class _Invalid(Exception):
    """Raised by a cleaner: the message (without the field label) and its severity."""

    def __init__(
        self, message: str, severity: Severity = Severity.ERROR, value: object = None
    ) -> None:
        super().__init__(message)
        self.severity = severity
        self.value = value  # the cleaned value, for a warning


ID_MIN_DIGITS: Final = 8
ID_MAX_DIGITS: Final = 20
GRAPH_VERSION = re.compile(r"^v[0-9]+\.[0-9]+$")  # the spec's Version path-parameter pattern
_APP_SECRET = re.compile(r"^[0-9a-f]{32}$")
_PRINTABLE_NO_SPACE = frozenset(string.printable) - frozenset(string.whitespace)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
# Meta's test business numbers are fictional +1 555 numbers.
META_TEST_NUMBER_PREFIX: Final = "+1555"


# --- cleaners: raw text -> clean value, or _Invalid ---------------------------------------------

def _char_name(c: str) -> str:
    """A character as the admin can read it, invisible ones as their code point."""
    return c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"


def _clean_numeric_id(spec: FieldSpec, text: str) -> str:
    if text.startswith("+"):
        raise _Invalid(
            "an ID has no '+'; it looks like a phone number. Copy the numeric ID from API Setup"
        )
    if re.search(r"\s", text):
        raise _Invalid("remove the spaces; an ID is one run of digits")
    if not text.isdigit() or not text.isascii():
        bad = next(c for c in text if not (c.isascii() and c.isdigit()))
        raise _Invalid(
            f"use digits only (found '{_char_name(bad)}'); copy the ID exactly as Meta shows it")
    if len(text) < ID_MIN_DIGITS:
        raise _Invalid(
            f"{len(text)} digits is too short for a Meta ID (expected {ID_MIN_DIGITS}–"
            f"{ID_MAX_DIGITS}, usually 15–16); check that you copied all of it"
        )
    if len(text) > ID_MAX_DIGITS:
        raise _Invalid(
            f"{len(text)} digits is too long for a Meta ID (expected {ID_MIN_DIGITS}–"
            f"{ID_MAX_DIGITS}, usually 15–16); check that two values were not pasted together"
        )
    return text


def parse_phone(text: str) -> phonenumbers.PhoneNumber:
    """Parse `+<cc>…`, `00<cc>…` or Meta's bare digits; raises _Invalid."""
    if re.search(r"[A-Za-z]", text):
        raise _Invalid("use digits only, no letters or extensions; e.g. +1 555 010 0199")
    if text.startswith("00"):
        candidate = "+" + text[2:]
    elif text.startswith("+") or text.isdigit():  # Meta shows numbers as bare digits: 15550100199
        candidate = text if text.startswith("+") else "+" + text
    else:
        # "555 010 0199" would silently become a number in another country (+55 …).
        raise _Invalid("start with + and the country code, e.g. +1 555 010 0199")
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise _Invalid(
            "not a phone number: write it with the country code, e.g. +1 555 010 0199"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise _Invalid(
            "not a possible phone number for its country code (too few or too many digits); "
            "check the number, e.g. +44 7911 123456"
        )
    return number


def _clean_phone(spec: FieldSpec, text: str) -> str:
    number = parse_phone(text)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number) and not e164.startswith(META_TEST_NUMBER_PREFIX):
        # Kept as a warning: numbering plans change faster than the phonenumbers metadata.
        raise _Invalid(
            f"{format_phone(e164)} is not a valid number in its country's numbering plan; "
            "check the digits",
            Severity.WARNING,
            e164,
        )
    return e164


class PhoneNumberError(ValueError):
    """A phone number that cannot be used; the message says why (without a field label)."""


def normalize_phone(text: str) -> str:
    """`text` as E.164 by the settings' display-number rules (the console's one phone rule).

    A number outside its country's numbering plan is still returned (the settings only warn:
    plans change faster than the phonenumbers metadata); anything unusable raises
    PhoneNumberError.
    """
    try:
        return _clean_phone(FIELDS_BY_KEY["display_phone_number"], text.strip())
    except _Invalid as exc:
        if exc.value is not None:
            return str(exc.value)
        raise PhoneNumberError(str(exc)) from None


def format_phone(e164: str) -> str:
    """E.164 to the international display form, e.g. +44 7911 123456."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _clean_url(spec: FieldSpec, text: str, allow_http_loopback: bool = False) -> str:
    if re.search(r"\s", text):
        raise _Invalid("remove the spaces; encode a space in a URL as %20")
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError:
        raise _Invalid(
            "is not a valid URL (check the brackets around an IPv6 address and the host name)"
        ) from None
    scheme = parts.scheme.lower()
    loopback_http = allow_http_loopback and scheme == "http" and _is_loopback(hostname)
    if scheme == "http" and not loopback_http:
        raise _Invalid("Meta only calls https:// callback URLs with a valid certificate")
    if scheme not in ("https", "http"):
        raise _Invalid("must be an absolute URL starting with https://")
    if not hostname:
        raise _Invalid("has no host name; expected https://<your host>/<path>")
    if "@" in parts.netloc:
        raise _Invalid(
            "must not contain a user name or password (user:pass@); Meta does not send them"
        )
    if parts.fragment or text.endswith("#"):
        raise _Invalid("must not contain a #fragment; it is never sent to your server")
    if "+" in parts.query:
        fixed = urlunsplit(parts._replace(query=parts.query.replace("+", "%2B")))
        raise _Invalid(
            f"a literal '+' in the query is read as a space and breaks Meta's verification; "
            f"use the encoded form: {fixed}",
            Severity.WARNING,
            text,
        )
    return text


def _clean_version(spec: FieldSpec, text: str) -> str:
    if GRAPH_VERSION.match(text):
        return text
    bare = re.fullmatch(r"[vV]?([0-9]+\.[0-9]+)", text)
    hint = f"; did you mean v{bare.group(1)}?" if bare else ""
    raise _Invalid(f"must look like v23.0 (a 'v', then major.minor){hint}")


def _clean_text(spec: FieldSpec, text: str) -> str:
    bad = next((c for c in text if not c.isprintable()), None)
    if bad is not None:
        raise _Invalid(f"contains an invisible or control character ({_char_name(bad)}); retype it")
    return text


def _clean_secret(spec: FieldSpec, text: str) -> str:
    # Paste artefacts (newlines, "Bearer ") are the usual problem, never a real part of a secret.
    if text.lower().startswith("bearer"):
        raise _Invalid("paste the token without 'Bearer '")
    if re.search(r"\s", text):
        raise _Invalid("contains spaces or line breaks; paste the value alone")
    if any(c not in _PRINTABLE_NO_SPACE for c in text):
        raise _Invalid("contains characters that are not printable ASCII; retype it")
    return text


def _clean_bool(spec: FieldSpec, value: object) -> bool:
    if isinstance(value, str):  # from an imported file: "false" must not mean True
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


_CLEANERS: Final[dict[Kind, Callable[[FieldSpec, str], object]]] = {
    Kind.NUMERIC_ID: _clean_numeric_id,
    Kind.PHONE: _clean_phone,
    Kind.VERSION: _clean_version,
    Kind.TEXT: _clean_text,
    Kind.SECRET: _clean_secret,
}


# --- cross-field rules ------------------------------------------------------------------------

def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret_text(values: Mapping[str, Value], key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) and value else None


def _cross_field(values: Mapping[str, Value], sandbox: bool) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    label = {s.key: s.label for s in CHANNEL_FIELDS}

    ids = {k: values.get(k) for k in ("waba_id", "phone_number_id", "app_id")}
    seen: dict[object, str] = {}
    for key, value in ids.items():
        if isinstance(value, str) and value:
            if value in seen:
                issues.append(FieldIssue(
                    key,
                    f"{label[key]}: the same number as the {label[seen[value]]}; these are three "
                    "different IDs (WABA, phone number, app), copy each from its own place in API "
                    "Setup",
                ))
            else:
                seen[value] = key

    display, phone_id = values.get("display_phone_number"), values.get("phone_number_id")
    if isinstance(display, str) and display and isinstance(phone_id, str) and phone_id:
        digits = display.lstrip("+")
        national = str(phonenumbers.parse(display, None).national_number)
        if phone_id in (digits, national):
            issues.append(FieldIssue(
                "phone_number_id",
                f"{label['phone_number_id']}: this looks like the display number; the phone "
                "number ID is the long numeric ID shown under API Setup",
            ))

    verify = _secret_text(values, "webhook_verify_token")
    if verify:
        for other in ("access_token", "app_secret"):
            if verify == _secret_text(values, other):
                issues.append(FieldIssue(
                    "webhook_verify_token",
                    f"{label['webhook_verify_token']}: the same as the {label[other].lower()}. "
                    "The verify token is a string you choose for the webhook handshake; the access "
                    "token authorises API calls and the app secret signs webhooks: keep all three "
                    "different",
                ))

    token = _secret_text(values, "access_token")
    if token:
        if "|" in token:
            issues.append(FieldIssue(
                "access_token",
                f"{label['access_token']}: this is an app access token (APP_ID|APP_SECRET); use "
                "a system-user token with the WhatsApp permissions",
            ))
        elif not sandbox and not token.startswith("EAA"):
            issues.append(FieldIssue(
                "access_token",
                f"{label['access_token']}: does not look like a Meta access token (they start "
                "with 'EAA'); check you copied the token and not another value",
                Severity.WARNING,
            ))

    secret = _secret_text(values, "app_secret")
    if secret and not _APP_SECRET.match(secret):
        issues.append(FieldIssue(
            "app_secret",
            f"{label['app_secret']}: expected 32 hexadecimal characters (0-9, a-f) as shown "
            "under App settings → Basic → App secret",
        ))

    url = values.get("webhook_callback_url")
    if isinstance(url, str) and url and not sandbox and _is_loopback(urlsplit(url).hostname):
        issues.append(FieldIssue(
            "webhook_callback_url",
            f"{label['webhook_callback_url']}: Meta cannot reach {urlsplit(url).hostname}; use "
            "your platform's public HTTPS address (or a tunnel to this machine)",
            Severity.WARNING,
        ))
    return issues


def validate_settings(raw: Mapping[str, object]) -> ValidationResult:
    """Check every field of a channel account and the rules between fields.

    Args:
        raw: form values by field key. Text fields: str (surrounding whitespace is ignored, as it
            is a paste artefact). Secret fields: the secret (str), a CredentialRef, or None/"".

    Returns:
        The cleaned values (phone as E.164, stripped text) and all issues, errors and warnings.
    """
    sandbox = bool(raw.get("sandbox"))
    result = ValidationResult(values={})
    for spec in CHANNEL_FIELDS:
        value = raw.get(spec.key, spec.default)
        if spec.kind is Kind.BOOL:
            result.values[spec.key] = _clean_bool(spec, value)
            continue
        if isinstance(value, CredentialRef):
            result.values[spec.key] = value
            continue
        text = "" if value is None else str(value).strip()
        if not text:
            result.values[spec.key] = None
            if spec.required:
                result.issues.append(FieldIssue(
                    spec.key, f"{spec.label} is required. {spec.help}".strip()))
            continue
        if spec.max_len is not None and len(text) > spec.max_len:
            result.issues.append(FieldIssue(
                spec.key,
                f"{spec.label}: {len(text)} characters is too long (at most {spec.max_len})",
            ))
            result.values[spec.key] = text
            continue
        if spec.kind is Kind.CHOICE:
            allowed = [c[0] for c in spec.choices]
            if text not in allowed:
                result.issues.append(FieldIssue(
                    spec.key, f"{spec.label}: '{text}' is not one of {', '.join(allowed)}"))
            result.values[spec.key] = text
            continue
        try:
            if spec.kind is Kind.URL:
                # The emulator delivers webhooks over plain http on loopback: sandbox only.
                result.values[spec.key] = _clean_url(spec, text, allow_http_loopback=sandbox)
            else:
                result.values[spec.key] = _CLEANERS[spec.kind](spec, text)
        except _Invalid as exc:
            result.issues.append(FieldIssue(spec.key, f"{spec.label}: {exc}", exc.severity))
            # A warning keeps the clean value; an error keeps the raw text so nothing is lost.
            result.values[spec.key] = exc.value if exc.value is not None else text
    failed = {i.key for i in result.issues if i.is_error}
    clean = {k: v for k, v in result.values.items() if k not in failed}
    result.issues.extend(_cross_field(clean, sandbox))
    return result


def field_label(key: str) -> str:
    return FIELDS_BY_KEY[key].label


def validate_form(
    values: Mapping[str, object],
    edits: Mapping[str, SecretEdit],
    refs: Mapping[str, CredentialRef | None],
    resolve: Callable[[CredentialRef], str | None] | None = None,
) -> ValidationResult:
    """Validate what a settings form holds: plain values plus the pending secret edits.

    A kept secret counts as set through its reference; `resolve` (when given) reads kept secrets
    so that rules comparing secrets (verify token vs access token) also see the stored ones.
    The cleaned secret values are references for keep/env, the new text for set, None for clear.
    """
    raw: dict[str, object] = {spec.key: values.get(spec.key) for spec in PLAIN_FIELDS}
    ref_issues: list[FieldIssue] = []
    for spec in SECRET_FIELDS:
        edit = edits.get(spec.key, KEEP)
        if edit.action == "set":
            raw[spec.key] = edit.value
        elif edit.action == "env":
            try:
                raw[spec.key] = CredentialRef.env(edit.value.strip())
            except CredentialRefError as exc:
                ref_issues.append(FieldIssue(spec.key, f"{spec.label}: {exc}"))
        elif edit.action == "keep":
            kept = refs.get(spec.key)
            raw[spec.key] = kept
            if kept is not None and resolve is not None and kept.scheme != "env":
                try:
                    raw[spec.key] = resolve(kept) or kept
                except Exception:  # an unreadable keyring only skips the comparisons
                    pass
    result = validate_settings(raw)
    bad = {i.key for i in ref_issues}
    # A malformed reference is the one problem to report for its field, not also "required".
    result.issues = ref_issues + [i for i in result.issues if i.key not in bad]
    for spec in SECRET_FIELDS:  # what is stored for a kept secret is its reference, not its text
        if edits.get(spec.key, KEEP).action == "keep":
            result.values[spec.key] = refs.get(spec.key)
    return result
