"""Webhooks: signature, GET handshake, and parsing POST bodies into typed events (no Qt)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.meta import webhook_samples as S
from wa_console.meta import webhooks
from wa_console.meta.webhooks import (
    EVENT_TYPES,
    SIGNATURE_HEADER,
    AccountUpdateEvent,
    ErrorDetail,
    InboundMessage,
    PhoneNumberNameEvent,
    PhoneNumberQualityEvent,
    StatusEvent,
    TemplateCategoryEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
    UnknownEvent,
    ValueErrorsEvent,
    WebhookFormatError,
    answer_challenge,
    parse_envelope,
    parse_webhook,
    sign,
    verify_signature,
)

SECRET = "3f9c1b2a7d4e8f6051a2b3c4d5e6f708"
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def only(events: list[Any], kind: type) -> Any:
    assert len(events) == 1, events
    assert type(events[0]) is kind, events[0]
    return events[0]


def parse(doc: Any) -> list[Any]:
    return parse_webhook(S.body_of(doc))


# --------------------------------------------------------------------------------------------
# meta-api.md §c examples


def test_doc_status_sent() -> None:
    """The §c `sent` example becomes one StatusEvent with conversation and pricing read."""
    event = only(parse_webhook(S.DOC_STATUS_SENT), StatusEvent)
    assert event == StatusEvent(
        wamid="wamid.TEST123", status="sent", timestamp=1730000000, recipient_id=S.USER,
        waba_id=S.WABA, phone_number_id=S.PHONE_ID, display_phone_number=S.DISPLAY,
        conversation_id="conv-abc", conversation_origin="utility",
        conversation_expiration=1730086400, billable=True, pricing_model="PMP",
        pricing_category="utility")
    assert event.errors == () and event.error is None
    assert event.raw["conversation"]["id"] == "conv-abc"


def test_doc_status_failed() -> None:
    """The §c `failed` example carries its error: code as int, details from error_data."""
    event = only(parse_webhook(S.DOC_STATUS_FAILED), StatusEvent)
    assert (event.wamid, event.status, event.timestamp) == ("wamid.TEST124", "failed", 1730000005)
    assert event.errors == (ErrorDetail(
        code=131026, title="Message undeliverable", message="Message undeliverable",
        details="Message Undeliverable.",
        href="https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"),)
    assert event.error is event.errors[0]
    assert event.conversation_id is None and event.billable is None


def test_doc_inbound_text_reply() -> None:
    """The §c inbound text links back to our wamid through context.id, with the contact name."""
    event = only(parse_webhook(S.DOC_INBOUND_TEXT_REPLY), InboundMessage)
    assert event == InboundMessage(
        wamid="wamid.INBOUND1", from_wa_id=S.USER, contact_name="Test User",
        timestamp=1730000060, type="text", waba_id=S.WABA, phone_number_id=S.PHONE_ID,
        display_phone_number=S.DISPLAY, text="Got it, thanks", context_id="wamid.TEST123",
        context_from=S.DISPLAY)


def test_doc_template_rejected() -> None:
    """The §c template status example: the numeric template id comes back as a string."""
    event = only(parse_webhook(S.DOC_TEMPLATE_REJECTED), TemplateStatusEvent)
    assert event == TemplateStatusEvent(
        event="REJECTED", template_id="300000000000003", name="order_update", language="en_US",
        category="UTILITY", reason="INVALID_FORMAT", waba_id=S.WABA, time=1730000100)
    assert event.rejection_info is None


def test_doc_samples_are_the_verbatim_multiline_bodies() -> None:
    """The copied §c bodies keep their line breaks, so re-serialising them changes the bytes."""
    for raw in S.DOC_SAMPLES.values():
        assert b"\n" in raw
        assert json.dumps(json.loads(raw)).encode() != raw


def test_template_quality_update() -> None:
    """message_template_quality_update (fields as §c lists them) → TemplateQualityEvent."""
    event = only(parse(S.TEMPLATE_QUALITY), TemplateQualityEvent)
    assert event == TemplateQualityEvent(
        previous_quality_score="GREEN", new_quality_score="YELLOW", template_id="806312974732579",
        name="welcome_template", language="en-US", waba_id=S.WABA, time=1674864290)


def test_template_status_rejection_info() -> None:
    """A newer template status payload keeps its rejection_info object."""
    event = only(parse(S.TEMPLATE_STATUS_WITH_INFO), TemplateStatusEvent)
    assert event.reason == "INCORRECT_CATEGORY" and event.category is None
    assert event.rejection_info == {"reason": "INCORRECT_CATEGORY",
                                    "recommendation": "Submit it as MARKETING"}
    assert hash(event) == hash(dataclasses.replace(event, rejection_info=None))


def test_template_id_beyond_two_to_the_53_is_exact() -> None:
    """A template id too big for a double survives as its exact decimal string."""
    big = 2**63 + 12345
    doc = S.envelope(S.entry(S.change("message_template_status_update",
                                      {"event": "APPROVED", "message_template_id": big})))
    assert only(parse(doc), TemplateStatusEvent).template_id == str(big)


def test_template_category_update() -> None:
    """template_category_update → previous and new category."""
    event = only(parse(S.TEMPLATE_CATEGORY), TemplateCategoryEvent)
    assert (event.previous_category, event.new_category) == ("UTILITY", "MARKETING")
    assert (event.template_id, event.name, event.language) == ("12345678", "order_update", "en_US")
    assert event.time == 1750344882 and event.correct_category is None


# --------------------------------------------------------------------------------------------
# Inbound message types


def test_inbound_button() -> None:
    """A template quick-reply tap: button payload/text and the context wamid of our template."""
    event = only(parse(S.BUTTON), InboundMessage)
    assert (event.type, event.button_payload, event.button_text) == (
        "button", "CONFIRM", "Yes, confirm")
    assert (event.context_id, event.context_from) == ("wamid.TEST123", S.DISPLAY)
    assert event.text is None and event.reply_id is None


def test_interactive_button_reply() -> None:
    """interactive/button_reply → reply id and title; the contact's BSUID is kept."""
    event = only(parse(S.BUTTON_REPLY), InboundMessage)
    assert (event.type, event.interactive_type, event.reply_id, event.reply_title) == (
        "interactive", "button_reply", "opt-yes", "Yes")
    assert event.context_id == "wamid.OUT9"
    assert event.user_id == "US.13491208655302741918"


