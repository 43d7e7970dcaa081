"""Webhook readiness: the Meta side against the sandbox emulator, and the self-test (acting as
Meta) against real loopback receivers; real SQLite, in-memory keyring."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from wa_console.core.credentials import SecretEdit
from wa_console.core.readiness import CheckOutcome
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.meta.webhooks import SIGNATURE_HEADER, answer_challenge, verify_signature
from wa_console.ops.context import OpCancelled, OpContext
from wa_console.ops.webhook_check import (
    META_FINDINGS,
    META_SIDE_KEY,
    PLATFORM_SIDE_KEY,
    PROBES,
    SELF_TEST_RECIPIENT,
    SELF_TEST_WAMID_PREFIX,
    MetaSideReport,
    SelfTestReport,
    check_meta_side,
    is_loopback_host,
    self_test,
    webhook_state,
)
from wa_console.sandbox import SandboxServer, World, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.checks import load_checks
from wa_console.store.models import ChannelAccount
from wa_console.store.secrets import SecretStore

WABA = str(SANDBOX_VALUES["waba_id"])
PHONE = str(SANDBOX_VALUES["phone_number_id"])
CONFIGURED = str(SANDBOX_VALUES["webhook_callback_url"])
VERIFY_TOKEN = SANDBOX_SECRETS["webhook_verify_token"]
APP_SECRET = SANDBOX_SECRETS["app_secret"]
ELSEWHERE = "https://elsewhere.example.org/hook"


@pytest.fixture
def world() -> World:
    return seeded_world(templates=0, seed=0, callback_url=CONFIGURED)


@pytest.fixture
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def store(open_db, sqlite_url: str) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(sqlite_url), SecretStore())


def make_account(store: AccountStore, app_secret: str = APP_SECRET,
                 **values: object) -> int:
    secrets = {"access_token": SecretEdit("set", SANDBOX_SECRETS["access_token"]),
               "app_secret": SecretEdit("set", app_secret),
               "webhook_verify_token": SecretEdit("set", VERIFY_TOKEN)}
    return store.create({**SANDBOX_VALUES, "account_name": "Sandbox", **values}, secrets).id


def set_callback(store: AccountStore, account_id: int, url: str) -> None:
    """Write a callback URL the sandbox form refuses (https or a non-loopback host)."""
    with Session(store.engine) as session, session.begin():
        session.execute(update(ChannelAccount).where(ChannelAccount.id == account_id)
                        .values(webhook_callback_url=url))


def meta(store: AccountStore, account_id: int, server: SandboxServer) -> MetaSideReport:
    return check_meta_side(OpContext(), store, account_id, base_url=server.base_url)


def outcomes(report: MetaSideReport) -> dict[str, str]:
    return {f.key.removeprefix("webhook.meta."): f.outcome for f in report.findings}


def no_secret_in(text: str) -> None:
    for secret in (*SANDBOX_SECRETS.values(), f"{SANDBOX_VALUES['app_id']}|{APP_SECRET}"):
        assert secret not in text


# --- Meta side ------------------------------------------------------------------------------------

def test_meta_side_all_fine(store: AccountStore, server: SandboxServer) -> None:
    """App subscription active with messages, app on the WABA, no overrides: all ok, and the
    summary row plus one row per finding are saved (simulated) without secrets."""
    account = make_account(store)
    report = meta(store, account, server)
    assert outcomes(report) == dict.fromkeys(META_FINDINGS, "ok")
    assert report.outcome == "ok" and report.simulated
    assert (report.message_route.url, report.message_route.source) == (CONFIGURED, "app")
    assert report.template_route.url == CONFIGURED
    rows = {r.key: r for r in load_checks(store.engine, account)}
    assert set(rows) == {META_SIDE_KEY, *(f"webhook.meta.{n}" for n in META_FINDINGS)}
    evidence = rows[META_SIDE_KEY].evidence
    assert evidence["effective_callback"] == CONFIGURED
    assert evidence["effective_source"] == "app"
    assert evidence["app_subscribed_to_waba"] is True and evidence["messages_field"] is True
    assert evidence["template_events_callback"] == CONFIGURED
    assert evidence["waba_override"] is None and evidence["phone_override"] is None
    assert all(r.simulated for r in rows.values())
    no_secret_in(repr(list(rows.values())))


def test_app_not_subscribed_to_the_waba(store: AccountStore, server: SandboxServer,
                                        world: World) -> None:
    """Empty subscribed_apps: the WABA finding fails with the subscribe fix."""
    world.wabas[WABA].subscribed_app_ids.clear()
    report = meta(store, make_account(store), server)
    found = outcomes(report)
    assert found["waba_subscribed"] == "failed"
    assert "Subscribe the app" in (report.finding("waba_subscribed").fix or "")
    assert found["effective_callback"] == "failed"  # the URL is right, Meta sends nothing
    assert report.outcome == "failed"
    assert report.summary.evidence["app_subscribed_to_waba"] is False


def test_messages_field_not_subscribed(store: AccountStore, server: SandboxServer,
                                       world: World) -> None:
    """Without the messages field nothing arrives: failed, with the dashboard fix."""
    world.app.subscription_fields = ["message_template_status_update"]
    report = meta(store, make_account(store), server)
    assert outcomes(report)["messages_field"] == "failed"
    assert "subscribe to messages" in (report.finding("messages_field").fix or "")
    assert report.summary.evidence["messages_field"] is False
    assert report.outcome == "failed"


def test_subscription_inactive(store: AccountStore, server: SandboxServer,
                               world: World) -> None:
    """A listed but inactive subscription fails the app subscription finding."""
    world.app.subscription_active = False
    report = meta(store, make_account(store), server)
    assert outcomes(report)["app_subscription"] == "failed"
    assert "inactive" in report.finding("app_subscription").detail
    assert report.outcome == "failed"


def test_no_app_callback_means_no_subscription(store: AccountStore, server: SandboxServer,
                                               world: World) -> None:
    """The emulator's one app-callback rule: None is no subscription, and nothing routes."""
    world.callback_url = None
    report = meta(store, make_account(store), server)
    assert outcomes(report)["app_subscription"] == "failed"
    assert report.message_route.url is None and outcomes(report)["template_events"] == "failed"


