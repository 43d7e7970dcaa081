"""`wa-console webhook serve`: the receiver against the console's database until Ctrl+C/SIGTERM.

Exit codes: 0 after a clean stop; 2 when it cannot start (database unavailable, unknown
account, port in use).
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TextIO

from wa_console.webhook.app import DEFAULT_PATH
from wa_console.webhook.server import DEFAULT_PORT

__all__ = ["is_loopback", "run"]

EXIT_OK = 0
EXIT_ERROR = 2


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(db: str | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
        accounts: Sequence[str] = (), path: str = DEFAULT_PATH, *,
        out: TextIO | None = None, err: TextIO | None = None,
        wait: Callable[[threading.Event], None] | None = None, log_file: bool = True) -> int:
    """Serve until SIGINT/SIGTERM (or until `wait(stop_event)` returns, in tests).

    Refusals and errors are logged to `err` (and, with `log_file`, to the console's log file),
    secrets redacted.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    logger = logging.getLogger("wa_console")
    level = logger.level
    handler = _log_to(err, log_file)
    try:
        return _run(db, host, port, accounts, path, out, err, wait)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _run(db: str | None, host: str, port: int, accounts: Sequence[str], path: str,
         out: TextIO, err: TextIO, wait: Callable[[threading.Event], None] | None) -> int:
    from wa_console.store.accounts import AccountStore
    from wa_console.store.db import DatabaseUnavailable, open_database, resolve_db_url, safe_url
    from wa_console.store.secrets import SecretStore
    from wa_console.webhook.app import account_secrets
    from wa_console.webhook.server import ReceiverServer

    url = resolve_db_url(db)
    try:
        engine = open_database(url)
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=err)
        return EXIT_ERROR
    try:
        store = AccountStore(engine, SecretStore())
        known = {a.name.casefold(): a for a in store.list_accounts()}
        missing = [name for name in accounts if name.casefold() not in known]
        if missing:
            names = ", ".join(sorted(a.name for a in known.values())) or "none"
            print(f"error: no account named {', '.join(map(repr, missing))} "
                  f"(accounts: {names})", file=err)
            return EXIT_ERROR
        ids = [known[name.casefold()].id for name in accounts] or None
        secrets = account_secrets(store, ids)
        loaded = secrets()
        if not path.startswith("/"):
            path = "/" + path
        server = ReceiverServer(engine, secrets, host=host, port=port, path=path)
        try:
            server.start()
        except OSError as exc:
            print(f"error: {exc.strerror or exc}", file=err)
            return EXIT_ERROR
        try:
            print(f"Webhook receiver on {safe_url(url)}", file=out)
            print(f"  Callback URL   {server.url}", file=out)
            print(f"  Accounts       {len(ids) if ids else len(known)} "
                  f"({len(loaded.app_secrets)} app secret(s), "
                  f"{len(loaded.verify_tokens)} verify token(s))", file=out)
            if not loaded.app_secrets:
                print("warning: no app secret is stored: every POST will be refused (403). "
                      "Enter the app secret in the console's settings.", file=err)
            if not is_loopback(host):
                print("warning: Meta only calls HTTPS callback URLs: put this receiver behind "
                      "a TLS reverse proxy and give Meta the proxy's https:// URL.", file=err)
            print("Ctrl+C to stop.", file=out, flush=True)
            _serve_until_stopped(wait)
        finally:
            server.stop()
        print(f"Stopped ({server.events_accepted} event(s) accepted, "
              f"{server.events_refused} refused).", file=out, flush=True)
        return EXIT_OK
    finally:
        engine.dispose()


def _serve_until_stopped(wait: Callable[[threading.Event], None] | None) -> None:
    stop = threading.Event()
    if wait is not None:
        wait(stop)
        return

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _log_to(stream: TextIO, log_file: bool) -> logging.Handler:
    from wa_console.logs import LOG_FORMAT, RedactingFormatter, setup_logging

    if log_file:
        try:
            setup_logging()
        except OSError:
            pass  # no writable log folder: the terminal still gets everything
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("wa_console")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler
