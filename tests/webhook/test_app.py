"""The receiver's HTTP contract, over real loopback HTTP (waitress) into a real SQLite file."""

from __future__ import annotations

import http.client
import io
import json
import logging
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.memory_keyring import MemoryKeyring
from tests.webhook.conftest import (
    APP_SECRET,
    TIMEOUT,
    VERIFY_TOKEN,
    post,
    signed,
    status_body,
)
from wa_console.core.credentials import KEEP, SecretEdit
from wa_console.meta.webhooks import SIGNATURE_HEADER, sign
from wa_console.store import messages
from wa_console.store.accounts import AccountStore
from wa_console.webhook.app import CachedAccountSecrets, ReceiverSecrets, make_app

NEW_SECRET = "0123456789abcdef0123456789abcdef"


def challenge(url: str, token: str, mode: str = "subscribe",
              value: str = "1158201444") -> requests.Response:
    return requests.get(url, timeout=TIMEOUT, params={
        "hub.mode": mode, "hub.verify_token": token, "hub.challenge": value})


def test_challenge_with_the_right_token_echoes_exactly(receiver) -> None:
    """GET with the configured verify token: 200 text/plain, the challenge and nothing else."""
    response = challenge(receiver.url, VERIFY_TOKEN, value="ch-42_x")
    assert response.status_code == 200
    assert response.text == "ch-42_x"
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("token,mode", [("wrong-token", "subscribe"),
                                        (VERIFY_TOKEN, "unsubscribe"), ("", "subscribe")])
def test_challenge_refused_never_echoes(receiver, token: str, mode: str,
                                       caplog: pytest.LogCaptureFixture) -> None:
    """A wrong token (or mode) gets 403 and the challenge is not in the answer; the refusal
    is logged without the tokens."""
    caplog.set_level(logging.WARNING, logger="wa_console.webhook")
    response = challenge(receiver.url, token, mode=mode, value="9911223344")
    assert response.status_code == 403
    assert "9911223344" not in response.text
    assert "refused a verification request from 127.0.0.1" in caplog.text
    assert VERIFY_TOKEN not in caplog.text and "wrong-token" not in caplog.text


def test_challenge_accepts_any_configured_token(store: AccountStore) -> None:
    """With several accounts, each one's verify token answers the handshake."""
    from wa_console.webhook.server import ReceiverServer

    secrets = ReceiverSecrets(("first-token", "second-token"), (APP_SECRET,))
    with ReceiverServer(store.engine, lambda: secrets, port=0, threads=2) as server:
        assert challenge(server.url, "second-token", value="42").text == "42"
        assert challenge(server.url, "first-token", value="43").text == "43"
        assert challenge(server.url, "third-token").status_code == 403


def test_signed_post_is_stored(receiver, store: AccountStore) -> None:
    """A correctly signed POST: 200 EVENT_RECEIVED, the event and its status in the database."""
    body = status_body("wamid.OK")
    response = post(receiver.url, body, signed(body))
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    assert messages.event_count(store.engine) == 1
    [stored] = messages.statuses_for(store.engine, "wamid.OK")
    assert stored.signature_valid and stored.status == "sent"
    assert (receiver.events_accepted, receiver.events_refused) == (1, 0)


def test_signature_failures_are_refused_and_logged_without_secrets(
        receiver, store: AccountStore, caplog: pytest.LogCaptureFixture) -> None:
    """Missing -> 401; wrong secret, tampered or re-serialised body -> 403; nothing stored; the
    log names the reason, never the secret, the token or the body."""
    caplog.set_level(logging.WARNING, logger="wa_console.webhook")
    body = status_body("wamid.BAD")
    reserialised = json.dumps(json.loads(body)).encode()  # spaces: other bytes, same JSON
    cases = [
        (post(receiver.url, body), 401),
        (post(receiver.url, body, signed(body, "not-the-app-secret")), 403),
        (post(receiver.url, body.replace(b"sent", b"read"), signed(body)), 403),
        (post(receiver.url, reserialised, signed(body)), 403),
        (post(receiver.url, body, {SIGNATURE_HEADER: "sha1=" + "0" * 40}), 403),
    ]
    assert [r.status_code for r, _ in cases] == [code for _, code in cases]
    assert messages.event_count(store.engine) == 0
    assert (receiver.events_accepted, receiver.events_refused) == (0, 5)
    refusals = [r for r in caplog.records if "refused a POST" in r.getMessage()]
    assert len(refusals) == 5 and all(r.levelno == logging.WARNING for r in refusals)
    text = caplog.text
    assert "no X-Hub-Signature-256 header" in text and "127.0.0.1" in text
    assert "does not match" in text and f"body {len(body)} bytes" in text
    for secret in (APP_SECRET, VERIFY_TOKEN, "not-the-app-secret", "wamid.BAD"):
        assert secret not in text


