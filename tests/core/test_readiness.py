"""Table-driven tests of `core.readiness`: stored state → the seven-item checklist → the toggles.

Each checklist row starts from one fully ready live world (`world()`), changes a few inputs and
lists the items it expects to be unmet: state, action and a fragment of the reason. Every item the
row does not list must be OK, so a row also proves that nothing else was flagged.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wa_console.core import readiness as readiness_module
from wa_console.core.readiness import (
    CHECK_RULES,
    FEATURES,
    SIMULATED_LABEL,
    AccountState,
    AccountSyncState,
    Action,
    Check,
    CheckKey,
    CheckOutcome,
    GateState,
    ItemState,
    PhoneIdentity,
    ProofState,
    Readiness,
    ReadinessInput,
    Requirement,
    SenderState,
    TemplateRequirement,
    TemplateState,
    WebhookState,
    evaluate,
    gate,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FRESH = NOW - timedelta(hours=2)
OLD = NOW - timedelta(hours=31)

PROVIDER = Requirement.PROVIDER_ACCOUNT
IDENTITY = Requirement.IDENTITY
CREDENTIAL = Requirement.CREDENTIAL_REFERENCE
APPROVED = Requirement.APPROVED_TEMPLATES
WEBHOOK = Requirement.WEBHOOK
SYNC = Requirement.TEMPLATE_SYNC
SENDER = Requirement.SENDER

FAILING = ItemState.FAILING
NOT_CHECKED = ItemState.NOT_CHECKED
STALE = ItemState.STALE

VERIFY_KEYS = tuple(CheckKey)


def ok(key: str, at: datetime = FRESH, simulated: bool = False) -> Check:
    """A passed check."""
    return Check(key, CheckOutcome.OK, "", "", at, simulated)


def failed(key: str, detail: str, fix: str = "", at: datetime = FRESH) -> Check:
    """A failed check."""
    return Check(key, CheckOutcome.FAILED, detail, fix, at)


def warning(key: str, detail: str, fix: str = "") -> Check:
    """A passed check with a warning."""
    return Check(key, CheckOutcome.WARNING, detail, fix, FRESH)


def verify(
    *replacements: Check, drop: tuple[str, ...] = (), at: datetime = FRESH,
    simulated: bool = False,
) -> tuple[Check, ...]:
    """A complete passing verify run, with some checks replaced or dropped."""
    by_key = {key: ok(key, at, simulated) for key in VERIFY_KEYS if key not in drop}
    for check in replacements:
        by_key[check.key] = check
    return tuple(by_key.values())


PHONE = PhoneIdentity(display_phone_number="+1 555-010-0199", verified_name="Main Campus",
                      status="CONNECTED", name_status="APPROVED", quality_rating="GREEN")
ACCOUNT_SYNC = AccountSyncState(synced_at=FRESH, phone=PHONE, waba_review_status="APPROVED")
TEMPLATES = TemplateState(
    synced_at=FRESH, counts=(("APPROVED", 12), ("PENDING", 1)),
    required=(TemplateRequirement("attendance.absent", True, True, "attendance_absent"),
              TemplateRequirement("fees.due", True, True, "fees_due")),
)
HOOK = WebhookState(
    meta_side=Check("webhook.meta", CheckOutcome.OK, "", "", FRESH),
    platform_side=Check("webhook.platform", CheckOutcome.OK, "", "", FRESH),
)


def world(**overrides: Any) -> ReadinessInput:
    """A live account where every requirement is met, with some inputs replaced."""
    base = ReadinessInput(
        account=AccountState(), now=NOW, verify_checks=verify(), account_sync=ACCOUNT_SYNC,
        templates=TEMPLATES, webhook=HOOK, senders=SenderState(valid_count=1),
    )
    return replace(base, **overrides)


def phone(**changes: Any) -> AccountSyncState:
    """The fresh account sync with the phone's identity changed."""
    return replace(ACCOUNT_SYNC, phone=replace(PHONE, **changes))


def templates(**changes: Any) -> TemplateState:
    """The fresh template sync with some fields changed."""
    return replace(TEMPLATES, **changes)


def hook_check(outcome: CheckOutcome, detail: str = "", fix: str = "",
               at: datetime = FRESH, simulated: bool = False) -> Check:
    """One side of the webhook check."""
    return Check("webhook.side", outcome, detail, fix, at, simulated)


def row(id: str, inp: ReadinessInput, **expected: tuple[ItemState, Action, str]) -> Any:
    """One checklist row: the items named (by lower-case Requirement name) are unmet as given."""
    return pytest.param(
        inp, {Requirement[name.upper()]: exp for name, exp in expected.items()}, id=id)


