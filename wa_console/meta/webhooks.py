"""Meta webhooks: the GET verification handshake, X-Hub-Signature-256, and typed events.

Signatures are HMAC-SHA256 of the raw request body bytes, keyed with the app secret, sent as
`X-Hub-Signature-256: sha256=<hex>`; compare in constant time, on the exact bytes received.

Parsing (meta-api.md §c): `parse_webhook(raw_body)` turns one POST body into a flat list of typed,
frozen events, in the order Meta sent them. One POST can batch several entries, each with several
changes, each with several messages/statuses: every one becomes its own event. Only the envelope
itself can be rejected (`WebhookFormatError`); anything odd inside it (an unknown `field`, an
unknown status or message type, a wrong type, a missing id) degrades to `None` fields or to an
`UnknownEvent` that keeps the raw value, so a new Meta feature never stops the console from seeing
the statuses that arrive next to it. Enumerations (status, message type, template event, quality
score, ...) are kept as the strings Meta sent, verbatim: every enum in the doc can grow.

Typical use by a receiver::

    if not verify_signature(app_secret, body, headers.get(SIGNATURE_HEADER)):
        return 401
    try:
        events = parse_webhook(body)
    except WebhookFormatError:
        return 400
    ...  # persist, reply 200 quickly, process asynchronously; dedupe by wamid / (wamid, status)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Final

__all__ = [
    "EVENT_TYPES",
    "OBJECT_WABA",
    "SIGNATURE_HEADER",
    "AccountUpdateEvent",
    "ErrorDetail",
    "InboundMessage",
    "PhoneNumberNameEvent",
    "PhoneNumberQualityEvent",
    "StatusEvent",
    "TemplateCategoryEvent",
    "TemplateQualityEvent",
    "TemplateStatusEvent",
    "UnknownEvent",
    "ValueErrorsEvent",
    "WebhookEvent",
    "WebhookFormatError",
    "answer_challenge",
    "parse_envelope",
    "parse_webhook",
    "sign",
    "verify_signature",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
# The webhook self-test's synthetic status events carry wamids with this prefix, so a receiver
# can accept them (the probe checks that) without recording them as real messages.
SELF_TEST_WAMID_PREFIX: Final = "wamid.WA-CONSOLE-SELF-TEST-"
OBJECT_WABA: Final = "whatsapp_business_account"
_PREFIX: Final = "sha256="
_HEADER_LEN: Final = len(_PREFIX) + 64  # sha256= + 64 lowercase hex digits
_LOWER_HEX: Final = "0123456789abcdef"
_MEDIA_TYPES: Final = frozenset({"image", "audio", "video", "document", "sticker"})
_PARSER_ERROR: Final = "parser error: "  # prefix of UnknownEvent.reason when a bug was contained


# --------------------------------------------------------------------------------------------
# Signature and handshake


def sign(app_secret: str, raw_body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for `raw_body`: `sha256=` + lowercase hex."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """True only when `header` is exactly `sha256=<64 lowercase hex>` and matches `raw_body`.

    Strict on purpose: Meta sends the lowercase `hexdigest()`, so a missing header, another
    algorithm prefix (`sha1=`), a different case (`SHA256=`, uppercase hex), surrounding
    whitespace, a wrong length or non-hex digits are all refused before any HMAC is computed.
    The MAC is compared with `hmac.compare_digest`. `raw_body` must be the exact bytes received:
    a re-serialised body (`json.dumps(json.loads(raw))`) has a different MAC. An empty app secret
    never verifies anything.
    """
    if (not app_secret or type(header) is not str or len(header) != _HEADER_LEN
            or not header.startswith(_PREFIX)):
        return False
    received = header[len(_PREFIX):]
    if received.strip(_LOWER_HEX):  # something other than lowercase hex digits is left over
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def answer_challenge(params: dict[str, str], verify_token: str) -> tuple[int, str]:
    """The reply to Meta's GET handshake: (200, challenge) or (403, "").

    200 only when `hub.mode` is `subscribe`, `hub.challenge` is a non-empty string (echoed back
    exactly, to be sent as `text/plain`) and `hub.verify_token` equals the configured token
    (constant-time compare). An empty configured token never matches.

    Args:
        params: the query parameters (`hub.mode`, `hub.verify_token`, `hub.challenge`).
        verify_token: the configured verify token.
    """
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if (mode == "subscribe" and type(challenge) is str and challenge
            and type(token) is str and verify_token
            and hmac.compare_digest(token.encode("utf-8", "surrogatepass"),
                                    verify_token.encode("utf-8", "surrogatepass"))):
        return 200, challenge
    return 403, ""


# --------------------------------------------------------------------------------------------
# Typed events. `raw` is the dict the event was read from (the status/message item, or the
# change `value`); it is left out of ==, hash and repr (it can hold personal data).


class WebhookFormatError(ValueError):
    """The body is not a WhatsApp Business Account webhook envelope at all."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorDetail:
    """One item of an `errors[]` array (status-level, message-level or value-level)."""

    code: int | None
    title: str | None = None
    message: str | None = None
    details: str | None = None  # error_data.details
    href: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent:
    """An outbound message changed state (`statuses[]` of field `messages`).

    `status` is Meta's string verbatim (`sent`, `delivered`, `read`, `failed`, `played`, ... and
    whatever comes next). Statuses can arrive duplicated and out of order.
    """

    wamid: str
    status: str
    timestamp: int | None
    recipient_id: str | None
    waba_id: str | None
    phone_number_id: str | None
    display_phone_number: str | None
    errors: tuple[ErrorDetail, ...] = ()
    conversation_id: str | None = None
    conversation_origin: str | None = None  # conversation.origin.type
    conversation_expiration: int | None = None  # conversation.expiration_timestamp
    billable: bool | None = None  # pricing.billable
    pricing_model: str | None = None  # CBP / PMP / ...
    pricing_category: str | None = None
    recipient_user_id: str | None = None  # contacts[].user_id (BSUID), when Meta sends one
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def error(self) -> ErrorDetail | None:
        """The first error (what to show for a `failed` status), or None."""
        return self.errors[0] if self.errors else None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A message a WhatsApp user sent to one of our numbers (`messages[]` of field `messages`).

    `type` is Meta's string verbatim; the type-specific fields are filled for the types that have
    them (text; button; interactive button_reply/list_reply; image/audio/video/document/sticker)
    and stay None otherwise: everything else is in `raw`. `context_id` is the wamid of *our*
    message the user replied to (also set when they tap a quick-reply button of our template).
    """

    wamid: str
    from_wa_id: str | None
    contact_name: str | None
    timestamp: int | None
    type: str
    waba_id: str | None
    phone_number_id: str | None
    display_phone_number: str | None
    text: str | None = None  # text.body
    button_payload: str | None = None  # button.payload (template quick reply)
    button_text: str | None = None  # button.text
    interactive_type: str | None = None  # interactive.type (button_reply, list_reply, nfm_reply..)
    reply_id: str | None = None  # interactive.button_reply.id / list_reply.id
    reply_title: str | None = None  # interactive.button_reply.title / list_reply.title
    reply_description: str | None = None  # interactive.list_reply.description
    media_id: str | None = None
    media_mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None  # document.filename
    context_id: str | None = None  # context.id: the wamid this message answers
    context_from: str | None = None  # context.from
    errors: tuple[ErrorDetail, ...] = ()  # message-level errors (e.g. type "unsupported")
    user_id: str | None = None  # contacts[].user_id: the sender's BSUID, when Meta sends one
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateStatusEvent:
    """`message_template_status_update`: a template was approved, rejected, paused, ...

    `template_id` is a string although Meta sends a JSON number (IDs can exceed 2**53).
    """

    event: str | None
    template_id: str | None
    name: str | None
    language: str | None
    category: str | None = None
    reason: str | None = None
    rejection_info: dict[str, Any] | None = field(default=None, hash=False)
    waba_id: str | None = None
    time: int | None = None  # entry.time
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateQualityEvent:
    """`message_template_quality_update`: a template's quality score changed."""

    previous_quality_score: str | None
    new_quality_score: str | None
    template_id: str | None
    name: str | None
    language: str | None
    waba_id: str | None = None
    time: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateCategoryEvent:
    """`template_category_update`: Meta (re)categorised a template.

    `previous_category` may be absent (pywa's fixture has only `new_category`); newer payloads
    announcing a future change carry `correct_category` instead.
    """

    previous_category: str | None
    new_category: str | None
    template_id: str | None
    name: str | None
    language: str | None
    correct_category: str | None = None
    waba_id: str | None = None
    time: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberQualityEvent:
    """`phone_number_quality_update`: a number was flagged/unflagged or its messaging tier moved.

    The limit fields are kept as given (strings like `TIER_1K`, or numbers in older payloads).
    """

    display_phone_number: str | None
    event: str | None
    current_limit: str | int | None = None
    old_limit: str | int | None = None
    max_daily_conversation_per_phone: str | int | None = None
    max_daily_conversations_per_business: str | int | None = None
    waba_id: str | None = None
    time: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberNameEvent:
    """`phone_number_name_update`: Meta decided on a requested display name."""

    display_phone_number: str | None
    decision: str | None
    requested_verified_name: str | None
    rejection_reason: str | None = None
    waba_id: str | None = None
    time: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateEvent:
    """`account_update`, `account_review_update` or `account_alerts` (see `field`).

    `event` (account_update), `decision` (account_review_update) and the `alert_*` fields
    (account_alerts; shape unconfirmed) are read when present; the rest stays in `raw`.
    """

    field: str
    event: str | None = None
    decision: str | None = None
    alert_type: str | None = None
    alert_severity: str | None = None
    alert_status: str | None = None
    waba_id: str | None = None
    time: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueErrorsEvent:
    """A value-level `errors[]` array (Meta could not deliver/parse something for this number)."""

    field: str
    errors: tuple[ErrorDetail, ...]
    waba_id: str | None = None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """Anything the parser does not understand, kept whole so nothing is lost.

    `field` is the change's field (None when the entry/change itself was malformed), `value`
    the JSON value that could not be typed, and `reason` a short human explanation.
    """

    field: str | None
    value: Any = field(hash=False)
    reason: str = ""
    waba_id: str | None = None