def test_interactive_list_reply() -> None:
    """interactive/list_reply → row id, title and description."""
    event = only(parse(S.LIST_REPLY), InboundMessage)
    assert (event.interactive_type, event.reply_id, event.reply_title,
            event.reply_description) == ("list_reply", "row-2", "Tuesday", "Afternoon slots")
    assert event.context_id is None


def test_image_with_caption() -> None:
    """An image: media id, mime type and caption."""
    event = only(parse(S.IMAGE), InboundMessage)
    assert (event.type, event.media_id, event.media_mime_type, event.caption) == (
        "image", "65463453", "image/jpeg", "the receipt")
    assert event.filename is None


@pytest.mark.parametrize("mtype", ["audio", "video", "sticker"])
def test_other_media_types(mtype: str) -> None:
    """audio, video and sticker fill the same media fields as image."""
    doc = S.envelope(S.entry(S.change("messages", S.messages_value(
        contacts=[S.contact()], messages=[S.message("wamid.X", mtype,
                                                    {"id": "55", "mime_type": "x/y"})]))))
    event = only(parse(doc), InboundMessage)
    assert (event.type, event.media_id, event.media_mime_type) == (mtype, "55", "x/y")


def test_document_filename() -> None:
    """A document keeps its filename and caption."""
    event = only(parse(S.DOCUMENT), InboundMessage)
    assert (event.media_id, event.filename, event.caption) == ("777", "invoice.pdf", "invoice")


def test_unknown_message_type_is_kept() -> None:
    """An unknown message type is an InboundMessage with that type verbatim, body in raw."""
    event = only(parse(S.UNKNOWN_MESSAGE_TYPE), InboundMessage)
    assert event.type == "hologram" and event.contact_name == "Test User"
    assert event.raw["hologram"] == {"frames": 12, "id": "x"}
    assert event.media_id is None and event.text is None


def test_message_level_errors() -> None:
    """An `unsupported` message keeps its own errors[]."""
    doc = S.envelope(S.entry(S.change("messages", S.messages_value(
        contacts=[S.contact()], messages=[S.message(
            "wamid.U1", "unsupported", errors=[{"code": 131051, "title": "Unsupported"}])]))))
    event = only(parse(doc), InboundMessage)
    assert event.errors == (ErrorDetail(code=131051, title="Unsupported"),)


def test_contact_name_matches_sender() -> None:
    """With several contacts each message gets the name of its own sender."""
    doc = S.envelope(S.entry(S.change("messages", S.messages_value(
        contacts=[S.contact("111", "Ann"), S.contact("222", "Bob")],
        messages=[S.message("wamid.1", "text", {"body": "a"}, sender="222"),
                  S.message("wamid.2", "text", {"body": "b"}, sender="111"),
                  S.message("wamid.3", "text", {"body": "c"}, sender="333")]))))
    assert [e.contact_name for e in parse(doc)] == ["Bob", "Ann", None]


def test_single_contact_names_a_differently_formatted_sender() -> None:
    """With one contact, its name is used even if `from` differs from wa_id (e.g. Brazil)."""
    doc = S.envelope(S.entry(S.change("messages", S.messages_value(
        contacts=[S.contact("5511987654321", "Ana")],
        messages=[S.message("wamid.1", "text", {"body": "oi"}, sender="551187654321")]))))
    event = only(parse(doc), InboundMessage)
    assert (event.from_wa_id, event.contact_name) == ("551187654321", "Ana")