def test_callback_mismatch(store: AccountStore, server: SandboxServer, world: World) -> None:
    """Meta's app callback differs from the configured URL: both routes miss the receiver."""
    world.callback_url = ELSEWHERE
    report = meta(store, make_account(store), server)
    found = outcomes(report)
    assert found["app_callback"] == "failed" and found["effective_callback"] == "failed"
    assert found["template_events"] == "warning"
    assert f"not to the configured callback URL {CONFIGURED}" in \
        report.finding("effective_callback").detail
    assert report.summary.evidence["app_callback"] == ELSEWHERE


def test_callback_differs_only_in_form(store: AccountStore, server: SandboxServer,
                                       world: World) -> None:
    """Host case and a trailing slash are the same receiver."""
    assert CONFIGURED == "http://127.0.0.1:8765/webhooks/whatsapp"
    world.callback_url = "HTTP://127.0.0.1:8765/webhooks/whatsapp/"
    assert meta(store, make_account(store), server).outcome == "ok"


def test_waba_override_takes_message_events(store: AccountStore, server: SandboxServer,
                                            world: World) -> None:
    """A WABA override elsewhere wins for messages; template events stay on the app URL."""
    world.wabas[WABA].override_callback_uri = ELSEWHERE
    report = meta(store, make_account(store), server)
    assert (report.message_route.url, report.message_route.source) == (ELSEWHERE, "waba")
    found = outcomes(report)
    assert found["waba_override"] == "warning" and found["effective_callback"] == "failed"
    assert found["template_events"] == "ok" and found["app_callback"] == "ok"
    assert report.summary.evidence["waba_override"] == ELSEWHERE


