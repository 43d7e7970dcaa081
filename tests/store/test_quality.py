"""Quality history: changes seen by syncs and by each quality webhook (through the receiver's
ingest), the quality panel's items and the readiness warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.meta.webhook_samples import body_of, change, entry, envelope
from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.store import messages, synced
from wa_console.store.health import quality_overview, quality_warnings
from wa_console.store.models import MessageTemplate, PhoneNumber, QualityChange
from wa_console.store.quality import record_quality_change

WABA = str(SANDBOX_VALUES["waba_id"])
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)




def phone(quality: str = "GREEN", tier: str = "TIER_1K", state: str = "CONNECTED",
          meta_id: str = "200000000000002") -> dict[str, Any]:
    return {"id": meta_id, "display_phone_number": "+1 555-000-1111", "verified_name": "Acme",
            "quality_rating": quality, "messaging_limit_tier": tier, "status": state}


def template(state: str = "APPROVED", score: str = "GREEN", meta_id: str = "555",
             name: str = "order_update") -> dict[str, Any]:
    return {"id": meta_id, "name": name, "language": "en_US", "status": state,
            "category": "UTILITY", "quality_score": {"score": score},
            "components": [{"type": "BODY", "text": "Hi"}]}


def sync_phones(engine: Any, account_id: int, at: datetime, *phones: dict[str, Any]) -> None:
    synced.write_account_sync(engine, account_id, {"id": WABA}, list(phones), simulated=True,
                              started_at=at, finished_at=at)


def sync_templates(engine: Any, account_id: int, at: datetime,
                   *templates: dict[str, Any]) -> None:
    synced.write_template_sync(engine, account_id, list(templates), simulated=True,
                               started_at=at, finished_at=at)


def changes(engine: Any) -> list[tuple[str, str, str, str | None, str | None, str]]:
    c = QualityChange.__table__.c
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(
            sa.select(c.subject, c.subject_key, c.field, c.old_value, c.new_value, c.source)
            .order_by(c.id))]


def webhook(field: str, value: dict[str, Any], at: datetime) -> None:
    return body_of(envelope(entry(change(field, value), waba_id=WABA,
                                  time=int(at.timestamp()))))


def test_phone_sync_records_what_changed(engine, account_id: int) -> None:
    """First sync: no history; a re-sync records each changed field (and only those)."""
    sync_phones(engine, account_id, T0, phone())
    sync_phones(engine, account_id, T0 + timedelta(hours=1), phone())
    assert changes(engine) == []
    sync_phones(engine, account_id, T0 + timedelta(days=1), phone("YELLOW", "TIER_250"))
    assert changes(engine) == [
        ("phone", "200000000000002", "quality_rating", "GREEN", "YELLOW", "sync"),
        ("phone", "200000000000002", "messaging_limit_tier", "TIER_1K", "TIER_250", "sync")]
    [item] = quality_overview(engine, account_id)
    assert item.current == {"quality_rating": "YELLOW", "messaging_limit_tier": "TIER_250",
                            "status": "CONNECTED"}
    assert {c.field for c in item.changes} == {"quality_rating", "messaging_limit_tier"}
    assert item.changes[0].at == T0 + timedelta(days=1)
    assert not item.flagged


def test_template_sync_records_status_and_quality_moves(engine, account_id: int) -> None:
    """APPROVED/GREEN -> PAUSED/RED is two changes, and the template is flagged first."""
    sync_templates(engine, account_id, T0, template(), template(meta_id="556", name="aaa"))
    sync_templates(engine, account_id, T0 + timedelta(days=1), template("PAUSED", "RED"),
                   template(meta_id="556", name="aaa"))
    assert changes(engine) == [
        ("template", "555", "status", "APPROVED", "PAUSED", "sync"),
        ("template", "555", "quality_score", "GREEN", "RED", "sync")]
    items = quality_overview(engine, account_id)
    assert [(i.name, i.flagged) for i in items] == [("order_update (en_US)", True),
                                                    ("aaa (en_US)", False)]
    assert "PAUSED" in (items[0].flag_reason or "")
    [warning] = quality_warnings(engine, account_id)
    assert warning == "template order_update (en_US) PAUSED for low quality"
    assert "use another template" in (items[0].flag_reason or "")  # the advice: health page


def test_template_status_webhook_pauses_the_synced_template(engine, account_id: int) -> None:
    """message_template_status_update: history row with the event id, current row updated."""
    sync_templates(engine, account_id, T0, template())
    at = T0 + timedelta(hours=3)
    result = messages.ingest(engine, webhook("message_template_status_update", {
        "event": "PAUSED", "message_template_id": 555, "message_template_name": "order_update",
        "message_template_language": "en_US", "reason": "LOW_QUALITY"}, at),
        signature_valid=True, received_at=at)
    assert changes(engine) == [("template", "555", "status", "APPROVED", "PAUSED", "webhook")]
    with engine.connect() as connection:
        assert connection.scalar(sa.select(MessageTemplate.status)) == "PAUSED"
        assert connection.scalar(sa.select(QualityChange.event_id)) == result.event_id
    [item] = quality_overview(engine, account_id)
    assert item.flagged and item.changes[0].at == at and item.changes[0].source == "webhook"


def test_template_quality_webhook_turns_red(engine, account_id: int) -> None:
    """message_template_quality_update: the new score is stored and RED is flagged."""
    sync_templates(engine, account_id, T0, template())
    at = T0 + timedelta(hours=1)
    messages.ingest(engine, webhook("message_template_quality_update", {
        "previous_quality_score": "GREEN", "new_quality_score": "RED",
        "message_template_id": 555, "message_template_name": "order_update",
        "message_template_language": "en_US"}, at), signature_valid=True, received_at=at)
    assert changes(engine) == [("template", "555", "quality_score", "GREEN", "RED", "webhook")]
    [item] = quality_overview(engine, account_id)
    assert item.current["quality_score"] == "RED" and item.flagged
    assert "RED" in (item.flag_reason or "")


def test_template_webhook_for_an_unknown_template_is_kept(engine, account_id: int) -> None:
    """A template not synced yet: the change is recorded under Meta's ID."""
    messages.ingest(engine, webhook("message_template_status_update", {
        "event": "DISABLED", "message_template_id": 999, "message_template_name": "gone",
        "message_template_language": "de"}, T0), signature_valid=True, received_at=T0)
    assert changes(engine) == [("template", "999", "status", None, "DISABLED", "webhook")]


