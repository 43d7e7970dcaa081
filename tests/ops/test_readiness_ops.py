"""The checklist from stored state, the Run-all chain and `wa-console check`, on a sandbox
account against the emulator and a real SQLite database."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from tests.support.sandbox_account import PHONE
from wa_console.core.credentials import SecretEdit
from wa_console.core.readiness import Action, ItemState, Requirement
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.ops import check_cli
from wa_console.ops.context import OpContext
from wa_console.ops.provider import stop_shared_sandbox
from wa_console.ops.readiness import load_readiness, run_all_checks
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore

NAME = "Sandbox (simulated)"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=50, seed=0), "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def store(sqlite_url, open_db) -> AccountStore:
    store = AccountStore(open_db(sqlite_url), SecretStore())
    store.create({**SANDBOX_VALUES, "account_name": NAME},
                 {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()})
    return store


def account_id(store: AccountStore) -> int:
    return store.list_accounts()[0].id


def test_fresh_account_is_not_checked_anywhere(store) -> None:
    """Before any check, every requirement that needs Meta is 'not checked', none assumed."""
    readiness = load_readiness(store, account_id(store))
    states = {item.requirement: item.state for item in readiness.items}
    assert not readiness.ready and readiness.simulated
    assert states[Requirement.PROVIDER_ACCOUNT] is ItemState.NOT_CHECKED
    assert states[Requirement.TEMPLATE_SYNC] is ItemState.NOT_CHECKED
    assert states[Requirement.CREDENTIAL_REFERENCE] is not ItemState.OK


def test_run_all_then_a_sender_makes_all_seven_ok(store, server) -> None:
    """Run all (verify, syncs, Meta-side webhook check, self-test against the console's own
    receiver) makes six items OK and the sender item failing with its fix; adding a sender of
    the synced main number makes the sandbox account ready, never production ready."""
    from wa_console.store.senders import create_sender
    from wa_console.webhook.app import account_secrets
    from wa_console.webhook.server import ReceiverServer

    with ReceiverServer(store.engine, account_secrets(store), port=0) as receiver:
        record = store.get(account_id(store))
        store.save(record.id, record.version,
                   {**record.values, "webhook_callback_url": receiver.url}, {})
        server.world.callback_url = receiver.url  # the app's callback in the emulated dashboard
        progress: list[int] = []
        result = run_all_checks(OpContext(report=lambda pct, text: progress.append(pct)), store,
                                record.id, server.base_url)
    assert result.stopped_at is None and len(result.steps) == 5
    assert progress == sorted(progress) and progress[-1] <= 100
    readiness = load_readiness(store, record.id)
    states = {item.requirement: item.state for item in readiness.items}
    assert {r for r, s in states.items() if s is not ItemState.OK} == {Requirement.SENDER}
    assert states[Requirement.SENDER] is ItemState.FAILING
    assert readiness.item(Requirement.SENDER).action is Action.OPEN_SENDERS

    create_sender(store.engine, record.id, PHONE)
    readiness = load_readiness(store, record.id)
    assert readiness.ready and readiness.simulated and not readiness.production_ready
    assert readiness.item(Requirement.SENDER).reason == "1 valid sender"


def test_run_all_reports_an_unsubscribed_callback(store, server) -> None:
    """With no app callback configured at Meta (the emulated dashboard) and no receiver, the
    webhook item fails with Meta side's reason instead of staying 'not checked'."""
    server.world.callback_url = None
    result = run_all_checks(OpContext(), store, account_id(store), server.base_url)
    assert result.stopped_at is None
    item = load_readiness(store, account_id(store)).item(Requirement.WEBHOOK)
    assert item.state is ItemState.FAILING and item.action is Action.CHECK_WEBHOOKS


def test_run_all_stops_at_the_first_failure_with_its_fix(store, server) -> None:
    """An expired token stops the chain at Verify, with the token fix; nothing is synced."""
    record = store.get(account_id(store))
    store.save(record.id, record.version, record.values,
               {"access_token": SecretEdit("set", server.world.tokens["expired"])})
    result = run_all_checks(OpContext(), store, record.id, server.base_url)
    assert result.stopped_at == "verify" and result.steps == ["verify"]
    assert "token" in (result.fix or "").lower()
    readiness = load_readiness(store, record.id)
    assert readiness.item(Requirement.CREDENTIAL_REFERENCE).state is ItemState.FAILING
    assert readiness.item(Requirement.TEMPLATE_SYNC).state is ItemState.NOT_CHECKED


