"""Readiness: the seven requirements of the settings page, and the feature toggles they gate.

`evaluate(ReadinessInput) -> Readiness` is a pure function of stored state: the account's settings
and credential references, the last Verify provider run, the last account and template syncs,
the webhook checks and the sender check. It does no I/O and reads no clock (`now` is an input), so
the checklist widget, `wa-console check` and the tests all get the same answer from the same data.

The inputs are plain frozen dataclasses of primitives, tuples and UTC datetimes, so the store can
fill them straight from rows. Naive datetimes (SQLite gives those back) are taken to be UTC.

Truth rules that hold throughout:
- Nothing is assumed: an input that was never produced (never verified, never synced, webhook or
  senders not checked) makes its item NOT_CHECKED, which keeps readiness false.
- A result older than `max_age` (default 24 h) is STALE and counts as unmet.
- For a live account, a result produced by the sandbox emulator (`simulated`) is not evidence:
  the item is NOT_CHECKED until it is checked against Meta.
- A sandbox account can become "sandbox ready", never production ready.
- Toggles are never switched by readiness: a feature that is on when readiness is lost is shown
  as SUSPENDED with the reason, and stays on until the admin switches it off.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from wa_console.core.schema import FIELDS_BY_KEY

DEFAULT_MAX_AGE: Final = timedelta(hours=24)
# The label design.md gives every sandbox result, wherever it is shown.
SIMULATED_LABEL: Final = "simulated – not proof"  # noqa: RUF001 (the en dash is the label's)
TOKEN_EXPIRY_WARNING: Final = timedelta(days=7)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


class CheckOutcome(enum.Enum):
    """How one check ended."""

    OK = "ok"
    FAILED = "failed"
    WARNING = "warning"  # passed, with something the admin should know (never blocks)
    UNKNOWN = "unknown"  # could not be decided, e.g. skipped because an earlier check failed


class CheckKey(enum.StrEnum):
    """The keys Verify provider reports; `Check.key` holds one of these (or a newer one).

    A StrEnum so that keys read back from the database compare equal to the members.
    """

    APP_CREDENTIALS = "app.credentials"  # app ID and app secret present and readable
    TOKEN_VALID = "token.valid"
    TOKEN_EXPIRY = "token.expiry"
    TOKEN_TYPE = "token.type"  # WARNING for a short-lived user token
    TOKEN_APP = "token.app"
    TOKEN_SCOPES = "token.scopes"  # both whatsapp_* scopes, WABA inside their target_ids
    WABA_READABLE = "waba.readable"
    PHONE_IN_WABA = "phone.in_waba"
    PHONE_DISPLAY_MATCHES = "phone.display_matches"
    PHONE_REGISTERED = "phone.registered"
    PHONE_NAME_APPROVED = "phone.name_approved"
    APP_SUBSCRIBED = "app.subscribed"


@dataclass(frozen=True)
class Check:
    """One stored check result (a row of CheckResult).

    Attributes:
        key: What was checked, a `CheckKey` value for Verify provider.
        outcome: How it ended.
        detail: What was found, admin-facing ("The access token expired on 2026-11-20").
        fix: What to do about it ("Enter a new system-user token"); may be empty or None, then
            the readiness rules supply the usual fix for the key.
        checked_at: When it was checked (UTC).
        simulated: Produced by the sandbox emulator, not by Meta.
    """

    key: str
    outcome: CheckOutcome
    detail: str
    fix: str | None
    checked_at: datetime
    simulated: bool = False


@dataclass(frozen=True, kw_only=True)
class AccountState:
    """The channel account's own settings, as stored.

    Attributes:
        sandbox: Safe/fake provider mode: talks to the emulator, so nothing counts as production.
        missing_settings: Keys (`schema.FieldSpec.key`) of required fields that are empty,
            secret ones included (a required secret without a credential reference).
        credential_refs_ok: Every stored credential reference resolves to a secret.
        credential_problem: Admin-facing sentence saying which reference does not resolve and
            what to do; used as the reason when `credential_refs_ok` is false.
        token_expires_at: When the access token expires, from the last debug_token (None: never
            expires or unknown). Judged against `now`, so a token that expired after the last
            verify run is still caught.
    """

    sandbox: bool = False
    missing_settings: tuple[str, ...] = ()
    credential_refs_ok: bool = True
    credential_problem: str | None = None
    token_expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PhoneIdentity:
    """The configured phone number as the last account sync saw it (raw Meta strings).

    Attributes:
        display_phone_number: As Meta formats it, for messages.
        verified_name: The display name.
        status: Meta's `status` (CONNECTED, PENDING, FLAGGED, BANNED, ...); None if not fetched.
        name_status: Meta's `name_status` (APPROVED, PENDING_REVIEW, DECLINED, ...).
        quality_rating: GREEN, YELLOW, RED, NA or UNKNOWN.
    """

    display_phone_number: str = ""
    verified_name: str = ""
    status: str | None = None
    name_status: str | None = None
    quality_rating: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccountSyncState:
    """The last Sync channel account.

    Attributes:
        synced_at: When the last successful sync finished; None if never.
        phone: The configured phone number ID as found by that sync; None if the sync did not
            find it in the WABA.
        waba_review_status: The WABA's `account_review_status` (APPROVED, PENDING, REJECTED, ...).
        last_error: Admin-facing reason, if the most recent attempt failed (after `synced_at`).
        simulated: The synced data came from the sandbox emulator.
    """

    synced_at: datetime | None = None
    phone: PhoneIdentity | None = None
    waba_review_status: str | None = None
    last_error: str | None = None
    simulated: bool = False


@dataclass(frozen=True)
class TemplateRequirement:
    """One event key the platform sends, and whether a template can serve it.

    Attributes:
        event_key: The platform event, e.g. "attendance.absent".
        approved: An APPROVED template carries this event key.
        keys_match: Its header/body parameter keys match the approved template's placeholders
            (False: sends would fail; None: not compared yet).
        template_name: The best candidate template, for messages.
        status: That template's Meta status when it is not APPROVED (PENDING, REJECTED, PAUSED).
    """

    event_key: str
    approved: bool
    keys_match: bool | None
    template_name: str | None = None
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class TemplateState:
    """The last Sync templates, and the templates the platform's events need.

    Attributes:
        synced_at: When the last successful sync finished; None if never.
        counts: (Meta status, number of templates) pairs of that sync.
        required: One entry per event key the platform sends. Empty: at least one APPROVED
            template is required.
        last_error: Admin-facing reason, if the most recent attempt failed (after `synced_at`).
        simulated: The synced data came from the sandbox emulator.
    """

    synced_at: datetime | None = None
    counts: tuple[tuple[str, int], ...] = ()
    required: tuple[TemplateRequirement, ...] = ()
    last_error: str | None = None
    simulated: bool = False

    def count(self, status: str) -> int:
        """Templates with this Meta status (case-insensitive)."""
        return sum(n for s, n in self.counts if s.upper() == status.upper())


@dataclass(frozen=True, kw_only=True)
class WebhookState:
    """The two halves of webhook readiness; None = not checked yet.

    Attributes:
        meta_side: Meta delivers: app callback URL with the `messages` field, the WABA's
            subscribed apps, overrides.
        platform_side: The receiver answers: challenge with the right token (and refuses a wrong
            one), signed POST accepted, unsigned/badly signed POST refused.
    """

    meta_side: Check | None = None
    platform_side: Check | None = None


@dataclass(frozen=True, kw_only=True)
class SenderState:
    """Sender readiness as computed from stored senders and synced phones.

    Attributes:
        valid_count: Senders whose number is a CONNECTED phone of this WABA found by the sync.
        problem: Admin-facing sentence about the first invalid sender, if any.
        template_links: Template records whose Sender account names a missing or invalid
            sender, one sentence each (advisories: the platform would send them from nowhere).
    """

    valid_count: int
    problem: str | None = None
    template_links: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ProofState:
    """The newest guided test send that proved the loop (wamid + signed status callback + the
    mapped reply). Not one of the seven requirements: readiness shows it beside them.

    Attributes:
        live_proven_at: When the newest proof against Meta was made; None = no production proof.
        simulated_proven_at: The newest sandbox proof (never counts as production proof).
    """

    live_proven_at: datetime | None = None
    simulated_proven_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ReadinessInput:
    """Everything readiness is computed from.

    Attributes:
        account: Settings and credential references.
        now: The evaluation time (UTC); ages and token expiry are measured against it.
        verify_checks: The checks of the last Verify provider run; empty = never verified. If a
            key appears more than once the newest counts.
        account_sync: The last Sync channel account.
        templates: The last Sync templates and the required event keys.
        webhook: Webhook readiness; not checked until the webhook checks exist.
        senders: Sender readiness; None = not checked.
        proof: The newest test-send proofs (shown, not required).
        quality_flags: Delivery health's flagged phone numbers and templates (PAUSED,
            DISABLED, RED, FLAGGED), one sentence each; advised, never required.
        max_age: Results older than this are stale.
    """

    account: AccountState
    now: datetime
    verify_checks: tuple[Check, ...] = ()
    account_sync: AccountSyncState = field(default_factory=AccountSyncState)
    templates: TemplateState = field(default_factory=TemplateState)
    webhook: WebhookState = field(default_factory=WebhookState)
    senders: SenderState | None = None
    proof: ProofState = field(default_factory=ProofState)
    quality_flags: tuple[str, ...] = ()
    max_age: timedelta = DEFAULT_MAX_AGE


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


class Requirement(enum.Enum):
    """The seven requirements of the settings page, in the order they are shown."""

    PROVIDER_ACCOUNT = "provider_account"
    IDENTITY = "identity"
    CREDENTIAL_REFERENCE = "credential_reference"
    APPROVED_TEMPLATES = "approved_templates"
    WEBHOOK = "webhook"
    TEMPLATE_SYNC = "template_sync"
    SENDER = "sender"

    @property
    def label(self) -> str:
        return _REQUIREMENT_LABELS[self]


_REQUIREMENT_LABELS: Final = {
    Requirement.PROVIDER_ACCOUNT: "Provider account",
    Requirement.IDENTITY: "Phone number and business identity",
    Requirement.CREDENTIAL_REFERENCE: "Credential reference (access token)",
    Requirement.APPROVED_TEMPLATES: "Approved templates",
    Requirement.WEBHOOK: "Webhook readiness",
    Requirement.TEMPLATE_SYNC: "Template sync",
    Requirement.SENDER: "Sender readiness",
}


class ItemState(enum.Enum):
    OK = "ok"
    FAILING = "failing"
    NOT_CHECKED = "not_checked"
    STALE = "stale"


class Action(enum.Enum):
    """The step in the console that fixes an item (a button or a page link)."""

    OPEN_SETTINGS = "open_settings"
    ENTER_TOKEN = "enter_token"
    VERIFY_PROVIDER = "verify_provider"
    SYNC_ACCOUNT = "sync_account"
    OPEN_PHONE_NUMBERS = "open_phone_numbers"
    SYNC_TEMPLATES = "sync_templates"
    OPEN_TEMPLATES = "open_templates"
    SUBSCRIBE_APP = "subscribe_app"
    CHECK_WEBHOOKS = "check_webhooks"
    OPEN_SENDERS = "open_senders"
    OPEN_DELIVERY_HEALTH = "open_delivery_health"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS: Final = {
    Action.OPEN_SETTINGS: "Open settings",
    Action.ENTER_TOKEN: "Enter a new access token",
    Action.VERIFY_PROVIDER: "Verify provider",
    Action.SYNC_ACCOUNT: "Sync channel account",
    Action.OPEN_PHONE_NUMBERS: "Open phone numbers",
    Action.SYNC_TEMPLATES: "Sync templates",
    Action.OPEN_TEMPLATES: "Open templates",
    Action.SUBSCRIBE_APP: "Subscribe app to the WABA",
    Action.CHECK_WEBHOOKS: "Check webhooks",
    Action.OPEN_SENDERS: "Open senders",
    Action.OPEN_DELIVERY_HEALTH: "Open delivery health",
}


@dataclass(frozen=True)
class ReadinessItem:
    """One line of the checklist.

    Attributes:
        requirement: Which of the seven.
        label: The requirement's label.
        state: OK, or why not.
        reason: Admin-facing: what is wrong and what to do (or, when OK, what was confirmed).
        action: The step that fixes it; None when OK.
        problems: Every problem found for this item, most serious first (`reason` is the first);
            the widget shows them in the tooltip.
    """

    requirement: Requirement
    label: str
    state: ItemState
    reason: str
    action: Action | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state is ItemState.OK


@dataclass(frozen=True)
class Advisory:
    """A warning that does not block readiness (token expiring soon, YELLOW quality, ...).
    `requirement` is None for one that belongs to none of the seven (delivery health)."""

    requirement: Requirement | None
    reason: str
    action: Action

    @property
    def text(self) -> str:
        return f"{self.requirement.label}: {self.reason}" if self.requirement else self.reason


@dataclass(frozen=True)
class Readiness:
    """The evaluated checklist.

    Attributes:
        items: The seven items, in `Requirement` order.
        simulated: The account is a sandbox account; everything here is labelled
            `SIMULATED_LABEL`.
        advisories: Non-blocking warnings.
        evaluated_at: The input's `now`.
        proof: The newest proofs of the guided test send.
    """

    items: tuple[ReadinessItem, ...]
    simulated: bool
    advisories: tuple[Advisory, ...]
    evaluated_at: datetime
    proof: ProofState = field(default_factory=ProofState)

    @property
    def ready(self) -> bool:
        """All seven requirements are OK (for a sandbox account: sandbox ready)."""
        return all(item.ok for item in self.items)

    @property
    def production_ready(self) -> bool:
        """Ready against Meta itself; a sandbox account never is."""
        return self.ready and not self.simulated

    @property
    def unmet(self) -> tuple[ReadinessItem, ...]:
        """The failing, not checked and stale items, in checklist order."""
        return tuple(item for item in self.items if not item.ok)

    def item(self, requirement: Requirement) -> ReadinessItem:
        return next(item for item in self.items if item.requirement is requirement)

    @property
    def proof_line(self) -> str:
        """"Production proof: yes (date)" only for a live proof; sandbox proofs never count."""
        live, simulated = self.proof.live_proven_at, self.proof.simulated_proven_at
        if live is not None and not self.simulated:
            return f"Production proof: yes ({_utc(live):%Y-%m-%d %H:%M} UTC)"
        if simulated is not None:
            return (f"Production proof: no; a sandbox test send completed "
                    f"{_utc(simulated):%Y-%m-%d %H:%M} UTC ({SIMULATED_LABEL})")
        return "Production proof: no; run the guided test send and reply"

    @property
    def headline(self) -> str:
        """One line for a status bar or the CLI."""
        if self.ready:
            return f"Sandbox ready ({SIMULATED_LABEL})" if self.simulated else "Ready"
        text = f"Not ready: {len(self.unmet)} of {len(self.items)} requirements unmet"
        return text + " (simulated)" if self.simulated else text

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for `wa-console check --json`)."""
        return {
            "ready": self.ready,
            "production_ready": self.production_ready,
            "simulated": self.simulated,
            "evaluated_at": self.evaluated_at.isoformat(),
            "production_proof": (_utc(self.proof.live_proven_at).isoformat()
                                 if self.proof.live_proven_at and not self.simulated else None),
            "items": [
                {
                    "requirement": item.requirement.value,
                    "label": item.label,
                    "state": item.state.value,
                    "reason": item.reason,
                    "action": item.action.value if item.action else None,
                    "problems": list(item.problems),
                }
                for item in self.items
            ],
            "advisories": [
                {"requirement": a.requirement.value if a.requirement else None,
                 "reason": a.reason, "action": a.action.value}
                for a in self.advisories
            ],
        }


