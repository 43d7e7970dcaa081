"""Verify provider: does the configured token, app, WABA and phone number work together?

`verify_provider(ctx, store, account_id)` asks Meta (or the sandbox emulator) with at most six
calls (debug_token, the WABA, its phone numbers ×2, maybe the phone node, subscribed_apps) and
produces one result per check key below, each ok / failed / warning / unknown with the detail
and the fix. A check that cannot run because an earlier one failed is reported as unknown
("not checked because …"), never left out. Results replace the account's previous verify
results in one transaction; a cancel (`OpCancelled`) saves nothing.

When Meta says an ID does not exist (or is something else), the culprit field is named: the
configured IDs are compared with each other, with the display number and with the WABA's phone
numbers ("the phone number ID is not a phone of this WABA; it looks like the WABA ID").

`subscribe_app(...)` is the explicit fix for a missing app subscription (the GUI confirms first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from wa_console.core.errors import explain
from wa_console.core.redaction import redact
from wa_console.core.schema import FIELDS_BY_KEY
from wa_console.meta.client import CancelledByCaller, GraphClient
from wa_console.meta.errors import GraphApiError, MetaError
from wa_console.ops.context import OpCancelled, OpContext
from wa_console.ops.provider import client_for
from wa_console.store.accounts import AccountStore
from wa_console.store.checks import CheckResultData, Outcome, save_checks
from wa_console.store.records import AccountRecord
from wa_console.store.secrets import SecretStoreError

SCOPE_MANAGEMENT: Final = "whatsapp_business_management"
SCOPE_MESSAGING: Final = "whatsapp_business_messaging"
SCOPES: Final = (SCOPE_MANAGEMENT, SCOPE_MESSAGING)
EXPIRY_WARNING: Final = timedelta(days=7)

# The check keys, in the order they are run and shown (the values core/readiness.CheckKey
# knows, plus app.credentials).
APP_CREDENTIALS: Final = "app.credentials"
TOKEN_VALID: Final = "token.valid"
TOKEN_EXPIRY: Final = "token.expiry"
TOKEN_TYPE: Final = "token.type"
TOKEN_APP: Final = "token.app"
TOKEN_SCOPES: Final = "token.scopes"
WABA_READABLE: Final = "waba.readable"
PHONE_IN_WABA: Final = "phone.in_waba"
PHONE_DISPLAY_MATCHES: Final = "phone.display_matches"
PHONE_REGISTERED: Final = "phone.registered"
PHONE_NAME_APPROVED: Final = "phone.name_approved"
APP_SUBSCRIBED: Final = "app.subscribed"
CHECK_KEYS: Final[tuple[str, ...]] = (
    APP_CREDENTIALS, TOKEN_VALID, TOKEN_EXPIRY, TOKEN_TYPE, TOKEN_APP, TOKEN_SCOPES,
    WABA_READABLE, PHONE_IN_WABA, PHONE_DISPLAY_MATCHES, PHONE_REGISTERED, PHONE_NAME_APPROVED,
    APP_SUBSCRIBED)
TOKEN_KEYS: Final = (TOKEN_VALID, TOKEN_EXPIRY, TOKEN_TYPE, TOKEN_APP, TOKEN_SCOPES)
PHONE_KEYS: Final = (PHONE_IN_WABA, PHONE_DISPLAY_MATCHES, PHONE_REGISTERED, PHONE_NAME_APPROVED)

# Short names of the configured IDs, as admins say them.
ID_NAMES: Final = {"waba_id": "WABA ID", "phone_number_id": "phone number ID",
                   "app_id": "app ID"}
NODE_TYPES: Final = {"WhatsAppBusinessAccount": "a WhatsApp Business Account (WABA)",
                     "WhatsAppBusinessPhoneNumber": "a phone number",
                     "Application": "an app", "WhatsAppMessageTemplate": "a message template",
                     "Business": "a business portfolio", "User": "a user"}
PHONE_OK: Final = frozenset({"CONNECTED"})
PHONE_LIMITED: Final = frozenset({"FLAGGED", "RESTRICTED", "RATE_LIMITED"})
PHONE_DOWN: Final = frozenset({"PENDING", "DISCONNECTED", "UNLINKED", "DELETED", "MIGRATED",
                               "BANNED", "OFFLINE", "UNVERIFIED"})
NAME_OK: Final = frozenset({"APPROVED", "AVAILABLE_WITHOUT_REVIEW"})
NAME_BAD: Final = frozenset({"DECLINED", "EXPIRED", "NONE", "NAME_NOT_APPROVED"})
SETTINGS_FIX_TOKEN: Final = (
    "Generate a system-user token (Business settings → Users → System users → Generate token) "
    "with whatsapp_business_management and whatsapp_business_messaging, and enter it in the "
    "settings (Access token).")
_NODE_TYPE_RE = re.compile(r"on node type \((\w+)\)")


@dataclass(frozen=True)
class VerifyReport:
    """What one Verify provider run found: every check, in `CHECK_KEYS` order."""

    account_id: int
    results: tuple[CheckResultData, ...]
    checked_at: datetime
    simulated: bool

    def __iter__(self) -> Iterator[CheckResultData]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key: str) -> CheckResultData:
        for result in self.results:
            if result.key == key:
                return result
        raise KeyError(key)

    @property
    def ok(self) -> bool:
        """No check failed or stayed unknown (warnings are allowed)."""
        return all(r.outcome in ("ok", "warning") for r in self.results)

    @property
    def problems(self) -> list[CheckResultData]:
        return [r for r in self.results if r.outcome != "ok"]


@dataclass(frozen=True)
class SubscribeResult:
    """`subscribe_app`: whether a subscription was added (False: it was already there) and the
    Verify report run right after it."""

    subscribed: bool
    changed: bool
    detail: str
    report: VerifyReport


# --- the run ----------------------------------------------------------------------------------

@dataclass
class _Run:
    """Collects results; `skip` marks checks unknown with the reason they did not run."""

    ctx: OpContext
    simulated: bool
    now: datetime
    results: dict[str, CheckResultData] = field(default_factory=dict)

    def add(self, key: str, outcome: Outcome, detail: str, fix: str | None = None,
            **evidence: Any) -> None:
        if key in self.results:
            return
        self.results[key] = CheckResultData(
            key=key, outcome=outcome, detail=redact(detail),
            fix=redact(fix) if fix else None,
            evidence={k: v for k, v in evidence.items() if v is not None},
            checked_at=self.now, simulated=self.simulated)

    def skip(self, keys: tuple[str, ...] | list[str], because: str,
             fix: str | None = None) -> None:
        for key in keys:
            self.add(key, "unknown", f"Not checked because {because}.", fix)

    def unreachable(self, keys: tuple[str, ...] | list[str], exc: MetaError) -> None:
        for key in keys:
            self.add(key, "unknown", f"Not checked: {exc.title}.", exc.fix or None,
                     **_error_evidence(exc))

    def call[T](self, pct: int, text: str, fn: Callable[[], T]) -> T:
        """One Graph call between a cancel check and a progress report."""
        self.ctx.check_cancelled()
        self.ctx.report(pct, text)
        try:
            return fn()
        except CancelledByCaller:
            raise OpCancelled("Cancelled; nothing was changed.") from None

    def report(self, account_id: int) -> VerifyReport:
        missing = [k for k in CHECK_KEYS if k not in self.results]
        self.skip(missing, "an earlier step stopped the run")
        return VerifyReport(account_id, tuple(self.results[k] for k in CHECK_KEYS), self.now,
                            self.simulated)


def verify_provider(ctx: OpContext, store: AccountStore, account_id: int,
                    base_url: str | None = None) -> VerifyReport:
    """Run every check for the account, save the results (one transaction) and return them.

    Raises OpCancelled (nothing saved) when the admin cancels; every Meta or network problem
    becomes a check result instead of an exception."""
    record = store.get(account_id)
    run = _Run(ctx, simulated=record.sandbox, now=ctx.now())
    ctx.report(0, "Reading the settings")
    secrets = _read_secrets(run, store, record)
    if secrets is not None:
        with client_for(record, store.secrets, ctx, base_url) as client:
            _verify(run, client, record, secrets)
    ctx.check_cancelled()
    report = run.report(account_id)
    ctx.report(95, "Saving the results")
    save_checks(store.engine, account_id, report.results, simulated=record.sandbox,
                replace=CHECK_KEYS)
    ctx.report(100, _summary(report))
    return report


def subscribe_app(ctx: OpContext, store: AccountStore, account_id: int,
                  base_url: str | None = None) -> SubscribeResult:
    """Subscribe the configured app to the account's WABA (`POST /{WABA}/subscribed_apps`,
    which subscribes the token's app), then run Verify again and return both.

    Only call it after the admin confirmed. A refusal by Meta raises its typed MetaError (the
    GUI shows it with code and fbtrace_id); a cancel raises OpCancelled."""
    record = store.get(account_id)
    waba_id = str(record.values.get("waba_id") or "")
    app_id = str(record.values.get("app_id") or "")
    run = _Run(ctx, simulated=record.sandbox, now=ctx.now())
    with client_for(record, store.secrets, ctx, base_url) as client:
        apps = run.call(10, "Reading the WABA's subscribed apps",
                        lambda: client.subscribed_apps(waba_id))
        changed = app_id not in _app_ids(apps)
        if changed:
            run.call(30, "Subscribing the app to the WABA",
                     lambda: client.subscribe_app(waba_id))
    detail = (f"App {app_id} subscribed to WABA {waba_id}." if changed
              else f"App {app_id} was already subscribed to WABA {waba_id}.")
    ctx.report(50, detail + " Verifying again")
    report = verify_provider(ctx, store, account_id, base_url)
    subscribed = report[APP_SUBSCRIBED].outcome == "ok"
    return SubscribeResult(subscribed, changed, detail, report)


# --- the steps ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Secrets:
    token: str | None
    app_secret: str | None


def _read_secrets(run: _Run, store: AccountStore, record: AccountRecord) -> _Secrets | None:
    """The secrets the checks need; None (with results) when the keyring cannot be read."""
    values: dict[str, str | None] = {}
    for key in ("access_token", "app_secret"):
        ref = record.refs.get(key)
        try:
            values[key] = store.secrets.get(ref) if ref is not None else None
        except SecretStoreError as exc:
            label = FIELDS_BY_KEY[key].label
            run.add(APP_CREDENTIALS if key == "app_secret" else TOKEN_VALID, "failed",
                    f"The {label} could not be read: {exc}",
                    "Unlock the keyring (or fix the env: reference) and verify again.")
            run.skip(CHECK_KEYS, f"the {label} could not be read from the keyring")
            return None
    return _Secrets(values["access_token"], values["app_secret"])


def _verify(run: _Run, client: GraphClient, record: AccountRecord, secrets: _Secrets) -> None:
    values = record.values
    waba_id = str(values.get("waba_id") or "")
    phone_id = str(values.get("phone_number_id") or "")
    app_id = str(values.get("app_id") or "")

    # 1. Credentials and debug_token.
    missing = [FIELDS_BY_KEY[k].label for k, v in (("app_id", app_id),
                                                   ("app_secret", secrets.app_secret)) if not v]
    if not secrets.token:
        run.add(TOKEN_VALID, "failed", "The Access token is not set for this account.",
                "Enter the access token in the settings (Access token). " + SETTINGS_FIX_TOKEN)
    if missing:
        what = " and ".join(missing)
        run.add(APP_CREDENTIALS, "failed",
                f"The {what} {'is' if len(missing) == 1 else 'are'} not set for this account; "
                "the token is checked with the app access token (App ID|App secret).",
                f"Enter the {what} in the settings (App Dashboard → App settings → Basic).",
                missing=missing)
    if not secrets.token:
        run.skip(CHECK_KEYS, "the Access token is not set")
        return
    token_state = "unchecked"
    if missing:
        run.skip(TOKEN_KEYS, f"the {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
                 " not set (debug_token needs the app access token)")
    else:
        try:
            data = run.call(10, "Checking the access token (debug_token)", client.debug_token)
        except GraphApiError as exc:
            if exc.code == 190 or exc.code == 0:
                run.add(APP_CREDENTIALS, "failed",
                        "Meta refused the app access token made of the App ID and App secret "
                        f"({exc.title}), so the access token could not be checked.",
                        "Check the App ID and the App secret (App Dashboard → App settings → "
                        "Basic) and enter them in the settings.", **_error_evidence(exc))
                run.skip(TOKEN_KEYS, "the App ID / App secret were refused")
            else:
                run.add(APP_CREDENTIALS, "unknown", f"debug_token failed: {exc.title}.",
                        exc.fix, **_error_evidence(exc))
                run.unreachable(TOKEN_KEYS, exc)
        except MetaError as exc:
            run.unreachable(CHECK_KEYS, exc)
            return
        else:
            run.add(APP_CREDENTIALS, "ok", "The App ID and App secret were accepted by Meta.",
                    app_id=app_id)
            token_state = _token_checks(run, data, waba_id, app_id)
    if token_state == "invalid":
        run.skip(CHECK_KEYS, "the access token is not valid (see the token check for the fix)")
        return

    # 2. The WABA.
    try:
        waba = run.call(35, "Reading the WhatsApp Business Account",
                        lambda: client.waba(waba_id))
    except GraphApiError as exc:
        _waba_failed(run, exc, values, waba_id)
        run.skip((*PHONE_KEYS, APP_SUBSCRIBED), "the WABA could not be read")
        return
    except MetaError as exc:
        run.unreachable(CHECK_KEYS, exc)
        return
    run.add(WABA_READABLE, "ok", f"WABA {waba_id} ({waba.get('name') or 'no name'}) is readable.",
            waba_id=waba_id, name=waba.get("name"),
            account_review_status=waba.get("account_review_status"),
            business_verification_status=waba.get("business_verification_status"))

    # 3. The phone number.
    try:
        phones = run.call(55, "Reading the WABA's phone numbers",
                          lambda: client.phone_numbers(waba_id))
    except GraphApiError as exc:
        outcome: Outcome = "failed" if _permission(exc) else "unknown"
        run.add(PHONE_IN_WABA, outcome, f"The WABA's phone numbers could not be read: "
                f"{exc.title}.", exc.fix, **_error_evidence(exc))
        run.skip(PHONE_KEYS, "the WABA's phone numbers could not be read")
    except MetaError as exc:
        run.unreachable(CHECK_KEYS, exc)
        return
    else:
        _phone_checks(run, client, values, phones, waba_id, phone_id)

    # 4. The app's subscription to the WABA (no webhooks at all without it).
    if not app_id:
        run.skip((APP_SUBSCRIBED,), "the App ID is not set")
        return
    try:
        apps = run.call(80, "Reading the WABA's subscribed apps",
                        lambda: client.subscribed_apps(waba_id))
    except GraphApiError as exc:
        run.add(APP_SUBSCRIBED, "failed" if _permission(exc) else "unknown",
                f"The WABA's subscribed apps could not be read: {exc.title}.", exc.fix,
                **_error_evidence(exc))
        return
    except MetaError as exc:
        run.unreachable((APP_SUBSCRIBED,), exc)
        return
    subscribed = _app_ids(apps)
    if app_id in subscribed:
        run.add(APP_SUBSCRIBED, "ok", f"App {app_id} is subscribed to WABA {waba_id}.",
                subscribed_app_ids=subscribed)
    else:
        others = f" (subscribed: {', '.join(subscribed)})" if subscribed else ""
        run.add(APP_SUBSCRIBED, "failed",
                f"App {app_id} is not subscribed to WABA {waba_id}{others}: Meta sends no "
                "webhooks for this WABA to the app (no inbound messages, no delivery statuses).",
                "Press 'Subscribe app' (POST /{WABA-ID}/subscribed_apps with this token), then "
                "verify again.", subscribed_app_ids=subscribed)


def _token_checks(run: _Run, data: Mapping[str, Any], waba_id: str, app_id: str) -> str:
    """The debug_token checks; returns "valid" or "invalid"."""
    now = run.now
    expires_at = _int(data.get("expires_at"))
    token_type = str(data.get("type") or "")
    evidence = {"type": token_type or None, "app_id": data.get("app_id"),
                "application": data.get("application"), "expires_at": expires_at,
                "scopes": list(data.get("scopes") or [])}
    if not data.get("is_valid"):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code, subcode = _int(error.get("code")) or 190, _int(error.get("subcode"))
        info = explain(code, subcode)
        meaning = info.meaning if info else "The access token is not valid."
        message = str(error.get("message") or "")
        run.add(TOKEN_VALID, "failed",
                f"Meta says the access token is not valid: {meaning}"
                + (f" Meta said: {message}" if message else ""),
                (f"{info.action} Then enter the new token in the settings (Access token)."
                 if info else SETTINGS_FIX_TOKEN),
                code=code, subcode=subcode, **evidence)
        if (expires_at and _at(expires_at) <= now) or subcode == 463:
            when = f" on {_fmt(_at(expires_at))}" if expires_at else ""
            run.add(TOKEN_EXPIRY, "failed", f"The access token expired{when}.",
                    "Use a non-expiring system-user token. " + SETTINGS_FIX_TOKEN,
                    expires_at=expires_at, type=token_type or None)
        return "invalid"
    run.add(TOKEN_VALID, "ok", f"The access token is valid ({token_type or 'type unknown'} "
            f"token of {data.get('application') or 'app ' + str(data.get('app_id'))}).",
            **evidence)

    # Expiry: failed once expired, a warning within 7 days.
    if expires_at:
        expires = _at(expires_at)
        left = expires - now
        if left <= timedelta(0):
            run.add(TOKEN_EXPIRY, "failed", f"The access token expired on {_fmt(expires)}.",
                    SETTINGS_FIX_TOKEN, expires_at=expires_at)
        elif left <= EXPIRY_WARNING:
            run.add(TOKEN_EXPIRY, "warning",
                    f"The access token expires on {_fmt(expires)} (in {_span(left)}); "
                    "everything stops working then.",
                    "Replace it with a non-expiring system-user token before then. "
                    + SETTINGS_FIX_TOKEN, expires_at=expires_at)
        else:
            run.add(TOKEN_EXPIRY, "ok", f"The access token expires on {_fmt(expires)} (in "
                    f"{_span(left)}).", expires_at=expires_at)
    else:
        run.add(TOKEN_EXPIRY, "ok", "The access token never expires.", expires_at=0)

    # Type: a system-user token is what a console should hold; a user token is a warning.
    if token_type == "SYSTEM_USER":
        run.add(TOKEN_TYPE, "ok", "A system-user token.", type=token_type)
    elif token_type == "USER":
        short = (" and short-lived (like API Setup's temporary 24-hour token)"
                 if expires_at else "")
        run.add(TOKEN_TYPE, "warning",
                f"A user token{short}, not a system-user token: it stops working when it "
                "expires or when the user logs out, changes the password or leaves the "
                "business.", SETTINGS_FIX_TOKEN, type=token_type, expires_at=expires_at)
    elif token_type:
        run.add(TOKEN_TYPE, "warning",
                f"A {token_type} token, not a system-user token; it may not be able to act "
                "for the WhatsApp Business Account.", SETTINGS_FIX_TOKEN, type=token_type)
    else:
        run.add(TOKEN_TYPE, "unknown", "Meta did not say what kind of token this is.", None)

    token_app = str(data.get("app_id") or "")
    if token_app == app_id:
        run.add(TOKEN_APP, "ok", f"The token belongs to the configured app {app_id}.",
                token_app_id=token_app)
    else:
        run.add(TOKEN_APP, "failed",
                f"The token belongs to app {token_app or '(none)'}, but the App ID in the "
                f"settings is {app_id}.",
                "Generate the token in the app whose ID is configured (the system user must "
                "be added to that app), or correct the App ID in the settings.",
                token_app_id=token_app, configured_app_id=app_id)

    scopes = [str(s) for s in data.get("scopes") or []]
    missing = [s for s in SCOPES if s not in scopes]
    granular = {str(g.get("scope")): g.get("target_ids") for g in
                data.get("granular_scopes") or [] if isinstance(g, dict)}
    held = [s for s in SCOPES if s in scopes]
    targets = {s: [str(t) for t in granular[s]] for s in held
               if isinstance(granular.get(s), list)}
    outside = [s for s, ts in targets.items() if waba_id not in ts]
    scope_evidence = {"scopes": scopes, "missing": missing or None,
                      "target_ids": {s: targets.get(s) for s in held}, "waba_id": waba_id}
    problems: list[str] = []
    fixes: list[str] = []
    if missing:
        problems.append(f"The token lacks {' and '.join(missing)}"
                        + (" (it cannot send messages)" if SCOPE_MESSAGING in missing else "")
                        + ".")
        fixes.append(f"Business settings → System users → the system user: grant "
                     f"{', '.join(missing)} for the app and the WABA, then generate a new token "
                     "(a token keeps the permissions it was generated with) and enter it in the "
                     "settings.")
    if outside:
        limited_to = sorted({t for s in outside for t in targets[s]})
        problems.append(f"The token's {' and '.join(outside)} "
                        f"{'is' if len(outside) == 1 else 'are'} limited to WABA "
                        f"{', '.join(limited_to) or '(none)'}; the configured WABA ID {waba_id} "
                        "is not among them.")
        fixes.append("Either the WABA ID in the settings is wrong (compare it with API Setup), "
                     "or the WABA is not assigned to the system user: Business settings → "
                     "System users → Assign assets → WhatsApp accounts, then generate a new "
                     "token.")
    if problems:
        run.add(TOKEN_SCOPES, "failed", " ".join(problems), " ".join(fixes), **scope_evidence)
    else:
        how = " (listed in their target IDs)" if targets else " (granted on all assets)"
        run.add(TOKEN_SCOPES, "ok", "The token has whatsapp_business_management and "
                f"whatsapp_business_messaging for WABA {waba_id}{how}.", **scope_evidence)
    return "valid"


def _waba_failed(run: _Run, exc: GraphApiError, values: Mapping[str, Any], waba_id: str) -> None:
    evidence = _error_evidence(exc)
    if _not_found(exc):
        culprit = _describe_id("waba_id", waba_id, values, node_type=_node_type(exc),
                               expected="a WABA")
        run.add(WABA_READABLE, "failed",
                f"Meta has no WhatsApp Business Account with the ID {waba_id} that this token "
                f"can see{'; ' + culprit if culprit else ''}.",
                "Copy the WhatsApp Business Account ID from App Dashboard → WhatsApp → API "
                "Setup (or Business settings → Accounts → WhatsApp accounts) into the settings "
                "(WhatsApp Business Account ID).", **evidence)
    elif _permission(exc):
        run.add(WABA_READABLE, "failed",
                f"The token may not read WABA {waba_id}: {exc.title}.",
                "Assign the WABA to the system user (Business settings → System users → Assign "
                "assets → WhatsApp accounts, full control), grant the whatsapp permissions and "
                "generate a new token; or correct the WABA ID in the settings.", **evidence)
    elif exc.code == 190:
        run.add(WABA_READABLE, "failed", f"Meta refused the access token: {exc.title}.",
                exc.fix + " " + SETTINGS_FIX_TOKEN, **evidence)
    else:
        run.add(WABA_READABLE, "unknown", f"The WABA could not be read: {exc.title}.",
                exc.fix, **evidence)


def _phone_checks(run: _Run, client: GraphClient, values: Mapping[str, Any],
                  phones: list[dict], waba_id: str, phone_id: str) -> None:
    configured_display = str(values.get("display_phone_number") or "")
    listing = [{"id": p.get("id"), "display_phone_number": p.get("display_phone_number")}
               for p in phones]
    phone = next((p for p in phones if str(p.get("id")) == phone_id), None)
    if phone is None:
        culprit = _describe_id("phone_number_id", phone_id, values, phones=phones,
                               expected="a phone number")
        if not culprit:
            culprit = _probe_phone(run, client, phone_id)
        by_display = next((p for p in phones if configured_display and
                           _digits(str(p.get("display_phone_number"))) ==
                           _digits(configured_display)), None)
        hint = (f" The display number {configured_display} is phone number ID "
                f"{by_display.get('id')} in this WABA." if by_display else "")
        numbers = ", ".join(f"{p.get('id')} ({p.get('display_phone_number')})"
                            for p in phones) or "none"
        run.add(PHONE_IN_WABA, "failed",
                f"The phone number ID {phone_id} is not a phone of WABA {waba_id}"
                f"{'; ' + culprit if culprit else ''}.",
                "Copy the Phone number ID from App Dashboard → WhatsApp → API Setup into the "
                f"settings (Phone number ID).{hint} This WABA's phone number IDs: {numbers}.",
                phone_number_id=phone_id, waba_phone_numbers=listing,
                suggested_phone_number_id=by_display.get("id") if by_display else None)
        run.skip(PHONE_KEYS, "the phone number ID is not a phone of this WABA")
        return
    run.add(PHONE_IN_WABA, "ok", f"Phone number ID {phone_id} ({phone.get('verified_name')}) "
            f"belongs to WABA {waba_id}.", phone_number_id=phone_id,
            verified_name=phone.get("verified_name"))

    meta_display = str(phone.get("display_phone_number") or "")
    if _digits(meta_display) and _digits(meta_display) == _digits(configured_display):
        run.add(PHONE_DISPLAY_MATCHES, "ok", f"The display number matches Meta's ({meta_display}).",
                meta=meta_display, configured=configured_display)
    else:
        run.add(PHONE_DISPLAY_MATCHES, "failed",
                f"The display phone number in the settings ({configured_display or 'not set'}) "
                f"is not the number of phone number ID {phone_id}, which Meta shows as "
                f"{meta_display or '(nothing)'}.",
                f"Set the Display phone number to {meta_display} in the settings, or correct "
                "the Phone number ID if the display number is the right one.",
                meta=meta_display, configured=configured_display)

    status = str(phone.get("status") or "")
    code_verification = str(phone.get("code_verification_status") or "")
    evidence = {"status": status or None, "code_verification_status": code_verification or None,
                "quality_rating": phone.get("quality_rating"),
                "messaging_limit_tier": phone.get("messaging_limit_tier"),
                "account_mode": phone.get("account_mode")}
    if status in PHONE_OK:
        if code_verification and code_verification != "VERIFIED":
            run.add(PHONE_REGISTERED, "warning",
                    f"The number is connected, but its code verification is "
                    f"{code_verification}.",
                    "Verify the number (App Dashboard → WhatsApp → API Setup → Verify number).",
                    **evidence)
        else:
            run.add(PHONE_REGISTERED, "ok", "The number is registered and connected.", **evidence)
    elif status in PHONE_LIMITED:
        run.add(PHONE_REGISTERED, "warning",
                f"The number is {status}: it can send, but with limits (quality "
                f"{phone.get('quality_rating') or 'unknown'}).",
                "Check the number's quality in WhatsApp Manager → Phone numbers and reduce "
                "what users block or report.", **evidence)
    elif status in PHONE_DOWN:
        run.add(PHONE_REGISTERED, "failed", f"The number is {status}: it cannot send messages.",
                "Register the number with the Cloud API (WhatsApp Manager → Phone numbers, or "
                "POST /{Phone-Number-ID}/register with a 6-digit PIN) and verify again.",
                **evidence)
    else:
        run.add(PHONE_REGISTERED, "warning" if status else "unknown",
                f"Meta reports the number's status as {status or 'nothing'}, which the console "
                "does not know; it may not be able to send.",
                "Check the number in WhatsApp Manager → Phone numbers.", **evidence)

    name_status = phone.get("name_status")
    if not name_status:
        try:
            node = run.call(70, "Reading the phone number's name status",
                            lambda: client.phone_number(phone_id, ("id", "name_status",
                                                                   "verified_name")))
            name_status = node.get("name_status")
        except GraphApiError as exc:
            run.add(PHONE_NAME_APPROVED, "unknown",
                    f"The display name status could not be read: {exc.title}.", exc.fix,
                    **_error_evidence(exc))
            return
        except MetaError as exc:
            run.unreachable((PHONE_NAME_APPROVED,), exc)
            return
    name = phone.get("verified_name")
    name_status = str(name_status or "")
    if name_status in NAME_OK:
        run.add(PHONE_NAME_APPROVED, "ok", f"The display name '{name}' is {name_status}.",
                name_status=name_status, verified_name=name)
    elif name_status == "PENDING_REVIEW":
        run.add(PHONE_NAME_APPROVED, "warning", f"The display name '{name}' is still under "
                "review; messages may be limited until Meta approves it.",
                "Wait for the review (WhatsApp Manager → Phone numbers shows it).",
                name_status=name_status, verified_name=name)
    elif name_status in NAME_BAD:
        run.add(PHONE_NAME_APPROVED, "failed", f"The display name '{name}' is {name_status}: "
                "the number cannot send until a name is approved.",
                "Submit or correct the display name in WhatsApp Manager → Phone numbers → "
                "the number → Profile.", name_status=name_status, verified_name=name)
    else:
        run.add(PHONE_NAME_APPROVED, "warning" if name_status else "unknown",
                f"Meta reports the display name status as {name_status or 'nothing'}.",
                "Check the display name in WhatsApp Manager → Phone numbers.",
                name_status=name_status or None, verified_name=name)


def _probe_phone(run: _Run, client: GraphClient, phone_id: str) -> str:
    """What the ID is, asked of Meta directly (one call), as a clause; "" when unclear."""
    try:
        node = run.call(65, "Looking up the configured phone number ID",
                        lambda: client.phone_number(phone_id, ("id", "display_phone_number",
                                                               "verified_name")))
    except GraphApiError as exc:
        node_type = _node_type(exc)
        if node_type and node_type != "WhatsAppBusinessPhoneNumber":
            return f"it is the ID of {NODE_TYPES.get(node_type, node_type)}, not of a phone number"
        if _permission(exc):
            return ("Meta knows this ID but the token may not read it: probably a phone number "
                    "of another WABA that is not assigned to this system user")
        if _not_found(exc):
            return ("Meta has no object with this ID that the token can see (a typo, or a "
                    "deleted number)")
        return ""
    except CancelledByCaller:
        raise
    except MetaError:
        return ""
    return (f"it is the phone number {node.get('display_phone_number')} "
            f"('{node.get('verified_name')}') of another WABA that this token can see")


# --- helpers ---------------------------------------------------------------------------------

def _describe_id(key: str, value: str, values: Mapping[str, Any], *,
                 node_type: str | None = None, phones: list[dict] | None = None,
                 expected: str = "") -> str:
    """What a configured ID that Meta does not know as `expected` looks like, as a clause
    ("it looks like the WABA ID"); "" when nothing stands out."""
    clauses = []
    for other, name in ID_NAMES.items():
        if other != key and value and str(values.get(other) or "") == value:
            clauses.append(f"it looks like the {name} (the same number is in both fields)")
    display = _digits(str(values.get("display_phone_number") or ""))
    digits = _digits(value)
    if digits and display and (digits == display or (display.endswith(digits) and
                               len(digits) >= 7)):
        clauses.append("it looks like the display phone number, not an ID")
    for phone in phones or ():
        shown = str(phone.get("display_phone_number") or "")
        if digits and _digits(shown) == digits and "display phone number" not in " ".join(
                clauses):
            clauses.append(f"it is the display number {shown}, whose phone number ID is "
                           f"{phone.get('id')}")
    if node_type and not clauses:
        what = NODE_TYPES.get(node_type, node_type)
        if expected and not what.startswith(expected):
            clauses.append(f"it is the ID of {what}")
    return "; ".join(clauses)


def _not_found(exc: GraphApiError) -> bool:
    """Meta's "Object with ID ... does not exist" (100/33), 803, or an ID of another type."""
    return ((exc.code == 100 and exc.subcode == 33) or exc.code == 803
            or (exc.code == 100 and _node_type(exc) is not None))


