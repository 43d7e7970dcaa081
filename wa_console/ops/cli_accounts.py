"""The database and the channel account a headless command (`check`, `health`) works on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO


def open_store(db_url: str | None, err: TextIO) -> Any | None:
    """An AccountStore on the console's database (`--db` / WA_CONSOLE_DB_URL / default); None
    after printing why it cannot be opened. The caller disposes `store.engine`."""
    from wa_console.store.accounts import AccountStore
    from wa_console.store.db import DatabaseUnavailable, open_database, resolve_db_url
    from wa_console.store.secrets import SecretStore

    try:
        return AccountStore(open_database(resolve_db_url(db_url)), SecretStore())
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=err)
        return None


def choose_account(summaries: Sequence[Any], name: str | None, err: TextIO) -> Any | None:
    """The account called `name` (any case), or the only one when no name is given; None after
    printing why not (no such account, none yet, or several and no --account)."""
    chosen = [s for s in summaries if name is None or s.name.lower() == name.lower()]
    if not chosen:
        names = ", ".join(s.name for s in summaries) or "none yet"
        print(f"error: no channel account named {name!r} (accounts: {names})"
              if name else "error: there is no channel account yet", file=err)
        return None
    if len(chosen) > 1:
        print("error: several accounts; choose one with --account NAME: "
              + ", ".join(s.name for s in chosen), file=err)
        return None
    return chosen[0]