# ---------------------------------------------------------------------------------------------
# Which verify check serves which requirement
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRule:
    """How one Verify provider check feeds readiness.

    Attributes:
        requirement: The item it belongs to.
        action: The step that fixes a failure.
        label: What was checked, for "not checked" messages.
        fix: The usual fix, used when the stored check has none.
        required: The item cannot be OK without this check (optional checks only ever fail or
            warn, e.g. token.expiry, which token.valid already covers at verify time).
    """

    requirement: Requirement
    action: Action
    label: str
    fix: str
    required: bool = True


# The token's own problems (invalid, expired, wrong app, missing scope or WABA outside its
# target_ids) belong to CREDENTIAL_REFERENCE: the reference resolves, but the secret behind it
# cannot do the job, and the fix is a new token (or the app ID). PROVIDER_ACCOUNT is the
# account's own identity: required settings present and a WABA that can be read.
CHECK_RULES: Final[Mapping[str, CheckRule]] = {
    CheckKey.APP_CREDENTIALS: CheckRule(
        Requirement.CREDENTIAL_REFERENCE, Action.OPEN_SETTINGS, "the app credentials",
        "enter the App ID and the app secret (App Dashboard → App settings → Basic)",
        required=False),
    CheckKey.TOKEN_VALID: CheckRule(
        Requirement.CREDENTIAL_REFERENCE, Action.ENTER_TOKEN, "the access token's validity",
        "enter a new access token (a system-user token does not expire)"),
    CheckKey.TOKEN_EXPIRY: CheckRule(
        Requirement.CREDENTIAL_REFERENCE, Action.ENTER_TOKEN, "the access token's expiry",
        "enter a new system-user token", required=False),
    CheckKey.TOKEN_TYPE: CheckRule(
        Requirement.CREDENTIAL_REFERENCE, Action.ENTER_TOKEN, "the access token's type",
        "enter a system-user token instead", required=False),
    CheckKey.TOKEN_APP: CheckRule(
        Requirement.CREDENTIAL_REFERENCE, Action.OPEN_SETTINGS, "the access token's app",
        "use a token of the configured app, or correct the App ID"),
    CheckKey.TOKEN_SCOPES: CheckRule(
        Requirement.CREDENTIAL_REFERENCE, Action.ENTER_TOKEN, "the access token's permissions",
        "assign the WhatsApp Business Account to the system user with "
        "whatsapp_business_management and whatsapp_business_messaging, then enter a new token"),
    CheckKey.WABA_READABLE: CheckRule(
        Requirement.PROVIDER_ACCOUNT, Action.OPEN_SETTINGS, "the WhatsApp Business Account",
        "check the WhatsApp Business Account ID and that the system user is assigned to it"),
    CheckKey.PHONE_IN_WABA: CheckRule(
        Requirement.IDENTITY, Action.OPEN_SETTINGS, "the phone number's WABA",
        "enter the phone number ID of a number in this WABA (App Dashboard → WhatsApp → "
        "API Setup)"),
    CheckKey.PHONE_DISPLAY_MATCHES: CheckRule(
        Requirement.IDENTITY, Action.OPEN_SETTINGS, "the display phone number",
        "enter the display phone number exactly as Meta shows it"),
    CheckKey.PHONE_REGISTERED: CheckRule(
        Requirement.IDENTITY, Action.OPEN_PHONE_NUMBERS, "the phone number's registration",
        "register the number with the Cloud API (POST /{phone-number-id}/register with its PIN)"),
    CheckKey.PHONE_NAME_APPROVED: CheckRule(
        Requirement.IDENTITY, Action.OPEN_PHONE_NUMBERS, "the display name's approval",
        "get the display name approved in WhatsApp Manager"),
    CheckKey.APP_SUBSCRIBED: CheckRule(
        Requirement.WEBHOOK, Action.SUBSCRIBE_APP, "the app's subscription to the WABA",
        "subscribe the app to the WABA, or no webhook arrives for it"),
}