CHECKLIST_ROWS = [
    row("all-ok", world()),
    # --- never run / not built yet ----------------------------------------------------------------
    row("never-verified", world(verify_checks=()),
        provider_account=(NOT_CHECKED, Action.VERIFY_PROVIDER, "never been verified"),
        identity=(NOT_CHECKED, Action.VERIFY_PROVIDER, "never been verified"),
        credential_reference=(NOT_CHECKED, Action.VERIFY_PROVIDER, "never been verified"),
        webhook=(NOT_CHECKED, Action.VERIFY_PROVIDER, "never been verified")),
    row("webhook-not-checked", world(webhook=WebhookState()),
        webhook=(NOT_CHECKED, Action.CHECK_WEBHOOKS, "(Meta side and platform side)")),
    row("webhook-platform-side-not-checked", world(webhook=replace(HOOK, platform_side=None)),
        webhook=(NOT_CHECKED, Action.CHECK_WEBHOOKS, "platform side of the webhook has not")),
    row("senders-not-checked", world(senders=None),
        sender=(NOT_CHECKED, Action.OPEN_SENDERS, "Senders have not been checked yet")),
    row("verify-run-without-scopes-check", world(verify_checks=verify(drop=("token.scopes",))),
        credential_reference=(NOT_CHECKED, Action.VERIFY_PROVIDER,
                              "did not check the access token's permissions")),
    row("check-outcome-unknown",
        world(verify_checks=verify(Check("phone.registered", CheckOutcome.UNKNOWN,
                                         "skipped: the token is invalid", "", FRESH))),
        identity=(NOT_CHECKED, Action.VERIFY_PROVIDER,
                  "Could not check the phone number's registration (skipped: the token is")),
    # --- each failing verify check → its requirement and action -----------------------------------
    row("token-invalid",
        world(verify_checks=verify(failed("token.valid", "The access token is invalid (190)",
                                          "Enter a new access token."))),
        credential_reference=(FAILING, Action.ENTER_TOKEN,
                              "The access token is invalid (190): enter a new access token")),
    row("token-expired-at-verify",
        world(verify_checks=verify(failed("token.expiry",
                                          "The access token expired on 2026-11-20"))),
        credential_reference=(FAILING, Action.ENTER_TOKEN,
                              "The access token expired on 2026-11-20: enter a new system-user")),
    row("token-expired-since-verify",
        world(account=AccountState(token_expires_at=NOW - timedelta(hours=20))),
        credential_reference=(
            FAILING, Action.ENTER_TOKEN,
            "The access token expired on 2026-11-20: enter a new system-user token")),
    row("token-missing-scope",
        world(verify_checks=verify(failed(
            "token.scopes", "The token lacks whatsapp_business_messaging"))),
        credential_reference=(FAILING, Action.ENTER_TOKEN,
                              "lacks whatsapp_business_messaging: assign the WhatsApp Business")),
    row("waba-not-in-target-ids",
        world(verify_checks=verify(failed(
            "token.scopes", "WABA 102290129340398 is not in the token's target IDs",
            "Assign the WABA to the system user and generate a new token"))),
        credential_reference=(FAILING, Action.ENTER_TOKEN,
                              "not in the token's target IDs: assign the WABA")),
    row("app-secret-missing",
        world(verify_checks=verify(Check("app.credentials", CheckOutcome.FAILED,
                                         "The App secret is not set for this account", None,
                                         FRESH))),
        credential_reference=(FAILING, Action.OPEN_SETTINGS,
                              "not set for this account: enter the App ID and the app secret")),
    row("token-of-another-app",
        world(verify_checks=verify(failed("token.app", "The token belongs to app 999"))),
        credential_reference=(FAILING, Action.OPEN_SETTINGS,
                              "belongs to app 999: use a token of the configured app")),
    row("waba-unreadable",
        world(verify_checks=verify(failed(
            "waba.readable", "WABA 106540352242922 does not exist; it looks like the phone "
            "number ID"))),
        provider_account=(FAILING, Action.OPEN_SETTINGS,
                          "looks like the phone number ID: check the WhatsApp Business Account")),
    row("phone-not-in-waba",
        world(verify_checks=verify(failed(
            "phone.in_waba", "The phone number ID is not a phone of this WABA"))),
        identity=(FAILING, Action.OPEN_SETTINGS,
                  "not a phone of this WABA: enter the phone number ID of a number")),
    row("display-number-mismatch",
        world(verify_checks=verify(failed(
            "phone.display_matches", "Meta shows +1 555-010-0199, the settings +1 555 010 0188"))),
        identity=(FAILING, Action.OPEN_SETTINGS, "enter the display phone number exactly")),
    row("phone-not-registered",
        world(verify_checks=verify(failed("phone.registered", "The number is not registered"))),
        identity=(FAILING, Action.OPEN_PHONE_NUMBERS, "not registered: register the number")),
    row("name-not-approved",
        world(verify_checks=verify(failed(
            "phone.name_approved", "The display name is DECLINED"))),
        identity=(FAILING, Action.OPEN_PHONE_NUMBERS,
                  "DECLINED: get the display name approved")),
    row("app-not-subscribed",
        world(verify_checks=verify(failed(
            "app.subscribed", "The app is not subscribed to the WABA"))),
        webhook=(FAILING, Action.SUBSCRIBE_APP,
                 "not subscribed to the WABA: subscribe the app to the WABA")),
    row("unknown-check-key-failed",
        world(verify_checks=(*verify(), failed("waba.payment", "No payment method",
                                               "Add one in WhatsApp Manager"))),
        provider_account=(FAILING, Action.VERIFY_PROVIDER,
                          "No payment method: add one in WhatsApp Manager")),
    # --- settings and credential references -------------------------------------------------------
    row("one-setting-missing", world(account=AccountState(missing_settings=("app_id",))),
        provider_account=(FAILING, Action.OPEN_SETTINGS,
                          'The required setting "App ID" is empty: fill it in the settings')),
    row("settings-missing", world(account=AccountState(missing_settings=("waba_id", "app_id"))),
        provider_account=(FAILING, Action.OPEN_SETTINGS,
                          '2 required settings are empty ("WhatsApp Business Account ID", '
                          '"App ID")')),
    row("access-token-missing", world(account=AccountState(missing_settings=("access_token",))),
        credential_reference=(FAILING, Action.ENTER_TOKEN, "No access token is stored")),
    row("credential-ref-unresolvable",
        world(account=AccountState(
            credential_refs_ok=False,
            credential_problem="The keyring has no entry keyring:wa-console/main/access_token: "
            "enter the access token again")),
        credential_reference=(FAILING, Action.OPEN_SETTINGS,
                              "The keyring has no entry keyring:wa-console/main/access_token")),
    row("credential-ref-unresolvable-no-detail",
        world(account=AccountState(credential_refs_ok=False)),
        credential_reference=(FAILING, Action.OPEN_SETTINGS,
                              "does not resolve to a secret")),
    # --- staleness --------------------------------------------------------------------------------
    row("verify-stale", world(verify_checks=verify(at=OLD)),
        provider_account=(STALE, Action.VERIFY_PROVIDER, "is 31 h old (limit 24 h): verify"),
        identity=(STALE, Action.VERIFY_PROVIDER, "31 h old"),
        credential_reference=(STALE, Action.VERIFY_PROVIDER, "31 h old"),
        webhook=(STALE, Action.VERIFY_PROVIDER, "31 h old")),
    row("failing-beats-stale",
        world(verify_checks=verify(failed("token.valid", "Token invalid", at=OLD), at=OLD)),
        provider_account=(STALE, Action.VERIFY_PROVIDER, "31 h old"),
        identity=(STALE, Action.VERIFY_PROVIDER, "31 h old"),
        credential_reference=(FAILING, Action.ENTER_TOKEN, "Token invalid"),
        webhook=(STALE, Action.VERIFY_PROVIDER, "31 h old")),
    row("exactly-max-age-is-fresh",
        world(verify_checks=verify(at=NOW - timedelta(hours=24)),
              account_sync=replace(ACCOUNT_SYNC, synced_at=NOW - timedelta(hours=24)))),
    row("custom-max-age", world(max_age=timedelta(hours=1)),
        provider_account=(STALE, Action.VERIFY_PROVIDER, "2 h old (limit 1 h)"),
        identity=(STALE, Action.VERIFY_PROVIDER, "2 h old (limit 1 h)"),
        credential_reference=(STALE, Action.VERIFY_PROVIDER, "2 h old"),
        webhook=(STALE, Action.VERIFY_PROVIDER, "2 h old"),
        template_sync=(STALE, Action.SYNC_TEMPLATES, "Template sync is 2 h old (limit 1 h)")),
    row("newest-check-wins",
        world(verify_checks=(failed("token.valid", "Token invalid", at=OLD), *verify())),),
    row("naive-datetimes-are-utc",
        world(now=NOW.replace(tzinfo=None),
              verify_checks=verify(at=FRESH.replace(tzinfo=None)),
              account_sync=replace(ACCOUNT_SYNC, synced_at=FRESH.replace(tzinfo=None)))),
    # --- account sync (identity) ------------------------------------------------------------------
    row("account-never-synced", world(account_sync=AccountSyncState()),
        identity=(NOT_CHECKED, Action.SYNC_ACCOUNT, "never been synced")),
    row("account-sync-stale", world(account_sync=replace(ACCOUNT_SYNC, synced_at=OLD)),
        identity=(STALE, Action.SYNC_ACCOUNT, "The account sync is 31 h old (limit 24 h)")),
    row("account-sync-failed",
        world(account_sync=replace(ACCOUNT_SYNC, last_error="Meta answered 500 three times.")),
        identity=(FAILING, Action.SYNC_ACCOUNT,
                  "The last account sync failed: Meta answered 500 three times: fix it")),
    row("phone-not-found-by-sync", world(account_sync=replace(ACCOUNT_SYNC, phone=None)),
        identity=(FAILING, Action.OPEN_SETTINGS, "found no phone number with the configured")),
    row("phone-status-pending", world(account_sync=phone(status="PENDING")),
        identity=(FAILING, Action.OPEN_PHONE_NUMBERS,
                  "+1 555-010-0199 has status PENDING, not CONNECTED: finish registering")),
    row("phone-status-unknown-value", world(account_sync=phone(status="SOMETHING_NEW")),
        identity=(FAILING, Action.OPEN_PHONE_NUMBERS, "status SOMETHING_NEW, not CONNECTED")),
    row("name-declined-in-sync", world(account_sync=phone(name_status="DECLINED")),
        identity=(FAILING, Action.OPEN_PHONE_NUMBERS,
                  "The display name 'Main Campus' is DECLINED")),
    row("waba-review-rejected",
        world(account_sync=replace(ACCOUNT_SYNC, waba_review_status="REJECTED")),
        identity=(FAILING, Action.OPEN_PHONE_NUMBERS, "review of the WhatsApp Business Account "
                  "is REJECTED")),
    # --- templates --------------------------------------------------------------------------------
    row("templates-never-synced", world(templates=TemplateState()),
        approved_templates=(NOT_CHECKED, Action.SYNC_TEMPLATES, "unknown until templates"),
        template_sync=(NOT_CHECKED, Action.SYNC_TEMPLATES, "never been synced")),
    row("template-sync-stale", world(templates=templates(synced_at=OLD)),
        template_sync=(STALE, Action.SYNC_TEMPLATES,
                       "Template sync is 31 h old (limit 24 h): sync templates")),
    row("template-sync-days-old", world(templates=templates(synced_at=NOW - timedelta(days=4))),
        template_sync=(STALE, Action.SYNC_TEMPLATES, "Template sync is 4 days old")),
    row("template-sync-failed",
        world(templates=templates(last_error="page 37 timed out")),
        template_sync=(FAILING, Action.SYNC_TEMPLATES,
                       "The last template sync failed: page 37 timed out")),
    row("template-missing",
        world(templates=templates(required=(
            TemplateRequirement("attendance.absent", False, None),))),
        approved_templates=(FAILING, Action.OPEN_TEMPLATES,
                            "No approved template for attendance.absent: create")),
    row("template-pending",
        world(templates=templates(required=(TemplateRequirement(
            "attendance.absent", False, None, "attendance_absent", "pending"),))),
        approved_templates=(FAILING, Action.OPEN_TEMPLATES, "No approved template for "
                            "attendance.absent (attendance_absent is PENDING)")),
    row("template-keys-mismatch",
        world(templates=templates(required=(TemplateRequirement(
            "fees.due", True, False, "fees_due"),))),
        approved_templates=(FAILING, Action.OPEN_TEMPLATES,
                            "approved template fees_due for fees.due do not match its "
                            "placeholders, so sends would fail")),
    row("template-keys-not-compared",
        world(templates=templates(required=(TemplateRequirement("fees.due", True, None),))),
        approved_templates=(NOT_CHECKED, Action.OPEN_TEMPLATES, "have not been compared")),
    row("no-required-keys-none-approved",
        world(templates=templates(required=(), counts=(("PENDING", 3),))),
        approved_templates=(FAILING, Action.OPEN_TEMPLATES, "has no approved template")),
    row("no-required-keys-some-approved", world(templates=templates(required=()))),
    # --- webhook and senders ----------------------------------------------------------------------
    row("webhook-meta-side-failed",
        world(webhook=replace(HOOK, meta_side=hook_check(
            CheckOutcome.FAILED, "The app's callback URL is http://old.example.org",
            "Set it to the webhook callback URL in App Dashboard"))),
        webhook=(FAILING, Action.CHECK_WEBHOOKS, "The app's callback URL is "
                 "http://old.example.org: set it to the webhook callback URL in App Dashboard")),
    row("webhook-platform-side-unknown",
        world(webhook=replace(HOOK, platform_side=hook_check(
            CheckOutcome.UNKNOWN, "The receiver did not answer"))),
        webhook=(NOT_CHECKED, Action.CHECK_WEBHOOKS, "could not be checked (the receiver did")),
    row("webhook-stale", world(webhook=WebhookState(meta_side=hook_check(CheckOutcome.OK, at=OLD),
                                                    platform_side=hook_check(CheckOutcome.OK))),
        webhook=(STALE, Action.CHECK_WEBHOOKS, "The webhook check is 31 h old")),
    row("no-valid-sender", world(senders=SenderState(valid_count=0)),
        sender=(FAILING, Action.OPEN_SENDERS, "No sender account uses a connected phone")),
    row("no-valid-sender-with-problem",
        world(senders=SenderState(valid_count=0, problem="Sender Main uses +1 555 010 0100, "
                                  "which the account sync did not find: correct it")),
        sender=(FAILING, Action.OPEN_SENDERS, "Sender Main uses +1 555 010 0100")),
    # --- sandbox evidence on a live account is not proof ------------------------------------------
    row("live-account-simulated-verify", world(verify_checks=verify(simulated=True)),
        provider_account=(NOT_CHECKED, Action.VERIFY_PROVIDER, SIMULATED_LABEL),
        identity=(NOT_CHECKED, Action.VERIFY_PROVIDER, SIMULATED_LABEL),
        credential_reference=(NOT_CHECKED, Action.VERIFY_PROVIDER, "verify the provider against "
                              "Meta"),
        webhook=(NOT_CHECKED, Action.VERIFY_PROVIDER, SIMULATED_LABEL)),
    row("live-account-simulated-syncs",
        world(account_sync=replace(ACCOUNT_SYNC, simulated=True),
              templates=templates(simulated=True)),
        identity=(NOT_CHECKED, Action.SYNC_ACCOUNT, "sync the channel account against Meta"),
        approved_templates=(NOT_CHECKED, Action.SYNC_TEMPLATES, "sync templates"),
        template_sync=(NOT_CHECKED, Action.SYNC_TEMPLATES, "sync templates against Meta")),
    row("live-account-simulated-webhook",
        world(webhook=replace(HOOK, platform_side=hook_check(CheckOutcome.OK, simulated=True))),
        webhook=(NOT_CHECKED, Action.CHECK_WEBHOOKS, "check webhooks against Meta")),
]

