"""`wa-console webhook serve` as a subprocess against a real database file."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests.webhook.conftest import APP_SECRET, TIMEOUT, VERIFY_TOKEN, signed, status_body
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.store import messages
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore
from wa_console.webhook import cli

ROOT = Path(__file__).resolve().parents[2]
ENV_SECRETS = {"WA_TEST_APP_SECRET": APP_SECRET, "WA_TEST_VERIFY_TOKEN": VERIFY_TOKEN,
               "WA_TEST_TOKEN": "EAAGm0PX4ZCpsBAKZBZAtesttokenvalue123456789"}


@pytest.fixture
def env_account_db(sqlite_url: str, open_db,  # type: ignore[no-untyped-def]
                   monkeypatch: pytest.MonkeyPatch) -> str:
    """A database whose account reads its secrets from environment variables (a subprocess
    cannot see the tests' in-memory keyring)."""
    for name, value in ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    store = AccountStore(open_db(sqlite_url), SecretStore())
    store.create({**SANDBOX_VALUES, "account_name": "Headless", "sandbox": False,
                  "webhook_callback_url": "https://hooks.example.org/webhooks/whatsapp"},
                 {"app_secret": SecretEdit("env", "WA_TEST_APP_SECRET"),
                  "access_token": SecretEdit("env", "WA_TEST_TOKEN"),
                  "webhook_verify_token": SecretEdit("env", "WA_TEST_VERIFY_TOKEN")})
    return sqlite_url


def serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **ENV_SECRETS, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return subprocess.Popen([sys.executable, "-m", "wa_console", "webhook", "serve", *args],
                            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def read_url(process: subprocess.Popen[str]) -> str:
    """The callback URL from the banner (read until "Ctrl+C to stop")."""
    assert process.stdout is not None
    url = None
    for line in process.stdout:
        if match := re.search(r"Callback URL\s+(\S+)", line):
            url = match.group(1)
        if "Ctrl+C to stop" in line:
            break
    assert url, "no callback URL printed"
    return url


def test_serve_answers_stores_and_stops_on_sigterm(env_account_db: str) -> None:
    """Challenge answered, a signed POST lands in the database, SIGTERM exits 0."""
    process = serve("--db", env_account_db, "--port", "0", "--account", "headless")
    try:
        url = read_url(process)
        answer = requests.get(url, timeout=TIMEOUT, params={
            "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "777"})
        assert (answer.status_code, answer.text) == (200, "777")
        body = status_body("wamid.CLI")
        assert requests.post(url, data=body, headers=signed(body),
                             timeout=TIMEOUT).status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "1 event(s) accepted" in out
    from wa_console.store.db import open_database

    engine = open_database(env_account_db)
    try:
        assert [s.status for s in messages.statuses_for(engine, "wamid.CLI")] == ["sent"]
    finally:
        engine.dispose()


def test_busy_port_exits_2_with_one_line(env_account_db: str) -> None:
    """A taken port: exit 2 and a one-line error naming the port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve("--db", env_account_db, "--port", str(port))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"error: port {port} is in use" in err and "Traceback" not in err


def test_unavailable_database_exits_2(tmp_path: Path) -> None:
    """A database that cannot be opened: exit 2, one clear line, no traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    process = serve("--db", f"sqlite:///{blocker}/sub/wa.db", "--port", "0")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.startswith("error: ") and "could not be created" in err
    assert "Traceback" not in err


def test_unknown_account_and_non_loopback_warning(env_account_db: str) -> None:
    """In process: an unknown --account is refused; a non-loopback host warns about HTTPS."""
    err = io.StringIO()
    assert cli.run(env_account_db, port=0, accounts=["nope"], out=io.StringIO(),
                   err=err, log_file=False) == 2
    assert "no account named 'nope'" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    seen: list[bool] = []

    def wait(stop: threading.Event) -> None:
        seen.append(True)

    assert cli.run(env_account_db, host="0.0.0.0", port=0, out=out, err=err, wait=wait,
                   log_file=False) == 0
    assert seen == [True]
    assert "Meta only calls HTTPS callback URLs" in err.getvalue()
    assert "Ctrl+C to stop" in out.getvalue()
    assert cli.is_loopback("127.0.0.1") and cli.is_loopback("::1")
    assert not cli.is_loopback("0.0.0.0") and not cli.is_loopback("example.org")
