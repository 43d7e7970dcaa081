"""The simulated Meta world behind the sandbox Graph API: business, WABAs, phone numbers, the
app and its webhook subscription, access tokens, message templates, sent messages.

Everything here is simulated (`simulated = True` on every record). One re-entrant lock
(`World.lock`) guards all state; the HTTP server calls in from many threads. Webhooks and
template reviews run later on the world's dispatcher thread; every webhook is signed with
`wa_console.meta.webhooks.sign` and the app secret, and every attempt is recorded in
`World.webhook_deliveries` (a failure never raises).
"""

from __future__ import annotations

import base64
import bisect
import json
import logging
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.meta.webhooks import sign
from wa_console.sandbox import templates as rules
from wa_console.sandbox.dispatch import Dispatcher
from wa_console.sandbox.errors import GraphError

log = logging.getLogger(__name__)

__all__ = [
    "App",
    "Business",
    "PhoneNumber",
    "SentMessage",
    "Template",
    "Token",
    "Waba",
    "WebhookDelivery",
    "World",
    "seeded_world",
]

GRAPH_VERSION = str(SANDBOX_VALUES["graph_api_version"])
SEED_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z: seeded timestamps are fixed for determinism
SCOPE_MANAGEMENT = "whatsapp_business_management"
SCOPE_MESSAGING = "whatsapp_business_messaging"
APP_FIELDS = ("messages", "message_template_status_update", "message_template_quality_update",
              "message_template_components_update", "template_category_update",
              "phone_number_quality_update", "phone_number_name_update", "account_update",
              "account_review_update", "account_alerts", "business_capability_update",
              "security")
# Webhook fields an override (phone number / WABA) can redirect (meta-api.md §b routing).
OVERRIDABLE_FIELDS = frozenset({"messages", "message_echoes", "calls", "history",
                                "account_settings_update"})
ERROR_TITLES = {
    131026: ("Message undeliverable", "Message Undeliverable."),
    131047: ("Re-engagement message", "Message failed to send because more than 24 hours have "
                                      "passed since the customer last replied to this number."),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.",
             "In order to maintain a healthy ecosystem engagement, the message failed to be "
             "delivered."),
    131050: ("Unable to deliver the message. This recipient has chosen to stop receiving "
             "marketing messages on WhatsApp from your business.",
             "Recipient stopped marketing messages."),
    131000: ("Something went wrong", "Something went wrong."),
    130472: ("User's number is part of an experiment", "Failed to send message because this "
                                                        "user's phone number is part of an "
                                                        "experiment"),
    131051: ("Message type unknown", "Message type is currently not supported."),
}
ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def digits(number: str) -> str:
    """`+1 (555) 123-4567` -> `15551234567`."""
    return re.sub(r"\D", "", number or "")