@pytest.mark.parametrize(("inp", "expected"), CHECKLIST_ROWS)
def test_checklist(
    inp: ReadinessInput, expected: dict[Requirement, tuple[ItemState, Action, str]]
) -> None:
    """The listed items are unmet with that state, action and reason; every other item is OK."""
    result = evaluate(inp)
    assert [item.requirement for item in result.items] == list(Requirement)
    got = {item.requirement: item for item in result.items}
    for requirement, item in got.items():
        if requirement not in expected:
            assert item.state is ItemState.OK, (requirement, item.reason)
            assert item.action is None and item.reason and not item.problems
            continue
        state, action, fragment = expected[requirement]
        assert (item.state, item.action) == (state, action), (requirement, item.reason)
        assert fragment in item.reason, (requirement, item.reason)
        assert item.problems[0] == item.reason
    assert result.ready is (not expected)
    assert result.production_ready is (not expected)
    assert [item.requirement for item in result.unmet] == [
        r for r in Requirement if r in expected]


def test_table_is_broad() -> None:
    """The checklist table has at least 30 rows and reaches every state and every action."""
    assert len(CHECKLIST_ROWS) >= 30
    expectations = [exp for p in CHECKLIST_ROWS for exp in p.values[1].values()]
    assert {state for state, _, _ in expectations} == {FAILING, NOT_CHECKED, STALE}
    # Every action but the delivery-health one, which only advisories use.
    assert {action for _, action, _ in expectations} == set(Action) - {
        Action.OPEN_DELIVERY_HEALTH}


