"""Fixtures for the sandbox emulator tests: fresh servers, a loopback webhook receiver, and a
small helper that calls the Graph API over real HTTP (timeouts on every call)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tests.support.sandbox_account import (  # noqa: F401 (re-exported to the sandbox tests)
    APP_ID,
    APP_SECRET,
    PHONE,
    RECIPIENT,
    TOKEN,
    WABA,
)
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS
from wa_console.meta.webhooks import answer_challenge
from wa_console.sandbox import SandboxServer, seeded_world

VERIFY_TOKEN = SANDBOX_SECRETS["webhook_verify_token"]
APP_TOKEN = f"{APP_ID}|{APP_SECRET}"
OTHER_WABA = "100000000000011"
OTHER_PHONE = "200000000000021"
TIMEOUT = 5


def call(server: SandboxServer, method: str, path: str, token: str | None = TOKEN,
         version: str = "v23.0", session: requests.Session | None = None,
         **kwargs: Any) -> requests.Response:
    """One Graph call over HTTP with a bearer token (None = no Authorization header)."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    kwargs.setdefault("timeout", TIMEOUT)
    url = f"{server.base_url}/{version}/{path}" if version else f"{server.base_url}/{path}"
    if session is not None:
        return session.request(method, url, headers=headers, **kwargs)
    return requests.request(method, url, headers=headers, **kwargs)


def error_of(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["fbtrace_id"] and isinstance(error["message"], str) and error["type"]
    return error


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class Receiver:
    """A tiny webhook endpoint on loopback: answers Meta's GET handshake with `verify_token`,
    stores every POST (headers, raw body)."""

    def __init__(self, verify_token: str = VERIFY_TOKEN, status: int = 200) -> None:
        self.verify_token = verify_token
        self.status = status
        self.posts: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        self.handshakes: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = dict(parse_qsl(urlsplit(self.path).query))
                receiver.handshakes.append(params)
                code, text = answer_challenge(params, receiver.verify_token)
                self._answer(code, text.encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.put((dict(self.headers.items()), body))
                self._answer(receiver.status, b"")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"

    def take(self, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bytes]]:
        return [self.posts.get(timeout=timeout) for _ in range(count)]

    def take_json(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.take(count, timeout)]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A fresh small world (20 templates), reviews at once, statuses without delay."""
    world = seeded_world(templates=20, seed=1)
    world.review_delay = 0
    world.status_delays = {"sent": 0.0, "delivered": 0.0, "read": 0.0}
    world.webhook_timeout = 2.0
    with SandboxServer(world, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(scope="module")
def big_server() -> Iterator[SandboxServer]:
    """6,000 generated templates; shared by the read-only tests of a module."""
    world = seeded_world(templates=6000, seed=0)
    with SandboxServer(world, host="127.0.0.1", port=0) as running:
        yield running
