"""Feature toggles (Inbox, Profile activity, ...): the admin's stored switches, per account.

Readiness never writes here (`core.readiness.gate` only decides how a toggle is shown); only the
admin's click does, through `set_toggle`. SQLAlchemy is imported inside the functions so that
importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine


def load_toggles(engine: Engine, account_id: int) -> dict[str, bool]:
    """The stored toggles of one account by feature key; features never switched are absent."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import FeatureToggle

    with Session(engine) as session:
        rows = session.execute(
            select(FeatureToggle.feature, FeatureToggle.enabled)
            .where(FeatureToggle.account_id == account_id))
        return {feature: bool(enabled) for feature, enabled in rows}


def set_toggle(engine: Engine, account_id: int, feature: str, enabled: bool) -> None:
    """Store one toggle (insert or update), in one transaction."""
    from sqlalchemy.orm import Session

    from wa_console.store.dialect import insert_for
    from wa_console.store.models import FeatureToggle, utcnow

    values = {"enabled": bool(enabled), "updated_at": utcnow()}
    with Session(engine) as session, session.begin():
        stmt = insert_for(session, FeatureToggle).values(
            account_id=account_id, feature=feature, **values)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[FeatureToggle.account_id, FeatureToggle.feature], set_=values))
