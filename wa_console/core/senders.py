"""Sender validation (pure): can the platform send from this synced phone number?

A sender is one phone number of the account's WABA, as the last Sync channel account found it.
It is valid when the number is in that WABA, CONNECTED (registered with the Cloud API; FLAGGED
still sends, so it is only a warning) and its verified name is approved. Quality, messaging
tier and a name still in review are warnings: the number sends, but with limits the admin should
know about. Every message says what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from wa_console.store.synced import PhoneInfo

SENDER_VALUES: Final[tuple[str, ...]] = ("display_number", "phone_number_id")
SENDER_VALUE_LABELS: Final[dict[str, str]] = {
    "display_number": "Display number", "phone_number_id": "Phone number ID"}

# Statuses that send. FLAGGED numbers still send while Meta watches their quality.
_SENDING_STATUSES: Final = frozenset({"CONNECTED", "FLAGGED"})
_APPROVED_NAMES: Final = frozenset({"APPROVED", "AVAILABLE_WITHOUT_REVIEW"})
# Business-initiated conversations per rolling 24 h for the tiers too low for real traffic.
_LOW_TIERS: Final[dict[str, int]] = {"TIER_50": 50, "TIER_250": 250}


@dataclass(frozen=True)
class SenderValidation:
    """What is wrong (errors: cannot send) and what to watch (warnings) for one sender."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


def digits_of(text: str | None) -> str:
    """Only the digits: "+1 555-010-0001" -> "15550100001" (how Meta's numbers compare)."""
    return re.sub(r"\D", "", text or "")


def sender_value_text(sender_value: str, *, display_phone_number: str | None,
                      phone_meta_id: str) -> str:
    """The string the platform is given: the display number as E.164 ("+digits"), or the phone
    number ID."""
    if sender_value == "phone_number_id":
        return phone_meta_id
    number = digits_of(display_phone_number)
    return f"+{number}" if number else ""


def validate_sender(phone: PhoneInfo | None, *, phone_meta_id: str,
                    account_waba_id: str) -> SenderValidation:
    """Check one sender against its synced phone number.

    Args:
        phone: the synced number with this ID in the account's WABA, or None when the last sync
            did not find it there.
        phone_meta_id: the sender's phone number ID (for the message when `phone` is None).
        account_waba_id: the account's WABA ID (for messages).

    Returns:
        The errors (the sender cannot send) and warnings, each an admin-facing sentence.
    """
    if phone is None:
        return SenderValidation(errors=(
            f"Phone number ID {phone_meta_id} is not among the synced numbers of WABA "
            f"{account_waba_id or '(not set)'}: run Sync channel account, or pick another "
            "number of this WABA.",))
    number = phone.display_phone_number or phone_meta_id
    errors: list[str] = []
    warnings: list[str] = []

    status = (phone.status or "").upper()
    if status == "PENDING":
        errors.append(f"{number} is not registered with the Cloud API (status PENDING): "
                      "register it in WhatsApp Manager (or POST /{phone-number-id}/register "
                      "with its PIN), then run Sync channel account.")
    elif not status:
        errors.append(f"{number} has no status in the last sync: run Sync channel account.")
    elif status not in _SENDING_STATUSES:
        errors.append(f"{number} is {status}, not CONNECTED, so it cannot send: resolve it in "
                      "WhatsApp Manager (Phone numbers) or pick another number.")
    elif status == "FLAGGED":
        warnings.append(f"{number} is FLAGGED for low quality: it still sends, but its "
                        "messaging limit can drop; review recent template feedback in "
                        "WhatsApp Manager.")

    name_status = (phone.name_status or "").upper()
    name = f'"{phone.verified_name}"' if phone.verified_name else "(none)"
    if name_status == "PENDING_REVIEW":
        warnings.append(f"The display name {name} is pending review: messages may show the "
                        "number instead of the name until Meta approves it.")
    elif not name_status:
        warnings.append(f"The review status of the display name {name} is unknown: check it "
                        "in WhatsApp Manager.")
    elif name_status not in _APPROVED_NAMES:
        errors.append(f"The display name {name} is not approved (name status {name_status}): "
                      "submit or fix the display name in WhatsApp Manager, or pick another "
                      "number.")

    quality = (phone.quality_rating or "").upper()
    if quality in ("YELLOW", "RED"):
        level = "low" if quality == "RED" else "medium"
        warnings.append(f"Quality rating {quality} ({level}): customers are blocking or "
                        "reporting messages from this number; review template content and "
                        "opt-ins before sending more.")

    tier = phone.messaging_limit_tier
    if not tier:
        warnings.append("The messaging limit tier is unknown: treat it as the lowest (50 "
                        "business-initiated conversations per 24 h) until a sync reports it.")
    elif tier.upper() in _LOW_TIERS:
        warnings.append(f"Messaging limit {tier.upper()}: at most "
                        f"{_LOW_TIERS[tier.upper()]} business-initiated conversations per 24 h; "
                        "verify the business and keep quality high to raise it.")
    return SenderValidation(errors=tuple(errors), warnings=tuple(warnings))
