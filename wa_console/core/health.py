"""Delivery health rules (pure): what a message's latest status counts as, and when the figures
of a period cross the admin's thresholds.

A message counts once, by its latest status. One with no delivered/read/failed status after
`UNCONFIRMED_AFTER` is *unconfirmed*: nobody may assume it arrived. Younger ones are in flight
and count as "sent".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

__all__ = [
    "BUCKETS",
    "CONFIRMED",
    "FAILED",
    "UNCONFIRMED_AFTER",
    "Figures",
    "HealthThresholds",
    "breaches",
    "bucket_of",
    "is_unconfirmed",
]

UNCONFIRMED_AFTER: Final = timedelta(hours=24)
# The figure names, in display order.
BUCKETS: Final = ("sent", "delivered", "read", "failed", "unconfirmed")
# Latest statuses that settle a message: Meta confirmed it arrived (or was read).
CONFIRMED: Final = frozenset({"delivered", "read"})
# Latest statuses that count as failed: Meta's "failed" webhook, or Meta refused the send.
FAILED: Final = frozenset({"failed", "rejected"})


@dataclass(frozen=True)
class Figures:
    sent: int = 0  # in flight: no confirmation yet, younger than the unconfirmed limit
    delivered: int = 0
    read: int = 0
    failed: int = 0
    unconfirmed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.delivered + self.read + self.failed + self.unconfirmed

    def rate(self, name: str) -> float:
        """`name`'s share of all messages (0.0 when there are none)."""
        if name not in BUCKETS:
            raise ValueError(f"no figure named {name!r} (one of {', '.join(BUCKETS)})")
        total = self.total
        return getattr(self, name) / total if total else 0.0


@dataclass(frozen=True)
class HealthThresholds:
    max_failure_rate: float = 0.05
    max_unconfirmed: int = 0


def is_unconfirmed(status: str | None, created_at: datetime, now: datetime,
                   after: timedelta = UNCONFIRMED_AFTER) -> bool:
    """True when the message is older than `after` and still has no delivered/read/failed
    status (sent, accepted, sending, outcome_unknown, or a status Meta added later)."""
    if status in CONFIRMED or status in FAILED:
        return False
    return created_at <= now - after


def bucket_of(status: str | None, created_at: datetime, now: datetime,
              after: timedelta = UNCONFIRMED_AFTER) -> str:
    """The figure a message with this latest status counts in (one of BUCKETS)."""
    if status in CONFIRMED:
        return status  # type: ignore[return-value]
    if status in FAILED:
        return "failed"
    return "unconfirmed" if is_unconfirmed(status, created_at, now, after) else "sent"


def breaches(figures: Figures, thresholds: HealthThresholds) -> list[str]:
    """Admin-facing sentences for each threshold the figures cross; empty means healthy."""
    found: list[str] = []
    rate = figures.rate("failed")
    if figures.total and rate > thresholds.max_failure_rate:
        found.append(
            f"{rate:.1%} of messages failed ({figures.failed:,} of {figures.total:,}), above "
            f"the {thresholds.max_failure_rate:.1%} limit: review the failures by error code "
            "and fix the templates or senders they name before sending more.")
    if figures.unconfirmed > thresholds.max_unconfirmed:
        found.append(
            f"{figures.unconfirmed:,} messages have no delivery confirmation (limit "
            f"{thresholds.max_unconfirmed:,}): do not assume they arrived; check that the "
            "webhook receiver is running and subscribed to the WABA.")
    return found