@pytest.mark.parametrize(("key", "requirement", "action"), [
    ("app.credentials", CREDENTIAL, Action.OPEN_SETTINGS),
    ("token.valid", CREDENTIAL, Action.ENTER_TOKEN),
    ("token.expiry", CREDENTIAL, Action.ENTER_TOKEN),
    ("token.scopes", CREDENTIAL, Action.ENTER_TOKEN),
    ("token.app", CREDENTIAL, Action.OPEN_SETTINGS),
    ("waba.readable", PROVIDER, Action.OPEN_SETTINGS),
    ("phone.in_waba", IDENTITY, Action.OPEN_SETTINGS),
    ("phone.display_matches", IDENTITY, Action.OPEN_SETTINGS),
    ("phone.registered", IDENTITY, Action.OPEN_PHONE_NUMBERS),
    ("phone.name_approved", IDENTITY, Action.OPEN_PHONE_NUMBERS),
    ("app.subscribed", WEBHOOK, Action.SUBSCRIBE_APP),
])
def test_failed_check_without_fix_gets_the_usual_fix(
    key: str, requirement: Requirement, action: Action
) -> None:
    """A failed check with an empty fix fails its requirement with the rule's own fix text."""
    result = evaluate(world(verify_checks=verify(failed(key, "Meta said no"))))
    assert [item.requirement for item in result.unmet] == [requirement]
    item = result.item(requirement)
    assert (item.state, item.action) == (FAILING, action)
    assert item.reason == f"Meta said no: {CHECK_RULES[key].fix}"