def test_every_status_field_lands_in_its_place() -> None:
    """A status using every field parses to exactly the keyword-built StatusEvent."""
    item = S.status("wamid.F1", "failed", timestamp="1730000001", recipient="15550002222",
                    conversation={"id": "c1", "expiration_timestamp": "1730086401",
                                  "origin": {"type": "marketing"}},
                    pricing={"billable": False, "pricing_model": "CBP", "category": "service"},
                    errors=[{"code": 1, "title": "t", "message": "m",
                             "error_data": {"details": "d"}, "href": "h"}])
    doc = messages_change(S.messages_value(
        phone_id="P", display="D", contacts=[S.contact("15550002222", user_id="US.9")],
        statuses=[item]))
    event = only(parse(doc), StatusEvent)
    assert event == StatusEvent(
        wamid="wamid.F1", status="failed", timestamp=1730000001, recipient_id="15550002222",
        waba_id=S.WABA, phone_number_id="P", display_phone_number="D",
        errors=(ErrorDetail(code=1, title="t", message="m", details="d", href="h"),),
        conversation_id="c1", conversation_origin="marketing",
        conversation_expiration=1730086401, billable=False, pricing_model="CBP",
        pricing_category="service", recipient_user_id="US.9")
    assert event.raw == item
    assert dataclasses.replace(event, status="read").status == "read"


@pytest.mark.parametrize(("item", "expected"), [
    (S.message("wamid.D1", "document", {"id": "m1", "mime_type": "application/pdf",
                                        "caption": "c", "filename": "f.pdf"},
               timestamp="7", context={"from": "D", "id": "wamid.OUT"},
               errors=[{"code": 2}]),
     {"media_id": "m1", "media_mime_type": "application/pdf", "caption": "c",
      "filename": "f.pdf", "context_id": "wamid.OUT", "context_from": "D",
      "errors": (ErrorDetail(code=2),)}),
    (S.message("wamid.B1", "button", {"payload": "p", "text": "t"}, timestamp="7"),
     {"button_payload": "p", "button_text": "t"}),
    (S.message("wamid.L1", "interactive", {"type": "list_reply", "list_reply": {
        "id": "r", "title": "T", "description": "D"}}, timestamp="7"),
     {"interactive_type": "list_reply", "reply_id": "r", "reply_title": "T",
      "reply_description": "D"}),
    (S.message("wamid.T1", "text", {"body": "hello"}, timestamp="7"), {"text": "hello"}),
])
def test_every_inbound_field_lands_in_its_place(item: dict[str, Any],
                                                expected: dict[str, Any]) -> None:
    """Each message kind parses to exactly the keyword-built InboundMessage."""
    doc = messages_change(S.messages_value(
        phone_id="P", display="D", contacts=[S.contact(name="N", user_id="US.7")],
        messages=[item]))
    event = only(parse(doc), InboundMessage)
    assert event == InboundMessage(
        wamid=item["id"], from_wa_id=S.USER, contact_name="N", timestamp=7, type=item["type"],
        waba_id=S.WABA, phone_number_id="P", display_phone_number="D", user_id="US.7",
        **expected)
    assert type(event) is InboundMessage and event.raw == item


def test_fast_constructor_makes_genuine_frozen_instances() -> None:
    """The hot-path constructors return real, frozen, hashable instances of the public class."""
    for cls, make in ((StatusEvent, webhooks._new_status),
                      (InboundMessage, webhooks._new_message)):
        names = [f.name for f in dataclasses.fields(cls)]
        values = [f"v{i}" for i in range(len(names))]
        made = make(*values)
        assert type(made) is cls and isinstance(made, cls)
        assert made == cls(**dict(zip(names, values, strict=True)))
        assert hash(made) == hash(cls(**dict(zip(names, values, strict=True))))
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.wamid = "other"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del made.wamid  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Batches


def test_batched_envelope_yields_every_item_in_order() -> None:
    """2 entries x 3 changes x several statuses/messages: all 13 events, in Meta's order."""
    events = parse(S.batched())
    assert [(type(e).__name__, getattr(e, "wamid", None)) for e in events] == [
        ("StatusEvent", "wamid.A1"), ("StatusEvent", "wamid.A1"), ("StatusEvent", "wamid.A2"),
        ("InboundMessage", "wamid.M1"), ("InboundMessage", "wamid.M2"),
        ("TemplateStatusEvent", None),
        ("StatusEvent", "wamid.B1"), ("StatusEvent", "wamid.B2"), ("StatusEvent", "wamid.B3"),
        ("StatusEvent", "wamid.B4"), ("InboundMessage", "wamid.M3"),
        ("InboundMessage", "wamid.M4"),
        ("PhoneNumberQualityEvent", None)]
    assert [e.waba_id for e in events] == [S.WABA] * 6 + ["100000000000007"] * 7
    assert {e.phone_number_id for e in events[6:12]} == {"200000000000009"}
    assert [e.status for e in events[:3]] == ["sent", "delivered", "read"]
    assert [e.contact_name for e in events[3:5]] == ["Ann", "Bob"]
    assert events[5].time == 1730000100 and events[12].time is None
    assert events[6].error == ErrorDetail(code=131047, title="Re-engagement message")


