"""Webhook bodies for tests/meta/test_webhooks.py.

The DOC_* bodies are the example payloads of shared/meta-api.md §c, copied byte for byte (same
line breaks), so they double as raw bodies to sign. The rest are built from small helpers and
follow the shapes of pywa's fixtures (tests/data/updates) and Meta's webhook reference.
IDs are invented.
"""
# ruff: noqa: E501  (the DOC_* bodies are verbatim copies)

from __future__ import annotations

import json
from typing import Any

WABA = "100000000000001"
PHONE_ID = "200000000000002"
DISPLAY = "15550001111"
USER = "15551234567"

DOC_STATUS_SENT = b"""\
{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"200000000000002"},
  "statuses":[{"id":"wamid.TEST123","status":"sent","timestamp":"1730000000","recipient_id":"15551234567",
   "conversation":{"id":"conv-abc","expiration_timestamp":"1730086400","origin":{"type":"utility"}},
   "pricing":{"billable":true,"pricing_model":"PMP","category":"utility"}}]}}]}]}"""

DOC_STATUS_FAILED = b"""\
{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"200000000000002"},
  "statuses":[{"id":"wamid.TEST124","status":"failed","timestamp":"1730000005","recipient_id":"15551234567",
   "errors":[{"code":131026,"title":"Message undeliverable","message":"Message undeliverable",
    "error_data":{"details":"Message Undeliverable."},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]}]}}]}]}"""

DOC_INBOUND_TEXT_REPLY = b"""\
{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","changes":[{"field":"messages",
 "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"200000000000002"},
  "contacts":[{"profile":{"name":"Test User"},"wa_id":"15551234567"}],
  "messages":[{"context":{"from":"15550001111","id":"wamid.TEST123"},"from":"15551234567",
   "id":"wamid.INBOUND1","timestamp":"1730000060","type":"text","text":{"body":"Got it, thanks"}}]}}]}]}"""

DOC_TEMPLATE_REJECTED = b"""\
{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","time":1730000100,"changes":[{"field":"message_template_status_update",
 "value":{"event":"REJECTED","message_template_id":300000000000003,"message_template_name":"order_update",
  "message_template_language":"en_US","message_template_category":"UTILITY","reason":"INVALID_FORMAT"}}]}]}"""

DOC_SAMPLES = {
    "status_sent": DOC_STATUS_SENT,
    "status_failed": DOC_STATUS_FAILED,
    "inbound_text_reply": DOC_INBOUND_TEXT_REPLY,
    "template_rejected": DOC_TEMPLATE_REJECTED,
}


def envelope(*entries: dict[str, Any]) -> dict[str, Any]:
    """`{"object": "whatsapp_business_account", "entry": [...]}`."""
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def entry(*changes: dict[str, Any], waba_id: str = WABA, time: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": waba_id, "changes": list(changes)}
    if time is not None:
        result["time"] = time
    return result


def change(field: str, value: Any) -> dict[str, Any]:
    return {"field": field, "value": value}


def messages_value(*, statuses: list[Any] | None = None, messages: list[Any] | None = None,
                   contacts: list[Any] | None = None, phone_id: str = PHONE_ID,
                   display: str = DISPLAY, **extra: Any) -> dict[str, Any]:
    """The `value` of a `messages` change."""
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": display,
                                          "phone_number_id": phone_id}}
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    value.update(extra)
    return value


def contact(wa_id: str = USER, name: str = "Test User", **extra: Any) -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": wa_id, **extra}


def status(wamid: str, state: str, *, timestamp: Any = "1730000000", recipient: str = USER,
           **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": state, "timestamp": timestamp, "recipient_id": recipient,
            **extra}


