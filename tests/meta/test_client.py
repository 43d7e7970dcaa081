"""The Graph API client against real loopback servers: the sandbox emulator, and a tiny scripted
server for answers the emulator never gives (a repeating cursor)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.sandbox_account import APP_ID, APP_SECRET, PHONE, RECIPIENT, TOKEN, WABA
from wa_console.meta.client import ClientConfig, GraphClient, MissingCredential
from wa_console.meta.errors import (
    GraphApiError,
    InvalidResponseError,
    NetworkError,
    OutcomeUnknownError,
    PaginationError,
)
from wa_console.sandbox import SandboxServer, seeded_world


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    world = seeded_world(templates=6000, seed=0)
    world.review_delay = 0
    with SandboxServer(world, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_server(server: SandboxServer) -> Iterator[None]:
    server.faults.clear()
    server.requests.clear()
    yield
    server.faults.clear()


class Sleeps(list):
    """Records the pauses the client asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(server: SandboxServer, token: str = TOKEN, sleeps: Sleeps | None = None,
                **config: object) -> GraphClient:
    settings = {"base_url": server.base_url, "connect_timeout": 2.0, "read_timeout": 5.0,
                **config}
    return GraphClient(ClientConfig(**settings), token=lambda: token, app_id=APP_ID,
                       app_secret=lambda: APP_SECRET, sleep=sleeps if sleeps is not None
                       else Sleeps(), jitter=lambda: 1.0)


def hits(server: SandboxServer, method: str, fragment: str) -> int:
    return sum(1 for r in server.requests if r.method == method and fragment in r.path)


# --- every method, happy path ------------------------------------------------------------------

def test_debug_token_uses_the_app_token(server) -> None:
    """debug_token returns the token's data, checked with APP_ID|APP_SECRET."""
    with make_client(server) as client:
        data = client.debug_token()
    assert data["is_valid"] is True and data["app_id"] == APP_ID
    assert {"whatsapp_business_management", "whatsapp_business_messaging"} <= set(data["scopes"])
    (request,) = server.requests
    assert request.query["access_token"] == f"{APP_ID}|{APP_SECRET}"
    assert "Authorization" not in request.headers


def test_account_reads(server) -> None:
    """WABA details, every phone number (paged, with extra fields), one number, subscriptions."""
    with make_client(server, page_limit=2) as client:
        waba = client.waba(WABA)
        numbers = client.phone_numbers(WABA)
        one = client.phone_number(PHONE)
        apps = client.subscribed_apps(WABA)
        # Meta lists the subscription only once a callback URL is configured.
        server.world.callback_url = "https://platform.example.org/webhooks/whatsapp"
        try:
            app_subs = client.app_subscriptions()
        finally:
            server.world.callback_url = None
    assert waba["id"] == WABA and waba["name"]
    assert len(numbers) >= 3 and PHONE in {n["id"] for n in numbers}
    assert all("name_status" in n for n in numbers)  # the extra fields were merged in
    assert one["id"] == PHONE and one["display_phone_number"]
    assert any(a.get("whatsapp_business_api_data", {}).get("id") == APP_ID for a in apps)
    assert any("messages" in {f["name"] for f in s["fields"]} for s in app_subs)
    assert hits(server, "GET", f"{WABA}/phone_numbers") >= 4  # two passes, several pages


def test_extra_phone_fields_refused_with_100_are_tolerated(server) -> None:
    """When Meta refuses the extra phone fields (code 100) the spec's fields still come back."""
    server.world.refuse_extra_phone_fields = True
    try:
        with make_client(server) as client:
            numbers = client.phone_numbers(WABA)
    finally:
        server.world.refuse_extra_phone_fields = False
    assert PHONE in {n["id"] for n in numbers}
    assert all("name_status" not in n for n in numbers)


def test_subscribe_and_unsubscribe(server) -> None:
    """The app can be unsubscribed from and subscribed to the WABA again."""
    with make_client(server) as client:
        assert client.unsubscribe_app(WABA)["success"] is True
        assert client.subscribed_apps(WABA) == []
        assert client.subscribe_app(WABA)["success"] is True
        assert len(client.subscribed_apps(WABA)) == 1


def test_six_thousand_templates_in_pages_of_100(server) -> None:
    """Listing walks every page once, reports progress per page and stops at the end."""
    pages: list[tuple[int, int]] = []
    with make_client(server) as client:
        templates = list(client.iter_templates(WABA, progress=lambda p, n: pages.append((p, n))))
    ids = [t["id"] for t in templates]
    assert len(ids) == len(set(ids)) >= 6000
    assert pages[-1] == (len(pages), len(ids)) and len(pages) == -(-len(ids) // 100)
    assert hits(server, "GET", "message_templates") == len(pages)


def test_template_create_get_edit_delete(server) -> None:
    """A new template is created PENDING, reviewed, edited and deleted."""
    body = {"name": "client_test_notice", "language": "en_US", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hello {{1}}, your class starts at {{2}}.",
                            "example": {"body_text": [["Ana", "9:00"]]}}]}
    with make_client(server) as client:
        created = client.create_template(WABA, body)
        assert created["status"] == "PENDING" and created["id"]
        fetched = client.template(created["id"])
        assert fetched["name"] == "client_test_notice"
        assert fetched["status"] in ("APPROVED", "PENDING")
        client.edit_template(created["id"], {"components": body["components"]})
        assert client.delete_template(WABA, "client_test_notice", created["id"])["success"]


