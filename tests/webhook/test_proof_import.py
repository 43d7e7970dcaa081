"""Proof import: a captured body + its signature header, verified with the account's secret."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.webhook.conftest import APP_SECRET, status_body
from wa_console.core.credentials import SecretEdit
from wa_console.meta.webhooks import sign
from wa_console.store import messages
from wa_console.store.accounts import AccountStore
from wa_console.store.models import WebhookEvent
from wa_console.webhook.proof_import import ProofImportError, import_capture


def account_id(store: AccountStore) -> int:
    return store.list_accounts()[0].id


def test_a_valid_capture_is_recorded_as_an_import(store: AccountStore) -> None:
    """Signed with the account's app secret: stored like a received event, source "import"."""
    body = status_body("wamid.CAPTURED", "delivered")
    result = import_capture(store, account_id(store), body, sign(APP_SECRET, body))
    assert not result.duplicate and result.account_id == account_id(store)
    assert result.statuses == 1
    with Session(store.engine) as session:
        event = session.scalar(select(WebhookEvent))
        assert event is not None and (event.source, event.signature_valid, event.simulated) == (
            "import", True, True)
    assert [s.status for s in messages.statuses_for(store.engine, "wamid.CAPTURED")] == [
        "delivered"]


def test_header_pasted_with_its_name_and_body_with_a_trailing_newline(store: AccountStore) -> None:
    """What a copy from a log looks like still verifies (the HMAC decides which bytes)."""
    body = status_body("wamid.PASTED")
    header = "X-Hub-Signature-256: " + sign(APP_SECRET, body).upper().replace("SHA256=", "sha256=")
    result = import_capture(store, account_id(store), body + b"\n", header)
    assert result.statuses == 1


def test_reserialised_body_is_refused_with_the_reason(store: AccountStore) -> None:
    """Pretty-printed JSON has other bytes: the message explains exactly that."""
    body = status_body()
    pretty = json.dumps(json.loads(body), indent=2).encode()
    with pytest.raises(ProofImportError, match="paste the body exactly as received") as caught:
        import_capture(store, account_id(store), pretty, sign(APP_SECRET, body))
    assert "re-serialised JSON" in caught.value.message
    assert messages.event_count(store.engine) == 0


@pytest.mark.parametrize("header", ["", "sha256=abc", "sha1=" + "0" * 40, "0" * 64])
def test_missing_or_malformed_header(store: AccountStore, header: str) -> None:
    """The expected form is named: sha256=<64 hex digits>."""
    with pytest.raises(ProofImportError, match=r"missing or malformed.*sha256=<64 hex digits>"):
        import_capture(store, account_id(store), status_body(), header)


def test_wrong_secret_is_a_mismatch(store: AccountStore) -> None:
    """Signed with another secret: mismatch, nothing stored."""
    body = status_body()
    with pytest.raises(ProofImportError, match="does not match this account's app secret"):
        import_capture(store, account_id(store), body, sign("f" * 32, body))
    assert messages.event_count(store.engine) == 0


def test_no_app_secret_stored(store: AccountStore) -> None:
    """Without an app secret the admin is sent to the settings."""
    record = store.get(account_id(store))
    store.save(record.id, record.version, record.values,
               {"app_secret": SecretEdit("clear"), "access_token": SecretEdit("keep"),
                "webhook_verify_token": SecretEdit("keep")})
    body = status_body()
    with pytest.raises(ProofImportError, match="enter the app secret in the settings"):
        import_capture(store, account_id(store), body, sign(APP_SECRET, body))


def test_signed_body_that_is_not_a_webhook(store: AccountStore) -> None:
    """Verified, but not a whatsapp_business_account envelope."""
    body = b'{"object":"instagram","entry":[]}'
    with pytest.raises(ProofImportError, match="not a WhatsApp webhook"):
        import_capture(store, account_id(store), body, sign(APP_SECRET, body))
    assert messages.event_count(store.engine) == 0
