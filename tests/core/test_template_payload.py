"""The template payload builder: create-template request and template send (meta-api.md §b, §d),
and the send as GraphClient posts it, accepted by the sandbox emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.sandbox_account import PHONE, RECIPIENT, TOKEN
from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.payload import (
    HEADER_MEDIA_KEY,
    PayloadError,
    create_request,
    send_components,
    send_request,
    url_key,
)
from wa_console.meta.client import ClientConfig, GraphClient
from wa_console.sandbox import SandboxServer, seeded_world

# Drafts matching the emulator's seeded templates (wa_console/sandbox/world.py _fixed_templates).
ORDER_UPDATE = TemplateDraft(
    name="order_update", language="en_US", category=Category.UTILITY,
    body="Hi {{1}}, your order will arrive on {{2}}. Reply to this message if anything is wrong.",
    header_format=HeaderFormat.TEXT, header_text="Order {{1}}",
    footer="Sandbox Store (simulated)",
    buttons=(Button(ButtonType.QUICK_REPLY, "Looks good"),
             Button(ButtonType.QUICK_REPLY, "Change date")),
    header_keys=("order_no",), body_keys=("first_name", "delivery_day"),
    samples={"order_no": "A-1001", "first_name": "Ana", "delivery_day": "Friday"})
APPOINTMENT = TemplateDraft(
    name="appointment_reminder", language="en_US", category=Category.UTILITY,
    parameter_format=ParameterFormat.NAMED,
    body="Hello {{first_name}}, your appointment is on {{appointment_date}} at "
         "{{appointment_time}}. Reply to reschedule.",
    header_format=HeaderFormat.TEXT, header_text="Appointment reminder",
    body_keys=("first_name", "appointment_date", "appointment_time"),
    samples={"first_name": "Ana", "appointment_date": "May 5", "appointment_time": "9:30"})
WELCOME = TemplateDraft(
    name="welcome_offer", language="en_US", category=Category.MARKETING,
    body="Welcome {{1}}! Use code {{2}} for 10% off your first order.",
    header_format=HeaderFormat.IMAGE, header_handle="4::aW1hZ2U=:ARb",
    buttons=(Button(ButtonType.URL, "Shop now", url="https://example.com/shop?c={{1}}",
                    url_sample="WELCOME10"),),
    body_keys=("first_name", "code"),
    samples={"first_name": "Ana", "code": "WELCOME10",
             HEADER_MEDIA_KEY: "https://example.com/welcome.jpg"})
NAMED_HEADER = TemplateDraft(
    name="class_notice", language="en_US", category=Category.UTILITY,
    parameter_format=ParameterFormat.NAMED,
    body="Dear {{guardian}}, {{student}} was absent today. Please call us.",
    header_format=HeaderFormat.TEXT, header_text="Class {{class_code}}",
    footer="School office",
    buttons=(Button(ButtonType.PHONE_NUMBER, "Call us", phone_number="+15551234567"),),
    header_keys=("class_code",), body_keys=("guardian", "student"),
    samples={"class_code": "B-12", "guardian": "Mr Silva", "student": "Rui"})


def test_create_request_positional_header_body_footer_quick_replies() -> None:
    """Positional create body: header_text example, body_text list-of-one-list, footer, buttons."""
    assert create_request(ORDER_UPDATE) == {
        "name": "order_update", "language": "en_US", "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
             "example": {"header_text": ["A-1001"]}},
            {"type": "BODY", "text": ORDER_UPDATE.body,
             "example": {"body_text": [["Ana", "Friday"]]}},
            {"type": "FOOTER", "text": "Sandbox Store (simulated)"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Looks good"},
                                            {"type": "QUICK_REPLY", "text": "Change date"}]}]}


def test_create_request_named_uses_named_param_examples() -> None:
    """Named create body: header/body examples are {param_name, example} lists in text order."""
    components = create_request(NAMED_HEADER)["components"]
    assert create_request(NAMED_HEADER)["parameter_format"] == "NAMED"
    assert components[0]["example"] == {
        "header_text_named_params": [{"param_name": "class_code", "example": "B-12"}]}
    assert components[1]["example"] == {"body_text_named_params": [
        {"param_name": "guardian", "example": "Mr Silva"},
        {"param_name": "student", "example": "Rui"}]}
    assert components[3] == {"type": "BUTTONS", "buttons": [
        {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15551234567"}]}


def test_create_request_media_header_and_url_button_example() -> None:
    """A media header carries header_handle; a URL variable gets a full-URL example."""
    components = create_request(WELCOME)["components"]
    assert components[0] == {"type": "HEADER", "format": "IMAGE",
                             "example": {"header_handle": ["4::aW1hZ2U=:ARb"]}}
    assert components[-1] == {"type": "BUTTONS", "buttons": [
        {"type": "URL", "text": "Shop now", "url": "https://example.com/shop?c={{1}}",
         "example": ["https://example.com/shop?c=WELCOME10"]}]}


def test_create_request_positional_examples_follow_index_order() -> None:
    """body_text is in index order even when the text uses {{2}} first; samples by index too."""
    draft = TemplateDraft(name="t", language="en", category=Category.UTILITY,
                          body="On {{2}} we see {{1}} there.", body_keys=("who", "when"),
                          samples={"who": "Ana", "2": "Monday"})
    assert create_request(draft)["components"] == [
        {"type": "BODY", "text": "On {{2}} we see {{1}} there.",
         "example": {"body_text": [["Ana", "Monday"]]}}]


def test_create_request_without_variables_has_no_example() -> None:
    """A plain body has no example block and no header/footer/buttons components."""
    draft = TemplateDraft(name="plain", language="en", category=Category.UTILITY,
                          body="Office closed today.")
    assert create_request(draft)["components"] == [{"type": "BODY",
                                                    "text": "Office closed today."}]


def test_send_components_positional_header_and_body_in_key_order() -> None:
    """Positional send: header then body text parameters in key order; quick replies omitted."""
    assert send_components(ORDER_UPDATE) == [
        {"type": "header", "parameters": [{"type": "text", "text": "A-1001"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                        {"type": "text", "text": "Friday"}]}]


def test_send_components_named_carry_parameter_name() -> None:
    """Named send: every header/body parameter carries its parameter_name."""
    assert send_components(NAMED_HEADER, {"class_code": "C-3", "guardian": "Ms Lee",
                                          "student": "Kim"}) == [
        {"type": "header", "parameters": [
            {"type": "text", "text": "C-3", "parameter_name": "class_code"}]},
        {"type": "body", "parameters": [
            {"type": "text", "text": "Ms Lee", "parameter_name": "guardian"},
            {"type": "text", "text": "Kim", "parameter_name": "student"}]}]


def test_send_components_url_button_and_media_header() -> None:
    """A URL variable becomes a button component at its index; a media header an image link."""
    values = {"first_name": "Rui", "code": "HELLO5", url_key(0): "HELLO5",
              HEADER_MEDIA_KEY: "1234567890"}
    assert send_components(WELCOME, values) == [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": "1234567890"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Rui"},
                                        {"type": "text", "text": "HELLO5"}]},
        {"type": "button", "sub_type": "url", "index": "0",
         "parameters": [{"type": "text", "text": "HELLO5"}]}]
    assert send_components(WELCOME)[2]["parameters"] == [{"type": "text", "text": "WELCOME10"}]


def test_send_components_positional_values_by_index() -> None:
    """Positional values may be given by index text when the key is absent."""
    assert send_components(ORDER_UPDATE, {"1": "B-7", "first_name": "Rui", "2": "Monday"}) == [
        {"type": "header", "parameters": [{"type": "text", "text": "B-7"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Rui"},
                                        {"type": "text", "text": "Monday"}]}]


def test_send_components_omit_empty_components() -> None:
    """A draft without parameters sends no components (and no components key at all)."""
    draft = TemplateDraft(name="plain", language="en", category=Category.UTILITY,
                          body="Office closed today.", header_format=HeaderFormat.TEXT,
                          header_text="Notice")
    assert send_components(draft) == []
    assert "components" not in send_request(draft, RECIPIENT)["template"]


@pytest.mark.parametrize(("draft", "values", "key"), [
    (ORDER_UPDATE, {"order_no": "A-1", "first_name": "Ana"}, "delivery_day"),
    (ORDER_UPDATE, {"first_name": "Ana", "delivery_day": "Fri"}, "order_no"),
    (ORDER_UPDATE, {"order_no": "A-1", "first_name": "", "delivery_day": "Fri"}, "first_name"),
    (NAMED_HEADER, {"class_code": "B", "guardian": "G"}, "student"),
    (WELCOME, {"first_name": "A", "code": "C", HEADER_MEDIA_KEY: "1"}, url_key(0)),
    (WELCOME, {"first_name": "A", "code": "C", url_key(0): "C"}, HEADER_MEDIA_KEY),
])
def test_missing_value_raises_payload_error_naming_the_key(draft, values, key) -> None:
    """A missing (or empty) value raises PayloadError (a ValueError) that names the key."""
    with pytest.raises(PayloadError) as raised:
        send_components(draft, values)
    assert raised.value.key == key
    assert repr(key) in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_location_header_send_is_refused_clearly() -> None:
    """A LOCATION header cannot be built from text values: a clear PayloadError, not a bad send."""
    draft = TemplateDraft(name="t", language="en", category=Category.UTILITY, body="Hi there.",
                          header_format=HeaderFormat.LOCATION)
    with pytest.raises(PayloadError, match="LOCATION"):
        send_components(draft, {HEADER_MEDIA_KEY: "x"})


def test_send_request_matches_graph_client_shape() -> None:
    """The full send body: messaging_product, recipient, type and template with policy."""
    assert send_request(APPOINTMENT, RECIPIENT) == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": RECIPIENT,
        "type": "template",
        "template": {"name": "appointment_reminder",
                     "language": {"code": "en_US", "policy": "deterministic"},
                     "components": send_components(APPOINTMENT)}}


# --- the same builder through GraphClient, against the emulator -------------------------------

@pytest.fixture(scope="module")
def emulator() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=0), "127.0.0.1", 0) as server:
        yield server


@pytest.mark.parametrize("draft", [ORDER_UPDATE, APPOINTMENT, WELCOME],
                         ids=lambda d: d.name)
def test_graph_client_sends_exactly_send_request(emulator, draft) -> None:
    """send_components through GraphClient.send_template: recorded body == send_request, wamid."""
    emulator.requests.clear()
    client = GraphClient(ClientConfig(base_url=emulator.base_url, max_attempts=1),
                         token=lambda: TOKEN)
    with client:
        result = client.send_template(PHONE, RECIPIENT, draft.name, draft.language,
                                      send_components(draft))
    assert result.wamid.startswith("wamid.")
    (recorded,) = list(emulator.requests)
    assert recorded.status == 200
    assert json.loads(recorded.body) == send_request(draft, RECIPIENT)
