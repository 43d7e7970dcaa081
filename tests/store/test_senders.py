"""Sender accounts against the emulator's seeded numbers (synced for real) on SQLite and
PostgreSQL: creation refused/allowed by validation, a later sync invalidating a sender, readiness
state and templates whose Sender account names a missing or invalid sender."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.support.sandbox_account import PHONE, TOKEN, WABA
from wa_console.core.credentials import SecretEdit
from wa_console.core.readiness import SenderState
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_VALUES
from wa_console.core.templates.model import Category, TemplateDraft
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_channel_account
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.drafts import save_draft
from wa_console.store.models import ChannelAccount
from wa_console.store.secrets import SecretStore
from wa_console.store.senders import (
    SenderError,
    create_sender,
    delete_sender,
    list_senders,
    sender_state,
    template_sender_problems,
    update_sender,
)

SUPPORT, OUTLET, KIOSK, PARTNER = ("200000000000012", "200000000000013", "200000000000014",
                                   "200000000000021")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=20, seed=0), "127.0.0.1", 0) as srv:
        yield srv


@pytest.fixture
def store(db_url: str, open_db) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(db_url), SecretStore())


@pytest.fixture
def account_id(store: AccountStore) -> int:
    return store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                        {"access_token": SecretEdit("set", TOKEN)}).id


@pytest.fixture
def synced(store: AccountStore, account_id: int, server: SandboxServer) -> int:
    """The account after a real Sync channel account against the emulator."""
    sync_channel_account(OpContext(), store, account_id, base_url=server.base_url)
    return account_id


def test_main_number_becomes_a_valid_sender_with_both_values(store, synced) -> None:
    """The CONNECTED, approved main number: valid, no warnings; value per the admin's choice."""
    sender = create_sender(store.engine, synced, PHONE)
    assert sender.valid and sender.validation.warnings == ()
    assert (sender.label, sender.display_phone_number, sender.sender_value, sender.value) == (
        "Sandbox Store (simulated)", "+1 555-010-0001", "display_number", "+15550100001")
    assert (sender.verified_name, sender.quality_rating, sender.messaging_limit_tier) == (
        "Sandbox Store (simulated)", "GREEN", "TIER_1K")
    changed = update_sender(store.engine, sender.id, sender_value="phone_number_id",
                            label="Main")
    assert (changed.label, changed.value) == ("Main", PHONE)
    assert list_senders(store.engine, synced) == [changed]
    assert sender_state(store.engine, synced) == SenderState(valid_count=1, problem=None)


def test_numbers_that_cannot_send_are_refused_with_the_reason(store, synced) -> None:
    """The unregistered kiosk (PENDING, name NONE) and another WABA's number are refused."""
    with pytest.raises(SenderError, match="not registered with the Cloud API") as kiosk:
        create_sender(store.engine, synced, KIOSK)
    assert "name status NONE" in str(kiosk.value)
    with pytest.raises(SenderError, match=f"not among the synced numbers of WABA {WABA}"):
        create_sender(store.engine, synced, PARTNER)
    assert list_senders(store.engine, synced) == []
    assert sender_state(store.engine, synced) == SenderState(valid_count=0)


def test_numbers_with_only_warnings_are_allowed_and_flagged(store, synced) -> None:
    """Name pending review (support) and FLAGGED/RED/TIER_250 (outlet): senders with warnings."""
    support = create_sender(store.engine, synced, SUPPORT, label="Support")
    assert support.valid
    assert [w.split(":")[0] for w in support.validation.warnings] == [
        'The display name "Sandbox Support (simulated)" is pending review',
        "Messaging limit TIER_250"]
    outlet = create_sender(store.engine, synced, OUTLET, sender_value="phone_number_id")
    assert outlet.valid and outlet.value == OUTLET
    assert len(outlet.validation.warnings) == 3
    assert sender_state(store.engine, synced).valid_count == 2


def test_duplicates_unknown_values_and_unsynced_accounts_are_refused(store, account_id,
                                                                     server) -> None:
    """Before a sync nothing can be a sender; after it, one number is one sender, labels are
    unique and the value is one of the two."""
    with pytest.raises(SenderError, match="Sync channel account"):
        create_sender(store.engine, account_id, PHONE)
    sync_channel_account(OpContext(), store, account_id, base_url=server.base_url)
    create_sender(store.engine, account_id, PHONE, label="Main")
    with pytest.raises(SenderError, match="already the sender 'Main'"):
        create_sender(store.engine, account_id, PHONE)
    with pytest.raises(SenderError, match="already labelled 'main'"):
        create_sender(store.engine, account_id, SUPPORT, label="main")
    with pytest.raises(SenderError, match="Unknown sender value"):
        create_sender(store.engine, account_id, SUPPORT, sender_value="wa_id")
    assert [s.label for s in list_senders(store.engine, account_id)] == ["Main"]


