"""Template create / review / edit / delete over HTTP, and the status webhooks of reviews."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.conftest import APP_SECRET, WABA, call, error_of, wait_for
from wa_console.meta.webhooks import (
    SIGNATURE_HEADER,
    TemplateStatusEvent,
    parse_webhook,
    verify_signature,
)

NOTICE = {"name": "class_notice", "language": "en_US", "category": "UTILITY",
          "components": [{"type": "BODY", "text": "Hello {{1}}, your class starts at {{2}}.",
                          "example": {"body_text": [["Ana", "9:00"]]}}]}


def create(server, body: dict, **kwargs):
    return call(server, "POST", f"{WABA}/message_templates", json=body, **kwargs)


def status_of(server, template_id: str) -> dict:
    return call(server, "GET", template_id, params={"fields": "status,rejected_reason"}).json()


def test_create_is_pending_then_approved_at_once(server) -> None:
    """review_delay 0: the answer says PENDING, the template is APPROVED right after."""
    answer = create(server, NOTICE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "PENDING" and body["category"] == "UTILITY" and body["id"].isdigit()
    assert status_of(server, body["id"]) == {"status": "APPROVED", "rejected_reason": "NONE",
                                             "id": body["id"]}


def test_create_with_a_review_delay(server) -> None:
    """With review_delay > 0 the template stays PENDING until the review runs."""
    server.world.review_delay = 0.3
    template_id = create(server, NOTICE).json()["id"]
    assert status_of(server, template_id)["status"] == "PENDING"
    wait_for(lambda: status_of(server, template_id)["status"] == "APPROVED", timeout=5)


def test_review_sends_a_signed_status_webhook(server, receiver) -> None:
    """Approval arrives as a signed message_template_status_update at the app callback."""
    server.world.callback_url = receiver.url
    template_id = create(server, NOTICE).json()["id"]
    ((headers, raw),) = receiver.take(1)
    assert verify_signature(APP_SECRET, raw, headers[SIGNATURE_HEADER])
    (event,) = parse_webhook(raw)
    assert isinstance(event, TemplateStatusEvent)
    assert (event.event, event.template_id, event.name, event.language, event.waba_id) == (
        "APPROVED", template_id, "class_notice", "en_US", WABA)
    assert isinstance(json.loads(raw)["entry"][0]["changes"][0]["value"]["message_template_id"],
                      int)


@pytest.mark.parametrize(("text", "example"), [
    ("Hello {{1}}, see you at {{3}} today.", [["Ana", "9"]]),          # gap
    ("Hello {{2}}, see you soon today.", [["Ana"]]),                    # not starting at 1
    ("Hello {{1}}, see you at {{time}} today.", [["Ana", "9"]]),       # mixed
    ("{{1}}, see you at noon today.", [["Ana"]]),                       # starts with a variable
    ("See you at noon today, {{1}}", [["Ana"]]),                        # ends with a variable
    ("Hello {{1}}{{2}} see you today.", [["Ana", "B"]]),               # adjacent
    ("Hello {{1}}, see you at {{2}} today.", None),                     # no example
    ("Hello {{1}}, see you at {{2}} today.", [["Ana"]]),                # short example
])
def test_invalid_placeholders_are_rejected(server, receiver, text, example) -> None:
    """Bad variables are REJECTED with INVALID_FORMAT, announced by webhook."""
    server.world.callback_url = receiver.url
    component = {"type": "BODY", "text": text}
    if example is not None:
        component["example"] = {"body_text": example}
    template_id = create(server, {**NOTICE, "components": [component]}).json()["id"]
    assert status_of(server, template_id)["rejected_reason"] == "INVALID_FORMAT"
    (event,) = parse_webhook(receiver.take(1)[0][1])
    assert (event.event, event.reason) == ("REJECTED", "INVALID_FORMAT")
    assert event.rejection_info["reason"] == "INVALID_FORMAT"


def test_named_template_is_approved_and_named_rules_apply(server) -> None:
    """NAMED templates with body_text_named_params pass; positional vars in them do not."""
    named = {"name": "named_notice", "language": "pt_BR", "category": "MARKETING",
             "parameter_format": "NAMED", "components": [
                 {"type": "HEADER", "format": "TEXT", "text": "Oi {{first_name}}",
                  "example": {"header_text_named_params": [
                      {"param_name": "first_name", "example": "Ana"}]}},
                 {"type": "BODY", "text": "Olá {{first_name}}, seu código é {{code}} hoje.",
                  "example": {"body_text_named_params": [
                      {"param_name": "first_name", "example": "Ana"},
                      {"param_name": "code", "example": "X1"}]}}]}
    good = create(server, named).json()["id"]
    assert status_of(server, good)["status"] == "APPROVED"
    bad_body = {**named["components"][1], "text": "Olá {{1}}, seu código é {{code}} hoje."}
    bad = create(server, {**named, "name": "named_bad",
                          "components": [bad_body]}).json()["id"]
    assert status_of(server, bad)["rejected_reason"] == "INVALID_FORMAT"


def test_media_header_without_handle_is_rejected(server) -> None:
    """An IMAGE header without example.header_handle is rejected at review."""
    body = {**NOTICE, "components": [{"type": "HEADER", "format": "IMAGE"},
                                     *NOTICE["components"]]}
    assert status_of(server, create(server, body).json()["id"])["status"] == "REJECTED"


@pytest.mark.parametrize(("change", "expected"), [
    ({"name": "Bad Name"}, "Invalid template name"),
    ({"name": None}, "name is required"),
    ({"language": "xx_YY"}, "Invalid language"),
    ({"category": "TRANSACTIONAL"}, "category must be one of"),
    ({"components": [{"type": "FOOTER", "text": "x"}]}, "needs a BODY"),
    ({"components": [{"type": "WIDGET"}]}, "Unknown component type"),
    ({"components": []}, "components is required"),
])
def test_create_refuses_malformed_requests(server, change, expected) -> None:
    """Structural problems are refused at once with code 100 and a readable reason."""
    body = {k: v for k, v in {**NOTICE, **change}.items() if v is not None}
    answer = create(server, body)
    error = error_of(answer)
    assert answer.status_code == 400 and error["code"] == 100
    assert expected in error["message"] + " " + error.get("error_user_title", "") + " " + \
        error.get("error_user_msg", "")


def test_duplicate_name_and_language_is_refused(server) -> None:
    """Creating the same name+language twice is 100/2388024 with a user message."""
    assert create(server, NOTICE).status_code == 200
    error = error_of(create(server, NOTICE))
    assert (error["code"], error["error_subcode"]) == (100, 2388024)
    assert "already" in error["error_user_msg"]
    assert create(server, {**NOTICE, "language": "en_GB"}).status_code == 200


def test_form_encoded_create_is_accepted(server) -> None:
    """Graph also takes form fields, with components as a JSON string."""
    answer = call(server, "POST", f"{WABA}/message_templates", data={
        "name": "form_notice", "language": "en_US", "category": "UTILITY",
        "components": json.dumps(NOTICE["components"])})
    assert answer.status_code == 200 and answer.json()["status"] == "PENDING"


def test_edit_goes_back_through_review(server) -> None:
    """Editing an APPROVED template re-reviews it; a PENDING one cannot be edited."""
    server.world.review_delay = 0.3
    template_id = create(server, NOTICE).json()["id"]
    pending_edit = call(server, "POST", template_id, json={"category": "MARKETING"})
    assert error_of(pending_edit)["code"] == 100
    wait_for(lambda: status_of(server, template_id)["status"] == "APPROVED")
    edited = call(server, "POST", template_id, json={"category": "MARKETING", "components": [
        {"type": "BODY", "text": "Hi {{1}}, class moved to {{2}}.",
         "example": {"body_text": [["Ana", "10:00"]]}}]})
    assert edited.json() == {"success": True}
    assert status_of(server, template_id)["status"] == "PENDING"
    wait_for(lambda: status_of(server, template_id)["status"] == "APPROVED")
    body = call(server, "GET", template_id,
                params={"fields": "category,previous_category,components"}).json()
    assert body["category"] == "MARKETING" and body["previous_category"] == "UTILITY"
    assert "moved" in body["components"][0]["text"]
    renamed = call(server, "POST", template_id, json={"name": "other_name"})
    assert error_of(renamed)["code"] == 100


def test_edit_a_rejected_template_to_approval(server) -> None:
    """A REJECTED template fixed by an edit is APPROVED."""
    bad = {**NOTICE, "components": [{"type": "BODY", "text": "{{1}} starts now."}]}
    template_id = create(server, bad).json()["id"]
    assert status_of(server, template_id)["status"] == "REJECTED"
    call(server, "POST", template_id, json={"components": NOTICE["components"]})
    assert status_of(server, template_id)["status"] == "APPROVED"


def test_delete_by_name_and_id(server) -> None:
    """DELETE ?name=&hsm_id= removes one language; ?name= removes all; unknown is 100."""
    first = create(server, NOTICE).json()["id"]
    second = create(server, {**NOTICE, "language": "es"}).json()["id"]
    one = call(server, "DELETE", f"{WABA}/message_templates",
               params={"name": "class_notice", "hsm_id": first})
    assert one.json() == {"success": True}
    assert error_of(call(server, "GET", first))["error_subcode"] == 33
    assert call(server, "GET", second).status_code == 200
    assert call(server, "DELETE", f"{WABA}/message_templates",
                params={"name": "class_notice"}).json() == {"success": True}
    assert call(server, "GET", second).status_code == 400
    missing = call(server, "DELETE", f"{WABA}/message_templates", params={"name": "nope"})
    assert error_of(missing)["code"] == 100
    assert error_of(call(server, "DELETE", f"{WABA}/message_templates"))["code"] == 100


def test_review_overrides_force_an_outcome(server) -> None:
    """world.review_overrides makes the review return the configured status and reason."""
    server.world.review_overrides["class_notice"] = ("REJECTED", "PROMOTIONAL")
    template_id = create(server, NOTICE).json()["id"]
    assert status_of(server, template_id)["rejected_reason"] == "PROMOTIONAL"


def test_no_messaging_token_can_manage_templates(server) -> None:
    """The management-only token can create templates; other_waba cannot (200)."""
    ok = create(server, NOTICE, token=server.world.tokens["no_messaging"].value)
    assert ok.status_code == 200
    denied = create(server, {**NOTICE, "name": "x_notice"},
                    token=server.world.tokens["other_waba"].value)
    assert denied.status_code == 403 and error_of(denied)["code"] == 200
