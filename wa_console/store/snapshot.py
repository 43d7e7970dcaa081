"""The account list for the first paint, read with the standard library's sqlite3.

Opening the store means importing SQLAlchemy (~200 ms here), longer than Qt takes to show the
window. For the default embedded SQLite database the list is read directly instead, so it is on
screen while SQLAlchemy loads; the store then takes over (and re-reads the list). Anything
unexpected (another database, a missing file, a schema not at the newest migration, a locked
file) returns None and the console simply waits for the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from wa_console.store.db import SCHEMA_HEAD
from wa_console.store.records import AccountSummary

_PREFIX = "sqlite:///"


def sqlite_path(url: str) -> Path | None:
    """The file of a plain `sqlite:///<path>` URL (no driver or query options), else None."""
    if not url.startswith(_PREFIX) or "?" in url:
        return None
    rest = url[len(_PREFIX):]
    return Path(rest) if rest and rest != ":memory:" else None


def read_account_list(url: str) -> list[AccountSummary] | None:
    """The same list as AccountStore.list_accounts(), or None when it cannot be read this way."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or revision[0] != SCHEMA_HEAD:
            return None
        rows = connection.execute(
            "SELECT id, account_name, sandbox FROM channel_account ORDER BY lower(account_name)"
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return [AccountSummary(int(id_), str(name), bool(sandbox)) for id_, name, sandbox in rows]
