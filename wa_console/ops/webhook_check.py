"""Webhook readiness from both ends: what Meta will do (Meta side) and what the receiver does
when Meta calls (platform side, a self-test that acts as Meta).

`check_meta_side` reads the app's subscription (`GET /{app-id}/subscriptions`, app token), the
WABA's `subscribed_apps` and the phone number's `webhook_configuration`, computes where message
events and template events go (`core.webhook_routing`) and compares that with the configured
callback URL. `self_test` calls the configured callback URL the way Meta does: the GET handshake
with the right and a wrong verify token, and a synthetic status event POSTed signed, badly
signed and unsigned. Both save one summary row (`META_SIDE_KEY` / `PLATFORM_SIDE_KEY`) that
readiness reads through `webhook_state`, plus one row per finding or probe; no secret is kept in
any of them.
"""

from __future__ import annotations

import ipaddress
import json
import secrets as random_secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from wa_console.core.redaction import redact
from wa_console.core.webhook_routing import (
    SOURCE_LABELS,
    Route,
    effective_callback,
    explain_route,
    explain_template_route,
    route_fix,
    same_url,
    template_events_route,
)
from wa_console.meta.client import CancelledByCaller
from wa_console.meta.errors import GraphApiError, MetaError
from wa_console.meta.webhooks import OBJECT_WABA, SELF_TEST_WAMID_PREFIX, SIGNATURE_HEADER, sign
from wa_console.ops.context import OpCancelled, OpContext
from wa_console.ops.provider import client_for, waba_id_of
from wa_console.store.accounts import AccountStore
from wa_console.store.checks import CheckResultData, Outcome, load_checks, save_checks
from wa_console.store.records import AccountRecord
from wa_console.store.secrets import SecretStoreError

if TYPE_CHECKING:
    import requests
    from sqlalchemy import Engine

    from wa_console.core.readiness import WebhookState

META_SIDE_KEY: Final = "webhook.meta_side"
PLATFORM_SIDE_KEY: Final = "webhook.platform_side"
META_PREFIX: Final = "webhook.meta."
PLATFORM_PREFIX: Final = "webhook.platform."

# Meta-side findings, in the order they are checked and shown.
META_FINDINGS: Final = ("app_subscription", "messages_field", "app_callback", "waba_subscribed",
                        "waba_override", "phone_override", "effective_callback",
                        "template_events")
META_KEYS: Final = (META_SIDE_KEY, *(META_PREFIX + name for name in META_FINDINGS))
# Platform probes, in the order they are sent.
PROBES: Final = ("challenge", "wrong_token", "signed_post", "bad_signature", "unsigned_post",
                 "transport")
PLATFORM_KEYS: Final = (PLATFORM_SIDE_KEY, *(PLATFORM_PREFIX + name for name in PROBES))

# Meta expects an answer within seconds; a receiver slower than this fails the probe.
PROBE_TIMEOUT: Final = (5.0, 10.0)
SELF_TEST_RECIPIENT: Final = "0000000000"
MESSAGES_FIELD: Final = "messages"
FIX_SETTINGS_URL: Final = "Enter the webhook callback URL in the settings."

Resolver = Callable[[str], list[str]]


# --- results --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetaSideReport:
    """What Meta will do with this account's webhooks.

    Attributes:
        summary: the row saved under META_SIDE_KEY (its outcome is the overall outcome).
        findings: one row per META_FINDINGS name (keys "webhook.meta.<name>").
        message_route: where message events (inbound, statuses) go.
        template_route: where template events go (always the app callback).
    """

    account_id: int
    summary: CheckResultData
    findings: tuple[CheckResultData, ...]
    configured_url: str | None
    message_route: Route
    template_route: Route
    app_callback: str | None
    waba_override: str | None
    phone_override: str | None
    simulated: bool

    @property
    def outcome(self) -> Outcome:
        return self.summary.outcome

    def finding(self, name: str) -> CheckResultData:
        return next(f for f in self.findings if f.key == META_PREFIX + name)


@dataclass(frozen=True)
class Probe:
    """One request of the self-test, as Meta would send it, and what came back."""

    name: str
    method: str
    expectation: str
    status: int | None
    latency_ms: float | None
    outcome: Outcome
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class SelfTestReport:
    """The platform-side self-test: every probe, and the summary saved under
    PLATFORM_SIDE_KEY."""

    account_id: int
    url: str | None
    probes: tuple[Probe, ...]
    summary: CheckResultData
    simulated: bool

    @property
    def outcome(self) -> Outcome:
        return self.summary.outcome

    def probe(self, name: str) -> Probe:
        return next(p for p in self.probes if p.name == name)


# --- shared helpers -------------------------------------------------------------------------------