def test_oversize_body_is_refused(receiver, store: AccountStore) -> None:
    """A body over the limit (4 KiB here) gets 413 and is not stored."""
    body = status_body() + b" " * 5000
    response = post(receiver.url, body, signed(body))
    assert response.status_code == 413
    assert messages.event_count(store.engine) == 0


def test_post_without_content_length_is_refused(receiver) -> None:
    """No Content-Length (and no chunked body): 411 Length Required."""
    parts = urlsplit(receiver.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", parts.path)
        connection.putheader(SIGNATURE_HEADER, sign(APP_SECRET, b""))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 411
    finally:
        connection.close()


def test_signed_but_not_a_webhook_is_400(receiver, store: AccountStore) -> None:
    """Correct signature, but not a whatsapp_business_account envelope: 400, nothing stored."""
    body = b'{"object":"page","entry":[]}'
    assert post(receiver.url, body, signed(body)).status_code == 400
    assert messages.event_count(store.engine) == 0


def test_other_paths_and_methods(receiver) -> None:
    """Any other path is 404; other methods on the path are 405."""
    root = receiver.url.rsplit("/webhooks/", 1)[0]
    assert requests.get(root + "/other", timeout=TIMEOUT).status_code == 404
    response = requests.put(receiver.url, data=b"x", timeout=TIMEOUT)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"


def test_unexpected_error_is_500_with_the_traceback_only_in_the_log(
        sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """An empty database (no tables) makes the ingest fail: 500 without details; log has it."""
    from sqlalchemy import create_engine

    engine = create_engine(sqlite_url)  # never migrated
    app = make_app(engine, lambda: ReceiverSecrets((), (APP_SECRET,)))
    body = status_body()
    answer: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhooks/whatsapp",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "HTTP_X_HUB_SIGNATURE_256": sign(APP_SECRET, body), "REMOTE_ADDR": "10.0.0.9"}
    with caplog.at_level(logging.ERROR, logger="wa_console.webhook"):
        chunks = app(environ, lambda status, headers: answer.append(status))
    engine.dispose()
    assert answer == ["500 Internal Server Error"] and b"".join(chunks) == b"internal error"
    assert "Traceback" in caplog.text and "no such table" in caplog.text
    assert app.refused == 1


def test_changed_app_secret_is_picked_up_on_a_failed_signature(
        receiver, store: AccountStore, secrets: CachedAccountSecrets) -> None:
    """The admin changes the app secret: the next POST signed with it is accepted (the failed
    check re-reads the secrets), while the cache otherwise keeps the old read."""
    secrets._min_interval = 0  # noqa: SLF001 (tests do not wait out the flood guard)
    assert secrets().app_secrets == (APP_SECRET,)
    record = store.list_accounts()[0]
    full = store.get(record.id)
    store.save(full.id, full.version, full.values,
               {"app_secret": SecretEdit("set", NEW_SECRET),
                "access_token": KEEP, "webhook_verify_token": KEEP})
    assert secrets().app_secrets == (APP_SECRET,)  # cached for up to 30 s
    body = status_body("wamid.NEW")
    assert post(receiver.url, body, signed(body, NEW_SECRET)).status_code == 200
    assert secrets().app_secrets == (NEW_SECRET,)


def test_account_secrets_reads_each_account_once_per_period(
        store: AccountStore, memory_keyring: MemoryKeyring) -> None:
    """Repeated calls inside the period do not touch the keyring again."""
    secrets = CachedAccountSecrets(store)
    reads = []
    original = memory_keyring.get_password

    def counting(service: str, user: str) -> str | None:
        reads.append(user)
        return original(service, user)

    memory_keyring.get_password = counting
    first = secrets()
    for _ in range(20):
        assert secrets() == first
    assert first == ReceiverSecrets((VERIFY_TOKEN,), (APP_SECRET,))
    assert len(reads) == 2
    assert APP_SECRET not in repr(first) and VERIFY_TOKEN not in repr(first)


def test_no_app_secret_refuses_with_the_reason(store: AccountStore,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Without any app secret every POST is refused (403) and the log says what is missing."""
    from wa_console.webhook.server import ReceiverServer

    caplog.set_level(logging.WARNING, logger="wa_console.webhook")
    with ReceiverServer(store.engine, lambda: ReceiverSecrets(("t",), ()), port=0,
                        threads=2) as server:
        body = status_body()
        assert post(server.url, body, signed(body)).status_code == 403
    assert "no app secret is stored for any account" in caplog.text
    assert messages.event_count(store.engine) == 0