def test_all_problems_are_kept_most_serious_first() -> None:
    """An item with several problems reports the failing one first and keeps the rest."""
    result = evaluate(world(
        verify_checks=verify(failed("phone.registered", "Not registered"),
                             drop=("phone.in_waba",)),
        account_sync=replace(phone(quality_rating="RED"), synced_at=OLD)))
    item = result.item(IDENTITY)
    assert item.state is FAILING
    assert item.problems == (
        "Not registered: register the number with the Cloud API (POST /{phone-number-id}/"
        "register with its PIN)",
        "The last verify run did not check the phone number's WABA: verify the provider again",
        "The account sync is 31 h old (limit 24 h): sync the channel account again",
    )


def test_sandbox_account_is_sandbox_ready_never_production_ready() -> None:
    """A sandbox account with simulated evidence is ready and simulated, not production ready."""
    result = evaluate(world(
        account=AccountState(sandbox=True), verify_checks=verify(simulated=True),
        account_sync=replace(ACCOUNT_SYNC, simulated=True), templates=templates(simulated=True),
        webhook=replace(HOOK, meta_side=hook_check(CheckOutcome.OK, simulated=True))))
    assert result.ready and result.simulated and not result.production_ready
    assert result.headline == f"Sandbox ready ({SIMULATED_LABEL})"


