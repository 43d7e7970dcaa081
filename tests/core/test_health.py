"""Delivery health rules: figures and rates, unconfirmed messages, threshold breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wa_console.core.health import (
    UNCONFIRMED_AFTER,
    Figures,
    HealthThresholds,
    breaches,
    bucket_of,
    is_unconfirmed,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_figures_total_and_rates() -> None:
    """Rates are shares of all messages; an empty period has rate 0, not a division error."""
    figures = Figures(sent=1, delivered=2, read=5, failed=2, unconfirmed=0)
    assert figures.total == 10
    assert figures.rate("failed") == pytest.approx(0.2)
    assert figures.rate("read") == pytest.approx(0.5)
    assert Figures().rate("failed") == 0.0
    with pytest.raises(ValueError, match="no figure named"):
        figures.rate("bounced")


@pytest.mark.parametrize("status", ["sent", "accepted", "sending", "outcome_unknown", "played",
                                    None])
def test_old_message_without_confirmation_is_unconfirmed(status: str | None) -> None:
    """Anything but delivered/read/failed after the limit is unconfirmed, never delivered."""
    old = NOW - UNCONFIRMED_AFTER - timedelta(seconds=1)
    assert is_unconfirmed(status, old, NOW)
    assert bucket_of(status, old, NOW) == "unconfirmed"
    young = NOW - UNCONFIRMED_AFTER + timedelta(minutes=1)
    assert not is_unconfirmed(status, young, NOW)
    assert bucket_of(status, young, NOW) == "sent"  # in flight


@pytest.mark.parametrize(("status", "bucket"), [("delivered", "delivered"), ("read", "read"),
                                                ("failed", "failed"), ("rejected", "failed")])
def test_settled_statuses_are_never_unconfirmed(status: str, bucket: str) -> None:
    """A confirmed or failed message keeps its figure however old it is."""
    ancient = NOW - timedelta(days=300)
    assert not is_unconfirmed(status, ancient, NOW)
    assert bucket_of(status, ancient, NOW) == bucket


def test_custom_unconfirmed_limit() -> None:
    """The limit is configurable: one hour makes a two-hour-old "sent" unconfirmed."""
    created = NOW - timedelta(hours=2)
    assert is_unconfirmed("sent", created, NOW, timedelta(hours=1))
    assert not is_unconfirmed("sent", created, NOW)


def test_breaches_name_each_crossed_threshold() -> None:
    """Healthy figures give no sentence; each crossed limit gives one with what to do."""
    healthy = Figures(delivered=95, failed=5)
    assert breaches(healthy, HealthThresholds()) == []  # 5% is not above 5%
    bad = Figures(delivered=90, failed=8, unconfirmed=2)
    found = breaches(bad, HealthThresholds(max_failure_rate=0.05, max_unconfirmed=1))
    assert len(found) == 2
    assert "8.0% of messages failed (8 of 100)" in found[0]
    assert "2 messages have no delivery confirmation" in found[1]
    assert "webhook receiver" in found[1]
    assert breaches(bad, HealthThresholds(max_failure_rate=0.1, max_unconfirmed=2)) == []
    assert breaches(Figures(), HealthThresholds(max_failure_rate=0.0)) == []