def overall(outcomes: Iterable[str]) -> Outcome:
    """failed beats unknown beats warning beats ok."""
    seen = set(outcomes)
    for outcome in ("failed", "unknown", "warning"):
        if outcome in seen:
            return outcome  # type: ignore[return-value]
    return "ok"


def _secret(store: AccountStore, record: AccountRecord, key: str) -> str | None:
    ref = record.refs.get(key)
    return store.secrets.get(ref) if ref is not None else None


def _error_text(exc: BaseException) -> tuple[str, str | None]:
    """(explanation, fix) of a Meta or keyring error, redacted."""
    if isinstance(exc, MetaError):
        return redact(str(exc)), exc.fix or None
    return redact(str(exc)), "Unlock the keyring (or fix the env: reference) and check again."


# --- Meta side ------------------------------------------------------------------------------------

class _Findings:
    def __init__(self, now: datetime, simulated: bool) -> None:
        self.now, self.simulated = now, simulated
        self.rows: dict[str, CheckResultData] = {}

    def add(self, name: str, outcome: Outcome, detail: str, fix: str | None = None,
            **evidence: Any) -> None:
        self.rows.setdefault(name, CheckResultData(
            key=META_PREFIX + name, outcome=outcome, detail=redact(detail),
            fix=redact(fix) if fix else None,
            evidence={k: v for k, v in evidence.items() if v is not None},
            checked_at=self.now, simulated=self.simulated))

    def unknown(self, names: Iterable[str], because: str, fix: str | None) -> None:
        for name in names:
            self.add(name, "unknown", f"Not checked: {because}", fix)


def _call[T](ctx: OpContext, pct: int, text: str, fn: Callable[[], T]) -> T:
    ctx.check_cancelled()
    ctx.report(pct, text)
    try:
        return fn()
    except CancelledByCaller:
        raise OpCancelled("Cancelled; nothing was changed.") from None


def check_meta_side(ctx: OpContext, store: AccountStore, account_id: int,
                    base_url: str | None = None) -> MetaSideReport:
    """Ask Meta (or the emulator) how this account's webhooks are routed; save and return it.

    Meta errors do not raise: the findings that needed the answer become "unknown" with the
    error's explanation and fix. A cancel raises OpCancelled and saves nothing."""
    record = store.get(account_id)
    now = ctx.now()
    found = _Findings(now, record.sandbox)
    configured = str(record.values.get("webhook_callback_url") or "").strip() or None
    app_id = str(record.values.get("app_id") or "")
    phone_id = str(record.values.get("phone_number_id") or "")
    subscription: dict[str, Any] | None = None
    app_callback: str | None = None
    waba_override: str | None = None
    phone_override: str | None = None
    app_known = waba_known = phone_known = False
    subscribed: bool | None = None
    messages_field: bool | None = None

    with client_for(record, store.secrets, ctx, base_url) as client:
        # 1. The app's own subscription (app token).
        try:
            subs = _call(ctx, 10, "Reading the app's webhook subscription",
                         client.app_subscriptions)
            app_known = True
            subscription = next((s for s in subs if isinstance(s, dict)
                                 and s.get("object") == OBJECT_WABA), None)
        except (MetaError, SecretStoreError) as exc:
            detail, fix = _error_text(exc)
            found.unknown(("app_subscription", "messages_field", "app_callback"), detail, fix)
        if app_known:
            app_callback, messages_field = _app_findings(found, subscription, configured)
        # 2. The WABA's subscribed apps (and its override).
        try:
            waba_id = waba_id_of(record)
            apps = _call(ctx, 40, "Reading the WABA's subscribed apps",
                         lambda: client.subscribed_apps(waba_id))
            waba_known = True
            mine = next((a for a in apps if _app_id(a) == app_id), None)
            subscribed = mine is not None
            waba_override = (str(mine.get("override_callback_uri") or "") or None) if mine \
                else None
            _waba_findings(found, mine, apps, app_id, waba_id, waba_override, configured)
        except (MetaError, SecretStoreError) as exc:
            detail, fix = _error_text(exc)
            found.unknown(("waba_subscribed", "waba_override"), detail, fix)
        # 3. The phone number's override.
        try:
            if not phone_id:
                raise _NotSet("the phone number ID is not set in the settings")
            node = _call(ctx, 70, "Reading the phone number's webhook configuration",
                         lambda: client.phone_number(phone_id, ("id", "webhook_configuration")))
            hook = node.get("webhook_configuration") if isinstance(node, dict) else None
            phone_known = True
            if isinstance(hook, dict):
                phone_override = str(hook.get("phone_number") or "") or None
                _phone_finding(found, phone_override, configured)
            else:
                found.add("phone_override", "warning",
                          "Meta did not return the phone number's webhook_configuration, so a "
                          "phone-number override could not be ruled out.",
                          "Check the phone number's webhook override in WhatsApp Manager.")
        except _NotSet as exc:
            found.unknown(("phone_override",), str(exc), "Enter the phone number ID.")
        except GraphApiError as exc:
            if exc.code != 100:
                detail, fix = _error_text(exc)
                found.unknown(("phone_override",), detail, fix)
            else:  # the field is refused on some numbers; the override stays unknown
                phone_known = True
                found.add("phone_override", "warning",
                          "Meta refused the webhook_configuration field (code 100), so a "
                          "phone-number override could not be ruled out.",
                          "Check the phone number's webhook override in WhatsApp Manager.")
        except (MetaError, SecretStoreError) as exc:
            detail, fix = _error_text(exc)
            found.unknown(("phone_override",), detail, fix)
    ctx.check_cancelled()

    message_route = effective_callback(app_callback, waba_override, phone_override)
    template_route = template_events_route(app_callback)
    _route_findings(found, message_route, template_route, configured, app_known, waba_known,
                    phone_known, subscribed, messages_field, subscription)

    for name in META_FINDINGS:  # never leave a finding out
        found.unknown((name,), "an earlier step stopped the check.", None)
    findings = tuple(found.rows[name] for name in META_FINDINGS)
    outcome = overall(f.outcome for f in findings)
    # The summary leads with where messages go when that is the problem, else the first one.
    lead = found.rows["effective_callback"]
    if lead.outcome != outcome:
        lead = next(f for f in findings if f.outcome == outcome)
    summary = CheckResultData(
        key=META_SIDE_KEY, outcome=outcome,
        detail=_meta_summary(outcome, lead, message_route),
        fix=lead.fix or next((f.fix for f in findings if f.outcome == outcome and f.fix),
                             None),
        evidence={"effective_callback": message_route.url,
                  "effective_source": message_route.source,
                  "app_callback": app_callback, "waba_override": waba_override,
                  "phone_override": phone_override, "app_subscribed_to_waba": subscribed,
                  "messages_field": messages_field,
                  "template_events_callback": template_route.url,
                  "configured_callback": configured},
        checked_at=now, simulated=record.sandbox)
    ctx.report(95, "Saving the results")
    save_checks(store.engine, account_id, (summary, *findings), simulated=record.sandbox,
                replace=META_KEYS)
    ctx.report(100, summary.detail)
    return MetaSideReport(account_id, summary, findings, configured, message_route,
                          template_route, app_callback, waba_override, phone_override,
                          record.sandbox)