def test_sandbox_account_not_ready_is_labelled_simulated() -> None:
    """An unready sandbox account says so, and is labelled simulated."""
    result = evaluate(world(account=AccountState(sandbox=True), senders=None))
    assert not result.ready and result.simulated
    assert result.headline == "Not ready: 1 of 7 requirements unmet (simulated)"


def test_live_headline() -> None:
    """A ready live account is plainly "Ready"."""
    assert evaluate(world()).headline == "Ready"


def test_template_sender_links_are_advisories_not_blockers() -> None:
    """A template naming a missing sender is advised (fix: open templates); the sender item
    stays OK while a valid sender exists."""
    text = "Template 'hello' (en_US): sender account 'Nobody' names no sender of this account"
    result = evaluate(world(senders=SenderState(valid_count=1, template_links=(text,))))
    assert result.ready
    assert [(a.requirement, a.reason, a.action) for a in result.advisories] == [
        (Requirement.SENDER, text, Action.OPEN_TEMPLATES)]


def test_quality_flags_are_one_advisory_not_a_requirement() -> None:
    """Delivery health's flagged items become one advisory (first three named) pointing to the
    health page; readiness itself is unchanged and the JSON form has no requirement for it."""
    flags = tuple(f"template t{i} (en_US) PAUSED for low quality" for i in range(5))
    result = evaluate(world(quality_flags=flags))
    assert result.ready
    (advisory,) = result.advisories
    assert advisory.requirement is None and advisory.action is Action.OPEN_DELIVERY_HEALTH
    assert advisory.text.startswith(
        "Delivery health: 5 quality warnings (template t0 (en_US) PAUSED for low quality; ")
    assert advisory.text.endswith("; and 2 more): open delivery health for what to do")
    assert result.as_dict()["advisories"][0]["requirement"] is None


def test_production_proof_line_counts_only_live_proofs() -> None:
    """ "Production proof: yes (date)" only for a live proof on a live account; a sandbox proof
    is named simulated, and no proof says what to run."""
    at = NOW - timedelta(hours=2)
    assert evaluate(world()).proof_line == (
        "Production proof: no; run the guided test send and reply")
    live = evaluate(world(proof=ProofState(live_proven_at=at)))
    assert live.proof_line == f"Production proof: yes ({at:%Y-%m-%d %H:%M} UTC)"
    assert live.as_dict()["production_proof"] == at.isoformat()
    sandbox = evaluate(world(account=AccountState(sandbox=True),
                             proof=ProofState(live_proven_at=at, simulated_proven_at=at)))
    assert sandbox.proof_line.startswith("Production proof: no; a sandbox test send completed")
    assert SIMULATED_LABEL in sandbox.proof_line
    assert sandbox.as_dict()["production_proof"] is None
    # Proofs are shown beside the checklist, never one of its seven requirements.
    assert evaluate(world(proof=ProofState(live_proven_at=at))).ready == evaluate(world()).ready


