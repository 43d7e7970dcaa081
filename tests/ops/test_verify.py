"""Verify provider and Subscribe app against the real sandbox emulator on loopback, with a real
SQLite store and the in-memory keyring."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.ops import verify as verify_module
from wa_console.ops.context import OpCancelled, OpContext
from wa_console.ops.verify import (
    APP_CREDENTIALS,
    APP_SUBSCRIBED,
    CHECK_KEYS,
    PHONE_DISPLAY_MATCHES,
    PHONE_IN_WABA,
    PHONE_NAME_APPROVED,
    PHONE_REGISTERED,
    TOKEN_APP,
    TOKEN_EXPIRY,
    TOKEN_SCOPES,
    TOKEN_TYPE,
    TOKEN_VALID,
    WABA_READABLE,
    VerifyReport,
    subscribe_app,
    verify_provider,
)
from wa_console.sandbox import SandboxServer, World, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.checks import CheckResultData, load_checks, save_checks
from wa_console.store.models import ChannelAccount
from wa_console.store.secrets import SecretStore

WABA = str(SANDBOX_VALUES["waba_id"])
PHONE = str(SANDBOX_VALUES["phone_number_id"])
APP_ID = str(SANDBOX_VALUES["app_id"])
OTHER_WABA = "100000000000011"
OTHER_WABA_PHONE = "200000000000021"
SECOND_PHONE = "200000000000012"


@pytest.fixture
def world() -> World:
    w = seeded_world(templates=0, seed=0)
    w.review_delay = 0
    return w


@pytest.fixture
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def store(open_db, sqlite_url: str) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(sqlite_url), SecretStore())


def make_account(store: AccountStore, world: World, token: str = "valid",
                 app_secret: str | None = SANDBOX_SECRETS["app_secret"], **values: object) -> int:
    secrets = {"access_token": SecretEdit("set", world.tokens[token].value),
               "webhook_verify_token": SecretEdit("set", SANDBOX_SECRETS["webhook_verify_token"])}
    if app_secret is not None:
        secrets["app_secret"] = SecretEdit("set", app_secret)
    record = store.create({**SANDBOX_VALUES, "account_name": "Sandbox", **values}, secrets)
    return record.id


def force_values(store: AccountStore, account_id: int, **columns: object) -> None:
    """Write values the settings form refuses (as an old or hand-edited database might hold)."""
    with Session(store.engine) as session, session.begin():
        session.execute(update(ChannelAccount).where(ChannelAccount.id == account_id)
                        .values(**columns))


def run(store: AccountStore, account_id: int, server: SandboxServer,
        ctx: OpContext | None = None) -> VerifyReport:
    return verify_provider(ctx or OpContext(), store, account_id, base_url=server.base_url)


def outcomes(report: VerifyReport) -> dict[str, str]:
    return {r.key: r.outcome for r in report}


def assert_no_secrets(report: VerifyReport, world: World) -> None:
    text = repr([(r.detail, r.fix, r.evidence) for r in report])
    for token in world.tokens.values():
        assert token.value not in text
    assert SANDBOX_SECRETS["app_secret"] not in text
    assert "Traceback" not in text


def test_valid_token_all_green(store: AccountStore, world: World, server: SandboxServer) -> None:
    """With the seeded system-user token every check is ok and the run is marked simulated."""
    report = run(store, make_account(store, world), server)
    assert [r.key for r in report] == list(CHECK_KEYS)
    assert outcomes(report) == dict.fromkeys(CHECK_KEYS, "ok"), report.problems
    assert report.ok and report.simulated and all(r.simulated for r in report)
    assert report[TOKEN_VALID].evidence["type"] == "SYSTEM_USER"
    assert_no_secrets(report, world)


def test_progress_reported_in_order(store: AccountStore, world: World,
                                   server: SandboxServer) -> None:
    """Progress goes from 0 to 100 without going backwards and names each step."""
    seen: list[tuple[int, str]] = []
    run(store, make_account(store, world), server,
        OpContext(report=lambda pct, text: seen.append((pct, text))))
    pcts = [p for p, _ in seen]
    assert pcts[0] == 0 and pcts[-1] == 100 and pcts == sorted(pcts)
    assert any("debug_token" in t for _, t in seen)
    assert any("subscribed apps" in t for _, t in seen)


def test_expired_token(store: AccountStore, world: World, server: SandboxServer) -> None:
    """An expired user token fails token.valid and token.expiry; the rest is 'not checked'."""
    report = run(store, make_account(store, world, token="expired"), server)
    assert report[TOKEN_VALID].outcome == "failed"
    assert report[TOKEN_VALID].evidence["subcode"] == 463
    assert report[TOKEN_EXPIRY].outcome == "failed"
    assert "expired on" in report[TOKEN_EXPIRY].detail
    assert "system-user token" in (report[TOKEN_EXPIRY].fix or "")
    for key in (TOKEN_APP, WABA_READABLE, PHONE_IN_WABA, APP_SUBSCRIBED):
        assert report[key].outcome == "unknown"
        assert report[key].detail.startswith("Not checked because the access token is not valid")
        assert report[key].fix is None  # the fix is on the failing check, not repeated
    assert not report.ok
    assert_no_secrets(report, world)


def test_revoked_token(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A password-changed token fails token.valid with 190/460 and a new-token fix."""
    report = run(store, make_account(store, world, token="revoked"), server)
    result = report[TOKEN_VALID]
    assert result.outcome == "failed"
    assert (result.evidence["code"], result.evidence["subcode"]) == (190, 460)
    assert "password" in result.detail
    assert "Generate" in (result.fix or "")
    assert report[TOKEN_EXPIRY].outcome == "unknown"


