"""Check results (Verify provider, later webhook and sender checks): save and load.

Each producer owns a set of keys (Verify provider: `ops.verify.CHECK_KEYS`; later the webhook
and sender checks their own): saving replaces the account's previous results of those keys in
one transaction and leaves every other key alone. Callers get plain frozen dataclasses, never
ORM objects (they cross threads). SQLAlchemy is imported inside the functions so that the
dataclass is cheap to import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from wa_console.store.times import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from wa_console.core.readiness import Check

Outcome = Literal["ok", "failed", "warning", "unknown"]
OUTCOMES: Final[tuple[str, ...]] = ("ok", "failed", "warning", "unknown")


@dataclass(frozen=True)
class CheckResultData:
    """One check's result. `evidence` holds what Meta answered (IDs, statuses; never a
    secret); `simulated` is True when the answer came from the sandbox emulator."""

    key: str
    outcome: Outcome
    detail: str
    fix: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    simulated: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def as_check(self) -> Check:
        """The readiness rules' view of this result (`core.readiness.Check`)."""
        from wa_console.core.readiness import Check, CheckOutcome

        return Check(key=self.key, outcome=CheckOutcome(self.outcome), detail=self.detail,
                     fix=self.fix, checked_at=self.checked_at, simulated=self.simulated)


def save_checks(engine: Engine, account_id: int, results: Iterable[CheckResultData],
                simulated: bool, replace: Iterable[str] | None = None) -> None:
    """Store `results` for the account, replacing its previous results of the keys in `replace`
    (default: the results' own keys), in one transaction. `simulated` is stored on every row
    (it wins over the results' own flag: the caller knows where the answers came from)."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from wa_console.store.models import CheckResult

    rows = list(results)
    for r in rows:
        if r.outcome not in OUTCOMES:
            raise ValueError(f"check {r.key!r}: unknown outcome {r.outcome!r}")
    keys = {r.key for r in rows} | set(replace or ())
    with Session(engine) as session, session.begin():
        if keys:
            session.execute(delete(CheckResult).where(CheckResult.account_id == account_id,
                                                      CheckResult.key.in_(sorted(keys))))
        session.add_all(CheckResult(account_id=account_id, key=r.key, outcome=r.outcome,
                                    detail=r.detail, fix=r.fix, evidence=dict(r.evidence),
                                    checked_at=r.checked_at, simulated=simulated)
                        for r in rows)


def load_checks(engine: Engine, account_id: int,
                keys: Iterable[str] | None = None) -> list[CheckResultData]:
    """The account's stored results (all, or those of `keys`) in the order they were saved."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import CheckResult

    query = select(CheckResult).where(CheckResult.account_id == account_id)
    if keys is not None:
        query = query.where(CheckResult.key.in_(sorted(set(keys))))
    with Session(engine) as session:
        return [CheckResultData(key=row.key, outcome=row.outcome,  # type: ignore[arg-type]
                                detail=row.detail, fix=row.fix,
                                evidence=dict(row.evidence or {}),
                                checked_at=as_utc(row.checked_at),
                                simulated=bool(row.simulated))
                for row in session.scalars(query.order_by(CheckResult.id))]