class _NotSet(Exception):
    pass


def _app_id(item: Any) -> str | None:
    data = item.get("whatsapp_business_api_data") if isinstance(item, dict) else None
    return str(data["id"]) if isinstance(data, dict) and data.get("id") is not None else None


def _app_findings(found: _Findings, subscription: dict[str, Any] | None,
                  configured: str | None) -> tuple[str | None, bool | None]:
    """Findings about the app subscription; returns (app callback, messages subscribed)."""
    dashboard_fix = ("In the App Dashboard open WhatsApp → Configuration, set the callback URL "
                     "and verify token, and subscribe the whatsapp_business_account object.")
    if subscription is None:
        found.add("app_subscription", "failed",
                  "The app has no webhook subscription for whatsapp_business_account: Meta "
                  "sends its webhooks nowhere.", dashboard_fix)
        found.unknown(("messages_field", "app_callback"), "the app has no subscription.",
                      dashboard_fix)
        return None, None
    callback = str(subscription.get("callback_url") or "") or None
    if subscription.get("active") is False:
        found.add("app_subscription", "failed",
                  "The app's whatsapp_business_account subscription is inactive: Meta sends "
                  "nothing while it is.",
                  "Re-save the callback URL and verify token in the App Dashboard (WhatsApp → "
                  "Configuration) to reactivate it; make sure the receiver answers the "
                  "challenge.", active=False)
    else:
        found.add("app_subscription", "ok",
                  "The app is subscribed to whatsapp_business_account webhooks and the "
                  "subscription is active.", active=True)
    names = [str(f.get("name")) for f in subscription.get("fields") or []
             if isinstance(f, dict)]
    messages = MESSAGES_FIELD in names
    if messages:
        found.add("messages_field", "ok", "The messages field (inbound messages and delivery "
                  "statuses) is subscribed.", fields=names)
    else:
        found.add("messages_field", "failed",
                  "The messages field is not subscribed: no inbound message and no delivery "
                  "status reaches any callback.",
                  "In the App Dashboard (WhatsApp → Configuration → Webhook fields) subscribe "
                  "to messages.", fields=names)
    if not configured:
        found.add("app_callback", "unknown", f"The app's callback URL is {callback}; no "
                  "callback URL is configured to compare it with.", FIX_SETTINGS_URL,
                  app_callback=callback)
    elif same_url(callback, configured):
        found.add("app_callback", "ok", f"The app's callback URL is the configured one "
                  f"({callback}).", app_callback=callback)
    # A mismatch is judged with the overrides (step 3): it may matter only for templates.
    return callback, messages


