"""The account's pages beside Settings: Verify & sync, Phone numbers, Templates, Readiness.

Each page is a QWidget with `set_context(ctx)`, called by the main window whenever the shown
account changes (ctx None: no account), and `refresh()`, called when another page changed stored
state. Pages read and write storage and talk to Meta only
through `gui.tasks.run_task` (never on the GUI thread), and announce changes they made with
their `data_changed` signal so the other pages refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThreadPool


@dataclass(frozen=True)
class PageContext:
    """What a page needs from the main window.

    Attributes:
        store: the open `store.accounts.AccountStore` (thread-safe; use it from tasks).
        account_id: the account shown.
        account_name: for messages.
        sandbox: the account is simulated (label everything "simulated").
        storage_pool: the main window's one-thread pool for database work (keeps writes in order).
        remote_pool: the pool for Meta/emulator calls (long; cancellable).
        base_url: where Graph calls go; None = Meta for live accounts, the shared emulator for
            sandbox ones (ops.provider decides). Tests set it to their own emulator.
    """

    store: Any
    account_id: int
    account_name: str
    sandbox: bool
    storage_pool: QThreadPool
    remote_pool: QThreadPool
    base_url: str | None = None
