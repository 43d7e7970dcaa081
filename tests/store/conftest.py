"""Store-test fixtures: a database on every backend, and the sandbox account in it."""

from __future__ import annotations

import pytest

from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore


@pytest.fixture
def engine(db_url: str, open_db):  # type: ignore[no-untyped-def]
    """An up-to-date database, once on SQLite and once on PostgreSQL (when a server starts)."""
    return open_db(db_url)


@pytest.fixture
def account_id(engine) -> int:  # type: ignore[no-untyped-def]
    """The sandbox account with the emulator's IDs and secrets (its data is simulated)."""
    store = AccountStore(engine, SecretStore())
    return store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                        {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()}).id