def _waba_findings(found: _Findings, mine: dict[str, Any] | None, apps: list[dict],
                   app_id: str, waba_id: str, override: str | None,
                   configured: str | None) -> None:
    if mine is None:
        others = [a for a in (_app_id(x) for x in apps) if a]
        found.add("waba_subscribed", "failed",
                  f"App {app_id or '(no app ID set)'} is not subscribed to WABA {waba_id}: "
                  "Meta sends none of this WABA's webhooks to it"
                  + (f" (subscribed apps: {', '.join(others)})." if others else "."),
                  "Subscribe the app to the WABA (Verify & sync → Subscribe app, or POST "
                  "/{waba-id}/subscribed_apps with the access token).",
                  subscribed_apps=others)
        found.add("waba_override", "unknown", "Not checked: the app is not subscribed to the "
                  "WABA.", None)
        return
    found.add("waba_subscribed", "ok", f"App {app_id} is subscribed to WABA {waba_id}.")
    if override is None:
        found.add("waba_override", "ok", "The WABA has no webhook override for this app.")
    elif same_url(override, configured):
        found.add("waba_override", "ok", f"The WABA overrides the callback with {override}, "
                  "the configured URL.", override=override)
    else:
        found.add("waba_override", "warning",
                  f"The WABA overrides the callback for message events with {override}"
                  + (f", not the configured {configured}." if configured else "."),
                  "Re-subscribe the app to the WABA without override_callback_uri, or with "
                  "the configured URL.", override=override)


def _phone_finding(found: _Findings, override: str | None, configured: str | None) -> None:
    if override is None:
        found.add("phone_override", "ok", "The phone number has no webhook override.")
    elif same_url(override, configured):
        found.add("phone_override", "ok", f"The phone number overrides the callback with "
                  f"{override}, the configured URL.", override=override)
    else:
        found.add("phone_override", "warning",
                  f"The phone number overrides the callback for message events with {override}"
                  + (f", not the configured {configured}." if configured else "."),
                  "Remove the override (POST /{phone-number-id} with webhook_configuration."
                  "override_callback_uri = \"\") or set it to the configured URL.",
                  override=override)


def _route_findings(found: _Findings, message_route: Route, template_route: Route,
                    configured: str | None, app_known: bool, waba_known: bool,
                    phone_known: bool, subscribed: bool | None, messages_field: bool | None,
                    subscription: dict[str, Any] | None) -> None:
    if not (app_known and waba_known and phone_known):
        missing = [what for what, known in (("the app subscription", app_known),
                                            ("the WABA's subscribed apps", waba_known),
                                            ("the phone number's override", phone_known))
                   if not known]
        found.unknown(("effective_callback",), f"{' and '.join(missing)} could not be read.",
                      None)
    else:
        explanation = explain_route(message_route, configured, with_fix=False)
        evidence = {"url": message_route.url, "source": message_route.source}
        reaches = configured is not None and same_url(message_route.url, configured)
        if not configured:
            found.add("effective_callback", "unknown", explanation, FIX_SETTINGS_URL,
                      **evidence)
        elif not reaches:
            found.add("effective_callback", "failed", explanation, route_fix(message_route),
                      **evidence)
        elif subscribed is False or messages_field is False or (
                subscription is not None and subscription.get("active") is False):
            found.add("effective_callback", "failed", explanation + " But Meta delivers "
                      "nothing there yet: see the failed checks above.", None, **evidence)
        else:
            found.add("effective_callback", "ok", explanation, None, **evidence)
    if app_known and configured and template_route.url \
            and not same_url(template_route.url, configured):
        # When an override takes message events to the configured URL, the app callback only
        # carries template and account events: worth a warning, not a failure.
        overridden = (waba_known and phone_known and message_route.source in ("waba", "phone")
                      and same_url(message_route.url, configured))
        found.add("app_callback", "warning" if overridden else "failed",
                  f"The app's callback URL is {template_route.url}, not the configured "
                  f"{configured}.",
                  "Change the callback URL in the App Dashboard (WhatsApp → Configuration) "
                  "or the configured URL so that they agree.",
                  app_callback=template_route.url)
    if not app_known:
        found.unknown(("template_events",), "the app subscription could not be read.", None)
    elif template_route.url is None:
        found.add("template_events", "failed", explain_template_route(None, configured),
                  "Set the app's callback URL in the App Dashboard (WhatsApp → Configuration).")
    elif configured and not same_url(template_route.url, configured):
        found.add("template_events", "warning",
                  explain_template_route(template_route.url, configured),
                  "Point the app's callback URL at the configured receiver to get template "
                  "status updates there.", url=template_route.url)
    else:
        found.add("template_events", "ok",
                  explain_template_route(template_route.url, configured),
                  url=template_route.url)


