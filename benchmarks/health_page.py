#!/usr/bin/env python3
"""Time to open the Delivery health page with 200,000 messages behind it (issue 8, item 7).

A temp SQLite file gets a sandbox account and `generate_history(..., via="store")` (200,000
messages over 30 days by default; generated once, not timed). Each run builds a fresh
`HealthPage` in a shown window (offscreen) with its own storage pool, and times from
`set_context` until the figures, the chart (30 days, stacked bars + failure-rate line), the
failure groups and the first page of the message list are on screen (the page's `refreshed`
signal, then the events it queued are processed). The filter choices and the quality panel load
in the same pool and are included when they land first. The first run also pays first-use
imports and a cold SQLite page cache; the median of the runs is the figure.

No hard target in the issue; a page that opens within about a second at this size is the aim.
Usage: python benchmarks/health_page.py [--runs 5] [--messages 200000] [--days 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keyring
from PySide6.QtCore import QEventLoop, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from tests.support.memory_keyring import MemoryKeyring
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.health import HealthPage
from wa_console.sandbox.history import generate_history
from wa_console.store.accounts import AccountStore
from wa_console.store.db import open_database
from wa_console.store.secrets import SecretStore


def wait_for(signal, timeout_s: float = 300) -> bool:  # type: ignore[no-untyped-def]
    """Run the event loop until `signal` fires; False on timeout."""
    fired: list[bool] = []
    loop = QEventLoop()

    def done(*_args: object) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(done)
    return bool(fired)


def open_once(context: PageContext) -> tuple[float, int, int]:
    """Seconds from set_context to everything shown; the list's rows and total."""
    page = HealthPage()
    page.resize(1280, 860)
    page.show()
    QApplication.processEvents()
    start = time.perf_counter()
    page.set_context(context)
    if not wait_for(page.refreshed):
        raise RuntimeError("the page did not load within 300 s")
    QApplication.processEvents()  # the repaint of figures, chart and list
    elapsed = time.perf_counter() - start
    if page.report is None:
        raise RuntimeError(f"the page shows an error: {page.message.text()}")
    rows, total = page.message_model.rowCount(), page.message_model.total
    context.storage_pool.waitForDone(60000)  # the choices/quality load must not leak into
    QApplication.processEvents()              # the next run
    page.close()
    page.deleteLater()
    QApplication.processEvents()
    return elapsed, rows, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()

    keyring.set_keyring(MemoryKeyring())  # never the developer's keyring
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'health.db'}")
        store = AccountStore(engine, SecretStore())
        store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                     {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()})
        account_id = store.list_accounts()[0].id
        start = time.perf_counter()
        generate_history(engine, account_id, messages=args.messages, days=args.days,
                         via="store")
        print(f"generated {args.messages:,} messages over {args.days} days in "
              f"{time.perf_counter() - start:.1f} s (not timed below)")
        storage, remote = QThreadPool(), QThreadPool()
        storage.setMaxThreadCount(1)  # as the main window's storage pool
        context = PageContext(store=store, account_id=account_id,
                              account_name=SANDBOX_ACCOUNT_NAME, sandbox=True,
                              storage_pool=storage, remote_pool=remote)
        samples = []
        for run in range(args.runs):
            seconds, rows, total = open_once(context)
            samples.append(seconds)
            print(f"run {run + 1}: {seconds * 1000:8.1f} ms  (list: {rows:,} rows loaded of "
                  f"{total:,})")
        print(f"time to open the page (set_context -> figures, chart, failures, first list "
              f"page shown), {args.messages:,} messages / {args.days} days: median "
              f"{statistics.median(samples) * 1000:.1f} ms over {args.runs} runs "
              f"(min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})")
        engine.dispose()
    del app


if __name__ == "__main__":
    main()