type WebhookEvent = (
    StatusEvent | InboundMessage | TemplateStatusEvent | TemplateQualityEvent
    | TemplateCategoryEvent | PhoneNumberQualityEvent | PhoneNumberNameEvent
    | AccountUpdateEvent | ValueErrorsEvent | UnknownEvent
)
# The same classes for isinstance() (a `type` alias cannot be used there).
EVENT_TYPES: Final = (
    StatusEvent, InboundMessage, TemplateStatusEvent, TemplateQualityEvent,
    TemplateCategoryEvent, PhoneNumberQualityEvent, PhoneNumberNameEvent,
    AccountUpdateEvent, ValueErrorsEvent, UnknownEvent,
)


# --------------------------------------------------------------------------------------------
# Parsing


def _fast_constructor(cls: type[Any]) -> Callable[..., Any]:
    """A positional constructor for the frozen slots dataclass `cls`, for the hot path.

    `dataclass(frozen=True)` makes `__init__` store every field through `object.__setattr__`,
    several times slower than a plain slot store; with ~20 fields that was the biggest cost of
    parsing a status. The constructor returned here is a twin class with the very same
    `__slots__` whose `__init__` does plain stores and then sets `self.__class__ = cls` (allowed:
    identical layout). What comes out is an ordinary, frozen `cls` instance: the same ==, hash,
    repr and immutability as one made by `cls(...)` (tests hold that). Arguments: every field,
    positionally, in `dataclasses.fields(cls)` order.
    """
    names = [f.name for f in fields(cls)]
    if tuple(names) != cls.__slots__:
        raise TypeError(f"{cls.__name__}: fields and __slots__ differ")
    source = (f"def __init__(self, {', '.join(names)}):\n"
              + "".join(f"    self.{name} = {name}\n" for name in names)
              + "    self.__class__ = cls\n")
    namespace: dict[str, Any] = {"cls": cls}
    exec(source, namespace)
    return type(f"_{cls.__name__}Maker", (), {"__slots__": cls.__slots__,
                                              "__init__": namespace["__init__"]})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)
