"""Test recipients and consent on SQLite and PostgreSQL: E.164 numbers, opt-in records (who,
when, how), opt-outs by the admin or by an inbound STOP (written as the webhook receiver does),
the send gate, kept history and the opt-out keywords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wa_console.core.consent import DEFAULT_OPT_OUT_KEYWORDS, is_opt_out
from wa_console.store.models import ConsentEvent
from wa_console.store.models import TestRecipient as RecipientRow
from wa_console.store.recipients import (
    NotOptedIn,
    RecipientError,
    add_recipient,
    delete_recipient,
    get_recipient,
    list_recipients,
    opt_out_keywords,
    record_opt_in,
    record_opt_out,
    require_opted_in,
    set_opt_out_keywords,
)


def test_numbers_are_validated_and_stored_as_e164(engine, account_id) -> None:
    """The settings' phone rules: a bad number is refused with its reason; formats normalise."""
    with pytest.raises(RecipientError, match="start with \\+ and the country code"):
        add_recipient(engine, account_id, "555 010 0199")
    with pytest.raises(RecipientError, match="Phone number: use digits only"):
        add_recipient(engine, account_id, "+1 555 CALL NOW")
    added = add_recipient(engine, account_id, " 0044 7911 123456 ", label="Ana's phone")
    assert (added.phone, added.label, added.opted_in, added.consent_changed_at,
            added.history) == ("+447911123456", "Ana's phone", False, None, ())
    with pytest.raises(RecipientError, match="\\+447911123456 is already a test recipient"):
        add_recipient(engine, account_id, "+44 7911 123456")
    assert list_recipients(engine, account_id) == [added]


def test_opt_in_needs_who_and_how_and_opens_the_send_gate(engine, account_id) -> None:
    """No opt-in: blocked with the fix. An opt-in records who/how/when; then sends may go."""
    recipient = add_recipient(engine, account_id, "+15551234567")
    with pytest.raises(NotOptedIn, match="has no recorded opt-in"):
        require_opted_in(engine, recipient.id)
    with pytest.raises(RecipientError, match="Recorded by is required"):
        record_opt_in(engine, recipient.id, recorded_by="  ", method="written consent")
    with pytest.raises(RecipientError, match="Method is required"):
        record_opt_in(engine, recipient.id, recorded_by="Ana", method="")
    with pytest.raises(RecipientError, match="in the future"):
        record_opt_in(engine, recipient.id, recorded_by="Ana", method="written consent",
                      at=datetime.now(UTC) + timedelta(days=1))
    given = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    opted = record_opt_in(engine, recipient.id, recorded_by="Ana (comms)",
                          method="written consent", detail="form #12", at=given)
    assert opted.opted_in and opted.consent_changed_at == given
    [event] = opted.history
    assert (event.kind, event.at, event.recorded_by, event.method, event.detail) == (
        "opt_in", given, "Ana (comms)", "written consent", "form #12")
    assert require_opted_in(engine, recipient.id) == opted == get_recipient(engine, recipient.id)


def test_admin_opt_out_blocks_sends_and_keeps_history(engine, account_id) -> None:
    """Opt-out: blocked, with who/when/how in the message; the opt-in stays in the history."""
    recipient = add_recipient(engine, account_id, "+15551234567")
    record_opt_in(engine, recipient.id, recorded_by="Ana", method="verbal consent (recorded)")
    out = record_opt_out(engine, recipient.id, recorded_by="Ben", detail="left the team")
    assert not out.opted_in and [e.kind for e in out.history] == ["opt_in", "opt_out"]
    assert out.consent_changed_at == out.history[-1].at
    with pytest.raises(NotOptedIn) as blocked:
        require_opted_in(engine, recipient.id)
    assert str(blocked.value) == (
        f"+15551234567 opted out on {out.history[-1].at:%Y-%m-%d %H:%M} UTC by admin "
        "(recorded by Ben: left the team); test sends are blocked until a new opt-in is recorded.")
    with pytest.raises(RecipientError, match="consent history, which is kept"):
        delete_recipient(engine, recipient.id)
    with pytest.raises(RecipientError, match="before the last recorded change"):
        record_opt_in(engine, recipient.id, recorded_by="Ana", method="written consent",
                      at=out.history[0].at - timedelta(hours=1))
    again = record_opt_in(engine, recipient.id, recorded_by="Ana", method="written consent")
    assert again.opted_in and len(again.history) == 3


def test_inbound_stop_written_by_the_receiver_shows_and_blocks(engine, account_id) -> None:
    """The receiver's own write (flag + opt_out event, "inbound message"/"reply keyword") is
    what the reads show, and the gate quotes it."""
    recipient = add_recipient(engine, account_id, "+15551234567")
    record_opt_in(engine, recipient.id, recorded_by="Ana", method="written consent")
    stop_at = datetime.now(UTC).replace(microsecond=0)
    with Session(engine) as session, session.begin():  # as store/messages.py does it
        session.add(ConsentEvent(recipient_id=recipient.id, kind="opt_out", at=stop_at,
                                 recorded_by="inbound message", method="reply keyword",
                                 detail='"STOP" (wamid.abc)'))
        session.execute(update(RecipientRow).where(RecipientRow.id == recipient.id)
                        .values(opted_in=False, consent_changed_at=stop_at))
    [shown] = list_recipients(engine, account_id)
    assert not shown.opted_in and shown.latest is not None
    assert (shown.latest.recorded_by, shown.latest.method) == ("inbound message",
                                                               "reply keyword")
    with pytest.raises(NotOptedIn, match=f"opted out on {stop_at:%Y-%m-%d %H:%M} UTC by reply "
                                         'keyword \\(recorded by inbound message: "STOP"'):
        require_opted_in(engine, recipient.id)


def test_recipient_without_history_can_be_deleted(engine, account_id) -> None:
    recipient = add_recipient(engine, account_id, "+15551234567")
    delete_recipient(engine, recipient.id)
    assert list_recipients(engine, account_id) == []
    with pytest.raises(RecipientError, match="no longer exists"):
        get_recipient(engine, recipient.id)


def test_opt_out_keywords_default_set_and_never_empty(engine, account_id) -> None:
    """Defaults until set; trimmed and deduplicated; an empty list is refused."""
    assert opt_out_keywords(engine, account_id) == DEFAULT_OPT_OUT_KEYWORDS
    saved = set_opt_out_keywords(engine, account_id, [" STOP", "Alto", "stop!", "", "BAJA "])
    assert saved == ("STOP", "Alto", "BAJA") == opt_out_keywords(engine, account_id)
    assert is_opt_out("alto", opt_out_keywords(engine, account_id))
    with pytest.raises(RecipientError, match="at least one opt-out keyword"):
        set_opt_out_keywords(engine, account_id, [" ", "!!"])
    assert opt_out_keywords(engine, account_id) == saved


def test_each_consent_change_is_one_event_with_the_cached_state(engine, account_id) -> None:
    """Flag and event are written together: counts and flag agree after every action."""
    recipient = add_recipient(engine, account_id, "+15551234568")
    for action in (lambda: record_opt_in(engine, recipient.id, recorded_by="A", method="m"),
                   lambda: record_opt_out(engine, recipient.id, recorded_by="A")):
        info = action()
        with Session(engine) as session:
            flag = session.scalar(select(RecipientRow.opted_in)
                                  .where(RecipientRow.id == recipient.id))
            count = session.scalar(select(func.count()).where(
                ConsentEvent.recipient_id == recipient.id))
        assert flag == info.opted_in and count == len(info.history)