def test_missing_messaging_scope(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A token without whatsapp_business_messaging fails token.scopes naming the permission."""
    report = run(store, make_account(store, world, token="no_messaging"), server)
    result = report[TOKEN_SCOPES]
    assert result.outcome == "failed"
    assert "whatsapp_business_messaging" in result.detail
    assert result.evidence["missing"] == ["whatsapp_business_messaging"]
    assert "generate a new token" in (result.fix or "")
    assert report[WABA_READABLE].outcome == "ok"  # management alone can still read it
    assert report[APP_SUBSCRIBED].outcome == "ok"


def test_waba_not_in_target_ids(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A token limited to another WABA fails token.scopes and waba.readable; phones unknown."""
    report = run(store, make_account(store, world, token="other_waba"), server)
    access = report[TOKEN_SCOPES]
    assert access.outcome == "failed"
    assert OTHER_WABA in access.detail and WABA in access.detail
    assert "Assign assets" in (access.fix or "")
    assert report[WABA_READABLE].outcome == "failed"
    assert report[WABA_READABLE].evidence["code"] == 200
    assert report[PHONE_IN_WABA].outcome == "unknown"
    assert "the WABA could not be read" in report[PHONE_IN_WABA].detail
    assert report[APP_SUBSCRIBED].outcome == "unknown"


def test_phone_of_another_waba(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A phone number ID of another WABA fails phone_in_waba and says what it probably is."""
    report = run(store, make_account(store, world, phone_number_id=OTHER_WABA_PHONE), server)
    result = report[PHONE_IN_WABA]
    assert result.outcome == "failed"
    assert f"{OTHER_WABA_PHONE} is not a phone of WABA {WABA}" in result.detail
    assert "another WABA" in result.detail
    assert PHONE in (result.fix or "")  # the right ID is offered (display number matches it)
    assert result.evidence["suggested_phone_number_id"] == PHONE
    for key in (PHONE_DISPLAY_MATCHES, PHONE_REGISTERED, PHONE_NAME_APPROVED):
        assert report[key].outcome == "unknown"


def test_unknown_phone_number_id(store: AccountStore, world: World,
                                 server: SandboxServer) -> None:
    """A phone number ID Meta does not know at all is reported as such, with the right IDs."""
    report = run(store, make_account(store, world, phone_number_id="200000000000099"), server)
    result = report[PHONE_IN_WABA]
    assert result.outcome == "failed"
    assert "Meta has no object with this ID" in result.detail
    assert f"{PHONE} (+1 555-010-0001)" in (result.fix or "")


def test_app_id_in_waba_field(store: AccountStore, world: World, server: SandboxServer) -> None:
    """The app ID pasted into the WABA ID field is named as the culprit."""
    account_id = make_account(store, world)
    force_values(store, account_id, waba_id=APP_ID)
    result = run(store, account_id, server)[WABA_READABLE]
    assert result.outcome == "failed"
    assert "it looks like the app ID" in result.detail


def test_phone_of_another_waba_the_token_can_see(store: AccountStore, world: World,
                                                 server: SandboxServer) -> None:
    """When the token can read the other WABA's number, its display number and name are named."""
    token = world.tokens["valid"]
    for scope in token.scopes:
        token.granular_scopes[scope] = [WABA, OTHER_WABA]
    report = run(store, make_account(store, world, phone_number_id=OTHER_WABA_PHONE), server)
    detail = report[PHONE_IN_WABA].detail
    assert "+44 7700 900001" in detail and "another WABA that this token can see" in detail


def test_waba_id_in_phone_number_field(store: AccountStore, world: World,
                                       server: SandboxServer) -> None:
    """The WABA ID pasted into the phone number ID field is named as the culprit."""
    account_id = make_account(store, world)
    force_values(store, account_id, phone_number_id=WABA)
    report = run(store, account_id, server)
    result = report[PHONE_IN_WABA]
    assert result.outcome == "failed"
    assert "is not a phone of WABA" in result.detail
    assert "it looks like the WABA ID" in result.detail
    assert "Phone number ID" in (result.fix or "")


def test_display_number_in_phone_number_field(store: AccountStore, world: World,
                                              server: SandboxServer) -> None:
    """The display number typed into the phone number ID field is recognised as such."""
    account_id = make_account(store, world)
    force_values(store, account_id, phone_number_id="15550100001")
    result = run(store, account_id, server)[PHONE_IN_WABA]
    assert result.outcome == "failed"
    assert "looks like the display phone number" in result.detail
    assert result.evidence["suggested_phone_number_id"] == PHONE


def test_phone_id_in_waba_field(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A phone number ID in the WABA ID field: Meta says what the node is, and it is named."""
    report = run(store, make_account(store, world, waba_id=SECOND_PHONE), server)
    result = report[WABA_READABLE]
    assert result.outcome == "failed"
    assert "it is the ID of a phone number" in result.detail
    assert "WhatsApp Business Account ID" in (result.fix or "")
    assert report[PHONE_IN_WABA].outcome == "unknown"


def test_display_number_mismatch(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A display number that is not the phone's fails with Meta's number in the fix."""
    report = run(store, make_account(store, world, display_phone_number="+15550100002"), server)
    result = report[PHONE_DISPLAY_MATCHES]
    assert result.outcome == "failed"
    assert "+1 555-010-0001" in (result.fix or "")
    assert report[PHONE_IN_WABA].outcome == "ok"


def test_display_number_formatting_ignored(store: AccountStore, world: World,
                                           server: SandboxServer) -> None:
    """Only digits are compared: "+1 555 010 0001" matches Graph's "+1 555-010-0001"."""
    report = run(store, make_account(store, world, display_phone_number="+1 555 010 0001"),
                 server)
    assert report[PHONE_DISPLAY_MATCHES].outcome == "ok"


def test_unregistered_phone_and_pending_name(store: AccountStore, world: World,
                                             server: SandboxServer) -> None:
    """A PENDING (unregistered) number fails phone_status; a name status of NONE fails too."""
    report = run(store, make_account(store, world, phone_number_id="200000000000014",
                                     display_phone_number="+15550100004"), server)
    assert report[PHONE_REGISTERED].outcome == "failed"
    assert "register" in (report[PHONE_REGISTERED].fix or "")
    assert report[PHONE_NAME_APPROVED].outcome == "failed"


def test_app_not_subscribed_then_subscribe(store: AccountStore, world: World,
                                           server: SandboxServer) -> None:
    """An unsubscribed app fails app.subscribed; subscribe_app fixes it and re-verifies."""
    world.wabas[WABA].subscribed_app_ids.clear()
    account_id = make_account(store, world)
    report = run(store, account_id, server)
    assert report[APP_SUBSCRIBED].outcome == "failed"
    assert "Subscribe app" in (report[APP_SUBSCRIBED].fix or "")
    result = subscribe_app(OpContext(), store, account_id, base_url=server.base_url)
    assert result.changed and result.subscribed
    assert APP_ID in world.wabas[WABA].subscribed_app_ids
    assert result.report[APP_SUBSCRIBED].outcome == "ok"
    stored = {r.key: r.outcome for r in load_checks(store.engine, account_id)}
    assert stored[APP_SUBSCRIBED] == "ok"
    again = subscribe_app(OpContext(), store, account_id, base_url=server.base_url)
    assert not again.changed and again.subscribed


def test_temporary_token_warns(store: AccountStore, world: World, server: SandboxServer) -> None:
    """API Setup's 24-hour user token passes, with warnings on its expiry and its type."""
    report = run(store, make_account(store, world, token="temporary"), server)
    assert report[TOKEN_EXPIRY].outcome == "warning"
    assert "expires on" in report[TOKEN_EXPIRY].detail
    assert report[TOKEN_TYPE].outcome == "warning"
    assert "short-lived" in report[TOKEN_TYPE].detail
    assert "system-user token" in (report[TOKEN_TYPE].fix or "")
    assert report.ok  # warnings do not fail the run
    assert {k for k, o in outcomes(report).items() if o != "ok"} == {TOKEN_EXPIRY, TOKEN_TYPE}


def test_system_user_token_expiring_soon(store: AccountStore, world: World,
                                         server: SandboxServer) -> None:
    """A system-user token that expires within 7 days warns on token.expiry only."""
    world.tokens["valid"].expires_at = int(time.time()) + 3 * 86400
    report = run(store, make_account(store, world), server)
    assert report[TOKEN_EXPIRY].outcome == "warning"
    assert "(in 3 days)" in report[TOKEN_EXPIRY].detail or "(in 72 h)" in report[
        TOKEN_EXPIRY].detail
    assert report[TOKEN_TYPE].outcome == "ok"


def test_wrong_app_id(store: AccountStore, world: World, server: SandboxServer) -> None:
    """An App ID that is not the token's app: Meta refuses the app token; the field is named."""
    report = run(store, make_account(store, world, app_id="300000000000099"), server)
    assert report[APP_CREDENTIALS].outcome == "failed"
    assert "App ID and the App secret" in (report[APP_CREDENTIALS].fix or "")
    assert report[TOKEN_APP].outcome == "unknown"
    assert report[WABA_READABLE].outcome == "ok"  # the access token itself still works


def test_missing_app_secret(store: AccountStore, world: World, server: SandboxServer) -> None:
    """Without the app secret the token checks are not run and the settings field is named."""
    report = run(store, make_account(store, world, app_secret=None), server)
    result = report[APP_CREDENTIALS]
    assert result.outcome == "failed"
    assert "App secret" in result.detail and "settings" in (result.fix or "")
    assert report[TOKEN_VALID].outcome == "unknown"
    assert "App secret is not set" in report[TOKEN_VALID].detail
    assert report[WABA_READABLE].outcome == "ok"


def test_missing_access_token(store: AccountStore, world: World, server: SandboxServer) -> None:
    """A token gone from the keyring fails token.valid naming the Access token field."""
    account_id = make_account(store, world)
    ref = store.get(account_id).refs["access_token"]
    assert ref is not None
    store.secrets.delete(ref)
    report = run(store, account_id, server)
    assert report[TOKEN_VALID].outcome == "failed"
    assert "Access token" in report[TOKEN_VALID].detail
    assert all(r.outcome == "unknown" for r in report if r.key not in (TOKEN_VALID,
                                                                       APP_CREDENTIALS))
    assert len(server.requests) == 0


def test_unreachable_server(store: AccountStore, world: World,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A closed port gives 'unknown' results with the network fix, no traceback or secret."""
    real = verify_module.client_for

    def no_pause(*args, **kwargs):  # type: ignore[no-untyped-def]
        client = real(*args, **kwargs)
        client._sleep = lambda seconds: None  # retries happen, without waiting
        return client

    monkeypatch.setattr(verify_module, "client_for", no_pause)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = verify_provider(OpContext(), store, make_account(store, world),
                             base_url=f"http://127.0.0.1:{port}")
    assert set(outcomes(report).values()) == {"unknown"}
    for result in report:
        assert "Could not reach Meta" in result.detail
        assert "network" in (result.fix or "")
    assert_no_secrets(report, world)
    assert len(load_checks(store.engine, report.account_id)) == len(CHECK_KEYS)


def test_cancel_mid_run_saves_nothing(store: AccountStore, world: World,
                                      server: SandboxServer) -> None:
    """Cancel during the run raises OpCancelled and leaves the stored results as they were."""
    account_id = make_account(store, world)
    first = run(store, account_id, server)
    world.wabas[WABA].subscribed_app_ids.clear()
    flag = {"cancel": False}

    def report(pct: int, text: str) -> None:
        if "phone numbers" in text:
            flag["cancel"] = True

    before = len(server.requests)
    with pytest.raises(OpCancelled):
        run(store, account_id, server, OpContext(report=report, cancelled=lambda: flag["cancel"]))
    assert not any("subscribed_apps" in r.path for r in server.requests.snapshot()[before:])
    stored = load_checks(store.engine, account_id)
    assert [(r.key, r.outcome) for r in stored] == [(r.key, r.outcome) for r in first]


def test_cancel_before_first_call(store: AccountStore, world: World,
                                  server: SandboxServer) -> None:
    """A run cancelled at once sends nothing and saves nothing."""
    account_id = make_account(store, world)
    with pytest.raises(OpCancelled):
        run(store, account_id, server, OpContext(cancelled=lambda: True))
    assert len(server.requests) == 0
    assert load_checks(store.engine, account_id) == []


def test_results_persisted_and_reloaded(store: AccountStore, world: World,
                                        server: SandboxServer) -> None:
    """Saved results reload equal (as plain dataclasses); a re-run replaces them, not adds."""
    account_id = make_account(store, world, token="temporary")
    report = run(store, account_id, server)
    loaded = load_checks(store.engine, account_id)
    assert all(isinstance(r, CheckResultData) for r in loaded)
    assert loaded == list(report.results)
    assert loaded[0].checked_at.tzinfo is not None
    run(store, account_id, server)
    assert len(load_checks(store.engine, account_id)) == len(CHECK_KEYS)


def test_save_checks_replaces_only_its_keys(store: AccountStore, world: World) -> None:
    """Saving verify results leaves other producers' results (e.g. webhook checks) alone."""
    account_id = make_account(store, world)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    hook = CheckResultData("webhook.handshake", "ok", "fine", checked_at=now)
    save_checks(store.engine, account_id, [hook], simulated=True)
    mine = CheckResultData(TOKEN_VALID, "failed", "bad", "fix it", {"code": 190}, now)
    old = CheckResultData(TOKEN_APP, "ok", "old", checked_at=now)
    save_checks(store.engine, account_id, [mine, old], simulated=True, replace=CHECK_KEYS)
    save_checks(store.engine, account_id, [mine], simulated=True, replace=CHECK_KEYS)
    assert [r.key for r in load_checks(store.engine, account_id)] == ["webhook.handshake",
                                                                      TOKEN_VALID]
    assert load_checks(store.engine, account_id, keys=CHECK_KEYS)[0].evidence == {"code": 190}
    with pytest.raises(ValueError):
        bad = CheckResultData("x", "fine?", "")  # type: ignore[arg-type]
        save_checks(store.engine, account_id, [bad], simulated=True)