def _meta_summary(outcome: str, lead: CheckResultData, route: Route) -> str:
    where = (f"Message events go to {route.url} (from {SOURCE_LABELS[route.source]})."
             if route.url and route.source else "Message events go nowhere.")
    if outcome == "ok":
        return f"Meta side ok. {where}"
    if lead.key == META_PREFIX + "effective_callback":
        return f"Meta side {outcome}: {lead.detail}"
    return f"Meta side {outcome}: {lead.detail} {where}"


# --- platform side: the self-test -----------------------------------------------------------------

def _resolve(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]


def is_loopback_host(host: str, resolve: Resolver = _resolve) -> bool:
    """True when `host` is a loopback address (127.0.0.0/8, ::1) or a name that resolves only
    to such addresses (localhost). A name that cannot be resolved is not loopback."""
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = resolve(host)
    except OSError:
        return False
    try:
        return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback
                                       for a in addresses)
    except ValueError:
        return False


def self_test_body(waba_id: str, phone_number_id: str, display_number: str,
                   now: float | None = None) -> bytes:
    """A realistic `messages` status event with clearly synthetic ids (a receiver can drop
    anything whose wamid starts with SELF_TEST_WAMID_PREFIX)."""
    moment = str(int(now if now is not None else time.time()))
    status = {"id": f"{SELF_TEST_WAMID_PREFIX}{uuid.uuid4()}", "status": "sent",
              "timestamp": moment, "recipient_id": SELF_TEST_RECIPIENT,
              "conversation": {"id": f"WA-CONSOLE-SELF-TEST-{uuid.uuid4().hex}",
                               "origin": {"type": "utility"}},
              "pricing": {"billable": False, "pricing_model": "PMP", "category": "utility"}}
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "".join(c for c in display_number
                                                          if c.isdigit()),
                          "phone_number_id": phone_number_id},
             "statuses": [status]}
    doc = {"object": OBJECT_WABA,
           "entry": [{"id": waba_id, "changes": [{"value": value, "field": MESSAGES_FIELD}]}]}
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True)
class _Answer:
    status: int | None
    text: str
    latency_ms: float | None
    location: str | None
    error: str | None  # transport failure (refused, timeout, TLS), admin-facing
    tls_error: bool = False


def _send(session: requests.Session, method: str, url: str, *,
          params: Mapping[str, str] | None = None, body: bytes | None = None,
          headers: Mapping[str, str] | None = None) -> _Answer:
    import requests

    start = time.perf_counter()
    try:
        with session.request(method, url, params=params, data=body,
                             headers={"User-Agent": "facebookexternalua (wa-console self-test)",
                                      **(headers or {})},
                             timeout=PROBE_TIMEOUT, allow_redirects=False,
                             verify=True) as response:
            text = response.text[:2000]
            latency = (time.perf_counter() - start) * 1000
            return _Answer(response.status_code, text, latency,
                           response.headers.get("Location"), None)
    except requests.exceptions.SSLError as exc:
        return _Answer(None, "", None, None,
                       f"TLS certificate problem: {_reason(exc)}. Meta only calls HTTPS URLs "
                       "with a valid certificate from a public CA (no self-signed ones).",
                       tls_error=True)
    except requests.Timeout:
        return _Answer(None, "", None, None,
                       f"no answer within {PROBE_TIMEOUT[1]:g} s; Meta expects an answer "
                       "within seconds")
    except requests.ConnectionError as exc:
        return _Answer(None, "", None, None, f"could not connect: {_reason(exc)}")
    except requests.RequestException as exc:
        return _Answer(None, "", None, None, f"the request failed: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests error, without the long wrapper text."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "certificate verify "
                   "failed", "hostname mismatch", "self-signed certificate",
                   "certificate has expired", "timed out", "No route to host"):
        if marker.lower() in text.lower():
            start = text.lower().index(marker.lower())
            return redact(text[start:start + 160].split(")")[0].rstrip("'\" "))
    return redact(text[:200])


