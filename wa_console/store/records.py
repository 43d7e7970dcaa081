"""What the store hands out: plain, immutable data that may cross threads (never ORM objects).

Kept free of SQLAlchemy so the GUI's start-up path can use them before SQLAlchemy is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wa_console.core.credentials import CredentialRef
from wa_console.core.schema import Value


@dataclass(frozen=True)
class AccountSummary:
    id: int
    name: str
    sandbox: bool


@dataclass(frozen=True)
class AccountRecord:
    """One account as loaded: plain values and credential references (never the secrets)."""

    id: int
    uid: str
    version: int
    values: dict[str, Value]
    refs: dict[str, CredentialRef | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.values["account_name"])

    @property
    def sandbox(self) -> bool:
        return bool(self.values.get("sandbox"))
