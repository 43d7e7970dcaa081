"""Insert-or-ignore / upsert across the databases we run on (SQLite, PostgreSQL).

Both dialects' `insert()` carry `on_conflict_do_nothing` / `on_conflict_do_update`; this picks
the right one so callers write one statement for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session


def insert_for(bind: Engine | Session, table: Any) -> Any:
    """A dialect insert of `table` (a model or Table) supporting `on_conflict_do_*`."""
    engine = bind.get_bind() if hasattr(bind, "get_bind") else bind
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported (design.md)
        raise NotImplementedError(f"upserts are not implemented for {name}")
    return insert(table)