def test_waba_override_to_the_configured_url(store: AccountStore, server: SandboxServer,
                                             world: World) -> None:
    """Override = configured, app callback elsewhere: messages arrive (ok), templates do not
    (warning on the app callback and on template events)."""
    world.callback_url = ELSEWHERE
    world.wabas[WABA].override_callback_uri = CONFIGURED
    report = meta(store, make_account(store), server)
    found = outcomes(report)
    assert found["effective_callback"] == "ok" and found["waba_override"] == "ok"
    assert found["app_callback"] == "warning" and found["template_events"] == "warning"
    assert report.outcome == "warning"
    assert report.template_route.url == ELSEWHERE


def test_phone_override_switches_the_effective_callback(store: AccountStore,
                                                        server: SandboxServer,
                                                        world: World) -> None:
    """A phone override beats the WABA override; the explanation names it."""
    world.wabas[WABA].override_callback_uri = "https://waba.example.org/hook"
    world.phone_numbers[PHONE].override_callback_uri = ELSEWHERE
    report = meta(store, make_account(store), server)
    assert (report.message_route.url, report.message_route.source) == (ELSEWHERE, "phone")
    assert outcomes(report)["phone_override"] == "warning"
    effective = report.finding("effective_callback")
    assert "phone number's webhook override" in effective.detail
    assert (effective.fix or "").startswith("Remove the phone number's override")
    assert report.summary.evidence["effective_source"] == "phone"
    assert report.summary.evidence["phone_override"] == ELSEWHERE


def test_meta_error_is_unknown_with_the_fix(store: AccountStore, server: SandboxServer) -> None:
    """A wrong app secret: the app token is refused (190): unknown, with Meta's explanation,
    the catalog's fix, and no secret anywhere."""
    report = meta(store, make_account(store, app_secret="0" * 32), server)
    found = outcomes(report)
    assert found["app_subscription"] == "unknown" and found["template_events"] == "unknown"
    assert found["waba_subscribed"] == "ok"  # the access token still works
    assert report.outcome == "unknown"
    row = report.finding("app_subscription")
    assert "190" in row.detail and row.fix
    no_secret_in(repr(report))


def test_meta_side_cancel_saves_nothing(store: AccountStore, server: SandboxServer) -> None:
    """Cancelled before the first call: OpCancelled, no rows saved."""
    account = make_account(store)
    with pytest.raises(OpCancelled):
        check_meta_side(OpContext(cancelled=lambda: True), store, account, server.base_url)
    assert load_checks(store.engine, account) == []


# --- self-test receivers --------------------------------------------------------------------------

class Receiver:
    """A loopback webhook receiver whose faults are chosen by `mode`: "right", "any_token"
    (echoes the challenge for any token), "unsigned_ok" (accepts posts without a signature),
    "redirect" (301 to another URL)."""

    def __init__(self, mode: str = "right", tls: ssl.SSLContext | None = None) -> None:
        self.mode = mode
        self.posts: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if receiver.mode == "redirect":
                    return self._redirect()
                params = dict(parse_qsl(urlsplit(self.path).query))
                if receiver.mode == "any_token" and params.get("hub.mode") == "subscribe":
                    return self._answer(200, params.get("hub.challenge", "").encode())
                code, text = answer_challenge(params, VERIFY_TOKEN)
                self._answer(code, text.encode())

            def do_POST(self) -> None:
                if receiver.mode == "redirect":
                    return self._redirect()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append((dict(self.headers.items()), body))
                header = self.headers.get(SIGNATURE_HEADER)
                if receiver.mode == "unsigned_ok" and header is None:
                    return self._answer(200, b"")
                ok = verify_signature(APP_SECRET, body, header)
                self._answer(200 if ok else 401, b"")

            def _redirect(self) -> None:
                self.send_response(301)
                self.send_header("Location", "https://final.example.org/hook")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/whatsapp"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    r = Receiver(getattr(request, "param", "right"))
    try:
        yield r
    finally:
        r.close()