def graph_time(ts: float) -> str:
    """Graph's datetime format: `2025-01-06T09:00:00+0000`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ts))


# --- records ----------------------------------------------------------------------------------

@dataclass
class Business:
    id: str
    name: str
    verification_status: str = "verified"
    simulated: bool = True


@dataclass
class Waba:
    id: str
    name: str
    business_id: str
    timezone_id: str = "1"
    message_template_namespace: str = ""
    account_review_status: str = "APPROVED"
    business_verification_status: str = "VERIFIED"
    country: str = "US"
    ownership_type: str = "SELF_OWNED"
    currency: str = "USD"
    primary_business_location: str = "US"
    is_enabled_for_insights: bool = True
    subscribed_app_ids: list[str] = field(default_factory=list)
    override_callback_uri: str | None = None
    override_verify_token: str | None = None
    simulated: bool = True


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str  # formatted like Graph: "+1 555-010-0001"
    verified_name: str
    status: str = "CONNECTED"
    quality_rating: str = "GREEN"
    country_code: str = "US"
    country_dial_code: str = "1"
    code_verification_status: str = "VERIFIED"
    name_status: str = "APPROVED"
    unified_cert_status: str = "APPROVED"
    account_mode: str = "LIVE"
    host_platform: str = "CLOUD_API"
    platform_type: str = "CLOUD_API"
    messaging_limit_tier: str = "TIER_1K"
    is_official_business_account: bool = False
    username: str | None = None
    throughput_level: str = "STANDARD"
    last_onboarded_time: float = SEED_EPOCH
    is_pin_enabled: bool = True
    registered: bool = True
    override_callback_uri: str | None = None
    override_verify_token: str | None = None
    simulated: bool = True

    @property
    def digits(self) -> str:
        return digits(self.display_phone_number)


@dataclass
class App:
    id: str
    name: str
    secret: str
    verify_token: str
    subscription_fields: list[str] = field(default_factory=lambda: list(APP_FIELDS))
    # False: the subscription is listed with "active": false and delivers nothing.
    subscription_active: bool = True
    simulated: bool = True

    @property
    def link(self) -> str:
        return f"https://www.facebook.com/games/?app_id={self.id}"

    @property
    def access_token(self) -> str:
        return f"{self.id}|{self.secret}"


class Token(str):
    """An access token: the string itself is the bearer value; attributes describe it the way
    debug_token does. `error` = (subcode, message) for a token Graph refuses even if unexpired.
    """

    name: str
    type: str
    app_id: str
    user_id: str
    scopes: list[str]
    granular_scopes: dict[str, list[str] | None]
    issued_at: int
    expires_at: int
    data_access_expires_at: int
    error: tuple[int, str] | None
    simulated: bool

    def __new__(cls, value: str, *, name: str, type: str, app_id: str, user_id: str,
                scopes: list[str], granular_scopes: dict[str, list[str] | None],
                issued_at: int, expires_at: int, data_access_expires_at: int = 0,
                error: tuple[int, str] | None = None) -> Token:
        token = super().__new__(cls, value)
        token.name, token.type, token.app_id, token.user_id = name, type, app_id, user_id
        token.scopes, token.granular_scopes = list(scopes), dict(granular_scopes)
        token.issued_at, token.expires_at = issued_at, expires_at
        token.data_access_expires_at, token.error = data_access_expires_at, error
        token.simulated = True
        return token

    @property
    def value(self) -> str:
        return str.__str__(self)

    def expired(self, now: float) -> bool:
        return self.expires_at != 0 and self.expires_at <= now

    def granted(self, scope: str, waba_id: str) -> bool:
        if scope not in self.scopes:
            return False
        targets = self.granular_scopes.get(scope)
        return targets is None or waba_id in targets


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "APPROVED"
    parameter_format: str = "POSITIONAL"
    rejected_reason: str = "NONE"
    quality_score: dict[str, Any] | None = None
    previous_category: str | None = None
    sub_category: str | None = None
    created_at: float = SEED_EPOCH
    version: int = 0  # bumped by every edit; a pending review of an older version is dropped
    review_note: str | None = None  # why the review rejected it (simulated detail)
    simulated: bool = True


@dataclass
class SentMessage:
    wamid: str
    phone_number_id: str
    to: str  # as the caller sent it
    wa_id: str
    type: str
    category: str  # pricing category: marketing / utility / authentication / service
    at: float
    template_name: str | None = None
    template_language: str | None = None
    conversation_id: str = ""
    failed_code: int | None = None
    payload: dict[str, Any] = field(default_factory=dict, repr=False)
    simulated: bool = True


@dataclass
class WebhookDelivery:
    url: str
    status: int | None  # HTTP status of the receiver's answer; None when it failed
    body: bytes
    signature: str
    error: str | None
    field: str
    at: float
    attempt: int = 1
    simulated: bool = True


# --- the world --------------------------------------------------------------------------------

class World:
    """All simulated state. Build one with `seeded_world()`; tune the knobs as attributes.

    Knobs: `callback_url` (the app's webhook callback URL, as in the App Dashboard: the one
    place that decides it; GET /{app}/subscriptions and phone webhook_configuration report it,
    and app-routed webhooks go to it; None = the app has no callback, so it has no webhook
    subscription and nothing is sent to an app URL),
    `review_delay` (s before a created/edited template is reviewed; 0 = at once),
    `status_delays` ({"sent"|"delivered"|"read": s after the previous status}; None stops
    there), `fail_recipients` ({digits: error code} -> a failed status instead),
    `allowed_recipients` (set of digits; others -> 131030 while `enforce_allow_list`),
    `refuse_extra_phone_fields`, `review_overrides` ({template name: (status, reason)}),
    `window_errors` ("sync": 131047 in the HTTP answer; "webhook": a failed status instead),
    `webhook_timeout`, `handshake_timeout`, `webhook_retry_delays`, `clock`.
    """

    simulated = True

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.graph_version = GRAPH_VERSION
        self.business = Business("0", "")
        self.wabas: dict[str, Waba] = {}
        self.phone_numbers: dict[str, PhoneNumber] = {}
        self.apps: dict[str, App] = {}
        self.tokens: dict[str, Token] = {}
        self.templates: dict[str, Template] = {}
        self._template_keys: dict[str, list[int]] = {}  # waba id -> sorted template ids
        self._deleted: dict[tuple[str, str, str], float] = {}  # (waba, name, lang) -> when
        self.sent: dict[str, SentMessage] = {}
        self.last_inbound: dict[tuple[str, str], float] = {}  # (phone id, wa_id) -> when
        self.allowed_recipients: set[str] = set()
        self.recipient_names: dict[str, str] = {}
        self.fail_recipients: dict[str, int] = {}
        self.enforce_allow_list = True
        self.callback_url: str | None = None
        self.review_delay = 0.5
        self.review_overrides: dict[str, tuple[str, str]] = {}
        self.status_delays: dict[str, float | None] = {"sent": 0.0, "delivered": 0.05,
                                                        "read": 0.05}
        self.window_errors = "sync"
        self.refuse_extra_phone_fields = False
        self.name_reuse_block_seconds = 0.0  # Meta blocks re-creating a deleted name+language
        self.webhook_timeout = 5.0
        self.handshake_timeout = 3.0
        self.webhook_retry_delays: tuple[float, ...] = ()
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.clock: Callable[[], float] = time.time
        self.main_waba_id = ""
        self.main_phone_number_id = ""
        self.app_id = ""
        self._next_template_id = 0
        self._dispatcher = Dispatcher()

    # --- lookups ------------------------------------------------------------------------
    @property
    def app(self) -> App:
        return self.apps[self.app_id]

    def token_by_value(self, value: str) -> Token | None:
        with self.lock:
            for token in self.tokens.values():
                if token.value == value:
                    return token
        return None

    def node(self, object_id: str) -> tuple[str, Any] | None:
        """("waba"|"phone"|"template"|"app"|"business", record) or None."""
        with self.lock:
            if object_id in self.wabas:
                return "waba", self.wabas[object_id]
            if object_id in self.phone_numbers:
                return "phone", self.phone_numbers[object_id]
            if object_id in self.templates:
                return "template", self.templates[object_id]
            if object_id in self.apps:
                return "app", self.apps[object_id]
            if object_id == self.business.id:
                return "business", self.business
        return None

    def phones_of(self, waba_id: str) -> list[PhoneNumber]:
        with self.lock:
            return sorted((p for p in self.phone_numbers.values() if p.waba_id == waba_id),
                          key=lambda p: int(p.id))

    def templates_of(self, waba_id: str) -> list[Template]:
        """The WABA's templates in ID order (the listing order)."""
        with self.lock:
            return [self.templates[str(k)] for k in self._template_keys.get(waba_id, [])]

    def template_keys(self, waba_id: str) -> list[int]:
        """The WABA's template IDs as ints, ascending (a copy)."""
        with self.lock:
            return list(self._template_keys.get(waba_id, []))

    def find_template(self, waba_id: str, name: str, language: str) -> Template | None:
        with self.lock:
            for t in self.templates_of(waba_id):
                if t.name == name and t.language == language:
                    return t
        return None

    def is_allowed(self, number: str) -> bool:
        return not self.enforce_allow_list or digits(number) in self.allowed_recipients

    def window_open(self, phone_number_id: str, wa_id: str) -> bool:
        with self.lock:
            last = self.last_inbound.get((phone_number_id, wa_id))
        return last is not None and self.clock() - last < 24 * 3600

    # --- templates --------------------------------------------------------------------------
    def add_template(self, template: Template) -> Template:
        with self.lock:
            self.templates[template.id] = template
            bisect.insort(self._template_keys.setdefault(template.waba_id, []),
                          int(template.id))
            self._next_template_id = max(self._next_template_id, int(template.id))
        return template

    def _new_template_id(self) -> str:
        with self.lock:
            self._next_template_id += random.randint(1, 997)
            return str(self._next_template_id)

    def create_template(self, waba_id: str, body: dict[str, Any]) -> Template:
        """POST /{waba}/message_templates: checks the request, stores it PENDING, schedules
        the review. Raises GraphError (code 100) for requests Meta refuses at once."""
        name = rules.validate_name(body.get("name"))
        language = rules.validate_language(body.get("language"))
        category = rules.validate_category(body.get("category"))
        parameter_format = rules.validate_parameter_format(body.get("parameter_format"))
        components = rules.normalise_components(body.get("components"), category)
        with self.lock:
            if self.find_template(waba_id, name, language) is not None:
                raise GraphError.invalid_param(
                    "Invalid parameter", subcode=2388024,
                    user_title="Content in This Language Already Exists",
                    user_msg=f"There's already {language} content for this template. You can "
                             "create a new template and try again.")
            deleted = self._deleted.get((waba_id, name, language))
            if deleted is not None and self.clock() - deleted < self.name_reuse_block_seconds:
                raise GraphError.invalid_param(
                    "Invalid parameter", subcode=2388023,
                    user_title="Message Template Language Is Being Deleted",
                    user_msg=f"New {language} content can't be added while the existing "
                             f"{language} content is being deleted. Try again in 4 weeks or "
                             "consider creating a new message template.")
            template = self.add_template(Template(
                id=self._new_template_id(), waba_id=waba_id, name=name, language=language,
                category=category, components=components, status="PENDING",
                parameter_format=parameter_format, quality_score={"score": "UNKNOWN"},
                created_at=self.clock()))
        self._schedule_review(template)
        return template

    def edit_template(self, template_id: str, body: dict[str, Any]) -> Template:
        """POST /{template-id}: new components and/or category; back to PENDING and review."""
        with self.lock:
            template = self.templates.get(template_id)
            if template is None:  # deleted meanwhile
                raise GraphError.unsupported("POST", template_id)
            if template.status not in ("APPROVED", "REJECTED", "PAUSED"):
                raise GraphError.invalid_param(
                    "Invalid parameter", subcode=2388025,
                    user_title="Template can't be edited",
                    user_msg=f"Templates with status {template.status} can't be edited; only "
                             "APPROVED, REJECTED or PAUSED templates can.")
            for immutable in ("name", "language"):
                if immutable in body and body[immutable] != getattr(template, immutable):
                    raise GraphError.invalid_param(
                        "Invalid parameter", user_title=f"Template {immutable} can't be edited",
                        user_msg=f"The {immutable} of a message template can't be changed.")
            if "components" not in body and "category" not in body:
                raise GraphError.invalid_param(
                    "Invalid parameter", user_title="Nothing to edit",
                    user_msg="Send components and/or category to edit a template.")
            category = (rules.validate_category(body["category"]) if "category" in body
                        else template.category)
            parameter_format = (rules.validate_parameter_format(body["parameter_format"])
                                if "parameter_format" in body else template.parameter_format)
            components = (rules.normalise_components(body["components"], category)
                          if "components" in body else template.components)
            if category != template.category:
                template.previous_category = template.category
            template.category = category
            template.components = components
            template.parameter_format = parameter_format
            template.status = "PENDING"
            template.rejected_reason = "NONE"
            template.review_note = None
            template.version += 1
        self._schedule_review(template)
        return template

    def delete_template(self, waba_id: str, name: str, template_id: str | None) -> int:
        """DELETE /{waba}/message_templates?name=[&hsm_id=]; returns how many were deleted."""
        with self.lock:
            doomed = [t for t in self.templates_of(waba_id) if t.name == name
                      and (template_id is None or t.id == template_id)]
            for t in doomed:
                del self.templates[t.id]
                keys = self._template_keys[waba_id]
                del keys[bisect.bisect_left(keys, int(t.id))]
                self._deleted[(waba_id, t.name, t.language)] = self.clock()
            return len(doomed)

    def _schedule_review(self, template: Template) -> None:
        version = template.version
        if self.review_delay <= 0:
            self._review(template.id, version)
        else:
            self._dispatcher.schedule(self.review_delay,
                                      lambda _session: self._review(template.id, version))

    def _review(self, template_id: str, version: int) -> None:
        with self.lock:
            template = self.templates.get(template_id)
            if template is None or template.version != version or template.status != "PENDING":
                return
            override = self.review_overrides.get(template.name)
            problems = rules.review_problems(template.components, template.parameter_format,
                                             template.category)
            if override is not None:
                template.status, template.rejected_reason = override
            elif problems:
                template.status, template.rejected_reason = "REJECTED", "INVALID_FORMAT"
                template.review_note = "; ".join(problems)
            else:
                template.status, template.rejected_reason = "APPROVED", "NONE"
            value: dict[str, Any] = {
                "event": template.status,
                "message_template_id": int(template.id),
                "message_template_name": template.name,
                "message_template_language": template.language,
                "message_template_category": template.category,
                "reason": template.rejected_reason if template.status == "REJECTED" else "NONE",
            }
            if template.status == "REJECTED":
                value["rejection_info"] = {
                    "reason": template.rejected_reason,
                    "recommendation": template.review_note or "Review the template guidelines.",
                }
            waba_id = template.waba_id
        self.notify(waba_id, "message_template_status_update", value)

    # --- messages ---------------------------------------------------------------------------
    def send_message(self, phone: PhoneNumber, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /{phone-number-id}/messages after auth: validate like Meta, record, schedule
        the status webhooks, return the MessageResponse."""
        product = payload.get("messaging_product")
        if product in (None, ""):
            raise GraphError.required("messaging_product")
        if product != "whatsapp":
            raise GraphError.invalid_param(
                f"Param messaging_product must be one of {{WHATSAPP}} - got \"{product}\".")
        to = payload.get("to")
        if to in (None, ""):
            raise GraphError.required("to")
        to = str(to)
        wa_id = digits(to)
        if not 7 <= len(wa_id) <= 15:
            raise GraphError(131009, "(#131009) Parameter value is not valid", messaging=True,
                             details=f"The phone number {to!r} is not a valid WhatsApp ID.")
        mtype = payload.get("type") or "text"
        if not phone.registered or phone.status == "PENDING":
            raise GraphError(133010, "(#133010) Account not registered", messaging=True,
                             details="The phone number is not registered on the WhatsApp "
                                     "Business Platform; call POST /{Phone-Number-ID}/register.")
        if wa_id == phone.digits:
            raise GraphError(131021, "(#131021) Recipient cannot be sender", messaging=True,
                             details="Sender and recipient phone number is the same.")
        if not self.is_allowed(to):
            raise GraphError(131030, "(#131030) Recipient phone number not in allowed list",
                             messaging=True,
                             details="Recipient phone number not in allowed list: Add "
                                     "recipient phone number to recipient list and try again.")
        template_name = template_language = None
        window_failure = False
        if mtype == "template":
            spec = payload.get("template")
            if not isinstance(spec, dict):
                raise GraphError.required("template")
            template_name = spec.get("name")
            language = spec.get("language")
            template_language = language.get("code") if isinstance(language, dict) else None
            if not template_name:
                raise GraphError.required("template['name']")
            if not template_language:
                raise GraphError.required("template['language']['code']")
            with self.lock:
                template = self.find_template(phone.waba_id, template_name, template_language)
                components = template.components if template else []
                status = template.status if template else None
                parameter_format = template.parameter_format if template else "POSITIONAL"
                category = template.category.lower() if template else ""
            if status == "PAUSED":
                raise GraphError(132015, "(#132015) Template is Paused", messaging=True,
                                 details=f"Template {template_name} is paused due to low "
                                         "quality, so it can't be sent in a template message.")
            if status == "DISABLED":
                raise GraphError(132016, "(#132016) Template is Disabled", messaging=True,
                                 details=f"Template {template_name} has been paused too many "
                                         "times due to low quality and is now permanently "
                                         "disabled.")
            if status != "APPROVED":
                raise GraphError(132001, "(#132001) Template name does not exist in the "
                                         "translation", messaging=True,
                                 details=f"template name ({template_name}) does not exist in "
                                         f"{template_language}")
            rules.check_send(components, parameter_format, spec.get("components"))
        else:
            content = payload.get(mtype)
            if mtype == "text":
                body = content.get("body") if isinstance(content, dict) else None
                if not isinstance(body, str) or not body:
                    raise GraphError.required("text['body']")
                if len(body) > 4096:
                    raise GraphError.invalid_param(
                        "Param text['body'] must be at most 4096 characters long.")
            elif mtype in ("image", "audio", "video", "document", "sticker", "location",
                           "contacts", "interactive", "reaction"):
                if not isinstance(content, (dict, list)):
                    raise GraphError.required(mtype)
            else:
                raise GraphError(131051, "(#131051) Unsupported message type", messaging=True,
                                 details=f"Message type {mtype!r} is not supported.")
            category = "service"
            if not self.window_open(phone.id, wa_id):
                if self.window_errors == "sync":
                    raise GraphError(131047, "(#131047) Re-engagement message", messaging=True,
                                     details=ERROR_TITLES[131047][1])
                window_failure = True
        now = self.clock()
        wamid = new_wamid(wa_id)
        with self.lock:
            failed_code = 131047 if window_failure else self.fail_recipients.get(wa_id)
            message = SentMessage(
                wamid=wamid, phone_number_id=phone.id, to=to, wa_id=wa_id, type=mtype,
                category=category, at=now, template_name=template_name,
                template_language=template_language, conversation_id=secrets.token_hex(16),
                failed_code=failed_code, payload=payload)
            self.sent[wamid] = message
        self._schedule_statuses(message)
        item: dict[str, Any] = {"id": wamid}
        if mtype == "template":
            item["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [item]}

    def _schedule_statuses(self, message: SentMessage) -> None:
        delays = dict(self.status_delays)
        if message.failed_code is not None:
            self._dispatcher.schedule(delays.get("sent") or 0.0,
                                      lambda _s: self._status(message, "failed"))
            return
        total = 0.0
        for status in ("sent", "delivered", "read"):
            delay = delays.get(status)
            if delay is None:
                break
            total += delay
            self._dispatcher.schedule(total, lambda _s, st=status: self._status(message, st))

    def _status(self, message: SentMessage, status: str) -> None:
        phone = self.phone_numbers.get(message.phone_number_id)
        if phone is None:
            return
        now = int(self.clock())
        item: dict[str, Any] = {"id": message.wamid, "status": status, "timestamp": str(now),
                                "recipient_id": message.wa_id}
        if status == "failed":
            code = message.failed_code or 131000
            title, details = ERROR_TITLES.get(code, ("Message failed", "Message failed."))
            item["errors"] = [{"code": code, "title": title, "message": title,
                               "error_data": {"details": details}, "href": ERROR_HREF}]
        else:
            billable = message.category != "service"
            conversation: dict[str, Any] = {"id": message.conversation_id,
                                            "origin": {"type": message.category}}
            if status == "sent":
                conversation["expiration_timestamp"] = str(int(message.at) + 24 * 3600)
            item["conversation"] = conversation
            item["pricing"] = {"billable": billable, "pricing_model": "PMP",
                               "category": message.category}
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": phone.digits,
                              "phone_number_id": phone.id},
                 "statuses": [item]}
        self.notify(phone.waba_id, "messages", value, phone=phone)

    # --- inbound ----------------------------------------------------------------------------
    def simulate_reply(self, wamid: str, text: str = "Got it, thanks") -> str:
        """The recipient of `wamid` answers it: a signed inbound `messages` webhook with
        `context {from, id: wamid}`; opens the 24 h window. Returns the inbound wamid."""
        with self.lock:
            message = self.sent.get(wamid)
            if message is None:
                raise KeyError(f"no message {wamid!r} was sent through the sandbox")
        return self.simulate_inbound(message.wa_id, text, message.phone_number_id,
                                     context_id=wamid)

    def simulate_inbound(self, from_number: str, text: str = "Hello",
                         phone_number_id: str | None = None,
                         context_id: str | None = None) -> str:
        """A WhatsApp user writes to one of our numbers (opens the 24 h window)."""
        wa_id = digits(from_number)
        with self.lock:
            phone = self.phone_numbers[phone_number_id or self.main_phone_number_id]
            now = self.clock()
            self.last_inbound[(phone.id, wa_id)] = now
            name = self.recipient_names.get(wa_id, "Test User (simulated)")
        inbound_id = new_wamid(wa_id, inbound=True)
        item: dict[str, Any] = {"from": wa_id, "id": inbound_id, "timestamp": str(int(now)),
                                "type": "text", "text": {"body": text}}
        if context_id is not None:
            item = {"context": {"from": phone.digits, "id": context_id}, **item}
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": phone.digits,
                              "phone_number_id": phone.id},
                 "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                 "messages": [item]}
        self._dispatcher.schedule(0, lambda _s: self.notify(phone.waba_id, "messages", value,
                                                            phone=phone))
        return inbound_id

    # --- webhooks ---------------------------------------------------------------------------
    def webhook_target(self, waba_id: str, field_name: str,
                       phone: PhoneNumber | None = None) -> str | None:
        """Where Meta would POST this field now (meta-api.md §b "Webhook routing")."""
        with self.lock:
            app = self.app
            waba = self.wabas.get(waba_id)
            if (waba is None or app.id not in waba.subscribed_app_ids
                    or not app.subscription_active
                    or field_name not in app.subscription_fields):
                return None
            if field_name in OVERRIDABLE_FIELDS:
                if phone is not None and phone.override_callback_uri:
                    return phone.override_callback_uri
                if waba.override_callback_uri:
                    return waba.override_callback_uri
            return self.callback_url

    def notify(self, waba_id: str, field_name: str, value: dict[str, Any],
               phone: PhoneNumber | None = None) -> None:
        """Queue one webhook POST (if anyone should get it)."""
        url = self.webhook_target(waba_id, field_name, phone)
        if not url:
            return
        entry: dict[str, Any] = {"id": waba_id}
        if field_name != "messages":
            entry["time"] = int(self.clock())
        entry["changes"] = [{"value": value, "field": field_name}]
        # Meta's bytes: compact, non-ASCII as \uXXXX and "/" as "\/", so a receiver that
        # re-serialises before checking the signature fails here as it would with Meta.
        body = json.dumps({"object": "whatsapp_business_account", "entry": [entry]},
                          separators=(",", ":")).replace("/", "\\/").encode("ascii")
        self._dispatcher.schedule(0, lambda session: self._post(session, url, body,
                                                                field_name, 1))

    def _post(self, session: requests.Session, url: str, body: bytes, field_name: str,
              attempt: int) -> None:
        signature = sign(self.app.secret, body)
        status: int | None = None
        error: str | None = None
        try:
            with session.post(url, data=body, timeout=self.webhook_timeout, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": signature,
                    "User-Agent": "facebookexternalua"}) as response:
                status = response.status_code
                _ = response.content
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # never let a receiver problem reach the worker
            error = f"{type(exc).__name__}: {exc}"
        with self.lock:
            self.webhook_deliveries.append(WebhookDelivery(
                url=url, status=status, body=body, signature=signature, error=error,
                field=field_name, at=self.clock(), attempt=attempt))
        if error is not None and attempt <= len(self.webhook_retry_delays):
            delay = self.webhook_retry_delays[attempt - 1]
            self._dispatcher.schedule(delay, lambda s: self._post(s, url, body, field_name,
                                                                  attempt + 1))

    def verify_callback(self, url: str, verify_token: str) -> str | None:
        """Meta's GET handshake against `url`; None when it echoed the challenge, else why
        not."""
        challenge = str(random.randint(10**8, 10**9 - 1))
        try:
            with requests.get(url, timeout=self.handshake_timeout, params={
                    "hub.mode": "subscribe", "hub.verify_token": verify_token,
                    "hub.challenge": challenge},
                    headers={"User-Agent": "facebookplatform/1.0"}) as response:
                if response.status_code != 200:
                    return f"the callback answered HTTP {response.status_code}"
                if response.text != challenge:
                    return "the callback did not echo hub.challenge"
        except requests.RequestException as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def wait_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until every scheduled review/webhook has run (False on timeout)."""
        return self._dispatcher.wait_idle(timeout)

    def close(self, timeout: float = 1.0) -> None:
        """Stop the background worker; pending reviews/webhooks are dropped (a webhook POST in
        flight is waited for at most `timeout` seconds, then left to finish on its own)."""
        self._dispatcher.stop(timeout)

    # --- determinism aid --------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A digest of the seeded content (IDs, templates, numbers, tokens); equal worlds from
        the same seed have equal fingerprints."""
        import hashlib
        with self.lock:
            data = {
                "wabas": sorted(self.wabas), "phones": sorted(self.phone_numbers),
                "tokens": sorted((k, v.value) for k, v in self.tokens.items()),
                "templates": [(t.id, t.waba_id, t.name, t.language, t.status, t.category,
                               t.parameter_format, t.rejected_reason, t.components)
                              for t in (self.templates[k] for k in sorted(self.templates))],
            }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def new_wamid(wa_id: str, inbound: bool = False) -> str:
    """A unique wamid shaped like Meta's (base64 of a protobuf-ish blob)."""
    raw = (b"\x18\x0b" + wa_id.encode() + b"\x15\x02\x00" + (b"\x12" if inbound else b"\x11")
           + b"\x18\x12" + uuid.uuid4().hex[:18].upper().encode() + b"\x00")
    return "wamid." + base64.b64encode(raw).decode()


# --- seeding ----------------------------------------------------------------------------------

_GREETINGS = {"en": "Hello", "pt": "Olá", "es": "Hola", "de": "Hallo", "fr": "Bonjour",
              "it": "Ciao", "nl": "Hallo", "id": "Halo", "hi": "Namaste", "ar": "مرحبا"}
_LANG_WEIGHTS = [("en_US", 34), ("en_GB", 8), ("pt_BR", 14), ("es", 10), ("es_MX", 5),
                 ("de", 7), ("fr", 6), ("it", 4), ("nl", 3), ("id", 3), ("hi", 3), ("ar", 3)]
_TOPICS = ["order", "shipping", "delivery", "payment", "invoice", "appointment", "booking",
           "account", "subscription", "renewal", "welcome", "feedback", "survey", "promo",
           "sale", "event", "reminder", "ticket", "support", "refund", "loyalty", "class",
           "course", "visit", "pickup", "return", "warranty", "membership", "donation", "store"]
_ACTIONS = ["update", "confirmation", "reminder", "notice", "alert", "receipt", "summary",
            "followup", "offer", "invite", "status", "change", "cancelled", "ready", "due"]
_MARKETING_TOPICS = {"promo", "sale", "loyalty", "event", "welcome", "membership", "store"}
_NAMED_POOL = ["first_name", "order_id", "due_date", "amount", "store_name", "city",
               "ticket_number", "plan_name"]
_EXAMPLES = {"first_name": "Ana", "order_id": "A-1001", "due_date": "Friday", "amount": "$25",
             "store_name": "Main St", "city": "Lisbon", "ticket_number": "T-77",
             "plan_name": "Plus"}
_REJECT_REASONS = ["INVALID_FORMAT", "PROMOTIONAL", "TAG_CONTENT_MISMATCH", "ABUSIVE_CONTENT",
                   "INCORRECT_CATEGORY", "SCAM"]
_HANDLE = "4::aW1hZ2UvanBlZw==:ARbSandboxSimulatedHandle:e:1767225600:300000000000003:1:ARa"
_HELLO_BODY = ("Welcome and congratulations!! This message demonstrates your ability to send a "
               "WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for "
               "taking the time to test with us.")


def _body(rng: random.Random, language: str, topic: str, action: str, names: list[str],
          named: bool) -> tuple[str, dict[str, Any] | None]:
    greet = _GREETINGS.get(language.split("_")[0], "Hello")
    var = [f"{{{{{n}}}}}" for n in names]
    if not names:
        return (f"{greet}, your {topic} {action} has been processed. Thank you for choosing "
                "us.", None)
    text = f"{greet} {var[0]}, this is a {topic} {action}."
    if len(var) > 1:
        text += f" Reference: {var[1]}."
    if len(var) > 2:
        text += f" Scheduled for {var[2]}."
    text += " Reply to this message if you need help."
    if named:
        return text, {"body_text_named_params": [
            {"param_name": n, "example": _EXAMPLES.get(n, "Sample")} for n in names]}
    samples = ["Ana", "A-1001", "Friday"]
    return text, {"body_text": [samples[:len(names)]]}


def _generated_template(rng: random.Random, waba_id: str, template_id: str, name: str,
                        language: str, topic: str, action: str) -> Template:
    roll = rng.random()
    if roll < 0.05:
        category = "AUTHENTICATION"
    elif topic in _MARKETING_TOPICS or roll < 0.2:
        category = "MARKETING"
    else:
        category = "UTILITY"
    roll = rng.random()
    if roll < 0.82:
        status = "APPROVED"
    elif roll < 0.89:
        status = "PENDING"
    elif roll < 0.95:
        status = "REJECTED"
    elif roll < 0.98:
        status = "PAUSED"
    else:
        status = "DISABLED"
    if category == "AUTHENTICATION":
        components = _auth_components()
        parameter_format = "POSITIONAL"
    else:
        named = rng.random() < 0.3
        parameter_format = "NAMED" if named else "POSITIONAL"
        count = rng.choice([0, 1, 1, 2, 2, 2, 3])
        names = rng.sample(_NAMED_POOL, count) if named else [str(i + 1) for i in range(count)]
        components = []
        header_roll = rng.random()
        if header_roll < 0.2:
            components.append({"type": "HEADER", "format": "TEXT",
                               "text": f"{topic.title()} {action}"})
        elif header_roll < 0.4:
            hname = "ref" if named else "1"
            example = ({"header_text_named_params": [{"param_name": hname, "example": "A-1"}]}
                       if named else {"header_text": ["A-1"]})
            components.append({"type": "HEADER", "format": "TEXT",
                               "text": f"{topic.title()} {{{{{hname}}}}}", "example": example})
        elif header_roll < 0.55:
            components.append({"type": "HEADER", "format": "IMAGE",
                               "example": {"header_handle": [_HANDLE]}})
        elif header_roll < 0.6:
            components.append({"type": "HEADER", "format": "DOCUMENT",
                               "example": {"header_handle": [_HANDLE]}})
        text, example = _body(rng, language, topic, action, names, named)
        body: dict[str, Any] = {"type": "BODY", "text": text}
        if example:
            body["example"] = example
        components.append(body)
        if rng.random() < 0.4:
            components.append({"type": "FOOTER", "text": "Reply STOP to opt out"})
        button_roll = rng.random()
        if button_roll < 0.3:
            components.append({"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Yes"}, {"type": "QUICK_REPLY", "text": "No"}]})
        elif button_roll < 0.38:
            components.append({"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Open", "url": "https://example.com/t/{{1}}",
                 "example": ["https://example.com/t/abc"]}]})
        elif button_roll < 0.45:
            components.append({"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Website", "url": "https://example.com/"},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100001"}]})
    score = None
    if status in ("APPROVED", "PAUSED", "DISABLED"):
        score = {"score": "RED" if status != "APPROVED" else rng.choice(
            ["GREEN"] * 6 + ["YELLOW", "UNKNOWN"]), "date": SEED_EPOCH + rng.randint(0, 10**7)}
    elif status == "PENDING":
        score = {"score": "UNKNOWN"}
    return Template(
        id=template_id, waba_id=waba_id, name=name, language=language, category=category,
        components=components, status=status, parameter_format=parameter_format,
        rejected_reason=rng.choice(_REJECT_REASONS) if status == "REJECTED" else "NONE",
        quality_score=score,
        previous_category=("UTILITY" if category == "MARKETING" and rng.random() < 0.05
                           else None),
        created_at=SEED_EPOCH + rng.randint(0, 10**7))


def _auth_components() -> list[dict[str, Any]]:
    return [
        {"type": "BODY", "text": "*{{1}}* is your verification code. For your security, do not "
                                 "share this code.",
         "add_security_recommendation": True, "example": {"body_text": [["123456"]]}},
        {"type": "FOOTER", "text": "This code expires in 10 minutes.",
         "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Copy code",
             "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
             "example": ["https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp123456"]}]},
    ]


