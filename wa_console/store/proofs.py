"""Proof records (issue 7): the verdict of a guided test send and everything it rests on.

The record is a plain JSON document (account, sender, template + language, the recipient
masked, wamid, every status callback with its signature flag and times, the reply, live or
sandbox, the verdict and what is missing). It never holds a secret. Only a non-simulated proof
with verdict "proven" is production proof (`latest_live_proof`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from wa_console.store.times import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "VERDICTS",
    "ProofInfo",
    "export_proof_json",
    "latest_live_proof",
    "list_proofs",
    "mask_phone",
    "save_proof",
]

VERDICTS: Final = ("proven", "incomplete", "failed")
MASK: Final = "•••"


@dataclass(frozen=True)
class ProofInfo:
    id: int
    account_id: int
    created_at: datetime
    verdict: str  # "proven" | "incomplete" | "failed"
    summary: str
    wamid: str | None
    simulated: bool
    record: Mapping[str, Any] = field(default_factory=dict)

    @property
    def counts_as_production_proof(self) -> bool:
        return self.verdict == "proven" and not self.simulated


def mask_phone(phone: str | None) -> str:
    """`+15551234567` -> `+1555•••4567`: enough to recognise the test phone, not to dial it."""
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())
    if len(digits) <= 8:
        return f"+{digits[:2]}{MASK}" if digits else ""
    return f"+{digits[:4]}{MASK}{digits[-4:]}"


def _info(row: Any) -> ProofInfo:
    return ProofInfo(id=row.id, account_id=row.account_id, created_at=as_utc(row.created_at),
                     verdict=row.verdict, summary=row.summary, wamid=row.wamid,
                     simulated=bool(row.simulated), record=dict(row.record or {}))


def save_proof(engine: Engine, account_id: int, record: Mapping[str, Any], verdict: str,
               summary: str, wamid: str | None, simulated: bool) -> ProofInfo:
    """Store one proof record (one transaction) and return it as stored."""
    from sqlalchemy.orm import Session

    from wa_console.store.models import Proof

    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}; one of {', '.join(VERDICTS)}")
    # Round-trip through JSON now: a value JSON cannot hold fails here, not at export time.
    document = json.loads(json.dumps(dict(record), default=str))
    with Session(engine) as session, session.begin():
        row = Proof(account_id=account_id, wamid=wamid, verdict=verdict, summary=summary,
                    record=document, simulated=simulated, created_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return _info(row)


def list_proofs(engine: Engine, account_id: int) -> list[ProofInfo]:
    """The account's proofs, newest first."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import Proof

    with Session(engine) as session:
        rows = session.scalars(select(Proof).where(Proof.account_id == account_id)
                               .order_by(Proof.created_at.desc(), Proof.id.desc()))
        return [_info(r) for r in rows]


def latest_live_proof(engine: Engine, account_id: int) -> ProofInfo | None:
    """The newest production proof (not simulated, verdict "proven"), or None."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import Proof

    with Session(engine) as session:
        row = session.scalars(select(Proof).where(
            Proof.account_id == account_id, Proof.verdict == "proven",
            Proof.simulated.is_(False)).order_by(Proof.created_at.desc(), Proof.id.desc())
            .limit(1)).first()
        return _info(row) if row is not None else None


def export_proof_json(proof: ProofInfo) -> str:
    """The proof as a self-describing JSON document (pretty, UTF-8 text)."""
    document = {
        "kind": "wa-console proof record",
        "id": proof.id,
        "created_at": proof.created_at.isoformat(),
        "verdict": proof.verdict,
        "summary": proof.summary,
        "wamid": proof.wamid,
        "simulated": proof.simulated,
        "counts_as_production_proof": proof.counts_as_production_proof,
        "record": proof.record,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str)