def run_self_test(store: AccountStore, account_id: int, **kwargs: object) -> SelfTestReport:
    kwargs.setdefault("allow_signed_probe", lambda url: pytest.fail(f"asked for {url}"))
    return self_test(OpContext(), store, account_id, **kwargs)  # type: ignore[arg-type]


def probe_outcomes(report: SelfTestReport) -> dict[str, str]:
    return {p.name: p.outcome for p in report.probes}


def test_self_test_against_a_correct_receiver(store: AccountStore, receiver: Receiver) -> None:
    """Every probe passes; the signed event is a realistic, clearly synthetic status; the
    loopback URL needs no confirmation; rows are saved without secrets."""
    account = make_account(store, webhook_callback_url=receiver.url)
    report = run_self_test(store, account)
    assert probe_outcomes(report) == dict.fromkeys(PROBES, "ok"), report.probes
    assert report.outcome == "ok"
    assert report.probe("challenge").status == 200
    assert report.probe("wrong_token").status == 403
    assert report.probe("signed_post").status == 200
    assert report.probe("bad_signature").status == 401
    assert report.probe("unsigned_post").status == 401
    assert all(p.latency_ms is not None and p.latency_ms >= 0 for p in report.probes
               if p.name != "transport")
    headers, body = receiver.posts[0]
    status = json.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["id"].startswith(SELF_TEST_WAMID_PREFIX)
    assert status["recipient_id"] == SELF_TEST_RECIPIENT
    assert verify_signature(APP_SECRET, body, headers[SIGNATURE_HEADER])
    rows = {r.key: r for r in load_checks(store.engine, account)}
    assert set(rows) == {PLATFORM_SIDE_KEY, *(f"webhook.platform.{p}" for p in PROBES)}
    assert rows[PLATFORM_SIDE_KEY].outcome == "ok"
    assert rows[PLATFORM_SIDE_KEY].evidence["url"] == receiver.url
    no_secret_in(repr(list(rows.values())) + repr(report))


@pytest.mark.parametrize("receiver", ["any_token"], indirect=True)
def test_receiver_echoing_any_token_fails(store: AccountStore, receiver: Receiver) -> None:
    """Echoing the challenge for a wrong token is a failure with the 403 fix."""
    report = run_self_test(store, make_account(store, webhook_callback_url=receiver.url))
    assert probe_outcomes(report)["challenge"] == "ok"
    wrong = report.probe("wrong_token")
    assert wrong.outcome == "failed" and wrong.status == 200 and "403" in (wrong.fix or "")
    assert report.outcome == "failed"


@pytest.mark.parametrize("receiver", ["unsigned_ok"], indirect=True)
def test_receiver_accepting_unsigned_posts_fails(store: AccountStore,
                                                 receiver: Receiver) -> None:
    """Accepting an unsigned POST is a failure (forgeable), bad signature still ok."""
    report = run_self_test(store, make_account(store, webhook_callback_url=receiver.url))
    found = probe_outcomes(report)
    assert found["unsigned_post"] == "failed" and found["bad_signature"] == "ok"
    assert "forge" in report.probe("unsigned_post").detail
    assert report.outcome == "failed"


@pytest.mark.parametrize("receiver", ["redirect"], indirect=True)
def test_redirect_is_flagged_not_followed(store: AccountStore, receiver: Receiver) -> None:
    """A 301 is never followed; every probe names the final URL to configure."""
    report = run_self_test(store, make_account(store, webhook_callback_url=receiver.url))
    for name in ("challenge", "wrong_token", "signed_post", "bad_signature", "unsigned_post"):
        probe = report.probe(name)
        assert probe.outcome == "failed" and probe.status == 301
        assert probe.fix == ("Meta does not follow redirects: configure the final URL "
                             "https://final.example.org/hook.")
    assert receiver.posts == []  # not followed: nothing was POSTed anywhere