def _fixed_templates(waba_id: str) -> list[dict[str, Any]]:
    """Useful, always-present templates (the first IDs of the main WABA)."""
    return [
        dict(name="hello_world", language="en_US", category="UTILITY", components=[
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {"type": "BODY", "text": _HELLO_BODY},
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}]),
        dict(name="order_update", language="en_US", category="UTILITY", components=[
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
             "example": {"header_text": ["A-1001"]}},
            {"type": "BODY", "text": "Hi {{1}}, your order will arrive on {{2}}. Reply to this "
                                     "message if anything is wrong.",
             "example": {"body_text": [["Ana", "Friday"]]}},
            {"type": "FOOTER", "text": "Sandbox Store (simulated)"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Looks good"},
                                            {"type": "QUICK_REPLY", "text": "Change date"}]}]),
        dict(name="order_update", language="pt_BR", category="UTILITY", components=[
            {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}",
             "example": {"header_text": ["A-1001"]}},
            {"type": "BODY", "text": "Olá {{1}}, seu pedido chega em {{2}}. Responda esta "
                                     "mensagem se algo estiver errado.",
             "example": {"body_text": [["Ana", "sexta-feira"]]}},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Tudo certo"},
                                            {"type": "QUICK_REPLY", "text": "Mudar data"}]}]),
        dict(name="appointment_reminder", language="en_US", category="UTILITY",
             parameter_format="NAMED", components=[
                 {"type": "HEADER", "format": "TEXT", "text": "Appointment reminder"},
                 {"type": "BODY", "text": "Hello {{first_name}}, your appointment is on "
                                          "{{appointment_date}} at {{appointment_time}}. Reply "
                                          "to reschedule.",
                  "example": {"body_text_named_params": [
                      {"param_name": "first_name", "example": "Ana"},
                      {"param_name": "appointment_date", "example": "May 5"},
                      {"param_name": "appointment_time", "example": "9:30"}]}}]),
        dict(name="welcome_offer", language="en_US", category="MARKETING", components=[
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [_HANDLE]}},
            {"type": "BODY", "text": "Welcome {{1}}! Use code {{2}} for 10% off your first "
                                     "order.",
             "example": {"body_text": [["Ana", "WELCOME10"]]}},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Shop now", "url": "https://example.com/shop?c={{1}}",
                 "example": ["https://example.com/shop?c=WELCOME10"]}]}]),
        dict(name="verification_code", language="en_US", category="AUTHENTICATION",
             components=_auth_components()),
        dict(name="spring_sale", language="en_US", category="MARKETING", status="PAUSED",
             quality_score={"score": "RED", "date": SEED_EPOCH}, components=[
                 {"type": "BODY", "text": "Our spring sale starts today. Visit us soon!"}]),
        dict(name="draft_notice", language="en_US", category="UTILITY", status="PENDING",
             quality_score={"score": "UNKNOWN"}, components=[
                 {"type": "BODY", "text": "Our office is closed on public holidays."}]),
        dict(name="rejected_offer", language="en_US", category="MARKETING", status="REJECTED",
             rejected_reason="PROMOTIONAL", components=[
                 {"type": "BODY", "text": "Click now to win a free prize!!!"}]),
    ]