def message(wamid: str, mtype: str, body: Any = None, *, sender: str = USER,
            timestamp: Any = "1730000060", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": timestamp, "type": mtype}
    if body is not None:
        item[mtype] = body
    item.update(extra)
    return item


def body_of(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


# The other payloads the tests name.

BUTTON = envelope(entry(change("messages", messages_value(
    contacts=[contact()],
    messages=[message("wamid.BTN1", "button", {"payload": "CONFIRM", "text": "Yes, confirm"},
                      context={"from": DISPLAY, "id": "wamid.TEST123"})]))))

BUTTON_REPLY = envelope(entry(change("messages", messages_value(
    contacts=[contact(user_id="US.13491208655302741918")],
    messages=[message("wamid.IBR1", "interactive",
                      {"type": "button_reply", "button_reply": {"id": "opt-yes", "title": "Yes"}},
                      context={"from": DISPLAY, "id": "wamid.OUT9"})]))))

LIST_REPLY = envelope(entry(change("messages", messages_value(
    contacts=[contact()],
    messages=[message("wamid.ILR1", "interactive",
                      {"type": "list_reply",
                       "list_reply": {"id": "row-2", "title": "Tuesday",
                                      "description": "Afternoon slots"}})]))))

IMAGE = envelope(entry(change("messages", messages_value(
    contacts=[contact()],
    messages=[message("wamid.IMG1", "image",
                      {"caption": "the receipt", "mime_type": "image/jpeg",
                       "sha256": "4654+8g=", "id": "65463453"})]))))

DOCUMENT = envelope(entry(change("messages", messages_value(
    contacts=[contact()],
    messages=[message("wamid.DOC1", "document",
                      {"caption": "invoice", "filename": "invoice.pdf",
                       "mime_type": "application/pdf", "sha256": "abc=", "id": "777"})]))))

TEMPLATE_QUALITY = envelope(entry(change("message_template_quality_update", {
    "previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
    "message_template_id": 806312974732579, "message_template_name": "welcome_template",
    "message_template_language": "en-US"}), time=1674864290))

TEMPLATE_CATEGORY = envelope(entry(change("template_category_update", {
    "message_template_id": 12345678, "message_template_name": "order_update",
    "message_template_language": "en_US", "previous_category": "UTILITY",
    "new_category": "MARKETING"}), time=1750344882))

TEMPLATE_STATUS_WITH_INFO = envelope(entry(change("message_template_status_update", {
    "event": "REJECTED", "message_template_id": 300000000000004,
    "message_template_name": "promo", "message_template_language": "en_US",
    "reason": "INCORRECT_CATEGORY",
    "rejection_info": {"reason": "INCORRECT_CATEGORY",
                       "recommendation": "Submit it as MARKETING"}})))

PHONE_QUALITY = envelope(entry(change("phone_number_quality_update", {
    "display_phone_number": DISPLAY, "event": "DOWNGRADE", "current_limit": "TIER_250",
    "old_limit": "TIER_1K", "max_daily_conversations_per_business": "TIER_250"})))

PHONE_NAME = envelope(entry(change("phone_number_name_update", {
    "display_phone_number": DISPLAY, "decision": "REJECTED",
    "requested_verified_name": "Acme Support", "rejection_reason": "NAME_FORMAT_UNACCEPTABLE"})))

ACCOUNT_UPDATE = envelope(entry(change("account_update", {
    "event": "ACCOUNT_RESTRICTION",
    "restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                          "expiration": 1641330498}]}), time=1641330498))

ACCOUNT_REVIEW = envelope(entry(change("account_review_update", {"decision": "APPROVED"})))

ACCOUNT_ALERT = envelope(entry(change("account_alerts", {
    "entity_type": "WABA", "entity_id": WABA, "alert_severity": "CRITICAL",
    "alert_status": "ACTIVE", "alert_type": "OBA_APPROVED",
    "alert_description": "Official business account approved"})))

VALUE_ERRORS = envelope(entry(change("messages", messages_value(errors=[{
    "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
    "error_data": {"details": "Message type is currently not supported."},
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]))))

UNKNOWN_FIELD = envelope(entry(change("business_capability_update", {
    "max_daily_conversation_per_phone": 1000, "max_phone_numbers_per_business": 2})))

UNKNOWN_STATUS = envelope(entry(change("messages", messages_value(
    statuses=[status("wamid.NEW1", "held_for_quality_review")]))))

UNKNOWN_MESSAGE_TYPE = envelope(entry(change("messages", messages_value(
    contacts=[contact()],
    messages=[message("wamid.HOLO1", "hologram", {"frames": 12, "id": "x"})]))))


def batched() -> dict[str, Any]:
    """2 entries x 3 changes: statuses and messages mixed, 13 events, in a known order."""
    first = entry(
        change("messages", messages_value(statuses=[
            status("wamid.A1", "sent"), status("wamid.A1", "delivered", timestamp="1730000010"),
            status("wamid.A2", "read", timestamp="1730000020")])),
        change("messages", messages_value(
            contacts=[contact("15551230001", "Ann"), contact("15551230002", "Bob")],
            messages=[message("wamid.M1", "text", {"body": "hi"}, sender="15551230001"),
                      message("wamid.M2", "text", {"body": "yo"}, sender="15551230002")])),
        change("message_template_status_update", {
            "event": "APPROVED", "message_template_id": 1, "message_template_name": "t1",
            "message_template_language": "en_US", "reason": "NONE"}),
        time=1730000100)
    second = entry(
        change("messages", messages_value(phone_id="200000000000009", display="15550009999",
                                          statuses=[
            status("wamid.B1", "failed", errors=[{"code": 131047, "title": "Re-engagement message"}]),
            status("wamid.B2", "sent"), status("wamid.B3", "delivered")])),
        change("messages", messages_value(
            phone_id="200000000000009", display="15550009999", contacts=[contact()],
            statuses=[status("wamid.B4", "read")],
            messages=[message("wamid.M3", "button", {"payload": "P", "text": "T"}),
                      message("wamid.M4", "image", {"id": "9", "mime_type": "image/png"})])),
        change("phone_number_quality_update", {"display_phone_number": "15550009999",
                                               "event": "UPGRADE", "current_limit": "TIER_10K"}),
        waba_id="100000000000007")
    return envelope(first, second)