def _permission(exc: GraphApiError) -> bool:
    return exc.code in (3, 10) or 200 <= (exc.code or 0) <= 299


def _node_type(exc: GraphApiError) -> str | None:
    match = _NODE_TYPE_RE.search(exc.meta_message)
    return match.group(1) if match else None


def _error_evidence(exc: MetaError) -> dict[str, Any]:
    evidence: dict[str, Any] = {"error": type(exc).__name__}
    if isinstance(exc, GraphApiError):
        evidence.update(code=exc.code, subcode=exc.subcode, fbtrace_id=exc.fbtrace_id or None,
                        meta_message=redact(exc.meta_message) or None)
    return {k: v for k, v in evidence.items() if v is not None}


def _app_ids(apps: list[dict]) -> list[str]:
    ids = []
    for item in apps:
        data = item.get("whatsapp_business_api_data") if isinstance(item, dict) else None
        if isinstance(data, dict) and data.get("id") is not None:
            ids.append(str(data["id"]))
    return ids


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def _fmt(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _summary(report: VerifyReport) -> str:
    counts = {o: sum(1 for r in report if r.outcome == o)
              for o in ("ok", "warning", "failed", "unknown")}
    return ", ".join(f"{n} {o}" for o, n in counts.items() if n) or "no checks"