# A failed check with a key these rules do not know (a newer verify step) still blocks: it is a
# verify failure, so it lands on the provider account with "verify again" as the step.
_UNKNOWN_CHECK_RULE: Final = CheckRule(
    Requirement.PROVIDER_ACCOUNT, Action.VERIFY_PROVIDER, "a provider check",
    "fix what it names, then verify the provider again", required=False)

# A limited number still sends (with a lower limit or only replies), so it warns, not blocks.
_LIMITED_PHONE_STATUSES: Final = frozenset({"FLAGGED", "RESTRICTED", "RATE_LIMITED"})
_PHONE_STATUS_FIX: Final = {
    "PENDING": "finish registering the number with the Cloud API",
    "BANNED": "see Account Quality in WhatsApp Manager and request a review",
    "DISCONNECTED": "reconnect (register) the number",
    "DELETED": "use another phone number",
}
_NAME_FAILING: Final = frozenset({"DECLINED", "EXPIRED", "NONE", "NAME_NOT_APPROVED"})
_REVIEW_FAILING: Final = frozenset({"REJECTED", "RESTRICTED"})
_PAUSING_STATUSES: Final = ("PAUSED", "DISABLED")

# Words that start a fix with a proper noun; everything else is lower-cased after a colon.
_PROPER_FIRST_WORDS: Final = frozenset({"Meta", "WhatsApp", "App", "Business", "Graph", "API"})


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Finding:
    state: ItemState
    reason: str
    action: Action


