"""Fault injection seen with plain `requests`, request recording, and server lifecycle."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from tests.sandbox.conftest import (
    PHONE,
    RECIPIENT,
    TOKEN,
    WABA,
    call,
    error_of,
    wait_for,
)
from wa_console.meta.webhooks import parse_webhook
from wa_console.sandbox import FAULT_KINDS, SandboxServer, seeded_world
from wa_console.sandbox.server import RecordedRequest

HELLO = {"messaging_product": "whatsapp", "to": RECIPIENT, "type": "template",
         "template": {"name": "hello_world", "language": {"code": "en_US"}}}
WABA_PATH = rf"/v\d+\.\d+/{WABA}$"


def test_every_kind_is_listed() -> None:
    """The documented fault kinds are all available."""
    assert set(FAULT_KINDS) == {"latency", "http_5xx", "html_error", "rate_limit",
                                "graph_error", "malformed_json", "connection_reset", "stall",
                                "drop_after_processing"}


def test_latency_delays_then_answers(server) -> None:
    """latency waits `seconds`, then gives the normal answer."""
    server.faults.inject(method="GET", path=WABA_PATH, kind="latency", seconds=0.3)
    start = time.monotonic()
    answer = call(server, "GET", WABA)
    assert time.monotonic() - start >= 0.3 and answer.json()["id"] == WABA


def test_http_5xx_counts_down(server) -> None:
    """http_5xx answers the status with a transient code-2 error `times` times, then normal."""
    fault = server.faults.inject(method="GET", path=WABA_PATH, kind="http_5xx", times=2,
                                 status=503)
    first, second, third = (call(server, "GET", WABA) for _ in range(3))
    for answer in (first, second):
        error = error_of(answer)
        assert answer.status_code == 503 and error["code"] == 2 and error["is_transient"] is True
    assert third.status_code == 200 and fault.hits == 2 and fault.remaining == 0


def test_html_error_is_a_502_page(server) -> None:
    """html_error answers 502 with an HTML body."""
    server.faults.inject(path=WABA_PATH, kind="html_error")
    answer = call(server, "GET", WABA)
    assert answer.status_code == 502 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.lstrip().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError):
        answer.json()


@pytest.mark.parametrize("code", [4, 80007, 130429])
def test_rate_limit_has_retry_after(server, code) -> None:
    """rate_limit answers 429, Retry-After and the given Graph code."""
    server.faults.inject(method="GET", path=WABA_PATH, kind="rate_limit", code=code,
                         retry_after=7)
    answer = call(server, "GET", WABA)
    error = error_of(answer)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert error["code"] == code and error["is_transient"] is True
    assert json.loads(answer.headers["X-Business-Use-Case-Usage"])[WABA]
    if code == 4:
        assert error["error_subcode"] == 2446079


@pytest.mark.parametrize(("params", "status"), [
    ({"code": 190, "subcode": 463}, 401), ({"code": 190, "subcode": 460}, 401),
    ({"code": 10}, 403), ({"code": 100}, 400), ({"code": 200, "subcode": 1349174}, 403),
    ({"code": 4, "status": 400}, 400), ({"code": 80007}, 429), ({"code": 130429}, 429)])
def test_graph_error_any_code(server, params, status) -> None:
    """graph_error answers any code/subcode with a sensible (or the given) HTTP status."""
    server.faults.inject(method="GET", path=WABA_PATH, kind="graph_error", **params)
    answer = call(server, "GET", WABA)
    error = error_of(answer)
    assert answer.status_code == status and error["code"] == params["code"]
    assert error.get("error_subcode") == params.get("subcode")


def test_graph_error_custom_message(server) -> None:
    """graph_error takes message, type and user title/message."""
    server.faults.inject(path=WABA_PATH, kind="graph_error", code=368, message="blocked",
                         type="OAuthException", user_title="T", user_msg="M", status=400)
    error = error_of(call(server, "GET", WABA))
    assert (error["message"], error["error_user_title"], error["error_user_msg"]) == (
        "blocked", "T", "M")


def test_malformed_json_is_truncated(server) -> None:
    """malformed_json answers 200 with JSON cut short."""
    server.faults.inject(path=WABA_PATH, kind="malformed_json")
    answer = call(server, "GET", WABA)
    assert answer.status_code == 200 and answer.text.startswith("{")
    with pytest.raises(ValueError):
        answer.json()


def test_connection_reset_gives_no_answer(server) -> None:
    """connection_reset drops the connection: requests raises ConnectionError."""
    server.faults.inject(path=WABA_PATH, kind="connection_reset")
    with pytest.raises(requests.ConnectionError):
        call(server, "GET", WABA)
    (recorded,) = [r for r in server.requests if r.fault == "connection_reset"]
    assert recorded.status == 0 and recorded.response_body == b""
    assert call(server, "GET", WABA).status_code == 200


def test_stall_triggers_a_read_timeout(server) -> None:
    """stall keeps the client waiting past its read timeout."""
    server.faults.inject(path=WABA_PATH, kind="stall", seconds=2)
    start = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        call(server, "GET", WABA, timeout=(2, 0.3))
    assert time.monotonic() - start < 1.5


def test_stall_then_answers(server) -> None:
    """A short stall ends with the normal answer."""
    server.faults.inject(path=WABA_PATH, kind="stall", seconds=0.2)
    assert call(server, "GET", WABA).json()["id"] == WABA


def test_drop_after_processing_sends_but_loses_the_answer(server, receiver) -> None:
    """The message is sent and its webhooks go out, but the client gets no response."""
    server.world.callback_url = receiver.url
    server.faults.inject(method="POST", path=r"/messages$", kind="drop_after_processing")
    with pytest.raises(requests.ConnectionError):
        call(server, "POST", f"{PHONE}/messages", json=HELLO)
    (wamid,) = server.world.sent
    assert [parse_webhook(raw)[0].wamid for _, raw in receiver.take(3)] == [wamid] * 3
    (recorded,) = [r for r in server.requests if r.method == "POST"]
    assert recorded.fault == "drop_after_processing" and recorded.status == 200
    assert wamid.encode() in recorded.response_body


def test_drop_after_processing_with_a_stall_times_out(server) -> None:
    """With `seconds`, the lost answer shows up as a read timeout instead."""
    server.faults.inject(method="POST", path=r"/messages$", kind="drop_after_processing",
                         seconds=2)
    with pytest.raises(requests.ReadTimeout):
        call(server, "POST", f"{PHONE}/messages", json=HELLO, timeout=(2, 0.3))
    assert len(server.world.sent) == 1


def test_page_specific_fault(server) -> None:
    """A fault with page=2 hits only the third page of a list walk (0-based pages)."""
    server.faults.inject(method="GET", path=r"/message_templates$", kind="graph_error",
                         times=None, page=2, code=100)
    statuses, params = [], {"limit": "5"}
    for _ in range(3):
        answer = call(server, "GET", f"{WABA}/message_templates", params=params)
        statuses.append(answer.status_code)
        if answer.status_code != 200:
            break
        params = {"limit": "5", "after": answer.json()["paging"]["cursors"]["after"]}
    assert statuses == [200, 200, 400]
    assert call(server, "GET", f"{WABA}/message_templates").status_code == 200
    assert call(server, "GET", WABA).status_code == 200  # not a list: page faults never apply


def test_method_filter_forever_and_clear(server) -> None:
    """A fault for POST leaves GET alone; times=None lasts until clear()."""
    server.faults.inject(method="POST", path=r"/messages$", kind="http_5xx", times=None)
    for _ in range(3):
        assert call(server, "POST", f"{PHONE}/messages", json=HELLO).status_code == 500
    assert call(server, "GET", WABA).status_code == 200
    server.faults.clear()
    assert call(server, "POST", f"{PHONE}/messages", json=HELLO).status_code == 200
    assert server.faults.active == []


def test_inject_rejects_unknown_kinds_and_params(server) -> None:
    """Typos in a fault are errors, not silently ignored."""
    with pytest.raises(ValueError):
        server.faults.inject(kind="explode")
    with pytest.raises(TypeError):
        server.faults.inject(kind="http_5xx", stauts=503)


def test_requests_are_recorded(server) -> None:
    """Each request is recorded with method, path, query, headers, body, status and answer."""
    server.requests.clear()
    call(server, "GET", WABA, params={"fields": "id,name"})
    call(server, "POST", f"{PHONE}/messages", json=HELLO)
    get, post = server.requests
    assert isinstance(get, RecordedRequest)
    assert (get.method, get.path, get.query, get.status) == (
        "GET", f"/v23.0/{WABA}", {"fields": "id,name"}, 200)
    assert get.headers["Authorization"] == f"Bearer {TOKEN}" and get.fault is None
    assert json.loads(get.response_body)["id"] == WABA
    assert get.response_headers["facebook-api-version"] == "v23.0"
    assert json.loads(post.body)["to"] == RECIPIENT and post.at >= get.at
    assert len(server.requests) == 2 and server.requests[0] is get


def test_requests_log_is_thread_safe(server) -> None:
    """Concurrent clients are all recorded."""
    server.requests.clear()
    threads = [threading.Thread(target=call, args=(server, "GET", WABA)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(server.requests) == 20 and all(r.status == 200 for r in server.requests)


def test_stop_is_fast_with_a_stalled_request_and_idle_connections() -> None:
    """stop() returns in < 2 s while a request is stalled for 30 s and a session is idle."""
    server = SandboxServer(seeded_world(templates=5), port=0).start()
    outcome: list[BaseException | None] = []

    def stalled() -> None:
        try:
            call(server, "GET", WABA, timeout=(2, 10))
            outcome.append(None)
        except requests.RequestException as exc:
            outcome.append(exc)

    server.faults.inject(path=WABA_PATH, kind="stall", seconds=30)
    worker = threading.Thread(target=stalled)
    with requests.Session() as idle:
        assert call(server, "GET", PHONE, session=idle).status_code == 200
        worker.start()
        wait_for(lambda: server.faults.active == [] or server.faults.active[0].hits)
        time.sleep(0.1)
        start = time.monotonic()
        server.stop()
        elapsed = time.monotonic() - start
    worker.join(5)
    assert elapsed < 2.0 and not server.running
    assert isinstance(outcome[0], requests.ConnectionError)


def test_restart_and_context_manager() -> None:
    """A server can be started again after stop; base_url needs a running server."""
    world = seeded_world(templates=1)
    server = SandboxServer(world)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    for _ in range(2):
        with server:
            assert call(server, "GET", WABA).status_code == 200
            assert server.graph_url == f"{server.base_url}/v23.0"
    assert not server.running
    server.stop()  # stopping twice is harmless