def test_missing_env_secret_is_named(store, monkeypatch) -> None:
    """A credential reference to an unset environment variable is reported with its name."""
    record = store.get(account_id(store))
    monkeypatch.setenv("WA_TOKEN_FOR_CHECK", "SANDBOX-system-user-token-0001")
    store.save(record.id, record.version, record.values,
               {"access_token": SecretEdit("env", "WA_TOKEN_FOR_CHECK")})
    monkeypatch.delenv("WA_TOKEN_FOR_CHECK")
    item = load_readiness(store, record.id).item(Requirement.CREDENTIAL_REFERENCE)
    assert item.state is ItemState.FAILING and "WA_TOKEN_FOR_CHECK" in item.reason


@pytest.fixture
def shared_sandbox_stopped() -> Iterator[None]:
    yield
    stop_shared_sandbox()


def test_check_command_exit_codes_and_json(store, sqlite_url, shared_sandbox_stopped) -> None:
    """`check --live --json`: JSON checklist, exit 1 (no receiver answers on the sandbox
    account's callback and no sender exists); a wrong name exits 2 with the account list."""
    out, err = io.StringIO(), io.StringIO()
    code = check_cli.run(sqlite_url, NAME, live=True, as_json=True, out=out, err=err)
    doc = json.loads(out.getvalue())
    assert code == check_cli.EXIT_NOT_READY
    assert doc["account"] == NAME and doc["simulated"] is True and doc["ready"] is False
    assert doc["run"]["stopped_at"] is None
    states = {i["requirement"]: i["state"] for i in doc["items"]}
    assert list(states.values()).count("ok") == 5, doc["items"]

    table = io.StringIO()
    assert check_cli.run(sqlite_url, None, live=False, as_json=False, out=table,
                         err=err) == check_cli.EXIT_NOT_READY
    assert "simulated" in table.getvalue() and "Not ready: 2 of 7" in table.getvalue()

    err = io.StringIO()
    assert check_cli.run(sqlite_url, "nope", live=False, as_json=False, out=io.StringIO(),
                         err=err) == check_cli.EXIT_ERROR
    assert "no channel account named 'nope'" in err.getvalue() and NAME in err.getvalue()


# --- required event keys from the account's drafts (issue 6 §6) --------------------------------

def _draft_for_event(store: AccountStore, body_keys: tuple[str, ...], name: str = "order_update",
                     event_key: str = "attendance.absent") -> None:
    from wa_console.core.templates.model import Category, HeaderFormat, TemplateDraft
    from wa_console.store.drafts import save_draft

    save_draft(store.engine, account_id(store), TemplateDraft(
        name=name, language="en_US", category=Category.UTILITY,
        body="Hi {{1}}, your order will arrive on {{2}}.", header_format=HeaderFormat.TEXT,
        header_text="Order {{1}}", header_keys=("order_id",), body_keys=body_keys,
        event_key=event_key), simulated=True)


def _approved_item(store: AccountStore, server: SandboxServer):
    result = run_all_checks(OpContext(), store, account_id(store), server.base_url)
    assert result.stopped_at is None
    return load_readiness(store, account_id(store)).item(Requirement.APPROVED_TEMPLATES)


def test_event_key_with_matching_keys_is_ok(store, server) -> None:
    """A draft for attendance.absent over the approved order_update, keys fitting → OK."""
    _draft_for_event(store, ("student_name", "date"))
    item = _approved_item(store, server)
    assert item.state is ItemState.OK


def test_event_key_with_wrong_keys_says_sends_would_fail(store, server) -> None:
    """One body key for two approved placeholders → failing, 'sends would fail'."""
    _draft_for_event(store, ("student_name",))
    item = _approved_item(store, server)
    assert item.state is ItemState.FAILING and "sends would fail" in item.reason


def test_event_key_without_approved_template_fails(store, server) -> None:
    """A draft whose name has no approved synced template → 'No approved template for …'."""
    _draft_for_event(store, ("student_name", "date"), name="absence_notice")
    item = _approved_item(store, server)
    assert item.state is ItemState.FAILING
    assert "No approved template for attendance.absent" in item.reason