_RANK: Final = {ItemState.FAILING: 0, ItemState.NOT_CHECKED: 1, ItemState.STALE: 2}


def evaluate(inp: ReadinessInput) -> Readiness:
    """Compute the checklist from stored state.

    An item's state is the most serious of its findings (FAILING, then NOT_CHECKED, then
    STALE); with none it is OK. The reason and action are those of the first most serious
    finding, in the order the rules below list them.

    Args:
        inp: The stored state.

    Returns:
        The seven items in `Requirement` order, the advisories and the simulated flag.
    """
    ctx = _Context(inp)
    evaluators = {
        Requirement.PROVIDER_ACCOUNT: _provider_account,
        Requirement.IDENTITY: _identity,
        Requirement.CREDENTIAL_REFERENCE: _credential_reference,
        Requirement.APPROVED_TEMPLATES: _approved_templates,
        Requirement.WEBHOOK: _webhook,
        Requirement.TEMPLATE_SYNC: _template_sync,
        Requirement.SENDER: _sender,
    }
    items = tuple(_item(req, *evaluators[req](ctx)) for req in Requirement)
    _quality_flags(ctx)
    return Readiness(items, inp.account.sandbox, tuple(ctx.advisories), ctx.now, inp.proof)


def _quality_flags(ctx: _Context) -> None:
    """One advisory for all flagged quality signals (the first few named), not one per item."""
    flags = ctx.inp.quality_flags
    if not flags:
        return
    shown = "; ".join(flags[:3]) + (f"; and {len(flags) - 3} more" if len(flags) > 3 else "")
    ctx.advise(None, f"Delivery health: {len(flags)} quality warning"
                     f"{'s' if len(flags) != 1 else ''} ({shown}): open delivery health for "
                     "what to do", Action.OPEN_DELIVERY_HEALTH)


