"""What every operation gets: progress reporting, a cancel flag, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


class OpCancelled(Exception):
    """The admin cancelled; the operation stopped and left stored state as it was."""


@dataclass
class OpContext:
    """Args:
        report: `report(pct, text)`; pct is 0–100, or -1 when the total is unknown.
        cancelled: returns True once the admin pressed Cancel.
        now: the clock (tests pin it).
    """

    report: Callable[[int, str], None] = lambda pct, text: None
    cancelled: Callable[[], bool] = lambda: False
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise OpCancelled("Cancelled; nothing was changed.")