def test_receiver_down(store: AccountStore) -> None:
    """Connection refused: each probe fails with a clear reason, fast."""
    down = Receiver()
    url = down.url
    down.close()
    report = run_self_test(store, make_account(store, webhook_callback_url=url))
    challenge = report.probe("challenge")
    assert challenge.outcome == "failed" and challenge.status is None
    assert "could not connect" in challenge.detail and "Traceback" not in challenge.detail
    assert report.outcome == "failed"


def test_wrong_verify_token_in_the_receiver(store: AccountStore, receiver: Receiver) -> None:
    """The receiver expects another token than the settings: the handshake fails (403)."""
    account = store.create({**SANDBOX_VALUES, "account_name": "Other token",
                            "webhook_callback_url": receiver.url},
                           {"access_token": SecretEdit("set", "x"),
                            "app_secret": SecretEdit("set", APP_SECRET),
                            "webhook_verify_token": SecretEdit("set", "not-the-one")}).id
    report = run_self_test(store, account)
    assert report.probe("challenge").outcome == "failed"
    assert report.probe("challenge").status == 403


def test_non_loopback_host_asks_before_signed_probes(store: AccountStore,
                                                     receiver: Receiver) -> None:
    """A host name that does not resolve to loopback (resolver seam) needs the admin's OK;
    declined: the signed probes are skipped (unknown), the GETs still run."""
    account = make_account(store)
    url = f"http://localhost:{receiver.port}/webhooks/whatsapp"
    set_callback(store, account, url)
    asked: list[str] = []

    def decline(target: str) -> bool:
        asked.append(target)
        return False

    public = lambda host: ["203.0.113.10"]  # noqa: E731
    report = run_self_test(store, account, allow_signed_probe=decline, resolve=public)
    assert asked == [url]
    found = probe_outcomes(report)
    assert found["challenge"] == "ok" and found["wrong_token"] == "ok"
    assert {found[n] for n in ("signed_post", "bad_signature", "unsigned_post")} == {"unknown"}
    assert "signed probes skipped" in report.probe("signed_post").detail.lower()
    assert found["transport"] == "warning"  # plain http to a non-loopback host
    assert report.outcome == "unknown" and receiver.posts == []

    allowed = run_self_test(store, account, allow_signed_probe=lambda _u: True, resolve=public)
    assert probe_outcomes(allowed)["signed_post"] == "ok" and len(receiver.posts) == 3


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_self_signed_certificate_is_reported(store: AccountStore,
                                             self_signed: ssl.SSLContext) -> None:
    """An https receiver with a self-signed certificate: every probe fails with the
    certificate problem named, and the transport row says what Meta needs."""
    tls_receiver = Receiver(tls=self_signed)
    try:
        account = make_account(store)
        set_callback(store, account, f"https://127.0.0.1:{tls_receiver.port}/hook")
        report = run_self_test(store, account)
    finally:
        tls_receiver.close()
    challenge = report.probe("challenge")
    assert challenge.outcome == "failed" and challenge.status is None
    assert "TLS certificate problem" in challenge.detail
    assert "self-signed" in challenge.detail or "certificate verify failed" in challenge.detail
    transport = report.probe("transport")
    assert transport.outcome == "failed" and "public CA" in (transport.fix or "")
    assert report.outcome == "failed"