class _Context:
    """The input with normalised times, the newest check per key, and collected advisories."""

    def __init__(self, inp: ReadinessInput) -> None:
        self.inp = inp
        self.now = _utc(inp.now)
        self.live = not inp.account.sandbox
        self.latest: dict[str, Check] = {}
        for check in inp.verify_checks:
            seen = self.latest.get(check.key)
            if seen is None or _utc(check.checked_at) >= _utc(seen.checked_at):
                self.latest[check.key] = check
        self.advisories: list[Advisory] = []

    def advise(self, requirement: Requirement | None, reason: str, action: Action) -> None:
        self.advisories.append(Advisory(requirement, reason, action))

    def age(self, when: datetime) -> timedelta:
        return self.now - _utc(when)

    def stale(self, when: datetime) -> bool:
        return self.age(when) > self.inp.max_age

    def stale_text(self, what: str, when: datetime, fix: str) -> str:
        return (f"{what} is {_duration(self.age(when))} old "
                f"(limit {_duration(self.inp.max_age)}): {fix}")


def _item(
    req: Requirement, findings: list[_Finding], ok_reason: str
) -> ReadinessItem:
    if not findings:
        return ReadinessItem(req, req.label, ItemState.OK, ok_reason, None)
    ordered = sorted(findings, key=lambda f: _RANK[f.state])  # stable: rule order within a rank
    first = ordered[0]
    problems = tuple(dict.fromkeys(f.reason for f in ordered))
    return ReadinessItem(req, req.label, first.state, first.reason, first.action, problems)


def _verify_findings(
    ctx: _Context, req: Requirement, *, skip: Iterable[str] = ()
) -> list[_Finding]:
    """Findings of the Verify provider checks that belong to `req`; also collects warnings."""
    skipped = set(skip)
    rules = [(key, rule) for key, rule in CHECK_RULES.items() if rule.requirement is req]
    if req is _UNKNOWN_CHECK_RULE.requirement:
        rules += [(key, _UNKNOWN_CHECK_RULE) for key in ctx.latest if key not in CHECK_RULES]
    if not rules:
        return []
    if not ctx.latest:
        if not any(rule.required for _, rule in rules):
            return []
        return [_Finding(ItemState.NOT_CHECKED,
                         "The provider has never been verified: verify the provider",
                         Action.VERIFY_PROVIDER)]
    findings: list[_Finding] = []
    evidence: list[datetime] = []
    simulated = False
    for key, rule in rules:
        check = ctx.latest.get(key)
        if check is None:
            if rule.required:
                findings.append(_Finding(
                    ItemState.NOT_CHECKED,
                    f"The last verify run did not check {rule.label}: verify the provider again",
                    Action.VERIFY_PROVIDER))
            continue
        if ctx.live and check.simulated:
            simulated = True
            continue
        if key in skipped:
            continue
        evidence.append(check.checked_at)
        if check.outcome is CheckOutcome.FAILED:
            findings.append(_Finding(ItemState.FAILING, _join(check.detail, check.fix or rule.fix),
                                     rule.action))
        elif check.outcome is CheckOutcome.UNKNOWN:
            findings.append(_Finding(
                ItemState.NOT_CHECKED,
                _join(f"Could not check {rule.label}"
                      + (f" ({_lower_first(check.detail.rstrip('.'))})" if check.detail else ""),
                      "fix the failing checks, then verify the provider again"),
                Action.VERIFY_PROVIDER))
        elif check.outcome is CheckOutcome.WARNING:
            ctx.advise(req, _join(check.detail, check.fix or rule.fix), rule.action)
    if simulated:
        findings.append(_simulated_finding(
            f"The last provider verification ran against the sandbox emulator ({SIMULATED_LABEL})",
            "verify the provider against Meta", Action.VERIFY_PROVIDER))
    if evidence:
        oldest = min(evidence, key=_utc)
        if ctx.stale(oldest):
            findings.append(_Finding(
                ItemState.STALE,
                ctx.stale_text("The last provider verification", oldest,
                               "verify the provider again"),
                Action.VERIFY_PROVIDER))
    return findings


def _simulated_finding(what: str, fix: str, action: Action) -> _Finding:
    return _Finding(ItemState.NOT_CHECKED, f"{what}: {fix}", action)


def _provider_account(ctx: _Context) -> tuple[list[_Finding], str]:
    """Required plain settings filled; the WABA readable; unknown verify failures."""
    missing = [key for key in ctx.inp.account.missing_settings if not _is_secret(key)]
    findings = []
    if len(missing) == 1:
        label = _field_label(missing[0])
        findings.append(_Finding(ItemState.FAILING, f'The required setting "{label}" is empty: '
                                 "fill it in the settings", Action.OPEN_SETTINGS))
    elif missing:
        names = ", ".join(f'"{_field_label(key)}"' for key in missing)
        findings.append(_Finding(ItemState.FAILING, f"{len(missing)} required settings are empty "
                                 f"({names}): fill them in the settings", Action.OPEN_SETTINGS))
    findings += _verify_findings(ctx, Requirement.PROVIDER_ACCOUNT)
    return findings, "The settings are complete and the WhatsApp Business Account is readable"


