"""Per-account console preferences (JSON values by key), e.g. the opt-out keywords.

Unknown keys read as their default. `set_preference` is one transaction; `get_preference` also
takes an open Session so a caller inside a transaction (the webhook receiver) reads the same
snapshot it writes to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session


def get_preference(bind: Engine | Session, account_id: int, key: str, default: Any = None) -> Any:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import AccountPreference

    query = select(AccountPreference.value).where(AccountPreference.account_id == account_id,
                                                  AccountPreference.key == key)
    if isinstance(bind, Session):
        value = bind.scalar(query)
    else:
        with Session(bind) as session:
            value = session.scalar(query)
    return default if value is None else value


def set_preference(engine: Engine, account_id: int, key: str, value: Any) -> None:
    from sqlalchemy.orm import Session

    from wa_console.store.dialect import insert_for
    from wa_console.store.models import AccountPreference, utcnow

    values = {"value": value, "updated_at": utcnow()}
    with Session(engine) as session, session.begin():
        stmt = insert_for(session, AccountPreference).values(
            account_id=account_id, key=key, **values)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[AccountPreference.account_id, AccountPreference.key], set_=values))
