"""Sender validation rules (pure): errors block a sender, warnings only inform."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from wa_console.core.senders import (
    SENDER_VALUES,
    SenderValidation,
    digits_of,
    sender_value_text,
    validate_sender,
)
from wa_console.store.synced import PhoneInfo

WABA = "100000000000001"
GOOD = PhoneInfo(id=1, meta_id="200000000000002", display_phone_number="+1 555-010-0001",
                 verified_name="Store", name_status="APPROVED",
                 code_verification_status="VERIFIED", quality_rating="GREEN",
                 status="CONNECTED", messaging_limit_tier="TIER_1K",
                 throughput_level="STANDARD", platform_type="CLOUD_API", account_mode="LIVE",
                 synced_at=datetime(2026, 11, 25, tzinfo=UTC), simulated=True)


def check(**changes: object) -> SenderValidation:
    return validate_sender(replace(GOOD, **changes), phone_meta_id=GOOD.meta_id,
                           account_waba_id=WABA)


def test_connected_approved_green_number_is_valid_without_warnings() -> None:
    """The happy path: no errors, no warnings."""
    result = check()
    assert result.valid and result.errors == () and result.warnings == ()


def test_number_missing_from_the_sync_is_an_error_naming_the_fix() -> None:
    """A number the sync did not find in this WABA: sync, or pick another."""
    result = validate_sender(None, phone_meta_id="200000000000021", account_waba_id=WABA)
    assert not result.valid
    assert "200000000000021" in result.errors[0] and WABA in result.errors[0]
    assert "Sync channel account" in result.errors[0]


@pytest.mark.parametrize(("status", "phrase"), [
    ("PENDING", "not registered"), ("DISCONNECTED", "DISCONNECTED, not CONNECTED"),
    ("BANNED", "BANNED, not CONNECTED"), (None, "no status")])
def test_a_number_that_cannot_send_is_an_error(status: str | None, phrase: str) -> None:
    """Only CONNECTED (and FLAGGED) numbers send."""
    result = check(status=status)
    assert not result.valid and any(phrase in e for e in result.errors)


@pytest.mark.parametrize("name_status", ["DECLINED", "EXPIRED", "NONE"])
def test_unapproved_display_name_is_an_error_with_its_status(name_status: str) -> None:
    """A declined/expired/missing display name blocks the sender, naming the status."""
    result = check(name_status=name_status)
    assert not result.valid
    assert result.errors == (
        f'The display name "Store" is not approved (name status {name_status}): submit or fix '
        "the display name in WhatsApp Manager, or pick another number.",)


def test_available_without_review_counts_as_approved() -> None:
    assert check(name_status="AVAILABLE_WITHOUT_REVIEW").warnings == ()


def test_name_pending_review_is_only_a_warning() -> None:
    result = check(name_status="PENDING_REVIEW")
    assert result.valid and len(result.warnings) == 1 and "pending review" in result.warnings[0]


@pytest.mark.parametrize(("quality", "word"), [("YELLOW", "medium"), ("RED", "low")])
def test_poor_quality_is_a_warning(quality: str, word: str) -> None:
    result = check(quality_rating=quality)
    assert result.valid and len(result.warnings) == 1
    assert f"Quality rating {quality} ({word})" in result.warnings[0]


@pytest.mark.parametrize(("tier", "limit"), [("TIER_50", "50"), ("TIER_250", "250"),
                                             (None, "50")])
def test_low_or_unknown_tier_is_a_warning_naming_the_limit(tier: str | None, limit: str) -> None:
    result = check(messaging_limit_tier=tier)
    assert result.valid and len(result.warnings) == 1
    assert f"{limit} business-initiated conversations per 24 h" in result.warnings[0]


def test_flagged_number_still_sends_with_a_warning() -> None:
    """FLAGGED + RED + TIER_250 (the emulator's outlet number): valid, three warnings."""
    result = check(status="FLAGGED", quality_rating="RED", messaging_limit_tier="TIER_250")
    assert result.valid and len(result.warnings) == 3
    assert any("FLAGGED" in w for w in result.warnings)


def test_sender_value_is_e164_display_number_or_the_phone_id() -> None:
    assert SENDER_VALUES == ("display_number", "phone_number_id")
    assert sender_value_text("display_number", display_phone_number="+1 555-010-0001",
                             phone_meta_id="2") == "+15550100001"
    assert sender_value_text("phone_number_id", display_phone_number="+1 555-010-0001",
                             phone_meta_id="2") == "2"
    assert digits_of("(+44) 7700-900 001") == "447700900001"