def _credential_reference(ctx: _Context) -> tuple[list[_Finding], str]:
    """Secrets stored and resolvable; the token valid, unexpired now, of this app, scoped."""
    account = ctx.inp.account
    findings = []
    for key in account.missing_settings:
        if _is_secret(key):
            findings.append(_Finding(
                ItemState.FAILING, f"No {_field_label(key).lower()} is stored: enter it in the "
                "settings", Action.ENTER_TOKEN if key == "access_token" else Action.OPEN_SETTINGS))
    if not account.credential_refs_ok:
        findings.append(_Finding(
            ItemState.FAILING,
            account.credential_problem or "A stored credential reference does not resolve to a "
            "secret (keyring entry or environment variable missing): enter the secret again in "
            "the settings", Action.OPEN_SETTINGS))
    skip: list[str] = []
    expires = account.token_expires_at
    if expires is not None:
        expires = _utc(expires)
        if expires <= ctx.now:
            findings.append(_Finding(
                ItemState.FAILING, f"The access token expired on {expires.date().isoformat()}: "
                "enter a new system-user token", Action.ENTER_TOKEN))
        elif expires - ctx.now <= TOKEN_EXPIRY_WARNING:
            ctx.advise(Requirement.CREDENTIAL_REFERENCE,
                       f"The access token expires on {expires.date().isoformat()} (in "
                       f"{_duration(expires - ctx.now)}): replace it with a system-user token, "
                       "which does not expire", Action.ENTER_TOKEN)
        # The expiry judged against `now` supersedes what the verify run said about it then.
        skip.append(CheckKey.TOKEN_EXPIRY)
    findings += _verify_findings(ctx, Requirement.CREDENTIAL_REFERENCE, skip=skip)
    return findings, ("The access token resolves, is valid, belongs to the app and has both "
                      "WhatsApp permissions for this WABA")


def _identity(ctx: _Context) -> tuple[list[_Finding], str]:
    """Verify's phone checks, and the phone and WABA as the last account sync saw them."""
    findings = _verify_findings(ctx, Requirement.IDENTITY)
    sync = ctx.inp.account_sync
    if ctx.live and sync.simulated:
        findings.append(_simulated_finding(
            f"The synced phone number came from the sandbox emulator ({SIMULATED_LABEL})",
            "sync the channel account against Meta", Action.SYNC_ACCOUNT))
        return findings, ""
    if sync.last_error:
        findings.append(_Finding(ItemState.FAILING, _join(
            f"The last account sync failed: {sync.last_error.rstrip('.')}",
            "fix it and sync the channel account again"), Action.SYNC_ACCOUNT))
    if sync.synced_at is None:
        findings.append(_Finding(
            ItemState.NOT_CHECKED, "The channel account has never been synced: sync the channel "
            "account", Action.SYNC_ACCOUNT))
        return findings, ""
    phone = sync.phone
    if phone is None:
        findings.append(_Finding(
            ItemState.FAILING, "The last account sync found no phone number with the configured "
            "phone number ID in this WABA: correct the phone number ID", Action.OPEN_SETTINGS))
    else:
        number = phone.display_phone_number or "The phone number"
        status = (phone.status or "").upper()
        if status == "FLAGGED":
            ctx.advise(Requirement.IDENTITY, f"{number} is FLAGGED for low quality: its messaging "
                       "limit drops if quality does not improve within 7 days",
                       Action.OPEN_PHONE_NUMBERS)
        elif status in _LIMITED_PHONE_STATUSES:
            ctx.advise(Requirement.IDENTITY, f"{number} is {status}: it can send only within "
                       "its current limits; see Account Quality in WhatsApp Manager",
                       Action.OPEN_PHONE_NUMBERS)
        elif status and status != "CONNECTED":
            fix = _PHONE_STATUS_FIX.get(status, "see the number's status in WhatsApp Manager")
            findings.append(_Finding(
                ItemState.FAILING, f"{number} has status {status}, not CONNECTED: {fix}",
                Action.OPEN_PHONE_NUMBERS))
        name_status = (phone.name_status or "").upper()
        name = f"The display name {phone.verified_name!r}" if phone.verified_name else (
            "The display name")
        if name_status in _NAME_FAILING:
            state = "not submitted" if name_status == "NONE" else name_status
            findings.append(_Finding(
                ItemState.FAILING, f"{name} is {state}: submit a display name that follows "
                "Meta's display name rules in WhatsApp Manager", Action.OPEN_PHONE_NUMBERS))
        elif name_status == "PENDING_REVIEW":
            ctx.advise(Requirement.IDENTITY, f"{name} is still in Meta's review: customers see "
                       "the bare number until it is approved", Action.OPEN_PHONE_NUMBERS)
        quality = (phone.quality_rating or "").upper()
        if quality in ("YELLOW", "RED"):
            ctx.advise(Requirement.IDENTITY, f"{number} has {quality} quality: customers block "
                       "or report its messages; send less and only what they expect",
                       Action.OPEN_PHONE_NUMBERS)
    review = (sync.waba_review_status or "").upper()
    if review in _REVIEW_FAILING:
        findings.append(_Finding(
            ItemState.FAILING, f"Meta's review of the WhatsApp Business Account is {review}: see "
            "Business Support Home in Meta Business Suite", Action.OPEN_PHONE_NUMBERS))
    elif review == "PENDING":
        ctx.advise(Requirement.IDENTITY, "Meta's review of the WhatsApp Business Account is "
                   "still pending", Action.OPEN_PHONE_NUMBERS)
    if ctx.stale(sync.synced_at):
        findings.append(_Finding(
            ItemState.STALE, ctx.stale_text("The account sync", sync.synced_at,
                                            "sync the channel account again"),
            Action.SYNC_ACCOUNT))
    ok = "The phone number belongs to the WABA, can send and its display name is approved"
    return findings, ok


