"""Fixtures for the receiver tests: a database with the sandbox account (secrets in the test
keyring), its secrets as the receiver reads them, a running receiver, and signed-body helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.meta.webhook_samples import body_of, change, entry, envelope, messages_value, status
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.meta.webhooks import SIGNATURE_HEADER, sign
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore
from wa_console.webhook.app import CachedAccountSecrets
from wa_console.webhook.server import ReceiverServer

APP_SECRET = SANDBOX_SECRETS["app_secret"]
VERIFY_TOKEN = SANDBOX_SECRETS["webhook_verify_token"]
PHONE_ID = str(SANDBOX_VALUES["phone_number_id"])
WABA = str(SANDBOX_VALUES["waba_id"])
USER = "15551234567"
TIMEOUT = 5


def status_body(wamid: str = "wamid.A", state: str = "sent", ts: int = 1730000000) -> bytes:
    return body_of(envelope(entry(change("messages", messages_value(
        statuses=[status(wamid, state, timestamp=str(ts))], phone_id=PHONE_ID)), waba_id=WABA)))


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}


def post(url: str, body: bytes, headers: dict[str, str] | None = None,
         **kwargs: Any) -> requests.Response:
    return requests.post(url, data=body, headers=headers or {}, timeout=TIMEOUT, **kwargs)


@pytest.fixture
def store(sqlite_url: str, open_db) -> AccountStore:  # type: ignore[no-untyped-def]
    store = AccountStore(open_db(sqlite_url), SecretStore())
    store.create({**SANDBOX_VALUES, "account_name": "Sandbox (simulated)"},
                 {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()})
    return store


@pytest.fixture
def secrets(store: AccountStore) -> CachedAccountSecrets:
    return CachedAccountSecrets(store)


@pytest.fixture
def receiver(store: AccountStore, secrets: CachedAccountSecrets) -> Iterator[ReceiverServer]:
    with ReceiverServer(store.engine, secrets, port=0, threads=4, max_body=4096) as running:
        yield running
