"""Fixtures shared by the page tests: an emulator, a store with the sandbox account, and a page
context like the main window's (its pools drain before the database closes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool

from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.gui.pages import PageContext
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore

NAME = "Sandbox (simulated)"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=20, seed=0), "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def store(sqlite_url: str, open_db) -> AccountStore:
    store = AccountStore(open_db(sqlite_url), SecretStore())
    store.create({**SANDBOX_VALUES, "account_name": NAME},
                 {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()})
    return store


@pytest.fixture
def ctx(store: AccountStore) -> Iterator[PageContext]:
    storage, remote = QThreadPool(), QThreadPool()
    storage.setMaxThreadCount(1)
    yield PageContext(store=store, account_id=store.list_accounts()[0].id, account_name=NAME,
                      sandbox=True, storage_pool=storage, remote_pool=remote)
    storage.waitForDone(10000)
    remote.waitForDone(10000)