def _template_sync(ctx: _Context) -> tuple[list[_Finding], str]:
    """A successful, fresh template sync; the latest attempt did not fail."""
    state = ctx.inp.templates
    findings = []
    if ctx.live and state.simulated:
        findings.append(_simulated_finding(
            f"The synced templates came from the sandbox emulator ({SIMULATED_LABEL})",
            "sync templates against Meta", Action.SYNC_TEMPLATES))
        return findings, ""
    if state.last_error:
        findings.append(_Finding(ItemState.FAILING, _join(
            f"The last template sync failed: {state.last_error.rstrip('.')}",
            "fix it and sync templates again"), Action.SYNC_TEMPLATES))
    if state.synced_at is None:
        findings.append(_Finding(ItemState.NOT_CHECKED, "Templates have never been synced: sync "
                                 "templates", Action.SYNC_TEMPLATES))
        return findings, ""
    for status in _PAUSING_STATUSES:
        if n := state.count(status):
            ctx.advise(Requirement.TEMPLATE_SYNC,
                       f"{n} template{'s are' if n != 1 else ' is'} {status}"
                       f"{' for low quality' if status == 'PAUSED' else ''}: sends with "
                       f"{'them' if n != 1 else 'it'} fail; use another template or improve it",
                       Action.OPEN_TEMPLATES)
    if ctx.stale(state.synced_at):
        findings.append(_Finding(ItemState.STALE, ctx.stale_text(
            "Template sync", state.synced_at, "sync templates"), Action.SYNC_TEMPLATES))
    total = sum(n for _, n in state.counts)
    return findings, (f"Templates synced {_duration(ctx.age(state.synced_at))} ago "
                      f"({total} template{'s' if total != 1 else ''})")


def _approved_templates(ctx: _Context) -> tuple[list[_Finding], str]:
    """Every required event key has an APPROVED template whose parameter keys match.

    Freshness of the synced data is TEMPLATE_SYNC's item; this one judges its content, so one
    old sync is reported once, not twice.
    """
    state = ctx.inp.templates
    if state.synced_at is None or (ctx.live and state.simulated):
        return [_Finding(ItemState.NOT_CHECKED, "Template approval is unknown until templates "
                         "are synced: sync templates", Action.SYNC_TEMPLATES)], ""
    findings = []
    if not state.required:
        if state.count("APPROVED") == 0:
            findings.append(_Finding(
                ItemState.FAILING, "The WhatsApp Business Account has no approved template: "
                "create one and wait for Meta's review", Action.OPEN_TEMPLATES))
        n = state.count("APPROVED")
        return findings, f"{n} approved template{'s' if n != 1 else ''}"
    for req in state.required:
        if not req.approved:
            status = f" ({req.template_name or 'its template'} is {req.status.upper()})" \
                if req.status else ""
            findings.append(_Finding(
                ItemState.FAILING, f"No approved template for {req.event_key}{status}: create "
                "or fix a template with this event key", Action.OPEN_TEMPLATES))
        elif req.keys_match is False:
            name = f" {req.template_name}" if req.template_name else ""
            findings.append(_Finding(
                ItemState.FAILING, f"The parameter keys of the approved template{name} for "
                f"{req.event_key} do not match its placeholders, so sends would fail: align the "
                "header and body parameter keys", Action.OPEN_TEMPLATES))
        elif req.keys_match is None:
            findings.append(_Finding(
                ItemState.NOT_CHECKED, f"The parameter keys of the template for {req.event_key} "
                "have not been compared with its placeholders: open it in the templates page",
                Action.OPEN_TEMPLATES))
    n = len(state.required)
    return findings, (f"All {n} event key{'s have' if n != 1 else ' has'} an approved template "
                      "with matching keys")


def _webhook(ctx: _Context) -> tuple[list[_Finding], str]:
    """The app subscribed to the WABA (verify), and both halves of the webhook check."""
    findings = _verify_findings(ctx, Requirement.WEBHOOK)
    hook = ctx.inp.webhook
    sides = (("Meta side", hook.meta_side), ("platform side", hook.platform_side))
    if hook.meta_side is None and hook.platform_side is None:
        findings.append(_Finding(
            ItemState.NOT_CHECKED, "The webhook has not been checked yet (Meta side and platform "
            "side): check webhooks", Action.CHECK_WEBHOOKS))
        return findings, ""
    evidence = []
    for name, check in sides:
        if check is None:
            findings.append(_Finding(
                ItemState.NOT_CHECKED, f"The {name} of the webhook has not been checked: check "
                "webhooks", Action.CHECK_WEBHOOKS))
            continue
        if ctx.live and check.simulated:
            findings.append(_simulated_finding(
                f"The {name} of the webhook was only checked against the sandbox emulator "
                f"({SIMULATED_LABEL})", "check webhooks against Meta", Action.CHECK_WEBHOOKS))
            continue
        evidence.append(check.checked_at)
        if check.outcome is CheckOutcome.FAILED:
            findings.append(_Finding(ItemState.FAILING, _join(
                check.detail, check.fix or "fix what it names, then check webhooks again"),
                Action.CHECK_WEBHOOKS))
        elif check.outcome is CheckOutcome.UNKNOWN:
            findings.append(_Finding(ItemState.NOT_CHECKED, _join(
                f"The {name} of the webhook could not be checked"
                + (f" ({_lower_first(check.detail.rstrip('.'))})" if check.detail else ""),
                "check webhooks again"), Action.CHECK_WEBHOOKS))
        elif check.outcome is CheckOutcome.WARNING:
            ctx.advise(Requirement.WEBHOOK, _join(check.detail, check.fix or ""),
                       Action.CHECK_WEBHOOKS)
    if evidence:
        oldest = min(evidence, key=_utc)
        if ctx.stale(oldest):
            findings.append(_Finding(ItemState.STALE, ctx.stale_text(
                "The webhook check", oldest, "check webhooks again"), Action.CHECK_WEBHOOKS))
    return findings, ("The app is subscribed, Meta delivers to the callback URL and the receiver "
                      "answers correctly")


