"""The Graph API client: one `requests.Session` per account, timeouts on every call, retries
only where they can help, cursor paging, typed errors, and no secret in any log or message.

The bearer token is asked for at call time (a callable, usually backed by the keyring), never
kept on the object. A POST to /messages whose answer is lost is not retried: it raises
`OutcomeUnknownError` so the caller watches for the status webhook instead of sending twice.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from wa_console.core.redaction import redact_third_party_logs, register_secret
from wa_console.meta.errors import (
    GraphApiError,
    InvalidResponseError,
    MetaError,
    NetworkError,
    OutcomeUnknownError,
    PaginationError,
)

log = logging.getLogger(__name__)
# urllib3 logs every request line, query string included, at DEBUG.
redact_third_party_logs("urllib3.connectionpool", "urllib3.util.retry")

GRAPH_URL = "https://graph.facebook.com"

# Fields the spec lists for GET /{WABA-ID}/phone_numbers; the extra ones are requested in a
# second call that may be refused with code 100 (meta-api.md §b).
PHONE_FIELDS = ("id", "display_phone_number", "verified_name", "status", "quality_rating",
                "country_code", "country_dial_code", "code_verification_status",
                "account_mode", "messaging_limit_tier", "is_official_business_account")
PHONE_EXTRA_FIELDS = ("name_status", "throughput", "platform_type", "webhook_configuration",
                      "last_onboarded_time")
WABA_FIELDS = ("id", "name", "timezone_id", "message_template_namespace",
               "account_review_status", "business_verification_status", "country",
               "ownership_type", "currency")
TEMPLATE_FIELDS = ("id", "name", "language", "status", "category", "components",
                   "rejected_reason", "quality_score", "parameter_format", "previous_category",
                   "sub_category")


@dataclass(frozen=True)
class ClientConfig:
    """How to reach the Graph API. `base_url` is Meta's, or the sandbox emulator's."""

    base_url: str = GRAPH_URL
    version: str = "v23.0"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5  # first try included
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    max_total_wait: float = 60.0  # all retry pauses of one call together
    page_limit: int = 100


@dataclass(frozen=True)
class SendResult:
    wamid: str
    wa_id: str | None
    input: str | None
    message_status: str | None  # accepted | held_for_quality_assessment | paused (templates)
    raw: dict = field(repr=False, default_factory=dict)


@dataclass
class CallStats:
    """What one call cost: attempts and the time spent waiting between them."""

    attempts: int = 0
    waited: float = 0.0


class GraphClient:
    """Graph API calls for one channel account.

    Args:
        config: base URL, version, timeouts and retry policy.
        token: returns the access token (called for every request; never stored).
        app_id: the app ID (for the app access token and the app's subscriptions).
        app_secret: returns the app secret (for the app access token `APP_ID|APP_SECRET`).
        session: a `requests.Session` to use (one per account); created when None.
        cancelled: returns True when the caller wants to stop; checked before every attempt
            and during retry pauses.
    """

    def __init__(
        self,
        config: ClientConfig,
        token: Callable[[], str | None],
        app_id: str | None = None,
        app_secret: Callable[[], str | None] | None = None,
        session: requests.Session | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self._token = token
        self.app_id = app_id
        self._app_secret = app_secret
        self.session = session or requests.Session()
        self.cancelled = cancelled
        self._sleep = sleep
        self._jitter = jitter
        self.last_call = CallStats()

    def __repr__(self) -> str:
        return f"GraphClient({self.config.base_url!r}, {self.config.version!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the account -----------------------------------------------------------------------
    def debug_token(self, input_token: str | None = None) -> dict:
        """`GET /debug_token` checked with the app access token; returns `data`."""
        token = input_token or self._require(self._token(), "access token")
        app_token = self.app_access_token()
        body = self._call("GET", "debug_token",
                          params={"input_token": token, "access_token": app_token},
                          auth=False)
        return body.get("data", {}) if isinstance(body, dict) else {}

    def waba(self, waba_id: str, fields: tuple[str, ...] = WABA_FIELDS) -> dict:
        return self._call("GET", waba_id, params={"fields": ",".join(fields)})

    def phone_numbers(self, waba_id: str) -> list[dict]:
        """All phone numbers of the WABA (every page), with the extra fields where Meta gives
        them (a code-100 refusal of those is tolerated: the spec-listed fields remain)."""
        numbers = list(self.paginate(f"{waba_id}/phone_numbers",
                                     {"fields": ",".join(PHONE_FIELDS)}))
        try:
            extras = {n.get("id"): n for n in self.paginate(
                f"{waba_id}/phone_numbers", {"fields": ",".join(("id", *PHONE_EXTRA_FIELDS))})}
        except GraphApiError as exc:
            if exc.code != 100:
                raise
            log.info("extra phone number fields refused (code 100); using the spec's fields")
            return numbers
        return [{**extras.get(n.get("id"), {}), **n} for n in numbers]

    def phone_number(self, phone_number_id: str,
                     fields: tuple[str, ...] = (*PHONE_FIELDS, "name_status")) -> dict:
        return self._call("GET", phone_number_id, params={"fields": ",".join(fields)})

    def subscribed_apps(self, waba_id: str) -> list[dict]:
        return list(self._call("GET", f"{waba_id}/subscribed_apps").get("data", []))

    def subscribe_app(self, waba_id: str, override_callback_uri: str | None = None,
                      verify_token: str | None = None) -> dict:
        body: dict[str, str] = {}
        if override_callback_uri is not None:
            body = {"override_callback_uri": override_callback_uri,
                    "verify_token": verify_token or ""}
        return self._call("POST", f"{waba_id}/subscribed_apps", json_body=body or None)

    def unsubscribe_app(self, waba_id: str) -> dict:
        return self._call("DELETE", f"{waba_id}/subscribed_apps")

    def app_subscriptions(self) -> list[dict]:
        """The app's own webhook subscriptions (`GET /{app-id}/subscriptions`, app token)."""
        app_id = self._require(self.app_id, "app ID")
        body = self._call("GET", f"{app_id}/subscriptions",
                          params={"access_token": self.app_access_token()}, auth=False)
        return list(body.get("data", []))

    # --- templates --------------------------------------------------------------------------
    def iter_templates(
        self,
        waba_id: str,
        fields: tuple[str, ...] = TEMPLATE_FIELDS,
        filters: dict[str, str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[dict]:
        """Every message template, page by page. `progress(page_number, items_so_far)` is called
        after each page (pages are `config.page_limit` long)."""
        params = {"fields": ",".join(fields), **(filters or {})}
        yield from self.paginate(f"{waba_id}/message_templates", params, progress=progress)

    def template(self, template_id: str, fields: tuple[str, ...] = TEMPLATE_FIELDS) -> dict:
        return self._call("GET", template_id, params={"fields": ",".join(fields)})

    def create_template(self, waba_id: str, template: dict) -> dict:
        """`POST /{WABA-ID}/message_templates`; returns `{id, status, category}`."""
        return self._call("POST", f"{waba_id}/message_templates", json_body=template)

    def edit_template(self, template_id: str, changes: dict) -> dict:
        return self._call("POST", template_id, json_body=changes)

    def delete_template(self, waba_id: str, name: str, template_id: str | None = None) -> dict:
        params = {"name": name, **({"hsm_id": template_id} if template_id else {})}
        return self._call("DELETE", f"{waba_id}/message_templates", params=params)

    # --- sending ----------------------------------------------------------------------------
    def send_template(self, phone_number_id: str, to: str, name: str, language: str,
                      components: list[dict] | None = None) -> SendResult:
        """Send an approved template. `components` as Meta expects them (header/body/button
        parameters); `language.policy` is sent as the spec requires."""
        template: dict[str, Any] = {"name": name,
                                    "language": {"code": language, "policy": "deterministic"}}
        if components:
            template["components"] = components
        return self.send_payload(phone_number_id, {"messaging_product": "whatsapp",
                                            "recipient_type": "individual", "to": to,
                                            "type": "template", "template": template})

    def send_text(self, phone_number_id: str, to: str, text: str,
                  reply_to: str | None = None) -> SendResult:
        """Send free text (only inside the 24 h customer-service window; else 131047)."""
        payload: dict[str, Any] = {"messaging_product": "whatsapp",
                                   "recipient_type": "individual", "to": to, "type": "text",
                                   "text": {"body": text, "preview_url": False}}
        if reply_to:
            payload["context"] = {"message_id": reply_to}
        return self.send_payload(phone_number_id, payload)

    def send_payload(self, phone_number_id: str, payload: dict, *,
                     single_attempt: bool = False) -> SendResult:
        """POST a prebuilt `/messages` body as is (what a payload preview showed is what is
        sent). `single_attempt`: no retry even of errors that are safe to retry (a guided test
        send is resent only by the admin)."""
        body = self._call("POST", f"{phone_number_id}/messages", json_body=payload,
                          outcome_matters=True, max_attempts=1 if single_attempt else None)
        messages = body.get("messages") or [{}]
        contacts = body.get("contacts") or [{}]
        wamid = messages[0].get("id")
        if not isinstance(wamid, str) or not wamid:
            raise InvalidResponseError(
                "The send was answered without a message id (wamid); treat its outcome as "
                "unknown and watch for a status webhook.", 200, retryable=False)
        return SendResult(wamid, contacts[0].get("wa_id"), contacts[0].get("input"),
                          messages[0].get("message_status"), body)

    # --- paging -----------------------------------------------------------------------------
    def paginate(self, path: str, params: dict[str, str],
                 progress: Callable[[int, int], None] | None = None) -> Iterator[dict]:
        """Yield the items of every page, following `paging.cursors.after` until `paging.next`
        is absent or a page is empty. A cursor that comes back twice raises PaginationError."""
        params = {**params, "limit": str(self.config.page_limit)}
        seen: set[str] = set()
        page = count = 0
        while True:
            body = self._call("GET", path, params=params)
            items = body.get("data") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise InvalidResponseError(f"GET {path}: the answer has no 'data' list", 200,
                                           retryable=False)
            page += 1
            count += len(items)
            yield from items
            if progress:
                progress(page, count)
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not items or not paging.get("next") or not after:
                return
            if after in seen:
                raise PaginationError(
                    f"GET {path}: Meta returned the same page cursor twice (page {page}); "
                    "stopping instead of looping forever. Try the sync again later.")
            seen.add(after)
            params = {**params, "after": after}

    # --- the one request path ----------------------------------------------------------------
    def app_access_token(self) -> str:
        app_id = self._require(self.app_id, "app ID")
        secret = self._require(self._app_secret() if self._app_secret else None, "app secret")
        token = f"{app_id}|{secret}"
        register_secret(token)
        return token

    def url(self, path: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/{self.config.version}/{path.lstrip('/')}"

    def _call(self, method: str, path: str, params: dict[str, str] | None = None,
              json_body: Any = None, auth: bool = True, outcome_matters: bool = False,
              max_attempts: int | None = None) -> Any:
        """One Graph call with the retry policy. Returns the decoded JSON body."""
        cfg = self.config
        limit = cfg.max_attempts if max_attempts is None else max_attempts
        stats = CallStats()
        self.last_call = stats
        attempt = 0
        while True:
            if self.cancelled():
                raise CancelledByCaller(f"{method} {path}: cancelled")
            attempt += 1
            stats.attempts = attempt
            try:
                return self._once(method, path, params, json_body, auth, outcome_matters)
            except MetaError as exc:
                if not exc.retryable or attempt >= limit:
                    raise
                delay = self._delay(attempt, exc)
                if stats.waited + delay > cfg.max_total_wait:
                    log.info("%s %s: not retrying, the wait (%.1fs) would pass the cap", method,
                             path, delay)
                    raise
                log.info("%s %s: attempt %d failed (%s); retrying in %.2fs", method, path,
                         attempt, type(exc).__name__, delay)
                self._pause(delay)
                stats.waited += delay

    def _once(self, method: str, path: str, params: dict[str, str] | None, json_body: Any,
              auth: bool, outcome_matters: bool) -> Any:
        headers = {"Accept": "application/json"}
        if auth:
            token = self._require(self._token(), "access token")
            register_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        timeout = (self.config.connect_timeout, self.config.read_timeout)
        try:
            response = self.session.request(method, self.url(path), params=params,
                                            json=json_body, headers=headers, timeout=timeout)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise NetworkError(f"{method} {path}: could not connect: {exc}") from None
        except requests.ConnectionError as exc:
            if outcome_matters and not _never_sent(exc):
                raise OutcomeUnknownError(
                    f"{method} {path}: the connection broke after the request was sent ({exc}); "
                    "the message may have been sent. It is not resent automatically.") from None
            raise NetworkError(f"{method} {path}: connection failed: {exc}") from None
        except requests.Timeout as exc:  # read timeout: the request reached the server
            if outcome_matters:
                raise OutcomeUnknownError(
                    f"{method} {path}: no answer within {self.config.read_timeout:g}s after "
                    "sending; the message may have been sent. It is not resent automatically."
                ) from None
            raise NetworkError(f"{method} {path}: no answer in time: {exc}") from None
        except requests.RequestException as exc:
            raise NetworkError(f"{method} {path}: {exc}") from None
        return self._decode(method, path, response, outcome_matters)

    def _decode(self, method: str, path: str, response: requests.Response,
                outcome_matters: bool) -> Any:
        status = response.status_code
        try:
            body = response.json()
        except (ValueError, json.JSONDecodeError):
            kind = response.headers.get("Content-Type", "unknown type")
            snippet = " ".join(response.text[:120].split())
            if outcome_matters and status < 400:
                raise OutcomeUnknownError(
                    f"{method} {path}: the answer (HTTP {status}) could not be read; the "
                    "message may have been sent.") from None
            raise InvalidResponseError(
                f"{method} {path}: HTTP {status} with a body that is not JSON ({kind}): "
                f"{snippet!r}", status, retryable=status >= 500 or (
                    method == "GET" and status < 400)) from None
        if status >= 400 or (isinstance(body, dict) and "error" in body):
            error = body.get("error") if isinstance(body, dict) else None
            if not isinstance(error, dict):
                raise InvalidResponseError(
                    f"{method} {path}: HTTP {status} without a Graph error object", status,
                    retryable=status >= 500)
            exc = GraphApiError(status, error, method, path)
            exc.retry_after = _retry_after(response)
            raise exc
        return body

    def _delay(self, attempt: int, exc: MetaError) -> float:
        """Full-jitter exponential backoff, at least what Meta asked for (Retry-After)."""
        cfg = self.config
        delay = min(cfg.backoff_cap, cfg.backoff_base * 2 ** (attempt - 1)) * self._jitter()
        return max(delay, exc.retry_after) if exc.retry_after is not None else delay

    def _pause(self, seconds: float) -> None:
        """Sleep in short steps so that a cancel takes effect within ~0.1 s."""
        remaining = seconds
        while remaining > 0:
            if self.cancelled():
                raise CancelledByCaller("cancelled while waiting to retry")
            step = min(remaining, 0.1)
            self._sleep(step)
            remaining -= step

    @staticmethod
    def _require(value: str | None, what: str) -> str:
        if not value:
            raise MissingCredential(f"The {what} is not set for this account; enter it in the "
                                    "settings.")
        return value


class CancelledByCaller(MetaError):
    """The caller's cancel flag was set; nothing more was sent."""


class MissingCredential(MetaError):
    """A value the call needs (token, app ID, app secret) is not configured."""


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before the request could reach the server."""
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "NameResolutionError",
                                             "Connection refused", "ConnectTimeout"))


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait from `Retry-After`, or from `estimated_time_to_regain_access` (minutes)
    in Meta's X-Business-Use-Case-Usage header."""
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    usage = response.headers.get("X-Business-Use-Case-Usage")
    if usage:
        try:
            entries = [e for items in json.loads(usage).values() for e in items]
            minutes = max(float(e.get("estimated_time_to_regain_access") or 0) for e in entries)
        except (ValueError, TypeError, AttributeError):
            return None
        return minutes * 60 if minutes > 0 else None
    return None