def seeded_world(templates: int = 200, seed: int = 0,
                 callback_url: str | None = None) -> World:
    """A deterministic world for `seed`, with `templates` generated templates on the main WABA
    (plus the fixed ones: hello_world, order_update en_US/pt_BR, appointment_reminder (NAMED),
    welcome_offer, verification_code, spring_sale (PAUSED), draft_notice (PENDING),
    rejected_offer (REJECTED)). IDs and credentials of the main WABA, phone number and app are
    exactly those of wa_console.core.sandbox_defaults. `callback_url`: the app's callback URL
    (default None: no app callback, so no webhook is sent until a test or the CLI sets one)."""
    if templates < 0:
        raise ValueError("templates must be >= 0")
    rng = random.Random(seed)
    world = World()
    waba_id = str(SANDBOX_VALUES["waba_id"])
    phone_id = str(SANDBOX_VALUES["phone_number_id"])
    app_id = str(SANDBOX_VALUES["app_id"])
    other_waba = "100000000000011"
    world.main_waba_id, world.main_phone_number_id, world.app_id = waba_id, phone_id, app_id
    world.business = Business("400000000000004", "Sandbox Business (simulated)")

    def namespace() -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}_{h[8:12]}_{h[12:16]}_{h[16:20]}_{h[20:32]}"

    world.wabas[waba_id] = Waba(
        id=waba_id, name="Sandbox WABA (simulated)", business_id=world.business.id,
        message_template_namespace=namespace(), subscribed_app_ids=[app_id])
    world.wabas[other_waba] = Waba(
        id=other_waba, name="Sandbox Partner WABA (simulated)", business_id=world.business.id,
        message_template_namespace=namespace(), account_review_status="PENDING",
        business_verification_status="UNVERIFIED", country="GB", currency="GBP",
        primary_business_location="GB", ownership_type="CLIENT_OWNED")
    display = str(SANDBOX_VALUES["display_phone_number"])  # "+15550100001"
    d = digits(display)
    main_display = f"+{d[0]} {d[1:4]}-{d[4:7]}-{d[7:]}" if len(d) == 11 else display
    for phone in [
        PhoneNumber(phone_id, waba_id, main_display, "Sandbox Store (simulated)",
                    last_onboarded_time=SEED_EPOCH + 5 * 86400),
        PhoneNumber("200000000000012", waba_id, "+1 555-010-0002",
                    "Sandbox Support (simulated)", quality_rating="UNKNOWN",
                    code_verification_status="NOT_VERIFIED", name_status="PENDING_REVIEW",
                    unified_cert_status="NAME_PENDING_REVIEW", account_mode="SANDBOX",
                    messaging_limit_tier="TIER_250", is_pin_enabled=False,
                    last_onboarded_time=SEED_EPOCH + 20 * 86400),
        PhoneNumber("200000000000013", waba_id, "+1 555-010-0003",
                    "Sandbox Outlet (simulated)", status="FLAGGED", quality_rating="RED",
                    messaging_limit_tier="TIER_250", throughput_level="STANDARD",
                    last_onboarded_time=SEED_EPOCH + 30 * 86400),
        PhoneNumber("200000000000014", waba_id, "+1 555-010-0004",
                    "Sandbox Kiosk (simulated)", status="PENDING", quality_rating="UNKNOWN",
                    code_verification_status="NOT_VERIFIED", name_status="NONE",
                    unified_cert_status="ACCOUNT_REVIEW_NOT_STARTED",
                    messaging_limit_tier="TIER_50", registered=False, is_pin_enabled=False,
                    last_onboarded_time=SEED_EPOCH + 40 * 86400),
        PhoneNumber("200000000000021", other_waba, "+44 7700 900001",
                    "Sandbox Partner (simulated)", country_code="GB", country_dial_code="44",
                    messaging_limit_tier="TIER_10K", throughput_level="HIGH",
                    last_onboarded_time=SEED_EPOCH + 10 * 86400),
    ]:
        world.phone_numbers[phone.id] = phone
    world.apps[app_id] = App(
        id=app_id, name="WA Console Sandbox (simulated)", secret=SANDBOX_SECRETS["app_secret"],
        verify_token=SANDBOX_SECRETS["webhook_verify_token"])
    world.callback_url = callback_url

    now = int(time.time())
    both = [SCOPE_MANAGEMENT, SCOPE_MESSAGING]
    common = {"app_id": app_id, "issued_at": SEED_EPOCH}
    world.tokens = {
        "valid": Token(SANDBOX_SECRETS["access_token"], name="valid", type="SYSTEM_USER",
                       user_id="600000000000006", scopes=both,
                       granular_scopes={s: [waba_id] for s in both}, expires_at=0, **common),
        "expired": Token("SANDBOX-expired-user-token-0002", name="expired", type="USER",
                         user_id="600000000000007", scopes=both,
                         granular_scopes={s: [waba_id] for s in both},
                         expires_at=SEED_EPOCH + 3600,
                         data_access_expires_at=SEED_EPOCH + 90 * 86400, **common),
        "no_messaging": Token("SANDBOX-no-messaging-token-0003", name="no_messaging",
                              type="SYSTEM_USER", user_id="600000000000008",
                              scopes=[SCOPE_MANAGEMENT],
                              granular_scopes={SCOPE_MANAGEMENT: [waba_id]}, expires_at=0,
                              **common),
        "other_waba": Token("SANDBOX-other-waba-token-0004", name="other_waba",
                            type="SYSTEM_USER", user_id="600000000000009", scopes=both,
                            granular_scopes={s: [other_waba] for s in both}, expires_at=0,
                            **common),
        "temporary": Token("SANDBOX-temporary-user-token-0005", name="temporary", type="USER",
                           app_id=app_id, user_id="600000000000007", scopes=both,
                           granular_scopes={s: [waba_id] for s in both}, issued_at=now,
                           expires_at=now + 24 * 3600,
                           data_access_expires_at=now + 90 * 86400),
        "revoked": Token("SANDBOX-revoked-user-token-0006", name="revoked", type="USER",
                         user_id="600000000000010", scopes=both,
                         granular_scopes={s: [waba_id] for s in both}, expires_at=0,
                         error=(460, "Error validating access token: The session has been "
                                     "invalidated because the user changed their password or "
                                     "Facebook has changed the session for security reasons."),
                         **common),
    }
    world.allowed_recipients = {"15551234567", "15551234568", "15551239999"}
    world.recipient_names = {"15551234567": "Test User (simulated)",
                             "15551234568": "Second Tester (simulated)",
                             "15551239999": "Unreachable Tester (simulated)"}
    world.fail_recipients = {"15551239999": 131026}

    next_id = 1_100_000_000_000_000
    for spec in _fixed_templates(waba_id):
        next_id += rng.randint(1, 997)
        spec = dict(spec)
        spec.setdefault("quality_score", {"score": "GREEN", "date": SEED_EPOCH})
        world.add_template(Template(id=str(next_id), waba_id=waba_id, **spec))
    for name in ("hello_world", "order_update"):
        next_id += rng.randint(1, 997)
        source = next(t for t in _fixed_templates(waba_id) if t["name"] == name)
        world.add_template(Template(id=str(next_id), waba_id=other_waba,
                                    quality_score={"score": "GREEN", "date": SEED_EPOCH},
                                    **source))
    made = 0
    serial = 0
    while made < templates:
        serial += 1
        topic, action = rng.choice(_TOPICS), rng.choice(_ACTIONS)
        name = f"{topic}_{action}_{serial:04d}"
        languages = [lang for lang, _ in _LANG_WEIGHTS]
        weights = [w for _, w in _LANG_WEIGHTS]
        count = min(rng.choices([1, 2, 3], [70, 20, 10])[0], templates - made)
        chosen: list[str] = []
        while len(chosen) < count:
            lang = rng.choices(languages, weights)[0]
            if lang not in chosen:
                chosen.append(lang)
        for lang in chosen:
            next_id += rng.randint(1, 997)
            world.add_template(_generated_template(rng, waba_id, str(next_id), name, lang,
                                                   topic, action))
            made += 1
    return world