def test_send_template_returns_the_wamid(server) -> None:
    """A template send to an allowed recipient returns a wamid and sends language.policy."""
    with make_client(server) as client:
        result = client.send_template(PHONE, RECIPIENT, "hello_world", "en_US")
    assert result.wamid.startswith("wamid.") and result.message_status == "accepted"
    (request,) = [r for r in server.requests if r.method == "POST"]
    sent = json.loads(request.body)
    assert sent["template"]["language"] == {"code": "en_US", "policy": "deterministic"}


def test_send_validation_errors_are_typed(server) -> None:
    """Meta's send refusals arrive as GraphApiError with the catalog's explanation."""
    with make_client(server) as client:
        with pytest.raises(GraphApiError) as not_allowed:
            client.send_template(PHONE, "15559999999", "hello_world", "en_US")
        with pytest.raises(GraphApiError) as unknown:
            client.send_template(PHONE, RECIPIENT, "no_such_template", "en_US")
        with pytest.raises(GraphApiError) as window:
            client.send_text(PHONE, RECIPIENT, "free text outside the window")
    assert not_allowed.value.code == 131030 and "allowed list" in str(not_allowed.value)
    assert unknown.value.code == 132001 and not unknown.value.retryable
    assert window.value.code == 131047 and "approved template" in window.value.fix


# --- faults, retries and the error types ---------------------------------------------------------

def test_transient_5xx_is_retried_with_backoff(server) -> None:
    """Two 503s then success: three attempts at the server, exponential pauses between them."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="http_5xx", times=2, status=503)
    sleeps = Sleeps()
    with make_client(server, sleeps=sleeps) as client:
        assert client.waba(WABA)["id"] == WABA
        assert client.last_call.attempts == 3
    assert hits(server, "GET", f"/{WABA}") == 3
    assert sum(sleeps) == pytest.approx(1.0 + 2.0)  # base 1 s, doubled, jitter fixed at 1


@pytest.mark.parametrize(("code", "subcode", "status"), [
    (190, 463, 401), (190, 460, 401), (10, None, 403), (100, None, 400), (200, 1349174, 403)])
def test_permanent_errors_are_not_retried(server, code, subcode, status) -> None:
    """Token, permission and parameter errors fail at once with the catalog's fix."""
    fault = {"code": code, "status": status, **({"subcode": subcode} if subcode else {})}
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="graph_error", times=1, **fault)
    with make_client(server) as client, pytest.raises(GraphApiError) as info:
        client.waba(WABA)
    assert hits(server, "GET", f"/{WABA}") == 1
    error = info.value
    assert (error.code, error.subcode, error.retryable) == (code, subcode, False)
    assert error.info is not None and error.fix == error.info.action
    assert "fbtrace_id" in str(error)


@pytest.mark.parametrize("code", [4, 80007, 130429])
def test_rate_limits_wait_as_asked(server, code) -> None:
    """429 with Retry-After: the client waits at least that long, then succeeds."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="rate_limit", times=1,
                         code=code, retry_after=7)
    sleeps = Sleeps()
    with make_client(server, sleeps=sleeps) as client:
        assert client.waba(WABA)["id"] == WABA
    assert sum(sleeps) == pytest.approx(7.0)
    assert hits(server, "GET", f"/{WABA}") == 2


def test_wait_longer_than_the_cap_is_not_taken(server) -> None:
    """A Retry-After beyond the total-wait cap raises at once instead of waiting."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="rate_limit", times=1, code=4,
                         retry_after=600)
    sleeps = Sleeps()
    with make_client(server, sleeps=sleeps) as client, pytest.raises(GraphApiError) as info:
        client.waba(WABA)
    assert sleeps == [] and info.value.code == 4 and info.value.retryable


def test_html_error_page_is_a_typed_error(server) -> None:
    """An HTML 502 from a proxy becomes InvalidResponseError (retried, then reported)."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="html_error", times=None)
    with make_client(server, max_attempts=2) as client, pytest.raises(InvalidResponseError) as info:
        client.waba(WABA)
    assert info.value.http_status == 502 and "not JSON" in str(info.value)
    assert hits(server, "GET", f"/{WABA}") == 2


def test_malformed_json_is_a_typed_error(server) -> None:
    """A truncated 200 body is reported as unreadable, not a crash."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="malformed_json", times=None)
    with make_client(server, max_attempts=1) as client, pytest.raises(InvalidResponseError):
        client.waba(WABA)