_WHITESPACE: Final = " \t\n\r"


def _loads(text: str) -> Any:
    """json.loads, minus its two whitespace regex passes for the usual compact body."""
    if text and text[0] not in _WHITESPACE:
        doc, end = _DECODER.raw_decode(text)
        if end == len(text):
            return doc
    return _DECODER.decode(text)  # leading/trailing whitespace, extra data, empty: the full path


def parse_webhook(raw_body: bytes) -> list[WebhookEvent]:
    """Parse one POST body into events. Raises `WebhookFormatError` for a body that is not
    UTF-8 JSON, not an object, or not a `whatsapp_business_account` envelope.

    Verify the signature on these same bytes first (`verify_signature`).
    """
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        raise TypeError(f"raw_body must be the request body bytes, not {type(raw_body).__name__}")
    try:
        text = str(raw_body, "utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookFormatError(f"webhook body is not UTF-8 ({exc.reason} at byte "
                                 f"{exc.start})") from None
    try:
        doc = _loads(text)
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity
        raise WebhookFormatError(f"webhook body is not valid JSON: {exc}") from None
    except RecursionError:
        raise WebhookFormatError("webhook body is not valid JSON: nested too deeply") from None
    return parse_envelope(doc)


def parse_envelope(doc: dict[str, Any]) -> list[WebhookEvent]:
    """Parse an already-decoded envelope `{object, entry: [{id, time?, changes: [...]}]}`.

    Raises `WebhookFormatError` when `doc` is not an object, `object` is not
    `whatsapp_business_account`, or `entry` is not a list. Never raises for anything inside the
    entries: malformed parts become `UnknownEvent`s. Inner objects are expected to be plain
    dicts/lists as `json.loads` makes them.
    """
    if not isinstance(doc, dict):
        raise WebhookFormatError(f"webhook body must be a JSON object, not {_json_kind(doc)}")
    obj = doc.get("object")
    if obj != OBJECT_WABA:
        raise WebhookFormatError(f"webhook object is {obj!r}, expected {OBJECT_WABA!r}"
                                 if type(obj) is str else
                                 f"webhook has no 'object': {OBJECT_WABA!r} expected")
    entries = doc.get("entry")
    if type(entries) is not list:
        raise WebhookFormatError(f"webhook 'entry' must be a list, not {_json_kind(entries)}")
    out: list[WebhookEvent] = []
    parsers = _FIELD_PARSERS
    for entry in entries:
        if type(entry) is not dict:
            out.append(UnknownEvent(field=None, value=entry, reason="entry is not an object"))
            continue
        waba_id = _id(entry.get("id"))
        changes = entry.get("changes")
        if type(changes) is not list:
            out.append(UnknownEvent(field=None, value=entry, waba_id=waba_id,
                                    reason="entry.changes is not a list"))
            continue
        time = _int(entry.get("time"))
        for change in changes:
            if type(change) is not dict:
                out.append(UnknownEvent(field=None, value=change, waba_id=waba_id,
                                        reason="change is not an object"))
                continue
            fld = change.get("field")
            value = change.get("value")
            if type(fld) is not str:
                out.append(UnknownEvent(field=None, value=change, waba_id=waba_id,
                                        reason="change.field is not a string"))
                continue
            parser = parsers.get(fld)
            if parser is None:
                out.append(UnknownEvent(field=fld, value=value, waba_id=waba_id,
                                        reason="field not handled"))
                continue
            if type(value) is not dict:
                out.append(UnknownEvent(field=fld, value=value, waba_id=waba_id,
                                        reason="change.value is not an object"))
                continue
            mark = len(out)
            try:
                parser(fld, value, waba_id, time, out)
            except Exception as exc:  # a parser bug must not lose the rest of the batch
                log.error("webhook field %r could not be parsed (%s); kept as UnknownEvent",
                          fld, type(exc).__name__)
                del out[mark:]
                out.append(UnknownEvent(field=fld, value=value, waba_id=waba_id,
                                        reason=f"{_PARSER_ERROR}{exc!r}"))
    return out


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


# Small coercions. Deliberately no isinstance (bool is an int), no regexes: straight type checks.

def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _id(value: Any) -> str | None:
    """IDs as strings: Meta sends most as strings, some (template ids) as JSON numbers."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    return None


def _int(value: Any) -> int | None:
    """Unix timestamps and codes: Meta sends strings ("1730000000") or numbers."""
    if type(value) is int:
        return value
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _scalar(value: Any) -> str | int | None:
    return value if type(value) is str or type(value) is int else None


def _errors(items: Any) -> tuple[ErrorDetail, ...]:
    if type(items) is not list:
        return ()
    result = []
    for item in items:
        if type(item) is not dict:
            continue
        data = item.get("error_data")
        result.append(ErrorDetail(
            code=_int(item.get("code")),
            title=_str(item.get("title")),
            message=_str(item.get("message")),
            details=_str(data.get("details")) if type(data) is dict else None,
            href=_str(item.get("href")),
        ))
    return tuple(result)


type _Out = list[WebhookEvent]


def _messages_field(fld: str, value: dict[str, Any], waba_id: str | None, _time: int | None,
                    out: _Out) -> None:
    metadata = value.get("metadata")
    if type(metadata) is dict:
        phone_number_id = _id(metadata.get("phone_number_id"))
        display = _id(metadata.get("display_phone_number"))
    else:
        phone_number_id = display = None
    seen = False
    contacts = _contacts(value.get("contacts"))

    statuses = value.get("statuses")
    if statuses is not None:
        seen = True
        if type(statuses) is list:
            for item in statuses:
                out.append(_status(item, contacts, waba_id, phone_number_id, display, fld))
        else:
            out.append(UnknownEvent(field=fld, value=statuses, waba_id=waba_id,
                                    reason="statuses is not a list"))

    messages = value.get("messages")
    if messages is not None:
        seen = True
        if type(messages) is list:
            for item in messages:
                out.append(_message(item, contacts, waba_id, phone_number_id, display, fld))
        else:
            out.append(UnknownEvent(field=fld, value=messages, waba_id=waba_id,
                                    reason="messages is not a list"))

    errors = value.get("errors")
    if errors is not None:
        seen = True
        details = _errors(errors)
        if details:
            out.append(ValueErrorsEvent(field=fld, errors=details, waba_id=waba_id,
                                        phone_number_id=phone_number_id,
                                        display_phone_number=display, raw=value))
        else:
            out.append(UnknownEvent(field=fld, value=errors, waba_id=waba_id,
                                    reason="errors is not a list of objects"))

    if not seen:
        out.append(UnknownEvent(field=fld, value=value, waba_id=waba_id,
                                reason="no statuses, messages or errors"))


def _status(item: Any, contacts: dict[str | None, tuple[str | None, str | None]],
            waba_id: str | None, phone_number_id: str | None, display: str | None,
            fld: str) -> WebhookEvent:
    if type(item) is not dict:
        return UnknownEvent(field=fld, value=item, waba_id=waba_id,
                            reason="status is not an object")
    wamid = item.get("id")
    status = item.get("status")
    if type(wamid) is not str or type(status) is not str:
        return UnknownEvent(field=fld, value=item, waba_id=waba_id,
                            reason="status without a string id and status")
    conversation = item.get("conversation")
    if type(conversation) is dict:
        conversation_id = _str(conversation.get("id"))
        origin = conversation.get("origin")
        conversation_origin = _str(origin.get("type")) if type(origin) is dict else None
        expiration = _int(conversation.get("expiration_timestamp"))
    else:
        conversation_id = conversation_origin = expiration = None
    pricing = item.get("pricing")
    if type(pricing) is dict:
        billable = pricing.get("billable")
        if type(billable) is not bool:
            billable = None
        pricing_model = _str(pricing.get("pricing_model"))
        pricing_category = _str(pricing.get("category"))
    else:
        billable = pricing_model = pricing_category = None
    errors = item.get("errors")
    recipient_id = _id(item.get("recipient_id"))
    return _new_status(  # positional, in StatusEvent's field order
        wamid,
        status,
        _int(item.get("timestamp")),  # timestamp
        recipient_id,
        waba_id,
        phone_number_id,
        display,  # display_phone_number
        _errors(errors) if errors is not None else (),  # errors
        conversation_id,
        conversation_origin,
        expiration,  # conversation_expiration
        billable,
        pricing_model,
        pricing_category,
        (contacts.get(recipient_id) or contacts.get(None) or _NO_CONTACT)[1]
        if contacts else None,  # recipient_user_id
        item,  # raw
    )


_NO_CONTACT: Final = (None, None)
_new_status: Final = _fast_constructor(StatusEvent)
_new_message: Final = _fast_constructor(InboundMessage)


def _contacts(contacts: Any) -> dict[str | None, tuple[str | None, str | None]]:
    """wa_id → (profile name, BSUID). The key None holds the only contact of a 1-contact list."""
    if type(contacts) is not list or not contacts:
        return {}
    if len(contacts) == 1 and type(contact := contacts[0]) is dict:  # the usual case
        profile = contact.get("profile")
        pair = (_str(profile.get("name")) if type(profile) is dict else None,
                _str(contact.get("user_id")))
        return {_id(contact.get("wa_id")): pair, None: pair}
    result: dict[str | None, tuple[str | None, str | None]] = {}
    pair = _NO_CONTACT
    for contact in contacts:
        if type(contact) is not dict:
            continue
        profile = contact.get("profile")
        pair = (_str(profile.get("name")) if type(profile) is dict else None,
                _str(contact.get("user_id")))
        wa_id = _id(contact.get("wa_id"))
        if wa_id is not None:
            result[wa_id] = pair
    if len(contacts) == 1:
        result[None] = pair  # the sender, even when `from` is formatted differently
    return result


def _message(item: Any, contacts: dict[str | None, tuple[str | None, str | None]],
             waba_id: str | None, phone_number_id: str | None, display: str | None,
             fld: str) -> WebhookEvent:
    if type(item) is not dict:
        return UnknownEvent(field=fld, value=item, waba_id=waba_id,
                            reason="message is not an object")
    wamid = item.get("id")
    mtype = item.get("type")
    if type(wamid) is not str or type(mtype) is not str:
        return UnknownEvent(field=fld, value=item, waba_id=waba_id,
                            reason="message without a string id and type")
    from_wa_id = _id(item.get("from"))
    name, user_id = contacts.get(from_wa_id) or contacts.get(None) or _NO_CONTACT

    text = button_payload = button_text = interactive_type = None
    reply_id = reply_title = reply_description = None
    media_id = media_mime_type = caption = filename = None
    body = item.get(mtype)
    if type(body) is dict:
        if mtype == "text":
            text = _str(body.get("body"))
        elif mtype in _MEDIA_TYPES:
            media_id = _id(body.get("id"))
            media_mime_type = _str(body.get("mime_type"))
            caption = _str(body.get("caption"))
            filename = _str(body.get("filename"))
        elif mtype == "button":
            button_payload = _str(body.get("payload"))
            button_text = _str(body.get("text"))
        elif mtype == "interactive":
            interactive_type = _str(body.get("type"))
            reply = body.get(interactive_type) if interactive_type else None
            if type(reply) is dict:
                reply_id = _str(reply.get("id"))
                reply_title = _str(reply.get("title"))
                reply_description = _str(reply.get("description"))

    context = item.get("context")
    if type(context) is dict:
        context_id = _str(context.get("id"))
        context_from = _id(context.get("from"))
    else:
        context_id = context_from = None
    errors = item.get("errors")
    return _new_message(  # positional, in InboundMessage's field order
        wamid,
        from_wa_id,
        name,  # contact_name
        _int(item.get("timestamp")),  # timestamp
        mtype,  # type
        waba_id,
        phone_number_id,
        display,  # display_phone_number
        text,
        button_payload,
        button_text,
        interactive_type,
        reply_id,
        reply_title,
        reply_description,
        media_id,
        media_mime_type,
        caption,
        filename,
        context_id,
        context_from,
        _errors(errors) if errors is not None else (),  # errors
        user_id,
        item,  # raw
    )


def _template_status(_fld: str, value: dict[str, Any], waba_id: str | None, time: int | None,
                     out: _Out) -> None:
    info = value.get("rejection_info")
    out.append(TemplateStatusEvent(
        event=_str(value.get("event")),
        template_id=_id(value.get("message_template_id")),
        name=_str(value.get("message_template_name")),
        language=_str(value.get("message_template_language")),
        category=_str(value.get("message_template_category")),
        reason=_str(value.get("reason")),
        rejection_info=info if type(info) is dict else None,
        waba_id=waba_id, time=time, raw=value,
    ))


def _template_quality(_fld: str, value: dict[str, Any], waba_id: str | None, time: int | None,
                      out: _Out) -> None:
    out.append(TemplateQualityEvent(
        previous_quality_score=_str(value.get("previous_quality_score")),
        new_quality_score=_str(value.get("new_quality_score")),
        template_id=_id(value.get("message_template_id")),
        name=_str(value.get("message_template_name")),
        language=_str(value.get("message_template_language")),
        waba_id=waba_id, time=time, raw=value,
    ))


def _template_category(_fld: str, value: dict[str, Any], waba_id: str | None,
                       time: int | None, out: _Out) -> None:
    out.append(TemplateCategoryEvent(
        previous_category=_str(value.get("previous_category")),
        new_category=_str(value.get("new_category")),
        template_id=_id(value.get("message_template_id")),
        name=_str(value.get("message_template_name")),
        language=_str(value.get("message_template_language")),
        correct_category=_str(value.get("correct_category")),
        waba_id=waba_id, time=time, raw=value,
    ))


def _phone_quality(_fld: str, value: dict[str, Any], waba_id: str | None, time: int | None,
                   out: _Out) -> None:
    out.append(PhoneNumberQualityEvent(
        display_phone_number=_id(value.get("display_phone_number")),
        event=_str(value.get("event")),
        current_limit=_scalar(value.get("current_limit")),
        old_limit=_scalar(value.get("old_limit")),
        max_daily_conversation_per_phone=_scalar(value.get("max_daily_conversation_per_phone")),
        max_daily_conversations_per_business=_scalar(
            value.get("max_daily_conversations_per_business")),
        waba_id=waba_id, time=time, raw=value,
    ))


def _phone_name(_fld: str, value: dict[str, Any], waba_id: str | None, time: int | None,
                out: _Out) -> None:
    out.append(PhoneNumberNameEvent(
        display_phone_number=_id(value.get("display_phone_number")),
        decision=_str(value.get("decision")),
        requested_verified_name=_str(value.get("requested_verified_name")),
        rejection_reason=_str(value.get("rejection_reason")),
        waba_id=waba_id, time=time, raw=value,
    ))


def _account(fld: str, value: dict[str, Any], waba_id: str | None, time: int | None,
             out: _Out) -> None:
    out.append(AccountUpdateEvent(
        field=fld,
        event=_str(value.get("event")),
        decision=_str(value.get("decision")),
        alert_type=_str(value.get("alert_type")),
        alert_severity=_str(value.get("alert_severity")),
        alert_status=_str(value.get("alert_status")),
        waba_id=waba_id, time=time, raw=value,
    ))


_FIELD_PARSERS: Final[dict[str, Callable[[str, dict[str, Any], str | None, int | None, _Out],
                                         None]]] = {
    "messages": _messages_field,
    "message_template_status_update": _template_status,
    "message_template_quality_update": _template_quality,
    "template_category_update": _template_category,
    "phone_number_quality_update": _phone_quality,
    "phone_number_name_update": _phone_name,
    "account_update": _account,
    "account_review_update": _account,
    "account_alerts": _account,
}