ADVISORY_ROWS = [
    pytest.param(world(account=AccountState(token_expires_at=NOW + timedelta(days=3))),
                 CREDENTIAL, Action.ENTER_TOKEN,
                 "The access token expires on 2026-11-24 (in 3 days): replace it with a "
                 "system-user token", id="token-expires-in-3-days"),
    pytest.param(world(verify_checks=verify(warning(
        "token.expiry", "The access token expires in 2 days"))),
        CREDENTIAL, Action.ENTER_TOKEN, "expires in 2 days: enter a new system-user token",
        id="token-expiry-warning-from-verify"),
    pytest.param(world(verify_checks=verify(warning(
        "token.type", "This is a short-lived user token"))),
        CREDENTIAL, Action.ENTER_TOKEN, "short-lived user token: enter a system-user token",
        id="short-lived-token"),
    pytest.param(world(account_sync=phone(quality_rating="YELLOW")), IDENTITY,
                 Action.OPEN_PHONE_NUMBERS, "+1 555-010-0199 has YELLOW quality",
                 id="yellow-quality"),
    pytest.param(world(account_sync=phone(quality_rating="RED")), IDENTITY,
                 Action.OPEN_PHONE_NUMBERS, "has RED quality", id="red-quality"),
    pytest.param(world(account_sync=phone(status="FLAGGED")), IDENTITY,
                 Action.OPEN_PHONE_NUMBERS, "is FLAGGED for low quality", id="flagged-phone"),
    pytest.param(world(account_sync=phone(status="RESTRICTED")), IDENTITY,
                 Action.OPEN_PHONE_NUMBERS, "is RESTRICTED: it can send only within",
                 id="restricted-phone"),
    pytest.param(world(account_sync=phone(name_status="PENDING_REVIEW")), IDENTITY,
                 Action.OPEN_PHONE_NUMBERS, "still in Meta's review", id="name-pending"),
    pytest.param(world(account_sync=replace(ACCOUNT_SYNC, waba_review_status="PENDING")),
                 IDENTITY, Action.OPEN_PHONE_NUMBERS, "review of the WhatsApp Business Account "
                 "is still pending", id="waba-review-pending"),
    pytest.param(world(templates=templates(counts=(("APPROVED", 3), ("PAUSED", 1)))),
                 SYNC, Action.OPEN_TEMPLATES, "1 template is PAUSED for low quality",
                 id="paused-template"),
    pytest.param(world(templates=templates(counts=(("APPROVED", 3), ("disabled", 2)))),
                 SYNC, Action.OPEN_TEMPLATES, "2 templates are DISABLED", id="disabled-templates"),
    pytest.param(world(webhook=replace(HOOK, meta_side=hook_check(
        CheckOutcome.WARNING, "A WABA override sends messages elsewhere", "Remove it"))),
        WEBHOOK, Action.CHECK_WEBHOOKS, "sends messages elsewhere: remove it",
        id="webhook-warning"),
    pytest.param(world(senders=SenderState(valid_count=1, problem="Sender Old is not CONNECTED")),
                 SENDER, Action.OPEN_SENDERS, "Sender Old is not CONNECTED",
                 id="one-invalid-sender-of-two"),
]


@pytest.mark.parametrize(("inp", "requirement", "action", "fragment"), ADVISORY_ROWS)
def test_advisories_warn_without_blocking(
    inp: ReadinessInput, requirement: Requirement, action: Action, fragment: str
) -> None:
    """A warning becomes exactly one advisory and readiness stays true."""
    result = evaluate(inp)
    assert result.ready
    assert len(result.advisories) == 1
    advisory = result.advisories[0]
    assert (advisory.requirement, advisory.action) == (requirement, action)
    assert fragment in advisory.reason, advisory.reason


def test_expiry_known_now_supersedes_the_verify_warning() -> None:
    """With the expiry date known, the verify run's old expiry warning is not repeated."""
    result = evaluate(world(
        account=AccountState(token_expires_at=NOW + timedelta(days=60)),
        verify_checks=verify(warning("token.expiry", "Expires in 5 days"))))
    assert result.ready and result.advisories == ()


def test_no_advisories_when_all_is_well() -> None:
    """The ready world has no advisories."""
    assert evaluate(world()).advisories == ()