def test_connection_reset_on_a_read_is_retried(server) -> None:
    """A reset connection on a GET is a NetworkError that is retried."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="connection_reset", times=1)
    with make_client(server) as client:
        assert client.waba(WABA)["id"] == WABA
    assert hits(server, "GET", f"/{WABA}") >= 1


def test_stalled_read_times_out(server) -> None:
    """A server that never answers hits the read timeout: NetworkError, retryable."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="stall", times=None, seconds=3)
    with make_client(server, read_timeout=0.5, max_attempts=2) as client, \
            pytest.raises(NetworkError) as info:
        client.waba(WABA)
    assert info.value.retryable and "no answer in time" in str(info.value)


def test_failing_page_stops_the_listing_with_the_error(server) -> None:
    """Page 3 failing with a permanent error ends the walk with that error."""
    server.faults.inject(method="GET", path=r"/message_templates$", kind="graph_error",
                         times=None, page=2, code=100, status=400)
    with make_client(server) as client, pytest.raises(GraphApiError):
        list(client.iter_templates(WABA))
    assert hits(server, "GET", "message_templates") == 3


def test_lost_send_response_is_never_retried(server) -> None:
    """The message is processed but the answer is lost: OutcomeUnknownError, one POST only."""
    server.faults.inject(method="POST", path=r"/messages$", kind="drop_after_processing",
                         times=1)
    with make_client(server, read_timeout=1.0) as client, \
            pytest.raises(OutcomeUnknownError) as info:
        client.send_template(PHONE, RECIPIENT, "hello_world", "en_US")
    assert hits(server, "POST", "/messages") == 1
    assert "not resent" in str(info.value) and "Do not resend" in info.value.fix


def test_send_to_an_unreachable_server_is_retried_safely(server) -> None:
    """Connection refused means nothing was sent: a send may be retried, then NetworkError."""
    config = ClientConfig(base_url="http://127.0.0.1:9", connect_timeout=0.5, max_attempts=2)
    client = GraphClient(config, token=lambda: TOKEN, sleep=Sleeps(), jitter=lambda: 1.0)
    with client, pytest.raises(NetworkError):
        client.send_template(PHONE, RECIPIENT, "hello_world", "en_US")
    assert client.last_call.attempts == 2


def test_missing_credentials_are_named(server) -> None:
    """No token / no app secret: a clear error before anything is sent."""
    client = GraphClient(ClientConfig(base_url=server.base_url), token=lambda: None)
    with client, pytest.raises(MissingCredential, match="access token is not set"):
        client.waba(WABA)
    assert server.requests == []


# --- secrets stay secret -------------------------------------------------------------------------

def test_tokens_never_reach_logs_or_errors(server, caplog) -> None:
    """Debug logs of client and urllib3 and the text of errors never hold a token or secret."""
    caplog.set_level(logging.DEBUG)
    server.faults.inject(method="GET", path=r"/debug_token$", kind="connection_reset",
                         times=None)
    with make_client(server, max_attempts=2) as client, pytest.raises(NetworkError) as info:
        client.debug_token()
    with make_client(server) as client:
        client.waba(WABA)
    text = caplog.text + str(info.value) + repr(client)
    assert TOKEN not in text and APP_SECRET not in text
    assert "input_token=<redacted>" in str(info.value) or "input_token" not in str(info.value)


# --- paging that would never end -----------------------------------------------------------------

class _RepeatingCursor(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"data": [{"id": "1"}], "paging": {
            "cursors": {"after": "SAME"}, "next": "http://x/next"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_repeating_cursor_is_an_error_not_a_loop() -> None:
    """A cursor that comes back twice stops the walk with PaginationError."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _RepeatingCursor)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        config = ClientConfig(base_url=f"http://127.0.0.1:{httpd.server_address[1]}")
        with GraphClient(config, token=lambda: TOKEN) as client, \
                pytest.raises(PaginationError, match="same page cursor twice"):
            list(client.iter_templates(WABA))
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_latency_below_the_timeout_is_just_slow(server) -> None:
    """A slow answer inside the read timeout is a success on the first attempt."""
    server.faults.inject(method="GET", path=rf"/{WABA}$", kind="latency", times=1, seconds=0.3)
    with make_client(server) as client:
        assert client.waba(WABA)["id"] == WABA
        assert client.last_call.attempts == 1


def test_expired_token_explains_itself(server) -> None:
    """The emulator's expired token: code 190/463, the catalog says to use a system-user token."""
    with make_client(server, token=server.world.tokens["expired"]) as client, \
            pytest.raises(GraphApiError) as info:
        client.waba(WABA)
    assert (info.value.code, info.value.subcode) == (190, 463)
    assert "system-user token" in info.value.fix and not info.value.retryable


def test_text_reply_inside_the_window(server) -> None:
    """After the recipient replies, free text may be sent within 24 h, as a reply to them."""
    with make_client(server) as client:
        sent = client.send_template(PHONE, RECIPIENT, "hello_world", "en_US")
        inbound = server.world.simulate_reply(sent.wamid, text="Got it")
        reply = client.send_text(PHONE, RECIPIENT, "Thanks!", reply_to=inbound)
    assert reply.wamid.startswith("wamid.") and reply.message_status is None
