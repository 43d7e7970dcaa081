"""Feature toggles are stored per account and upserted, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from wa_console.core.credentials import SecretEdit
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore
from wa_console.store.toggles import load_toggles, set_toggle

BASE = {"waba_id": "102290129340398", "phone_number_id": "106540352242922",
        "display_phone_number": "+447911123456", "app_id": "1234567890123456"}


@pytest.fixture
def accounts(db_url: str, open_db) -> tuple[AccountStore, int, int]:
    store = AccountStore(open_db(db_url), SecretStore())
    ids = [store.create({**BASE, "account_name": name},
                        {"access_token": SecretEdit("env", "WA_TOKEN")}).id
           for name in ("one", "two")]
    return store, ids[0], ids[1]


def test_nothing_stored_means_no_toggles(accounts) -> None:
    """A new account has no stored toggles (all features off)."""
    store, first, _ = accounts
    assert load_toggles(store.engine, first) == {}


def test_set_toggle_inserts_then_updates(accounts) -> None:
    """Switching on, then off again, keeps one row per feature with the latest value."""
    store, first, _ = accounts
    set_toggle(store.engine, first, "inbox", True)
    set_toggle(store.engine, first, "campaigns", True)
    assert load_toggles(store.engine, first) == {"inbox": True, "campaigns": True}
    set_toggle(store.engine, first, "inbox", False)
    set_toggle(store.engine, first, "inbox", False)
    assert load_toggles(store.engine, first) == {"inbox": False, "campaigns": True}


def test_toggles_belong_to_their_account(accounts) -> None:
    """One account's switches never show up on another account."""
    store, first, second = accounts
    set_toggle(store.engine, first, "automations", True)
    assert load_toggles(store.engine, second) == {}
    set_toggle(store.engine, second, "automations", False)
    assert load_toggles(store.engine, first) == {"automations": True}
    assert load_toggles(store.engine, second) == {"automations": False}
