"""The realistic history generator: both paths (receiver ingest, bulk store) give the same
database, with the promised mix of statuses, errors and quality changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.sandbox.history import ERROR_SHAPES, generate_history
from wa_console.store import synced
from wa_console.store.accounts import AccountStore
from wa_console.store.health import HealthFilter, health_report, quality_overview
from wa_console.store.models import MessageStatus, OutboundMessage, QualityChange, WebhookEvent
from wa_console.store.secrets import SecretStore
from wa_console.store.times import as_utc

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
WABA = str(SANDBOX_VALUES["waba_id"])
PHONE = str(SANDBOX_VALUES["phone_number_id"])


def seeded_account(engine: Any) -> int:
    """A sandbox account with a synced number and two approved templates."""
    account_id = AccountStore(engine, SecretStore()).create(
        {**SANDBOX_VALUES, "account_name": "Sandbox (simulated)"},
        {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()}).id
    at = NOW - timedelta(days=40)
    synced.write_account_sync(engine, account_id, {"id": WABA}, [{
        "id": PHONE, "display_phone_number": "+1 555-000-1111", "quality_rating": "GREEN",
        "messaging_limit_tier": "TIER_1K", "status": "CONNECTED"}], simulated=True,
        started_at=at, finished_at=at)
    synced.write_template_sync(engine, account_id, [
        {"id": str(700 + i), "name": name, "language": "en_US", "status": "APPROVED",
         "quality_score": {"score": "GREEN"}}
        for i, name in enumerate(("appointment_reminder", "order_update"))],
        simulated=True, started_at=at, finished_at=at)
    return account_id


def utc(row: Any) -> tuple[Any, ...]:
    """A row with its datetimes in UTC (SQLite reads them back naive)."""
    return tuple(as_utc(v) if isinstance(v, datetime) else v for v in row)


def snapshot(engine: Any, account_id: int) -> dict[str, Any]:
    """Everything the health page reads, comparable across databases."""
    o, s = OutboundMessage.__table__.c, MessageStatus.__table__.c
    with engine.connect() as connection:
        outbound = sorted(utc(r) for r in connection.execute(sa.select(
            o.wamid, o.status, o.status_at, o.error_code, o.errors, o.created_at,
            o.template_name, o.phone_number_id)))
        statuses = sorted(utc(r) for r in connection.execute(sa.select(
            s.wamid, s.status, s.timestamp, s.errors, s.received_at, s.signature_valid)))
        events = connection.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
        quality = sorted(tuple(r) for r in connection.execute(sa.select(
            QualityChange.subject, QualityChange.subject_key, QualityChange.field,
            QualityChange.old_value, QualityChange.new_value, QualityChange.source)))
    report = health_report(engine, HealthFilter(account_id, NOW - timedelta(days=31),
                                                NOW + timedelta(seconds=1)), now=NOW)
    return {"outbound": outbound, "statuses": statuses, "events": events, "quality": quality,
            "report": report}


def test_receiver_and_store_paths_agree(  # type: ignore[no-untyped-def]
        db_url: str, open_db, tmp_path) -> None:
    """Same seed: identical messages, statuses, deliveries, quality history and figures."""
    via_store = open_db(db_url)
    store_id = seeded_account(via_store)
    stats = generate_history(via_store, store_id, messages=150, days=10, seed=7, now=NOW)
    via_receiver = open_db(f"sqlite:///{tmp_path / 'receiver.db'}")
    receiver_id = seeded_account(via_receiver)
    assert generate_history(via_receiver, receiver_id, messages=150, days=10, seed=7, now=NOW,
                            via="receiver") == stats
    assert snapshot(via_store, store_id) == snapshot(via_receiver, receiver_id)


def test_history_has_the_realistic_mix(  # type: ignore[no-untyped-def]
        sqlite_url: str, open_db) -> None:
    """Failures with real codes on several templates and senders, duplicates, out-of-order
    arrivals, unconfirmed messages, a YELLOW number and a PAUSED template."""
    engine = open_db(sqlite_url)
    account_id = seeded_account(engine)
    stats = generate_history(engine, account_id, messages=600, days=30, seed=1, now=NOW,
                             via="receiver")
    report = health_report(engine, HealthFilter(account_id, NOW - timedelta(days=31), NOW),
                           now=NOW)
    figures = report.figures
    assert figures.total == stats.messages == 600
    assert figures.read > figures.delivered > 0 and figures.unconfirmed > 0
    assert figures.failed == stats.failed > 0
    known = {shape[0] for shape in ERROR_SHAPES}
    assert {g.code for g in report.failures} <= known and len(report.failures) >= 4
    assert len({t for g in report.failures for t in g.templates}) >= 2
    assert len({s for g in report.failures for s in g.senders}) >= 2
    with engine.connect() as connection:
        stored = connection.scalar(sa.select(sa.func.count()).select_from(MessageStatus))
        # out of order: a message whose "delivered" arrived before its "sent"
        late_sent = connection.execute(sa.text(
            "SELECT count(*) FROM message_status a JOIN message_status b ON a.wamid = b.wamid "
            "WHERE a.status = 'sent' AND b.status = 'delivered' "
            "AND a.received_at > b.received_at")).scalar()
    assert stored < stats.status_events  # duplicates were delivered and ignored
    assert late_sent > 0
    items = {(i.subject, i.key): i for i in quality_overview(engine, account_id)}
    assert items[("phone", PHONE)].current["quality_rating"] == "YELLOW"
    assert items[("phone", PHONE)].changes[0].new_value == "YELLOW"
    paused = items[("template", "700")]
    assert paused.current["status"] == "PAUSED" and paused.flagged


def test_unknown_path_is_refused(sqlite_url: str, open_db) -> None:  # type: ignore[no-untyped-def]
    """Only "store" and "receiver" are paths."""
    engine = open_db(sqlite_url)
    with pytest.raises(ValueError, match="via"):
        generate_history(engine, seeded_account(engine), messages=1, via="mail")


@pytest.mark.parametrize("via", ["store", "receiver"])
def test_generating_again_adds_new_messages(  # type: ignore[no-untyped-def]
        sqlite_url: str, open_db, via: str) -> None:
    """A second run (the sandbox button pressed twice) adds its own messages and no second
    quality drop or pause."""
    engine = open_db(sqlite_url)
    account_id = seeded_account(engine)
    first = generate_history(engine, account_id, messages=40, days=5, now=NOW, via=via)
    second = generate_history(engine, account_id, messages=40, days=5, now=NOW, via=via)
    assert (first.quality_changes, second.quality_changes) == (2, 0)
    report = health_report(engine, HealthFilter(account_id, NOW - timedelta(days=6), NOW),
                           now=NOW)
    assert report.figures.total == 80