def test_parse_envelope_matches_parse_webhook() -> None:
    """parse_envelope on the decoded dict gives the same events as parse_webhook on bytes."""
    doc = S.batched()
    assert parse_envelope(doc) == parse_webhook(S.body_of(doc))


def test_empty_entry_list() -> None:
    """A valid envelope with no entries has no events."""
    assert parse_webhook(b'{"object":"whatsapp_business_account","entry":[]}') == []


# --------------------------------------------------------------------------------------------
# Management fields


def test_phone_number_quality_update() -> None:
    """phone_number_quality_update keeps event and the tier fields as given."""
    event = only(parse(S.PHONE_QUALITY), PhoneNumberQualityEvent)
    assert (event.display_phone_number, event.event, event.current_limit, event.old_limit,
            event.max_daily_conversations_per_business) == (
        S.DISPLAY, "DOWNGRADE", "TIER_250", "TIER_1K", "TIER_250")
    assert event.max_daily_conversation_per_phone is None


def test_phone_number_name_update() -> None:
    """phone_number_name_update → decision, requested name and rejection reason."""
    event = only(parse(S.PHONE_NAME), PhoneNumberNameEvent)
    assert (event.display_phone_number, event.decision, event.requested_verified_name,
            event.rejection_reason) == (S.DISPLAY, "REJECTED", "Acme Support",
                                        "NAME_FORMAT_UNACCEPTABLE")


def test_account_update() -> None:
    """account_update → event, with the restriction details left in raw."""
    event = only(parse(S.ACCOUNT_UPDATE), AccountUpdateEvent)
    assert (event.field, event.event, event.decision, event.time) == (
        "account_update", "ACCOUNT_RESTRICTION", None, 1641330498)
    assert event.raw["restriction_info"][0]["restriction_type"].startswith("RESTRICTED")


def test_account_review_update_and_alerts() -> None:
    """account_review_update → decision; account_alerts → alert type/severity/status."""
    review = only(parse(S.ACCOUNT_REVIEW), AccountUpdateEvent)
    assert (review.field, review.decision, review.event) == ("account_review_update",
                                                             "APPROVED", None)
    alert = only(parse(S.ACCOUNT_ALERT), AccountUpdateEvent)
    assert (alert.field, alert.alert_type, alert.alert_severity, alert.alert_status) == (
        "account_alerts", "OBA_APPROVED", "CRITICAL", "ACTIVE")


def test_value_level_errors() -> None:
    """A messages value with only errors[] → ValueErrorsEvent for that phone number."""
    event = only(parse(S.VALUE_ERRORS), ValueErrorsEvent)
    assert event.field == "messages" and event.phone_number_id == S.PHONE_ID
    assert event.errors[0].code == 131051
    assert event.errors[0].details == "Message type is currently not supported."


def test_unknown_field() -> None:
    """A field the parser does not handle becomes an UnknownEvent with its value."""
    event = only(parse(S.UNKNOWN_FIELD), UnknownEvent)
    assert event.field == "business_capability_update" and event.waba_id == S.WABA
    assert event.value == S.UNKNOWN_FIELD["entry"][0]["changes"][0]["value"]


def test_status_recipient_bsuid_from_contacts() -> None:
    """Newer status payloads carry contacts[]; the recipient's BSUID is read from them."""
    doc = messages_change(S.messages_value(
        contacts=[S.contact(name="", user_id="US.1349")],
        statuses=[S.status("wamid.1", "delivered")]))
    assert only(parse(doc), StatusEvent).recipient_user_id == "US.1349"
    assert only(parse_webhook(S.DOC_STATUS_SENT), StatusEvent).recipient_user_id is None


def test_unknown_status_value_is_kept_verbatim() -> None:
    """A status value Meta may add later is a normal StatusEvent with the string as sent."""
    assert only(parse(S.UNKNOWN_STATUS), StatusEvent).status == "held_for_quality_review"


# --------------------------------------------------------------------------------------------
# Degrading inside a valid envelope


def messages_change(value: Any) -> dict[str, Any]:
    return S.envelope(S.entry(S.change("messages", value)))


def test_statuses_not_a_list() -> None:
    """`statuses` as a string becomes an UnknownEvent; the messages beside it still parse."""
    events = parse(messages_change(S.messages_value(
        statuses="sent", messages=[S.message("wamid.1", "text", {"body": "x"})])))
    assert [type(e) for e in events] == [UnknownEvent, InboundMessage]
    assert events[0].value == "sent" and events[0].field == "messages"


def test_bad_timestamp_becomes_none() -> None:
    """timestamp "abc" (or a float, or null) reads as None instead of raising."""
    for bad in ("abc", 1.5, None, "", "9" * 5000, True):
        doc = messages_change(S.messages_value(statuses=[S.status("wamid.1", "sent",
                                                                  timestamp=bad)]))
        assert only(parse(doc), StatusEvent).timestamp is None, bad
    numeric = messages_change(S.messages_value(statuses=[S.status("wamid.1", "sent",
                                                                  timestamp=1730000000)]))
    assert only(parse(numeric), StatusEvent).timestamp == 1730000000