def test_phone_quality_webhook_flags_and_moves_tier(engine, account_id: int) -> None:
    """phone_number_quality_update: FLAGGED status and the new tier, on the synced number
    found by its display number's digits."""
    sync_phones(engine, account_id, T0, phone())
    at = T0 + timedelta(hours=2)
    messages.ingest(engine, webhook("phone_number_quality_update", {
        "display_phone_number": "15550001111", "event": "FLAGGED", "current_limit": "TIER_250",
        "old_limit": "TIER_1K"}, at), signature_valid=True, received_at=at)
    assert changes(engine) == [
        ("phone", "200000000000002", "messaging_limit_tier", "TIER_1K", "TIER_250", "webhook"),
        ("phone", "200000000000002", "status", "CONNECTED", "FLAGGED", "webhook")]
    with engine.connect() as connection:
        assert connection.execute(sa.select(PhoneNumber.messaging_limit_tier,
                                            PhoneNumber.status)).one() == ("TIER_250",
                                                                           "FLAGGED")
    [item] = quality_overview(engine, account_id)
    assert item.flagged and "FLAGGED" in (item.flag_reason or "")
    assert quality_warnings(engine, account_id) == ["number +1 555-000-1111 status FLAGGED"]


def test_red_phone_is_flagged_and_listed_first(engine, account_id: int) -> None:
    """A RED number comes before healthy ones, with what to do."""
    sync_phones(engine, account_id, T0, phone(meta_id="1"), phone("RED", meta_id="2"))
    items = quality_overview(engine, account_id)
    assert [(i.key, i.flagged) for i in items] == [("2", True), ("1", False)]
    assert "quality rating RED" in (items[0].flag_reason or "")


def test_record_quality_change_refuses_unknown_subject(engine, account_id: int) -> None:
    """Only phone numbers and templates have a quality history."""
    with engine.begin() as connection, pytest.raises(ValueError, match="subject"):
        record_quality_change(connection, account_id=account_id, subject="waba",
                              subject_key="1", subject_name="x", field="status",
                              old_value=None, new_value="A", at=T0, source="sync",
                              simulated=True)