class _Probes:
    def __init__(self) -> None:
        self.items: dict[str, Probe] = {}

    def add(self, name: str, method: str, expectation: str, answer: _Answer | None,
            outcome: Outcome, detail: str, fix: str | None = None) -> None:
        self.items.setdefault(name, Probe(
            name=name, method=method, expectation=expectation,
            status=answer.status if answer else None,
            latency_ms=round(answer.latency_ms, 1) if answer and answer.latency_ms is not None
            else None, outcome=outcome, detail=redact(detail), fix=redact(fix) if fix else None))

    def transport_failed(self, name: str, method: str, expectation: str,
                         answer: _Answer) -> bool:
        """Record a transport failure or redirect; True when the probe is settled by it."""
        if answer.error is not None:
            self.add(name, method, expectation, answer, "failed",
                     f"The callback URL could not be reached: {answer.error}.",
                     "Check the receiver is running and reachable at the configured URL"
                     + (" and that its certificate is valid." if answer.tls_error else "."))
            return True
        if answer.status is not None and 300 <= answer.status < 400:
            self.add(name, method, expectation, answer, "failed",
                     f"The callback answered HTTP {answer.status} (redirect to "
                     f"{answer.location or 'no Location'}). Meta does not follow redirects.",
                     f"Meta does not follow redirects: configure the final URL "
                     f"{answer.location or '(the redirect target)'}.")
            return True
        return False


def self_test(ctx: OpContext, store: AccountStore, account_id: int, *,
              allow_signed_probe: Callable[[str], bool],
              resolve: Resolver = _resolve) -> SelfTestReport:
    """Act as Meta against the configured callback URL; save and return every probe.

    `allow_signed_probe(url)` is asked before signed events are POSTed to a host that is not
    loopback; False skips them ("unknown"). `resolve` (tests) maps a host name to addresses.
    A cancel raises OpCancelled and saves nothing."""
    import requests

    record = store.get(account_id)
    now = ctx.now()
    probes = _Probes()
    url = str(record.values.get("webhook_callback_url") or "").strip() or None
    try:
        verify_token = _secret(store, record, "webhook_verify_token")
        app_secret = _secret(store, record, "app_secret")
        secret_problem: str | None = None
    except SecretStoreError as exc:
        verify_token = app_secret = None
        secret_problem = redact(str(exc))

    if url is None or not urlsplit(url).hostname or urlsplit(url).scheme not in ("http",
                                                                                   "https"):
        because = ("no webhook callback URL is configured" if url is None
                   else f"the callback URL {url!r} is not an http(s) URL")
        for name in PROBES:
            probes.add(name, "GET" if name in ("challenge", "wrong_token") else "POST", "",
                       None, "unknown", f"Not run: {because}.", FIX_SETTINGS_URL)
        return _finish(ctx, store, record, url, probes, now)

    parts = urlsplit(url)
    host = parts.hostname or ""
    ctx.report(5, f"Checking {host}")
    loopback = is_loopback_host(host, resolve)
    session = requests.Session()
    try:
        _challenge_probes(ctx, session, url, verify_token, secret_problem, probes)
        signed_expect = "HTTP 200 for a status event signed with the app secret"
        refused_expect = "refused (401/403) without a valid X-Hub-Signature-256"
        if app_secret is None:
            because = secret_problem or "the app secret is not set in the settings"
            for name, expect in (("signed_post", signed_expect),
                                 ("bad_signature", refused_expect),
                                 ("unsigned_post", refused_expect)):
                probes.add(name, "POST", expect, None, "unknown", f"Not run: {because}.",
                           "Enter the app secret in the settings.")
        elif not loopback and not allow_signed_probe(url):
            for name, expect in (("signed_post", signed_expect),
                                 ("bad_signature", refused_expect),
                                 ("unsigned_post", refused_expect)):
                probes.add(name, "POST", expect, None, "unknown",
                           f"Signed probes skipped: sending synthetic signed events to {host} "
                           "was not confirmed.",
                           "Run the self-test again and allow the signed probes.")
        else:
            _post_probes(ctx, session, url, app_secret, record, probes, signed_expect,
                         refused_expect)
    finally:
        session.close()
    _transport_probe(probes, parts.scheme, host, loopback, record.sandbox)
    return _finish(ctx, store, record, url, probes, now)