@pytest.mark.parametrize("item", [
    "wamid.1", 7, None, [], {"status": "sent"}, {"id": 5, "status": "sent"},
    {"id": "wamid.1"}, {"id": "wamid.1", "status": ["sent"]},
])
def test_malformed_status_item_is_unknown(item: Any) -> None:
    """A status that is not an object or lacks a string id/status is skipped into UnknownEvent."""
    events = parse(messages_change(S.messages_value(statuses=[item, S.status("wamid.OK", "read")])))
    assert [type(e) for e in events] == [UnknownEvent, StatusEvent]
    assert events[0].value == item and events[1].wamid == "wamid.OK"


@pytest.mark.parametrize("item", [
    "hi", 0, None, {"id": "wamid.1"}, {"type": "text"}, {"id": "wamid.1", "type": 3},
])
def test_malformed_message_item_is_unknown(item: Any) -> None:
    """A message that is not an object or lacks a string id/type becomes an UnknownEvent."""
    events = parse(messages_change(S.messages_value(messages=[item])))
    assert only(events, UnknownEvent).value == item


def test_wrong_types_inside_items_become_none() -> None:
    """Wrong-typed optional parts (metadata, context, pricing, text body...) read as None."""
    value = {"metadata": "nope", "contacts": "nope",
             "statuses": [S.status("wamid.1", "sent", conversation=[], pricing={"billable": "yes"},
                                   errors="boom", recipient_id=None)],
             "messages": [S.message("wamid.2", "text", {"body": 42}, context="x",
                                    errors=[None, {"code": "abc", "title": 5}]),
                          S.message("wamid.3", "interactive", {"type": "button_reply",
                                                               "button_reply": "yes"}),
                          S.message("wamid.4", "image", "not-an-object")]}
    status, text, interactive, image = parse(messages_change(value))
    assert status.phone_number_id is None and status.conversation_id is None
    assert status.billable is None and status.errors == () and status.recipient_id is None
    assert text.text is None and text.context_id is None and text.contact_name is None
    assert text.errors == (ErrorDetail(code=None, title=None),)
    assert interactive.interactive_type == "button_reply" and interactive.reply_id is None
    assert image.media_id is None and image.type == "image"


@pytest.mark.parametrize(("value", "reason"), [
    ({"messaging_product": "whatsapp"}, "no statuses, messages or errors"),
    ({"errors": "bad"}, "errors is not a list of objects"),
    ({"messages": {"id": "x"}}, "messages is not a list"),
])
def test_odd_messages_values(value: dict[str, Any], reason: str) -> None:
    """A messages value with nothing usable is reported, not dropped and not raised."""
    assert only(parse(messages_change(value)), UnknownEvent).reason == reason


@pytest.mark.parametrize("entries", [
    ["x"], [None], [{"id": "1"}], [{"id": "1", "changes": "x"}], [{"id": "1", "changes": [5]}],
    [{"id": "1", "changes": [{"field": 5, "value": {}}]}],
    [{"id": "1", "changes": [{"field": "messages", "value": "x"}]}],
    [{"id": "1", "changes": [{"field": "account_update"}]}],
])
def test_malformed_entries_and_changes(entries: list[Any]) -> None:
    """Malformed entries/changes each become one UnknownEvent instead of an exception."""
    events = parse_envelope({"object": "whatsapp_business_account", "entry": entries})
    assert type(only(events, UnknownEvent)) is UnknownEvent


def test_numeric_and_boolean_ids() -> None:
    """IDs sent as JSON numbers become strings; booleans are not IDs."""
    doc = {"object": "whatsapp_business_account", "entry": [
        {"id": 100000000000001, "changes": [S.change("messages", S.messages_value(
            phone_id=True, statuses=[S.status("wamid.1", "sent", recipient=15551234567)]))]}]}
    event = only(parse(doc), StatusEvent)
    assert (event.waba_id, event.phone_number_id, event.recipient_id) == (
        S.WABA, None, "15551234567")


def test_parser_bug_is_contained(monkeypatch: pytest.MonkeyPatch,
                                 caplog: pytest.LogCaptureFixture) -> None:
    """If a field parser raises, that change becomes an UnknownEvent (logged); the batch goes on."""
    def broken(*_: Any) -> None:
        raise KeyError("boom")
    monkeypatch.setitem(webhooks._FIELD_PARSERS, "phone_number_name_update", broken)
    doc = S.envelope(S.entry(S.PHONE_NAME["entry"][0]["changes"][0],
                             S.TEMPLATE_QUALITY["entry"][0]["changes"][0]))
    unknown, quality = parse(doc)
    assert unknown.reason.startswith("parser error: KeyError")
    assert type(quality) is TemplateQualityEvent
    assert "'phone_number_name_update' could not be parsed (KeyError)" in caplog.text