def _ready() -> Readiness:
    return evaluate(world())


def _unready(**overrides: Any) -> Readiness:
    return evaluate(world(webhook=WebhookState(), senders=None, **overrides))


@pytest.mark.parametrize(("readiness", "on", "state", "fragments"), [
    pytest.param(_ready(), False, GateState.AVAILABLE_OFF, ("can be switched on",),
                 id="ready-off"),
    pytest.param(_ready(), True, GateState.ON, ("is on",), id="ready-on"),
    pytest.param(_unready(), False, GateState.DISABLED,
                 ("needs every readiness requirement", "• Webhook readiness: The webhook has "
                  "not been checked yet", "• Sender readiness: Senders have not been checked"),
                 id="not-ready-off"),
    pytest.param(_unready(), True, GateState.SUSPENDED,
                 ("suspended because readiness was lost", "stays switched on",
                  "• Webhook readiness:"), id="not-ready-on"),
    pytest.param(evaluate(world(account=AccountState(token_expires_at=NOW))), True,
                 GateState.SUSPENDED, ("• Credential reference (access token): The access token "
                                       "expired on 2026-11-21",), id="token-expired-suspends"),
    pytest.param(evaluate(world(account=AccountState(sandbox=True))), True, GateState.ON,
                 ("is on", "Simulated: this account uses Safe/fake provider mode"),
                 id="sandbox-ready-on"),
    pytest.param(_unready(account=AccountState(sandbox=True)), False, GateState.DISABLED,
                 ("Unmet:", "Simulated:"), id="sandbox-not-ready-off"),
])
def test_gate(readiness: Readiness, on: bool, state: GateState, fragments: tuple[str, ...]) -> None:
    """Each feature gets the state for (readiness, stored toggle) and a tooltip explaining it."""
    gates = gate(readiness, {f.key: on for f in FEATURES})
    assert list(gates) == [f.key for f in FEATURES]
    for feature in FEATURES:
        g = gates[feature.key]
        assert g.state is state
        assert g.tooltip.startswith(feature.label)
        for fragment in fragments:
            assert fragment in g.tooltip, g.tooltip
        assert ("Simulated:" in g.tooltip) is readiness.simulated
        assert "• Provider account" not in g.tooltip  # met requirements are not listed


def test_gate_flags_and_partial_toggles() -> None:
    """Missing toggles are off, unknown keys are ignored, and each state has the right flags."""
    gates = gate(_unready(), {"campaigns": True, "not-a-feature": True})
    assert gates["campaigns"].state is GateState.SUSPENDED
    assert all(gates[f.key].state is GateState.DISABLED for f in FEATURES if f.key != "campaigns")
    suspended, disabled = gates["campaigns"], gates["inbox"]
    assert suspended.checked and suspended.interactive and not suspended.active
    assert not disabled.checked and not disabled.interactive and not disabled.active
    on = gate(_ready(), {"inbox": True})
    assert on["inbox"].checked and on["inbox"].active
    assert not on["automations"].checked and on["automations"].interactive


def test_features() -> None:
    """The five features of the settings page, with stable keys."""
    assert [(f.key, f.label) for f in FEATURES] == [
        ("inbox", "Inbox"), ("profile_activity", "Profile activity"),
        ("class_group_messaging", "Class group messaging"), ("campaigns", "Campaigns"),
        ("automations", "Automations")]


def test_labels_and_rules_are_complete() -> None:
    """Every requirement and action has a label, and every verify key has a rule."""
    assert all(r.label for r in Requirement) and all(a.label for a in Action)
    assert set(CHECK_RULES) == set(CheckKey)
    assert len(Requirement) == 7


def test_as_dict_is_json() -> None:
    """The JSON form round-trips and carries states, actions and advisories."""
    result = evaluate(world(senders=None, account_sync=phone(quality_rating="YELLOW")))
    data = json.loads(json.dumps(result.as_dict()))
    assert data["ready"] is False and data["production_ready"] is False
    assert [i["requirement"] for i in data["items"]] == [r.value for r in Requirement]
    assert data["items"][-1]["state"] == "not_checked"
    assert data["items"][-1]["action"] == "open_senders"
    assert data["advisories"][0]["requirement"] == "identity"


def test_module_is_pure() -> None:
    """readiness imports only the standard library and wa_console.core: no Qt, no I/O layers."""
    tree = ast.parse(Path(readiness_module.__file__).read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for a in node.names}
    allowed = {"__future__", "enum", "collections.abc", "dataclasses", "datetime", "typing"}
    assert {m for m in modules if m and not m.startswith("wa_console.core")} <= allowed