def _sender(ctx: _Context) -> tuple[list[_Finding], str]:
    """At least one sender on a CONNECTED phone of this WABA."""
    senders = ctx.inp.senders
    if senders is None:
        return [_Finding(ItemState.NOT_CHECKED, "Senders have not been checked yet: open senders",
                         Action.OPEN_SENDERS)], ""
    if senders.valid_count < 1:
        reason = senders.problem or ("No sender account uses a connected phone number of this "
                                     "WABA found by the account sync: add one")
        return [_Finding(ItemState.FAILING, reason, Action.OPEN_SENDERS)], ""
    if senders.problem:
        ctx.advise(Requirement.SENDER, senders.problem, Action.OPEN_SENDERS)
    for text in senders.template_links:
        ctx.advise(Requirement.SENDER, text, Action.OPEN_TEMPLATES)
    n = senders.valid_count
    return [], f"{n} valid sender{'s' if n != 1 else ''}"


# ---------------------------------------------------------------------------------------------
# Feature gating
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """A platform feature that needs a ready channel. `key` is the stored toggle's name."""

    key: str
    label: str


FEATURES: Final[tuple[Feature, ...]] = (
    Feature("inbox", "Inbox"),
    Feature("profile_activity", "Profile activity"),
    Feature("class_group_messaging", "Class group messaging"),
    Feature("campaigns", "Campaigns"),
    Feature("automations", "Automations"),
)


class GateState(enum.Enum):
    """How a feature toggle is shown."""

    AVAILABLE_OFF = "available_off"  # ready, switched off: the admin may switch it on
    ON = "on"  # ready and switched on: the feature runs
    DISABLED = "disabled"  # not ready and off: greyed, cannot be switched on
    SUSPENDED = "suspended"  # on, but readiness was lost: kept on, does not run


@dataclass(frozen=True)
class FeatureGate:
    """One toggle's state and the tooltip that explains it."""

    state: GateState
    tooltip: str

    @property
    def checked(self) -> bool:
        """The stored toggle is on (a suspended feature stays on)."""
        return self.state in (GateState.ON, GateState.SUSPENDED)

    @property
    def interactive(self) -> bool:
        """The toggle accepts clicks: switching on needs readiness, switching off never does."""
        return self.state is not GateState.DISABLED

    @property
    def active(self) -> bool:
        """The feature actually runs."""
        return self.state is GateState.ON


_SIMULATED_NOTE: Final = ("Simulated: this account uses Safe/fake provider mode, so nothing "
                          "reaches WhatsApp and nothing counts as production readiness.")


def gate(readiness: Readiness, enabled: Mapping[str, bool]) -> dict[str, FeatureGate]:
    """The toggle state of every feature in `FEATURES`.

    Every feature needs all seven requirements. Readiness never changes a stored toggle: a
    feature switched on earlier stays on and is shown SUSPENDED while readiness is lost.

    Args:
        readiness: The evaluated checklist.
        enabled: Stored toggles by feature key; missing keys are off, unknown keys ignored.

    Returns:
        A `FeatureGate` per feature key, in `FEATURES` order.
    """
    unmet = "\n".join(f"• {item.label}: {item.reason}" for item in readiness.unmet)
    gates = {}
    for feature in FEATURES:
        on = bool(enabled.get(feature.key, False))
        if readiness.ready:
            state = GateState.ON if on else GateState.AVAILABLE_OFF
            text = (f"{feature.label} is on." if on else
                    f"{feature.label} can be switched on: all requirements are met.")
        elif on:
            state = GateState.SUSPENDED
            text = (f"{feature.label} is suspended because readiness was lost. It stays switched "
                    f"on and resumes when these requirements are met again:\n{unmet}")
        else:
            state = GateState.DISABLED
            text = f"{feature.label} needs every readiness requirement. Unmet:\n{unmet}"
        if readiness.simulated:
            text += f"\n{_SIMULATED_NOTE}"
        gates[feature.key] = FeatureGate(state, text)
    return gates


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _utc(when: datetime) -> datetime:
    # SQLite hands back naive datetimes for UTC columns; comparing naive with aware would raise.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _duration(span: timedelta) -> str:
    """A rounded-down age for messages: "45 min", "31 h", "3 days"."""
    seconds = max(int(span.total_seconds()), 0)
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 72 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _join(detail: str, fix: str) -> str:
    """"What is wrong: what to do", from a check's detail and fix."""
    detail = detail.strip().rstrip(".")
    fix = fix.strip().rstrip(".")
    if not fix:
        return detail
    if not detail:
        return fix[:1].upper() + fix[1:]
    return f"{detail}: {_lower_first(fix)}"


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first letter to continue another one, unless it starts a name."""
    first_word = text.split(" ", 1)[0]
    if text[:1].isupper() and text[1:2].islower() and first_word not in _PROPER_FIRST_WORDS:
        return text[:1].lower() + text[1:]
    return text


def _is_secret(key: str) -> bool:
    spec = FIELDS_BY_KEY.get(key)
    return spec is not None and spec.secret


def _field_label(key: str) -> str:
    spec = FIELDS_BY_KEY.get(key)
    return spec.label if spec is not None else key