def test_a_later_sync_invalidates_a_sender(store, synced, server) -> None:
    """The main number disconnected at Meta: after the re-sync the sender is invalid and
    readiness names the problem; reconnected, it is valid again."""
    sender = create_sender(store.engine, synced, PHONE, label="Main")
    world = server.world
    with world.lock:
        world.phone_numbers[PHONE].status = "DISCONNECTED"
    try:
        sync_channel_account(OpContext(), store, synced, base_url=server.base_url)
    finally:
        with world.lock:
            world.phone_numbers[PHONE].status = "CONNECTED"
    [stale] = list_senders(store.engine, synced)
    assert stale.id == sender.id and not stale.valid
    assert "DISCONNECTED, not CONNECTED" in stale.validation.errors[0]
    state = sender_state(store.engine, synced)
    assert state.valid_count == 0
    assert state.problem is not None and state.problem.startswith("Sender 'Main': ")
    sync_channel_account(OpContext(), store, synced, base_url=server.base_url)
    assert sender_state(store.engine, synced) == SenderState(valid_count=1)


def test_changing_the_waba_id_orphans_synced_numbers_until_the_next_sync(store, synced) -> None:
    """Numbers synced for another WABA are not "in this WABA"."""
    create_sender(store.engine, synced, PHONE)
    with Session(store.engine) as session, session.begin():
        session.execute(update(ChannelAccount).where(ChannelAccount.id == synced)
                        .values(waba_id="199999999999999"))
    [sender] = list_senders(store.engine, synced)
    assert not sender.valid and "WABA 199999999999999" in sender.validation.errors[0]


def test_delete_removes_only_the_sender(store, synced) -> None:
    sender = create_sender(store.engine, synced, PHONE)
    delete_sender(store.engine, sender.id)
    assert list_senders(store.engine, synced) == []
    with pytest.raises(SenderError, match="no longer exists"):
        delete_sender(store.engine, sender.id)
    assert create_sender(store.engine, synced, PHONE).valid  # the number is free again


def test_template_sender_links_by_label_number_or_id(store, synced, server) -> None:
    """Sender account text naming a sender by label, display number or phone number ID is fine;
    a name of no sender, or of an invalidated sender, is flagged with the reason."""
    create_sender(store.engine, synced, PHONE, label="Main")
    create_sender(store.engine, synced, SUPPORT, label="Support")
    draft = TemplateDraft(name="hello", language="en_US", category=Category.UTILITY, body="Hi")
    ids = {text: save_draft(store.engine, synced,
                            replace(draft, name=f"t{i}", sender_account=text)).id
           for i, text in enumerate(["main", "+1 555 010 0001", PHONE, "15550100002", "Nobody",
                                  "  "])}
    problems = template_sender_problems(store.engine, synced)
    assert set(problems) == {ids["Nobody"]}
    assert problems[ids["Nobody"]].startswith(
        "Template 't4' (en_US): sender account 'Nobody' names no sender of this account")
    assert template_sender_problems(store.engine, synced, ids["Nobody"]) == {
        ids["Nobody"]: problems[ids["Nobody"]]}
    assert template_sender_problems(store.engine, synced, ids["main"]) == {}
    # Readiness shows each broken link as an advisory of the sender item.
    assert sender_state(store.engine, synced).template_links == (problems[ids["Nobody"]],)

    world = server.world
    with world.lock:
        world.phone_numbers[SUPPORT].name_status = "DECLINED"
    try:
        sync_channel_account(OpContext(), store, synced, base_url=server.base_url)
    finally:
        with world.lock:
            world.phone_numbers[SUPPORT].name_status = "PENDING_REVIEW"
    problems = template_sender_problems(store.engine, synced)
    assert set(problems) == {ids["Nobody"], ids["15550100002"]}
    assert "the sender 'Support', which cannot send" in problems[ids["15550100002"]]
    assert "name status DECLINED" in problems[ids["15550100002"]]
