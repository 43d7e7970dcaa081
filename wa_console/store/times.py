"""The one rule for datetimes read back from the database.

SQLite hands back `DateTime(timezone=True)` columns naive; everything the console stores is UTC,
so a naive value is UTC. PostgreSQL's aware values are normalised to UTC too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