def _challenge_probes(ctx: OpContext, session: requests.Session, url: str,
                      verify_token: str | None, secret_problem: str | None,
                      probes: _Probes) -> None:
    right_expect = "HTTP 200 with exactly hub.challenge as the body"
    wrong_expect = "refused (403) and hub.challenge not echoed"
    if not verify_token:
        because = secret_problem or "the webhook verify token is not set in the settings"
        probes.add("challenge", "GET", right_expect, None, "unknown", f"Not run: {because}.",
                   "Enter the webhook verify token in the settings.")
    else:
        ctx.check_cancelled()
        ctx.report(15, "Verification handshake with the right token")
        challenge = str(random_secrets.randbelow(9 * 10**9) + 10**9)
        answer = _send(session, "GET", url, params={
            "hub.mode": "subscribe", "hub.verify_token": verify_token,
            "hub.challenge": challenge})
        if not probes.transport_failed("challenge", "GET", right_expect, answer):
            if answer.status == 200 and answer.text == challenge:
                probes.add("challenge", "GET", right_expect, answer, "ok",
                           "The receiver answered 200 with exactly the challenge.")
            elif answer.status == 200 and answer.text.strip() == challenge:
                probes.add("challenge", "GET", right_expect, answer, "failed",
                           "The receiver echoed the challenge with extra whitespace; Meta "
                           "compares the body exactly.",
                           "Return hub.challenge as the whole body, nothing around it.")
            elif answer.status == 200:
                probes.add("challenge", "GET", right_expect, answer, "failed",
                           "The receiver answered 200 without echoing hub.challenge.",
                           "Answer the GET with hub.challenge as the plain-text body.")
            else:
                probes.add("challenge", "GET", right_expect, answer, "failed",
                           f"The receiver answered HTTP {answer.status} to the right verify "
                           "token; Meta would not save the callback.",
                           "Make the receiver's verify token equal the one in the settings, "
                           "and answer GET hub.mode=subscribe with 200 and hub.challenge.")
    ctx.check_cancelled()
    ctx.report(30, "Verification handshake with a wrong token")
    challenge = str(random_secrets.randbelow(9 * 10**9) + 10**9)
    wrong = f"wa-console-wrong-{uuid.uuid4().hex}"
    answer = _send(session, "GET", url, params={
        "hub.mode": "subscribe", "hub.verify_token": wrong, "hub.challenge": challenge})
    if probes.transport_failed("wrong_token", "GET", wrong_expect, answer):
        return
    if challenge in answer.text and answer.status == 200:
        probes.add("wrong_token", "GET", wrong_expect, answer, "failed",
                   "The receiver echoed the challenge for a wrong verify token: anyone can "
                   "point Meta-like subscriptions at it.",
                   "Compare hub.verify_token with the configured token (constant time) and "
                   "answer 403 when they differ.")
    elif answer.status == 403:
        probes.add("wrong_token", "GET", wrong_expect, answer, "ok",
                   "The receiver refused the wrong verify token with 403.")
    else:
        probes.add("wrong_token", "GET", wrong_expect, answer, "warning",
                   f"The receiver did not echo the challenge for a wrong token but answered "
                   f"HTTP {answer.status} instead of 403.",
                   "Answer 403 to a wrong verify token.")


def _post_probes(ctx: OpContext, session: requests.Session, url: str, app_secret: str,
                 record: AccountRecord, probes: _Probes, signed_expect: str,
                 refused_expect: str) -> None:
    values = record.values
    body = self_test_body(str(values.get("waba_id") or ""),
                          str(values.get("phone_number_id") or ""),
                          str(values.get("display_phone_number") or ""),
                          ctx.now().timestamp())
    json_type = {"Content-Type": "application/json"}
    ctx.check_cancelled()
    ctx.report(45, "POST of a signed status event")
    answer = _send(session, "POST", url, body=body,
                   headers={**json_type, SIGNATURE_HEADER: sign(app_secret, body)})
    if not probes.transport_failed("signed_post", "POST", signed_expect, answer):
        if answer.status == 200:
            probes.add("signed_post", "POST", signed_expect, answer, "ok",
                       "The receiver accepted the signed status event with 200.")
        elif answer.status is not None and 200 <= answer.status < 300:
            probes.add("signed_post", "POST", signed_expect, answer, "warning",
                       f"The receiver accepted the signed event with HTTP {answer.status}; "
                       "Meta expects 200.", "Answer accepted events with 200.")
        elif answer.status in (401, 403):
            probes.add("signed_post", "POST", signed_expect, answer, "failed",
                       f"The receiver refused a correctly signed event (HTTP {answer.status}).",
                       "Make the receiver verify X-Hub-Signature-256 with this app's secret, "
                       "on the raw body bytes.")
        else:
            probes.add("signed_post", "POST", signed_expect, answer, "failed",
                       f"The receiver answered HTTP {answer.status} to a signed status event.",
                       "Check the receiver's log; it must answer 200 to valid events.")
    for pct, name, headers, what in (
            (65, "bad_signature", {**json_type, SIGNATURE_HEADER:
                                   sign(f"wrong-{uuid.uuid4().hex}", body)}, "a bad signature"),
            (85, "unsigned_post", json_type, "no signature")):
        ctx.check_cancelled()
        ctx.report(pct, f"POST with {what}")
        answer = _send(session, "POST", url, body=body, headers=headers)
        if probes.transport_failed(name, "POST", refused_expect, answer):
            continue
        status = answer.status or 0
        if status in (401, 403):
            probes.add(name, "POST", refused_expect, answer, "ok",
                       f"The receiver refused the event with {what} (HTTP {status}).")
        elif 400 <= status < 500:
            probes.add(name, "POST", refused_expect, answer, "ok",
                       f"The receiver refused the event with {what} (HTTP {status}; 401 or "
                       "403 is usual).")
        elif 200 <= status < 300:
            probes.add(name, "POST", refused_expect, answer, "failed",
                       f"The receiver accepted an event with {what} (HTTP {status}): anyone "
                       "can forge deliveries and statuses.",
                       "Verify X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app "
                       "secret) and answer 401/403 when it is missing or wrong.")
        else:
            probes.add(name, "POST", refused_expect, answer, "warning",
                       f"The receiver answered HTTP {status} to an event with {what}: not "
                       "accepted, but an error instead of a refusal.",
                       "Answer 401/403 to a missing or wrong signature.")