def test_events_are_frozen_hashable_and_hide_raw() -> None:
    """Events cannot be mutated, can be put in sets for dedupe, and repr leaves raw out."""
    events = parse_webhook(S.DOC_INBOUND_TEXT_REPLY) + parse_webhook(S.DOC_STATUS_FAILED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].text = "changed"  # type: ignore[misc]
    assert len({*events, *events}) == 2
    assert "raw=" not in repr(events[0])
    assert not hasattr(events[0], "__dict__")  # slots


# --------------------------------------------------------------------------------------------
# Envelope errors


@pytest.mark.parametrize(("body", "words"), [
    (b"", "not valid JSON"),
    (b"not json", "not valid JSON"),
    (b'{"object": "whatsapp_business_account", "entry": [', "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"object":"whatsapp_business_account","entry":[]}'.encode("utf-16"), "not UTF-8"),
    (b"\xef\xbb\xbf{}", "not valid JSON"),  # UTF-8 BOM
    (b"[]", "must be a JSON object, not a list"),
    (b'"whatsapp_business_account"', "must be a JSON object, not a string"),
    (b"42", "not a number"),
    (b"null", "not null"),
    (b"{}", "has no 'object'"),
    (b'{"object":"page","entry":[]}', "'page'"),
    (b'{"object":"whatsapp_business_account"}', "'entry' must be a list, not null"),
    (b'{"object":"whatsapp_business_account","entry":{}}', "'entry' must be a list"),
    (b'{"object":"whatsapp_business_account","entry":[],"x":NaN}', "NaN is not valid JSON"),
    (b'{"object":"whatsapp_business_account","entry":[Infinity]}', "Infinity"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
])
def test_envelope_errors(body: bytes, words: str) -> None:
    """Bodies that are not a WABA envelope raise WebhookFormatError with a clear message."""
    with pytest.raises(WebhookFormatError, match=words.replace("[", r"\[")) as info:
        parse_webhook(body)
    assert isinstance(info.value, ValueError)


def test_parse_webhook_wants_bytes() -> None:
    """A str body is a programming error (TypeError); bytearray/memoryview are fine."""
    with pytest.raises(TypeError, match="bytes"):
        parse_webhook(S.DOC_STATUS_SENT.decode())  # type: ignore[arg-type]
    assert parse_webhook(bytearray(S.DOC_STATUS_SENT)) == parse_webhook(S.DOC_STATUS_SENT)
    assert parse_webhook(memoryview(S.DOC_STATUS_SENT)) == parse_webhook(S.DOC_STATUS_SENT)


# --------------------------------------------------------------------------------------------
# Signature


def test_sign_matches_hmac_sha256_and_verifies() -> None:
    """sign() is `sha256=` + HMAC-SHA256(secret, body) hex; verify accepts exactly that."""
    expected = hmac.new(SECRET.encode(), S.DOC_STATUS_SENT, hashlib.sha256).hexdigest()
    assert sign(SECRET, S.DOC_STATUS_SENT) == "sha256=" + expected
    assert verify_signature(SECRET, S.DOC_STATUS_SENT, "sha256=" + expected)
    assert SIGNATURE_HEADER == "X-Hub-Signature-256"


def _bad_headers() -> list[Any]:
    good = sign(SECRET, S.DOC_STATUS_SENT)
    digest = good[len("sha256="):]
    sha1 = hmac.new(SECRET.encode(), S.DOC_STATUS_SENT, hashlib.sha1).hexdigest()
    return [
        None, "", "sha256=", digest, "sha1=" + sha1, "sha1=" + digest, "SHA256=" + digest,
        "Sha256=" + digest, "sha256=" + digest.upper(), "sha256:" + digest,
        "sha256=" + digest[:-1], "sha256=" + digest + "0", "sha256=" + digest[:-2] + "zz",
        " " + good, good + " ", good + "\n", "sha256=" + "é" * 64, "sha256=" + "\ud800" * 64,
        "sha256=" + "0" * 64, good.encode(), "sha256= " + digest[1:], "sha512=" + digest,
    ]


@pytest.mark.parametrize("header", _bad_headers())
def test_bad_signature_headers_fail(header: Any) -> None:
    """Missing, other prefix, other case, wrong length, non-hex or padded headers all fail."""
    assert verify_signature(SECRET, S.DOC_STATUS_SENT, header) is False


def test_uppercase_hex_of_the_right_mac_fails() -> None:
    """Meta sends lowercase hex; the same MAC in uppercase (however it came) is refused."""
    digest = sign(SECRET, S.DOC_STATUS_SENT)[7:]
    assert any(c.isalpha() for c in digest)
    assert not verify_signature(SECRET, S.DOC_STATUS_SENT, "sha256=" + digest.upper())


def test_reserialised_body_fails() -> None:
    """The signature of the received bytes does not cover json.dumps(json.loads(raw))."""
    # Meta-style escapes (\u for non-ASCII, \/ in URLs) that no json.dumps reproduces.
    unicode_body = ('{"object":"whatsapp_business_account","entry":[],'
                    '"n":"Jos\\u00e9 \\ud83d\\ude00","u":"https:\\/\\/wa.me\\/1"}')
    for raw in [*S.DOC_SAMPLES.values(), unicode_body.encode()]:
        header = sign(SECRET, raw)
        assert verify_signature(SECRET, raw, header)
        for again in (json.dumps(json.loads(raw)).encode(),
                      json.dumps(json.loads(raw), ensure_ascii=False).encode(),
                      json.dumps(json.loads(raw), separators=(",", ":")).encode()):
            assert again != raw
            assert not verify_signature(SECRET, again, header)


def test_wrong_or_empty_secret_fails() -> None:
    """Another app's secret fails; an empty secret fails even against its own signature."""
    raw = S.DOC_STATUS_FAILED
    assert not verify_signature("another-secret", raw, sign(SECRET, raw))
    assert not verify_signature("", raw, sign("", raw))
    assert not verify_signature(None, raw, sign(SECRET, raw))  # type: ignore[arg-type]


def test_constant_time_compare_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both the signature and the verify token are compared with hmac.compare_digest."""
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    header = sign(SECRET, S.DOC_STATUS_SENT)
    assert verify_signature(SECRET, S.DOC_STATUS_SENT, header)
    assert calls == [(header[7:], header[7:])]
    calls.clear()
    assert answer_challenge({"hub.mode": "subscribe", "hub.verify_token": "tok",
                             "hub.challenge": "1"}, "tok") == (200, "1")
    assert calls == [(b"tok", b"tok")]


# --------------------------------------------------------------------------------------------
# GET handshake

TOKEN = "my-verify-token"


def hub(**params: Any) -> dict[str, Any]:
    return {f"hub.{key}": value for key, value in params.items()}


def test_challenge_right_token_echoes_exactly() -> None:
    """The right token answers 200 with the challenge byte for byte."""
    for challenge in ("1158201444", "abc DEF-_.~%20", "é😀", " 12 "):
        assert answer_challenge(hub(mode="subscribe", verify_token=TOKEN, challenge=challenge),
                                TOKEN) == (200, challenge)


@pytest.mark.parametrize(("params", "configured"), [
    (hub(mode="subscribe", verify_token="wrong", challenge="1"), TOKEN),
    (hub(mode="subscribe", verify_token=TOKEN.upper(), challenge="1"), TOKEN),
    (hub(mode="subscribe", verify_token=TOKEN + " ", challenge="1"), TOKEN),
    (hub(mode="subscribe", challenge="1"), TOKEN),
    (hub(mode="subscribe", verify_token="", challenge="1"), TOKEN),
    (hub(mode="subscribe", verify_token="", challenge="1"), ""),
    (hub(mode="subscribe", verify_token=TOKEN, challenge="1"), ""),
    (hub(mode="unsubscribe", verify_token=TOKEN, challenge="1"), TOKEN),
    (hub(mode="SUBSCRIBE", verify_token=TOKEN, challenge="1"), TOKEN),
    (hub(verify_token=TOKEN, challenge="1"), TOKEN),
    (hub(mode="subscribe", verify_token=TOKEN), TOKEN),
    (hub(mode="subscribe", verify_token=TOKEN, challenge=""), TOKEN),
    (hub(mode="subscribe", verify_token=[TOKEN], challenge="1"), TOKEN),
    (hub(mode="subscribe", verify_token=TOKEN, challenge=["1"]), TOKEN),
    ({}, TOKEN),
])
def test_challenge_refused(params: dict[str, Any], configured: str) -> None:
    """Wrong/missing token, wrong mode or missing challenge → 403 with an empty body."""
    assert answer_challenge(params, configured) == (403, "")


# --------------------------------------------------------------------------------------------
# Fuzz

BASE_BODIES = [*S.DOC_SAMPLES.values(), S.body_of(S.batched()), S.body_of(S.BUTTON_REPLY)]


@st.composite
def mutated_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(original, mutated): byte flips, truncation, appended bytes or re-serialisation."""
    original = draw(st.sampled_from(BASE_BODIES))
    kind = draw(st.sampled_from(["flip", "truncate", "append", "reserialise", "combo"]))
    data = bytearray(original)
    if kind in ("flip", "combo"):
        for _ in range(draw(st.integers(1, 4))):
            index = draw(st.integers(0, len(data) - 1))
            data[index] ^= draw(st.integers(1, 255))
    if kind in ("truncate", "combo"):
        data = data[:draw(st.integers(0, len(data) - 1))]
    if kind in ("append", "combo"):
        data += draw(st.binary(min_size=1, max_size=16))
    if kind == "reserialise":
        doc = json.loads(original)
        data = bytearray(json.dumps(doc, indent=draw(st.sampled_from([None, 0, 1, 2])),
                                    ensure_ascii=draw(st.booleans()),
                                    sort_keys=draw(st.booleans())).encode())
    return original, bytes(data)


@FUZZ
@given(mutated_bodies())
def test_fuzz_mutated_bodies_never_verify(pair: tuple[bytes, bytes]) -> None:
    """No body mutation passes the original body's signature."""
    original, mutated = pair
    assume(mutated != original)
    assert not verify_signature(SECRET, mutated, sign(SECRET, original))


@st.composite
def mutated_headers(draw: st.DrawFn) -> tuple[bytes, str]:
    body = draw(st.sampled_from(BASE_BODIES))
    good = sign(SECRET, body)
    kind = draw(st.sampled_from(["text", "flip", "prefix", "case"]))
    if kind == "text":
        header = draw(st.text(max_size=80) | st.from_regex(r"sha256=[0-9a-fA-F]{60,68}",
                                                           fullmatch=True))
    elif kind == "flip":
        chars = list(good)
        index = draw(st.integers(7, len(chars) - 1))
        chars[index] = draw(st.sampled_from("0123456789abcdefABCDEF"))
        header = "".join(chars)
    elif kind == "prefix":
        header = draw(st.sampled_from(["sha1=", "SHA256=", "sha512=", "", "sha256", "sha256:",
                                       "sha-256=", "sha256==", "md5="])) + good[7:]
    else:
        header = "".join(c.upper() if draw(st.booleans()) else c for c in good)
    return body, header


@FUZZ
@given(mutated_headers())
def test_fuzz_mutated_signatures_never_verify(pair: tuple[bytes, str]) -> None:
    """Any header other than the exact right one is refused (and never raises)."""
    body, header = pair
    assert verify_signature(SECRET, body, header) is (header == sign(SECRET, body))


@FUZZ
@given(st.binary(max_size=300) | mutated_bodies().map(lambda pair: pair[1]))
def test_fuzz_parse_arbitrary_bytes(body: bytes) -> None:
    """parse_webhook on any bytes returns a list or raises WebhookFormatError, nothing else."""
    try:
        events = parse_webhook(body)
    except WebhookFormatError:
        return
    assert isinstance(events, list)


JSON_LEAVES = (st.none() | st.booleans() | st.integers() | st.text(max_size=8)
               | st.floats(allow_nan=False, allow_infinity=False))
KEYS = ["id", "status", "statuses", "messages", "errors", "contacts", "metadata", "timestamp",
        "type", "text", "body", "button", "payload", "interactive", "button_reply", "list_reply",
        "title", "image", "caption", "mime_type", "context", "from", "wa_id", "profile", "name",
        "conversation", "origin", "pricing", "billable", "code", "error_data", "details",
        "phone_number_id", "display_phone_number", "event", "message_template_id", "changes",
        "field", "value", "recipient_id", "expiration_timestamp", "user_id", "decision"]
JSON_VALUES = st.recursive(
    JSON_LEAVES | st.sampled_from(["text", "image", "button", "interactive", "button_reply",
                                   "list_reply", "sent", "messages"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=6),
    max_leaves=30)
FIELDS = ["messages", "message_template_status_update", "message_template_quality_update",
          "template_category_update", "phone_number_quality_update", "phone_number_name_update",
          "account_update", "account_review_update", "account_alerts", "security"]


@FUZZ
@given(JSON_VALUES)
def test_fuzz_parse_envelope_arbitrary_json(doc: Any) -> None:
    """parse_envelope on any JSON value returns a list or raises WebhookFormatError."""
    try:
        events = parse_envelope(doc)
    except WebhookFormatError:
        return
    assert isinstance(events, list)


@FUZZ
@given(st.lists(st.fixed_dictionaries({"id": JSON_LEAVES, "changes": st.lists(
    st.fixed_dictionaries({"field": st.sampled_from(FIELDS), "value": JSON_VALUES}),
    max_size=3)}) | JSON_VALUES, max_size=3))
def test_fuzz_envelope_shaped_json(entries: list[Any]) -> None:
    """Inside a valid envelope any JSON degrades: never an exception, never a contained bug."""
    events = parse_envelope({"object": "whatsapp_business_account", "entry": entries})
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, EVENT_TYPES)
        assert not (isinstance(event, UnknownEvent) and event.reason.startswith("parser error"))
        hash(event)


BASE_DOCS = [json.loads(raw) for raw in S.DOC_SAMPLES.values()] + [
    S.batched(), S.BUTTON, S.BUTTON_REPLY, S.LIST_REPLY, S.IMAGE, S.TEMPLATE_QUALITY,
    S.TEMPLATE_CATEGORY, S.PHONE_QUALITY, S.PHONE_NAME, S.ACCOUNT_ALERT, S.VALUE_ERRORS]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def damaged_docs(draw: st.DrawFn) -> Any:
    """A real payload with 1-3 of its parts (any depth) replaced by arbitrary JSON."""
    doc = json.loads(json.dumps(draw(st.sampled_from(BASE_DOCS))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        replacement = draw(JSON_VALUES)
        if not path:
            return replacement
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = replacement
    return doc


@FUZZ
@given(damaged_docs())
def test_fuzz_damaged_real_payloads(doc: Any) -> None:
    """Real payloads with parts swapped for junk still parse (or fail only at the envelope)."""
    try:
        events = parse_envelope(doc)
    except WebhookFormatError:
        return
    for event in events:
        assert not (isinstance(event, UnknownEvent) and event.reason.startswith("parser error"))
        hash(event)
