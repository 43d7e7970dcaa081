"""ReceiverServer's life cycle on real sockets: binding, counters, and stopping under load."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
import requests

from tests.webhook.conftest import APP_SECRET, TIMEOUT, post, signed, status_body
from wa_console.store import messages
from wa_console.store.accounts import AccountStore
from wa_console.webhook.app import ReceiverSecrets
from wa_console.webhook.server import ReceiverServer


def fixed_secrets() -> ReceiverSecrets:
    return ReceiverSecrets(("token",), (APP_SECRET,))


def receiver_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.name.startswith(("waitress-", "webhook-receiver"))]


def test_port_zero_url_and_idempotent_stop(store: AccountStore) -> None:
    """Port 0 binds a free port, `url` names it; stop twice (and before start) is harmless."""
    server = ReceiverServer(store.engine, fixed_secrets, port=0, threads=2)
    server.stop()
    server.start()
    try:
        assert server.running and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}/webhooks/whatsapp"
        assert requests.get(server.url, timeout=TIMEOUT).status_code == 403
    finally:
        server.stop()
        server.stop()
    assert not server.running and receiver_threads() == []


def test_busy_port_is_a_clear_error(store: AccountStore) -> None:
    """Binding a port another socket listens on raises OSError naming the port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ReceiverServer(store.engine, fixed_secrets, port=port)
        with pytest.raises(OSError, match=rf"^.*port {port} is in use: .*another port"):
            server.start()
        assert not server.running and receiver_threads() == []


def test_start_stop_repeatedly_under_load(store: AccountStore,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """Signed POSTs keep arriving from 4 clients while the server is stopped and started three
    times: no error is logged, every answered POST is stored, no thread is left behind."""
    caplog.set_level(logging.WARNING)
    answered: list[int] = []
    done = threading.Event()
    port_box: list[int] = []
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while not done.is_set():
                if not port_box:
                    continue
                with lock:
                    n = next(counter)
                body = status_body(f"wamid.L{n}")
                url = f"http://127.0.0.1:{port_box[-1]}/webhooks/whatsapp"
                try:
                    response = session.post(url, data=body, headers=signed(body), timeout=2)
                except requests.RequestException:
                    continue  # the server is between stop and start
                if response.status_code == 200:
                    with lock:
                        answered.append(n)

    clients = [threading.Thread(target=client) for _ in range(4)]
    for t in clients:
        t.start()
    try:
        for _round in range(3):
            server = ReceiverServer(store.engine, fixed_secrets, port=0, threads=4)
            server.start()
            port_box.append(server.port)
            before = len(answered)
            deadline = threading.Event()
            while len(answered) < before + 10 and not deadline.wait(0.01):
                pass
            server.stop(timeout=5)
            assert not server.running
    finally:
        done.set()
        for t in clients:
            t.join(10)
    assert len(answered) >= 30
    assert receiver_threads() == []
    stored = {s.wamid for n in answered for s in messages.statuses_for(store.engine,
                                                                       f"wamid.L{n}")}
    assert stored == {f"wamid.L{n}" for n in answered}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_counters_follow_requests(store: AccountStore) -> None:
    """events_accepted / events_refused count POSTs as they are answered."""
    with ReceiverServer(store.engine, fixed_secrets, port=0, threads=2) as server:
        body = status_body()
        post(server.url, body, signed(body))
        post(server.url, body, signed(body))  # a retry: accepted (and stored once)
        post(server.url, body)
        assert (server.events_accepted, server.events_refused) == (2, 1)
    assert messages.event_count(store.engine) == 1