def _transport_probe(probes: _Probes, scheme: str, host: str, loopback: bool,
                     sandbox: bool) -> None:
    expectation = "public HTTPS with a valid certificate (what Meta requires)"
    reached = [p for p in probes.items.values() if p.status is not None]
    tls_failed = next((p for p in probes.items.values()
                       if "TLS certificate problem" in p.detail), None)
    if scheme == "https":
        if tls_failed is not None:
            probes.add("transport", "TLS", expectation, None, "failed", tls_failed.detail,
                       "Install a certificate from a public CA for the host (e.g. Let's "
                       "Encrypt) with the full chain.")
        elif reached:
            probes.add("transport", "TLS", expectation, None, "ok",
                       f"HTTPS to {host} with a certificate that verified.")
        else:
            probes.add("transport", "TLS", expectation, None, "unknown",
                       f"The TLS certificate of {host} could not be checked: no probe got an "
                       "answer.", None)
    elif loopback:
        probes.add("transport", "TLS", expectation, None, "ok" if sandbox else "warning",
                   f"Plain HTTP on loopback ({host}): fine for a local receiver or behind a "
                   "tunnel; the URL Meta calls must be public HTTPS.",
                   None if sandbox else "Give Meta the public HTTPS URL of the tunnel or "
                   "server in front of this receiver.")
    else:
        probes.add("transport", "TLS", expectation, None, "warning",
                   f"Plain HTTP to {host}: Meta requires HTTPS callback URLs with a valid "
                   "certificate.", "Serve the receiver over HTTPS and configure the https:// "
                   "URL.")


def _finish(ctx: OpContext, store: AccountStore, record: AccountRecord, url: str | None,
            probes: _Probes, now: datetime) -> SelfTestReport:
    ctx.check_cancelled()
    ordered = tuple(probes.items[name] for name in PROBES if name in probes.items)
    outcome = overall(p.outcome for p in ordered)
    first = next((p for p in ordered if p.outcome == outcome), None)
    if outcome == "ok":
        detail = f"Platform side ok: {url} answered every probe as Meta expects."
    elif first is not None:
        detail = f"Platform side {outcome}: {first.name.replace('_', ' ')}: {first.detail}"
    else:
        detail = f"Platform side {outcome}."
    summary = CheckResultData(
        key=PLATFORM_SIDE_KEY, outcome=outcome, detail=redact(detail),
        fix=first.fix if first is not None and outcome != "ok" else None,
        evidence={"url": url, "probes": {p.name: {"outcome": p.outcome, "status": p.status,
                                                  "latency_ms": p.latency_ms}
                                         for p in ordered}},
        checked_at=now, simulated=record.sandbox)
    rows = [summary, *(CheckResultData(
        key=PLATFORM_PREFIX + p.name, outcome=p.outcome, detail=p.detail, fix=p.fix,
        evidence={"method": p.method, "expectation": p.expectation, "status": p.status,
                  "latency_ms": p.latency_ms}, checked_at=now, simulated=record.sandbox)
        for p in ordered)]
    ctx.report(95, "Saving the results")
    save_checks(store.engine, record.id, rows, simulated=record.sandbox, replace=PLATFORM_KEYS)
    ctx.report(100, summary.detail)
    return SelfTestReport(record.id, url, ordered, summary, record.sandbox)


# --- readiness ------------------------------------------------------------------------------------

def webhook_state(engine: Engine, account_id: int) -> WebhookState:
    """The stored summaries as readiness input (None for a side never checked)."""
    from wa_console.core.readiness import WebhookState

    rows = {row.key: row for row in load_checks(engine, account_id,
                                                (META_SIDE_KEY, PLATFORM_SIDE_KEY))}
    meta, platform = rows.get(META_SIDE_KEY), rows.get(PLATFORM_SIDE_KEY)
    return WebhookState(meta_side=meta.as_check() if meta else None,
                        platform_side=platform.as_check() if platform else None)