@pytest.mark.parametrize(("host", "addresses", "loopback"), [
    ("127.0.0.1", None, True), ("127.0.0.2", None, True), ("::1", None, True),
    ("[::1]", None, True), ("203.0.113.5", None, False),
    ("hooks.example.org", ["127.0.0.1", "::1"], True),
    ("hooks.example.org", ["127.0.0.1", "203.0.113.5"], False),
    ("hooks.example.org", [], False), ("hooks.example.org", OSError, False),
])
def test_is_loopback_host(host: str, addresses: object, loopback: bool) -> None:
    """127.0.0.0/8 and ::1 are loopback without a lookup; names by what they resolve to."""
    def resolve(name: str) -> list[str]:
        if addresses is None:
            pytest.fail("an IP literal must not be resolved")
        if addresses is OSError:
            raise OSError("no such host")
        return list(addresses)  # type: ignore[call-overload]

    assert is_loopback_host(host, resolve) is loopback


def test_webhook_state_from_stored_summaries(store: AccountStore, server: SandboxServer,
                                             receiver: Receiver) -> None:
    """Readiness input: None until checked, then the two summaries as Checks."""
    account = make_account(store, webhook_callback_url=receiver.url)
    empty = webhook_state(store.engine, account)
    assert empty.meta_side is None and empty.platform_side is None
    run_self_test(store, account)
    meta(store, account, server)  # the emulator's app callback is another URL: failed
    state = webhook_state(store.engine, account)
    assert state.platform_side is not None and state.platform_side.outcome is CheckOutcome.OK
    assert state.meta_side is not None and state.meta_side.outcome is CheckOutcome.FAILED
    assert state.meta_side.simulated and state.meta_side.key == META_SIDE_KEY


def test_self_test_against_the_console_receiver(store: AccountStore) -> None:
    """The console's own receiver (waitress, same database) passes every probe: the check and
    the receiver agree on Meta's contract."""
    from wa_console.webhook.app import account_secrets
    from wa_console.webhook.server import ReceiverServer

    with ReceiverServer(store.engine, account_secrets(store), port=0) as server:
        account = make_account(store, webhook_callback_url=server.url)
        report = run_self_test(store, account)
        assert server.events_accepted == 1 and server.events_refused == 2
    assert probe_outcomes(report) == dict.fromkeys(PROBES, "ok"), report.probes
    assert (report.probe("bad_signature").status, report.probe("unsigned_post").status) == (
        403, 401)
    # The accepted probe is kept as a raw event but never becomes a message or a status.
    from sqlalchemy import func, select

    from wa_console.store.models import MessageStatus, OutboundMessage, WebhookEvent
    with store.engine.connect() as connection:
        counts = [connection.scalar(select(func.count()).select_from(model))
                  for model in (WebhookEvent, OutboundMessage, MessageStatus)]
    assert counts == [1, 0, 0]


def test_missing_secrets_leave_probes_unknown_with_the_fix(store: AccountStore,
                                                          receiver: Receiver) -> None:
    """No verify token and no app secret stored: the probes that need them are unknown and
    name the setting; the wrong-token probe still runs."""
    account = store.create({**SANDBOX_VALUES, "account_name": "No secrets",
                            "webhook_callback_url": receiver.url},
                           {"access_token": SecretEdit("set", "x")}).id
    report = run_self_test(store, account)
    found = probe_outcomes(report)
    assert found["challenge"] == "unknown"
    assert "verify token" in (report.probe("challenge").fix or "")
    assert found["wrong_token"] == "ok"
    assert {found[n] for n in ("signed_post", "bad_signature", "unsigned_post")} == {"unknown"}
    assert "app secret" in (report.probe("signed_post").fix or "")
    assert report.outcome == "unknown" and receiver.posts == []


def test_self_test_cancel_saves_nothing(store: AccountStore, receiver: Receiver) -> None:
    """Cancelled before the first probe: OpCancelled, nothing sent, no rows saved."""
    account = make_account(store, webhook_callback_url=receiver.url)
    with pytest.raises(OpCancelled):
        self_test(OpContext(cancelled=lambda: True), store, account,
                  allow_signed_probe=lambda _url: True)
    assert load_checks(store.engine, account) == [] and receiver.posts == []
