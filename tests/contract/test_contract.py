"""Contract tests: every request the Graph client sends to the sandbox emulator and every answer the
emulator gives are checked against Meta's official OpenAPI spec (shared/meta-openapi/), operation
by named operation; endpoints the spec lacks are checked against shared/meta-api.md §b.

Where the spec is knowingly wrong, the departure is listed in SPEC_EXCEPTIONS (and, for query
parameters the spec does not declare, in UNDECLARED_QUERY_OK) below, with the spec line and the
meta-api.md passage that justify it. Nothing else is relaxed.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.contract.conftest import SPEC_FILE
from tests.contract.spec_harness import (
    GRAPH_CORE_CONTRACTS,
    MISSING,
    SpecContract,
    SpecException,
    apply_exceptions,
    core_request_errors,
    core_response_errors,
    format_report,
)
from tests.support.sandbox_account import APP_ID, APP_SECRET, PHONE, RECIPIENT, TOKEN, WABA
from wa_console.meta.client import ClientConfig, GraphClient
from wa_console.meta.errors import GraphApiError
from wa_console.sandbox import RecordedRequest, SandboxServer, seeded_world

# --- which operation each call is ----------------------------------------------------------------
# operationId -> (method, path template). The templates collide (/{a}/{b}), so the operation of
# every exchange is named by the test, never found by URL matching.
SPEC_OPERATIONS: dict[str, tuple[str, str]] = {
    "getWhatsAppBusinessAccountDetails": ("get", "/{Version}/{WABA-ID}"),
    "getWhatsAppBusinessAccountPhoneNumbers": ("get", "/{Version}/{WABA-ID}/phone_numbers"),
    "getPhoneNumberById": ("get", "/{Version}/{Phone-Number-ID}"),
    "updatePhoneNumberStatus": ("post", "/{Version}/{Phone-Number-ID}"),
    "getAllSubscriptionsForAWaba": ("get", "/{Version}/{WABA-ID}/subscribed_apps"),
    "subscribeToWabaWebhooks": ("post", "/{Version}/{WABA-ID}/subscribed_apps"),
    "unsubscribeFromWabaWebhooks": ("delete", "/{Version}/{WABA-ID}/subscribed_apps"),
    "getTemplateByNameDefaultFields": ("get", "/{Version}/{WABA-ID}/message_templates"),
    # The path's only POST. Its name comes from one of its examples, but its request schema is
    # the generic template-creation object (name, language, category, components).
    "createAuthenticationTemplateWOtpCopyCodeButton": (
        "post", "/{Version}/{WABA-ID}/message_templates"),
    "deleteTemplateByName": ("delete", "/{Version}/{WABA-ID}/message_templates"),
    "getTemplateByIdDefaultFields": ("get", "/{Version}/{TEMPLATE_ID}"),
    "editTemplate": ("post", "/{Version}/{TEMPLATE_ID}"),
    "sendMessage": ("post", "/{Version}/{Phone-Number-ID}/messages"),
}
CREATE_TEMPLATE = "createAuthenticationTemplateWOtpCopyCodeButton"

# GraphClient method -> the operations it uses (Graph core endpoints by their meta-api.md name).
CLIENT_METHODS: dict[str, tuple[str, ...]] = {
    "debug_token": ("debug_token",),
    "waba": ("getWhatsAppBusinessAccountDetails",),
    "phone_numbers": ("getWhatsAppBusinessAccountPhoneNumbers",),
    "phone_number": ("getPhoneNumberById",),
    "subscribed_apps": ("getAllSubscriptionsForAWaba",),
    "subscribe_app": ("subscribeToWabaWebhooks",),
    "unsubscribe_app": ("unsubscribeFromWabaWebhooks",),
    "app_subscriptions": ("app_subscriptions",),
    "iter_templates": ("getTemplateByNameDefaultFields",),
    "template": ("getTemplateByIdDefaultFields",),
    "create_template": (CREATE_TEMPLATE,),
    "edit_template": ("editTemplate",),
    "delete_template": ("deleteTemplateByName",),
    "send_template": ("sendMessage",),
    "send_text": ("sendMessage",),
    "send_payload": ("sendMessage",),
}
# Public GraphClient callables that are plumbing, not endpoints.
CLIENT_PLUMBING = {"close", "url", "paginate", "app_access_token"}

# --- THE place where the spec is overridden ---------------------------------------------------
# Each entry: JSON pointer, what the spec says there now (checked: if Meta fixes the spec the test
# fails and the entry must go), what the contract uses instead, the spec line, and why.
SPEC = "business-messaging-api_v23.0.yaml"


def _one_of(prop: str, mapping: dict[str, str]) -> dict[str, Any]:
    """A discriminated oneOf over component schemas (`value -> schema name`)."""
    refs = {value: f"#/components/schemas/{name}" for value, name in mapping.items()}
    return {"oneOf": [{"$ref": ref} for ref in refs.values()],
            "discriminator": {"propertyName": prop, "mapping": refs}}


SPEC_EXCEPTIONS: tuple[SpecException, ...] = (
    # TextMessage = allOf[BaseMessageProperties, {additionalProperties: false, properties:
    # {type, text}}]. In JSON Schema `additionalProperties` only sees its own sibling
    # `properties`, so the second branch forbids messaging_product/recipient_type/to, which the
    # first branch requires: no text message can ever pass. meta-api.md §h (24-hour window:
    # free-form text) and §b (every send carries messaging_product, recipient_type, to) describe
    # the body Meta accepts. The intent (no unknown keys) is kept with `unevaluatedProperties`,
    # which does see the allOf siblings.
    SpecException(
        pointer="/components/schemas/TextMessage/allOf/1/additionalProperties",
        expected=False, replacement=MISSING, spec_line=2111,
        anchor="additionalProperties: false",
        why=f"{SPEC}:2111 allOf branch forbids the fields its sibling requires; "
            "meta-api.md §b/§h"),
    SpecException(
        pointer="/components/schemas/TextMessage/unevaluatedProperties",
        expected=MISSING, replacement=False, spec_line=2107, anchor="TextMessage:",
        why=f"{SPEC}:2107 same rule (no unknown keys), stated so that allOf siblings count"),
    # Button index: the spec's own description says "Position index of the button (0-9)" and
    # its example is '0' (line 1651), yet the pattern is the character class [2-6, 11-14]
    # (matches one of 2 3 4 5 6 , space 1 4), which rejects '0' and '7'..'9'. meta-api.md §b's
    # template-send example sends the first quick-reply button as "index": "0".
    SpecException(
        pointer="/components/schemas/TemplateComponent/properties/index/pattern",
        expected="^[2-6, 11-14]$", replacement="^[0-9]$", spec_line=1652,
        anchor="pattern: ^[2-6, 11-14]$",
        why=f"{SPEC}:1651-1652 pattern contradicts its description (0-9); meta-api.md §b"),
    SpecException(
        pointer="/components/schemas/ButtonComponent/allOf/1/properties/index/pattern",
        expected="^[2-6, 11-14]$", replacement="^[0-9]$", spec_line=1719,
        anchor="pattern: ^[2-6, 11-14]$",
        why=f"{SPEC}:1719 the same pattern repeated in ButtonComponent; meta-api.md §b"),
    # Phone number enums Meta has grown. meta-api.md §b GET /{WABA-ID}/phone_numbers: `status`
    # "docs also show CONNECTED, FLAGGED, DISCONNECTED"; `quality_rating` "also UNKNOWN in
    # another spec schema"; `code_verification_status` "also NOT_VERIFIED, EXPIRED seen". The
    # spec itself uses those values elsewhere (WhatsAppBusinessAccountToNumberStatus, line 3479;
    # WhatsAppPhoneNumberQualityRating_1, line 6213; WhatsAppCodeVerificationStatus_1, line 6220).
    SpecException(
        pointer="/components/schemas/WhatsAppPhoneNumberStatus/enum",
        expected=["PENDING", "LINKED", "UNLINKED", "DELETED", "MIGRATED", "BANNED", "RESTRICTED"],
        replacement=["PENDING", "LINKED", "UNLINKED", "DELETED", "MIGRATED", "BANNED",
                     "RESTRICTED", "CONNECTED", "DISCONNECTED", "FLAGGED"],
        spec_line=6194, anchor="WhatsAppPhoneNumberStatus:",
        why=f"{SPEC}:6194 enum lacks CONNECTED/DISCONNECTED/FLAGGED; meta-api.md §b status"),
    SpecException(
        pointer="/components/schemas/WhatsAppPhoneNumberQualityRating/enum",
        expected=["GREEN", "YELLOW", "RED", "NA"],
        replacement=["GREEN", "YELLOW", "RED", "NA", "UNKNOWN"],
        spec_line=5682, anchor="WhatsAppPhoneNumberQualityRating:",
        why=f"{SPEC}:5682 enum lacks UNKNOWN; meta-api.md §b quality_rating"),
    SpecException(
        pointer="/components/schemas/WhatsAppCodeVerificationStatus/enum",
        expected=["VERIFIED", "UNVERIFIED"],
        replacement=["VERIFIED", "UNVERIFIED", "NOT_VERIFIED", "EXPIRED"],
        spec_line=5691, anchor="WhatsAppCodeVerificationStatus:",
        why=f"{SPEC}:5691 enum lacks NOT_VERIFIED/EXPIRED; meta-api.md §b code_verification"),
    # GET /{Phone-Number-ID} repeats the same two enums inline in PhoneNumberInfo; it returns
    # the same numbers, so the same meta-api.md §b values (UNKNOWN; NOT_VERIFIED, EXPIRED) apply.
    SpecException(
        pointer="/components/schemas/PhoneNumberInfo/properties/quality_rating/enum",
        expected=["GREEN", "YELLOW", "RED", "NA"],
        replacement=["GREEN", "YELLOW", "RED", "NA", "UNKNOWN"],
        spec_line=3228, anchor="enum:",
        why=f"{SPEC}:3226-3232 PhoneNumberInfo.quality_rating lacks UNKNOWN; meta-api.md §b"),
    SpecException(
        pointer="/components/schemas/PhoneNumberInfo/properties/code_verification_status/enum",
        expected=["VERIFIED", "UNVERIFIED"],
        replacement=["VERIFIED", "UNVERIFIED", "NOT_VERIFIED", "EXPIRED"],
        spec_line=3247, anchor="enum:",
        why=f"{SPEC}:3245-3249 PhoneNumberInfo.code_verification_status lacks NOT_VERIFIED/"
            "EXPIRED; meta-api.md §b"),
    # Field selection: Graph returns only the fields asked for (meta-api.md §a "Field
    # selection"), and meta-api.md §b tells the client to ask for the extra phone fields in a
    # second call (`fields=id,name_status,...`), whose items rightly hold no
    # display_phone_number or status. `id` stays required; that the first call's items keep
    # display_phone_number and status is checked in test_spec_required_phone_fields_when_asked.
    SpecException(
        pointer="/components/schemas/WhatsAppBusinessAccountPhoneNumber/required",
        expected=["id", "display_phone_number", "status"], replacement=["id"],
        spec_line=6137, anchor="required:",
        why=f"{SPEC}:6137-6140 required fields that a fields= selection leaves out; "
            "meta-api.md §a Field selection, §b phone_numbers strategy"),
    # Tightenings (stricter, never looser): the spec picks a send's component and parameter
    # schemas only through a `discriminator` on a plain object (TemplateComponent,
    # ParameterObject, ButtonParameterObject). JSON Schema ignores a discriminator that has no
    # oneOf, so as written nothing inside template.components[].parameters is checked. These
    # entries spell the spec's own discriminator mappings out as oneOf, as OpenAPI intends.
    SpecException(
        pointer="/components/schemas/TemplateObject/properties/components/items",
        expected={"$ref": "#/components/schemas/TemplateComponent"},
        replacement=_one_of("type", {"header": "HeaderComponent", "body": "BodyComponent",
                                     "button": "ButtonComponent"}),
        spec_line=1594, anchor="$ref: '#/components/schemas/TemplateComponent'",
        why=f"{SPEC}:1594 (mapping at 1654-1659) tightening: check each component's schema"),
    *(SpecException(
        pointer=f"/components/schemas/{component}/allOf/1/properties/parameters/items",
        expected={"$ref": "#/components/schemas/ParameterObject"},
        replacement=_one_of("type", {"currency": "CurrencyParameter",
                                     "date_time": "DateTimeParameter",
                                     "document": "DocumentParameter",
                                     "image": "ImageParameter", "text": "TextParameter",
                                     "video": "VideoParameter"}),
        spec_line=line, anchor="$ref: '#/components/schemas/ParameterObject'",
        why=f"{SPEC}:{line} (mapping at ParameterObject, 1729) tightening: check parameters")
      for component, line in (("HeaderComponent", 1673), ("BodyComponent", 1690))),
    SpecException(
        pointer="/components/schemas/ButtonComponent/allOf/1/properties/parameters/items",
        expected={"$ref": "#/components/schemas/ButtonParameterObject"},
        replacement=_one_of("type", {"payload": "ButtonPayloadParameter",
                                     "text": "ButtonTextParameter"}),
        spec_line=1725, anchor="$ref: '#/components/schemas/ButtonParameterObject'",
        why=f"{SPEC}:1725 (mapping at ButtonParameterObject, 1878) tightening: check them"),
)

# Query parameters the client sends that the operation does not declare. openapi-core ignores
# undeclared parameters; this list makes each one a decision instead of an accident.
UNDECLARED_QUERY_OK: dict[str, dict[str, str]] = {
    # Spec line 28244 declares only `name`; meta-api.md §b "GET /{WABA-ID}/message_templates
    # (list)": "Params: fields, limit, after/before, filters ... [docs]", and §a Pagination.
    "getTemplateByNameDefaultFields": {
        "fields": "meta-api.md §b message_templates list: fields=...",
        "limit": "meta-api.md §a Pagination / §b list params",
        "after": "meta-api.md §a Pagination: after=<paging.cursors.after>",
    },
    # Spec line 27915 (getTemplateByIdDefaultFields) declares no query parameter; meta-api.md
    # §b "GET / POST /{TEMPLATE_ID}": "use `fields=` for more".
    "getTemplateByIdDefaultFields": {
        "fields": "meta-api.md §b GET /{TEMPLATE_ID}: use fields= for more",
    },
}


@pytest.fixture(scope="module")
def contract(spec_document: dict) -> SpecContract:
    """The spec with SPEC_EXCEPTIONS applied; reduced per-operation specs are cached on it."""
    return SpecContract(spec_document, SPEC_EXCEPTIONS)


# --- a recorded exchange, for checking the harness itself --------------------------------------

@dataclass
class Fake:
    """Shaped like the emulator's RecordedRequest."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict = field(default_factory=lambda: {"Authorization": f"Bearer {TOKEN}",
                                                   "Accept": "application/json"})
    body: bytes = b""
    status: int = 200
    response_body: bytes = b"{}"
    response_headers: dict = field(default_factory=lambda: {
        "Content-Type": "application/json; charset=UTF-8"})

    @classmethod
    def post(cls, path: str, payload: Any, **kw: Any) -> Fake:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        return cls("POST", path, headers=headers, body=json.dumps(payload).encode(), **kw)


def _answer(payload: Any, status: int = 200) -> dict[str, Any]:
    return {"status": status, "response_body": json.dumps(payload).encode()}


# --- the harness and the exceptions, checked without the emulator ------------------------------

def test_operation_map_names_unique_operations_of_the_spec(contract) -> None:
    """Every mapped operationId exists once in the spec, with the method and path we expect."""
    found = {op_id: (contract.operation(op_id).method, contract.operation(op_id).path)
             for op_id in SPEC_OPERATIONS}
    assert found == SPEC_OPERATIONS


def test_every_client_endpoint_method_has_a_contract() -> None:
    """Each public GraphClient method is mapped to its operation (a new method needs one too)."""
    public = {name for name, _ in inspect.getmembers(GraphClient, inspect.isfunction)
              if not name.startswith("_")}
    assert public - CLIENT_PLUMBING == set(CLIENT_METHODS)
    known = set(SPEC_OPERATIONS) | set(GRAPH_CORE_CONTRACTS)
    assert {op for ops in CLIENT_METHODS.values() for op in ops} <= known


def test_spec_exceptions_still_match_the_spec_and_cite_it(spec_document) -> None:
    """Each exception's 'expected' is what the spec says now, and its line citation is right."""
    apply_exceptions(spec_document, SPEC_EXCEPTIONS)  # raises on a stale exception
    lines = SPEC_FILE.read_text(encoding="utf-8").splitlines()
    wrong = [(e.pointer, e.spec_line, lines[e.spec_line - 1].strip())
             for e in SPEC_EXCEPTIONS if e.anchor not in lines[e.spec_line - 1]]
    assert wrong == []


def test_exceptions_leave_the_loaded_spec_untouched(spec_document, contract) -> None:
    """Applying the exceptions copies what it changes; the session's spec stays Meta's."""
    text = spec_document["components"]["schemas"]["TextMessage"]
    assert text["allOf"][1]["additionalProperties"] is False
    assert "unevaluatedProperties" not in text
    assert contract.document["components"]["schemas"]["TextMessage"]["unevaluatedProperties"] \
        is False


def test_text_message_needs_the_exception_and_stays_strict(spec_document, contract) -> None:
    """Meta's text body fails the raw spec, passes with the exception, unknown keys still fail."""
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": RECIPIENT,
            "type": "text", "text": {"body": "hi", "preview_url": False}}
    sent = Fake.post(f"/v23.0/{PHONE}/messages", body)
    raw = SpecContract(spec_document).request_errors("sendMessage", sent)
    assert raw and "Additional properties are not allowed" in "\n".join(raw)
    assert contract.request_errors("sendMessage", sent) == []
    with_reply = {**body, "context": {"message_id": "wamid.X"}}
    assert contract.request_errors("sendMessage",
                                   Fake.post(f"/v23.0/{PHONE}/messages", with_reply)) == []
    stray = Fake.post(f"/v23.0/{PHONE}/messages", {**body, "bogus": 1})
    assert "bogus" in "\n".join(contract.request_errors("sendMessage", stray))


def test_template_send_requires_language_policy(contract) -> None:
    """The spec requires template.language.policy: without it the send fails the contract."""
    template = {"name": "hello_world", "language": {"code": "en_US", "policy": "deterministic"}}
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": RECIPIENT,
            "type": "template", "template": template}
    assert contract.request_errors("sendMessage",
                                   Fake.post(f"/v23.0/{PHONE}/messages", body)) == []
    no_policy = {**body, "template": {**template, "language": {"code": "en_US"}}}
    errors = contract.request_errors("sendMessage",
                                     Fake.post(f"/v23.0/{PHONE}/messages", no_policy))
    assert "'policy' is a required property" in "\n".join(errors)
    assert "template/language" in "\n".join(errors)


def _template_send(components: list[dict]) -> Fake:
    template = {"name": "order_update", "language": {"code": "en_US", "policy": "deterministic"},
                "components": components}
    return Fake.post(f"/v23.0/{PHONE}/messages", {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": RECIPIENT,
        "type": "template", "template": template})


def test_first_button_index_needs_the_exception(spec_document, contract) -> None:
    """meta-api.md's quick-reply button at index "0" fails the raw spec's pattern, not ours."""
    button = {"type": "button", "sub_type": "quick_reply", "index": "0",
              "parameters": [{"type": "payload", "payload": "ORDER_OK"}]}
    raw = SpecContract(spec_document).request_errors("sendMessage", _template_send([button]))
    assert "does not match '^[2-6, 11-14]$'" in "\n".join(raw)
    assert contract.request_errors("sendMessage", _template_send([button])) == []
    too_far = contract.request_errors("sendMessage", _template_send([{**button, "index": "10"}]))
    assert "index" in "\n".join(too_far)


def test_template_components_are_checked_through_their_discriminators(spec_document,
                                                                      contract) -> None:
    """Bad parameters slip through the raw spec (discriminator only) and fail the tightened one."""
    bad = [{"type": "body", "parameters": [{"type": "text"}]},
           {"type": "button", "sub_type": "quick_reply", "index": "1",
            "parameters": [{"type": "payload"}]}]
    assert SpecContract(spec_document).request_errors("sendMessage", _template_send(bad)) == []
    errors = "\n".join(contract.request_errors("sendMessage", _template_send(bad)))
    assert "components/0/parameters/0: 'text' is a required property" in errors
    assert "components/1/parameters/0: 'payload' is a required property" in errors
    good = [{"type": "header", "parameters": [{"type": "text", "text": "A-1001"}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"},
                {"type": "currency", "currency": {"fallback_value": "$1", "code": "USD",
                                                  "amount_1000": 1000}}]}]
    assert contract.request_errors("sendMessage", _template_send(good)) == []


def test_path_method_parameters_and_auth_are_checked(contract) -> None:
    """Wrong template, wrong method, bad path parameter and missing bearer token all fail."""
    assert contract.request_errors("getWhatsAppBusinessAccountDetails",
                                   Fake("GET", f"/v23.0/{WABA}", {"fields": "id,name"})) == []
    wrong_path = contract.request_errors("getPhoneNumberById", Fake("GET", f"/v23.0/{PHONE}/x"))
    assert "does not fit getPhoneNumberById" in "\n".join(wrong_path)
    wrong_method = contract.request_errors("getAllSubscriptionsForAWaba",
                                           Fake("POST", f"/v23.0/{WABA}/subscribed_apps"))
    assert "method POST sent" in "\n".join(wrong_method)
    bad_id = contract.request_errors("getAllSubscriptionsForAWaba",
                                     Fake("GET", "/v23.0/not-a-number/subscribed_apps"))
    assert "WABA-ID" in "\n".join(bad_id)
    bad_version = contract.request_errors("getAllSubscriptionsForAWaba",
                                          Fake("GET", f"/23.0/{WABA}/subscribed_apps"))
    assert "Version" in "\n".join(bad_version)
    no_auth = contract.request_errors("getAllSubscriptionsForAWaba",
                                      Fake("GET", f"/v23.0/{WABA}/subscribed_apps", headers={}))
    assert "Security" in "\n".join(no_auth)
    bad_limit = contract.request_errors(
        "getWhatsAppBusinessAccountPhoneNumbers",
        Fake("GET", f"/v23.0/{WABA}/phone_numbers", {"limit": "1000"}))
    assert "limit" in "\n".join(bad_limit)


def test_response_bodies_and_error_envelopes_are_checked(contract) -> None:
    """A 200 body, a declared error (GraphAPIError) and an undeclared error status are checked."""
    listed = {"data": [{"id": PHONE, "display_phone_number": "+1 555", "status": "CONNECTED"}]}
    ok = Fake("GET", f"/v23.0/{WABA}/phone_numbers", **_answer(listed))
    assert contract.response_errors("getWhatsAppBusinessAccountPhoneNumbers", ok) == []
    listed["data"][0]["status"] = "NOT_A_STATUS"
    wrong = Fake("GET", f"/v23.0/{WABA}/phone_numbers", **_answer(listed))
    errors = contract.response_errors("getWhatsAppBusinessAccountPhoneNumbers", wrong)
    assert "data/0/status: 'NOT_A_STATUS' is not one of" in "\n".join(errors)
    envelope = {"error": {"message": "Invalid OAuth access token", "type": "OAuthException",
                          "code": 190, "error_subcode": 463, "fbtrace_id": "AbC"}}
    declared = Fake("GET", f"/v23.0/{WABA}", **_answer(envelope, 401))
    assert contract.response_errors("getWhatsAppBusinessAccountDetails", declared) == []
    no_code = Fake("GET", f"/v23.0/{WABA}", **_answer({"error": {"message": "x", "type": "y"}},
                                                       400))
    assert "'code' is a required property" in "\n".join(
        contract.response_errors("getWhatsAppBusinessAccountDetails", no_code))
    undeclared = Fake.post(f"/v23.0/{PHONE}/messages", {}, **_answer(envelope, 400))
    assert contract.response_errors("sendMessage", undeclared) == []  # sendMessage: 200 only
    not_json = Fake("GET", f"/v23.0/{WABA}", status=502, response_body=b"<html>",
                    response_headers={"Content-Type": "text/html"})
    assert contract.response_errors("getWhatsAppBusinessAccountDetails", not_json)


def test_undeclared_query_parameters_are_reported(contract) -> None:
    """Query parameters the operation does not declare are named (openapi-core ignores them)."""
    listing = Fake("GET", f"/v23.0/{WABA}/message_templates",
                   {"fields": "id", "limit": "2", "after": "X", "name": "n"})
    assert contract.undeclared_query("getTemplateByNameDefaultFields", listing) == {
        "fields", "limit", "after"}
    assert set(UNDECLARED_QUERY_OK["getTemplateByNameDefaultFields"]) == {
        "fields", "limit", "after"}


def test_update_phone_number_webhook_override_body_matches_the_spec(contract) -> None:
    """meta-api.md's phone-number webhook override body and answer fit updatePhoneNumberStatus."""
    body = {"webhook_configuration": {"override_callback_uri": "https://example.com/hook",
                                      "verify_token": "t"}}
    sent = Fake.post(f"/v23.0/{PHONE}", body, **_answer({"success": True}))
    assert contract.request_errors("updatePhoneNumberStatus", sent) == []
    assert contract.response_errors("updatePhoneNumberStatus", sent) == []


def test_graph_core_contracts_catch_wrong_shapes(contract) -> None:
    """debug_token and app subscriptions: app token in the query, meta-api.md §b shapes."""
    good = Fake("GET", "/v23.0/debug_token",
                {"input_token": TOKEN, "access_token": f"{APP_ID}|{APP_SECRET}"}, headers={},
                **_answer({"data": {"is_valid": True, "app_id": APP_ID, "type": "SYSTEM_USER",
                                    "expires_at": 0, "scopes": ["whatsapp_business_messaging"],
                                    "granular_scopes": [{"scope": "whatsapp_business_messaging",
                                                         "target_ids": [WABA]}]}}))
    assert core_request_errors("debug_token", good) == []
    assert core_response_errors("debug_token", good, contract) == []
    user_token = Fake("GET", "/v23.0/debug_token", {"input_token": TOKEN, "access_token": TOKEN},
                      **_answer({"data": {"is_valid": True}}))
    request_problems = "\n".join(core_request_errors("debug_token", user_token))
    assert "access_token" in request_problems and "Authorization" in request_problems
    assert "'app_id' is a required property" in "\n".join(
        core_response_errors("debug_token", user_token, contract))
    subs = Fake("GET", f"/v23.0/{APP_ID}/subscriptions",
                {"access_token": f"{APP_ID}|{APP_SECRET}"}, headers={},
                **_answer({"data": [{"object": "whatsapp_business_account", "active": True,
                                     "callback_url": "https://example.com/hook",
                                     "fields": [{"name": "messages", "version": "v23.0"}]}]}))
    assert core_request_errors("app_subscriptions", subs) == []
    assert core_response_errors("app_subscriptions", subs, contract) == []
    graph_error = Fake("GET", f"/v23.0/{APP_ID}/subscriptions", **_answer(
        {"error": {"message": "bad", "type": "OAuthException", "code": 190}}, 400))
    assert core_response_errors("app_subscriptions", graph_error, contract) == []


# --- the real client against the emulator ------------------------------------------------------

NEW_TEMPLATE = {
    "name": "contract_check_notice", "language": "en_US", "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Class {{1}}",
         "example": {"header_text": ["B-12"]}},
        {"type": "BODY", "text": "Hello {{1}}, your class starts at {{2}}. See you there.",
         "example": {"body_text": [["Ana", "9:00"]]}},
        {"type": "FOOTER", "text": "Sandbox School (simulated)"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "See you"}]}],
}
# order_update (en_US) as meta-api.md §b sends it: header, body and the first quick reply.
ORDER_UPDATE_COMPONENTS = [
    {"type": "header", "parameters": [{"type": "text", "text": "A-1001"}]},
    {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                    {"type": "text", "text": "Friday"}]},
    {"type": "button", "sub_type": "quick_reply", "index": "0",
     "parameters": [{"type": "payload", "payload": "ORDER_OK"}]},
]
# appointment_reminder is a NAMED template: each parameter carries parameter_name (meta-api.md
# §b "Named templates").
APPOINTMENT_COMPONENTS = [
    {"type": "body", "parameters": [
        {"type": "text", "text": "Ana", "parameter_name": "first_name"},
        {"type": "text", "text": "May 5", "parameter_name": "appointment_date"},
        {"type": "text", "text": "9:30", "parameter_name": "appointment_time"}]},
]


class _Callback(BaseHTTPRequestHandler):
    """A webhook receiver that passes Meta's GET handshake and accepts every POST."""

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        body = (query.get("hub.challenge") or [""])[0].encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def callback_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/whatsapp"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@dataclass
class Ledger:
    """Names the operation of every request the emulator records while a call runs."""

    server: SandboxServer
    exchanges: list[tuple[str, RecordedRequest]] = field(default_factory=list)
    recorded: list[RecordedRequest] = field(default_factory=list)  # all, when the flow ended

    @contextmanager
    def expect(self, operation: str) -> Iterator[None]:
        start = len(self.server.requests)
        yield
        new = list(self.server.requests)[start:]
        assert new, f"{operation}: nothing reached the emulator"
        self.exchanges.extend((operation, recorded) for recorded in new)

    def of(self, operation: str) -> list[RecordedRequest]:
        return [r for op, r in self.exchanges if op == operation]


def make_client(server: SandboxServer, token: str = TOKEN, **config: Any) -> GraphClient:
    settings = {"base_url": server.base_url, "connect_timeout": 2.0, "read_timeout": 5.0,
                **config}
    return GraphClient(ClientConfig(**settings), token=lambda: token, app_id=APP_ID,
                       app_secret=lambda: APP_SECRET, sleep=lambda _s: None,
                       jitter=lambda: 1.0)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    world = seeded_world(templates=5, seed=0)
    world.review_delay = 0
    with SandboxServer(world, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(scope="module")
def flow(server: SandboxServer) -> Ledger:
    """Every GraphClient method once against the emulator (pages of 2, so cursors are used)."""
    server.requests.clear()
    ledger = Ledger(server)
    expect = ledger.expect
    with make_client(server, page_limit=2) as client, callback_server() as hook:
        with expect("debug_token"):
            client.debug_token()
        with expect("getWhatsAppBusinessAccountDetails"):
            client.waba(WABA)
        with expect("getWhatsAppBusinessAccountPhoneNumbers"):
            numbers = client.phone_numbers(WABA)
        for number in numbers:  # every seeded state: CONNECTED, FLAGGED, PENDING, ...
            with expect("getPhoneNumberById"):
                client.phone_number(number["id"])
        with expect("getAllSubscriptionsForAWaba"):
            client.subscribed_apps(WABA)
        with expect("unsubscribeFromWabaWebhooks"):
            client.unsubscribe_app(WABA)
        with expect("subscribeToWabaWebhooks"):
            client.subscribe_app(WABA, override_callback_uri=hook, verify_token="contract")
        with expect("subscribeToWabaWebhooks"):
            client.subscribe_app(WABA)  # drops the override again
        with expect("app_subscriptions"):
            client.app_subscriptions()
        with expect("getTemplateByNameDefaultFields"):
            listed = list(client.iter_templates(WABA))
        assert len(listed) > 2  # several pages
        with expect(CREATE_TEMPLATE):
            created = client.create_template(WABA, NEW_TEMPLATE)
        with expect("getTemplateByIdDefaultFields"):
            client.template(created["id"])
        with expect("editTemplate"):
            client.edit_template(created["id"], {"components": NEW_TEMPLATE["components"]})
        with expect("sendMessage"):
            sent = client.send_template(PHONE, RECIPIENT, "order_update", "en_US",
                                        ORDER_UPDATE_COMPONENTS)
        with expect("sendMessage"):
            client.send_template(PHONE, RECIPIENT, "appointment_reminder", "en_US",
                                 APPOINTMENT_COMPONENTS)
        inbound = server.world.simulate_reply(sent.wamid)  # opens the 24-hour window
        with expect("sendMessage"):
            client.send_text(PHONE, RECIPIENT, "Thanks, noted.", reply_to=inbound)
        with expect("deleteTemplateByName"):
            client.delete_template(WABA, NEW_TEMPLATE["name"], created["id"])
        # No client method uses updatePhoneNumberStatus; the emulator's answer is checked with
        # the client's own session and URL (an empty override_callback_uri removes it).
        with expect("updatePhoneNumberStatus"):
            client.session.post(client.url(PHONE), timeout=5, json={
                "webhook_configuration": {"override_callback_uri": ""}},
                headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
    server.world.wait_webhooks(5)
    ledger.recorded = list(server.requests)
    return ledger


EXERCISED = sorted({op for ops in CLIENT_METHODS.values() for op in ops} & set(SPEC_OPERATIONS)
                   | {"updatePhoneNumberStatus"})


def _problems(check: Callable[[RecordedRequest], list[str]], exchanges: list[RecordedRequest],
              operation: str, part: str) -> str:
    return format_report((operation, part, f"{r.method} {r.path} {r.query}\n{text}")
                         for r in exchanges for text in check(r))


@pytest.mark.parametrize("operation", EXERCISED)
def test_requests_match_the_spec(flow, contract, server, operation) -> None:
    """Each request the client sent for this operation fits its method, path, params and body."""
    sent = flow.of(operation)
    assert sent, f"{operation} was not exercised"
    report = _problems(lambda r: contract.request_errors(operation, r, server.base_url), sent,
                       operation, "request")
    assert not report, "\n" + report


@pytest.mark.parametrize("operation", EXERCISED)
def test_responses_match_the_spec(flow, contract, server, operation) -> None:
    """Each emulator answer for this operation fits the spec's status, body and headers."""
    sent = flow.of(operation)
    assert sent, f"{operation} was not exercised"
    report = _problems(lambda r: contract.response_errors(operation, r, server.base_url), sent,
                       operation, "response")
    assert not report, "\n" + report


@pytest.mark.parametrize("operation", EXERCISED)
def test_query_parameters_are_declared_or_listed(flow, contract, operation) -> None:
    """Every query parameter sent is declared by the operation or listed in UNDECLARED_QUERY_OK."""
    allowed = set(UNDECLARED_QUERY_OK.get(operation, {}))
    stray = {name for r in flow.of(operation)
             for name in contract.undeclared_query(operation, r)} - allowed
    assert stray == set()


@pytest.mark.parametrize("name", sorted(GRAPH_CORE_CONTRACTS))
def test_graph_core_endpoints_match_meta_api_md(flow, contract, server, name) -> None:
    """debug_token and app subscriptions: requests and answers fit meta-api.md §b."""
    sent = flow.of(name)
    assert sent, f"{name} was not exercised"
    report = format_report(
        [(name, "request", t) for r in sent for t in core_request_errors(name, r,
                                                                          server.base_url)]
        + [(name, "response", t) for r in sent for t in core_response_errors(name, r, contract)])
    assert not report, "\n" + report


def test_every_recorded_request_was_checked(flow, server) -> None:
    """Nothing the emulator recorded during the flow escaped the contract."""
    named = {id(r) for _, r in flow.exchanges}
    assert [f"{r.method} {r.path}" for r in flow.recorded if id(r) not in named] == []
    assert {op for op, _ in flow.exchanges} == set(EXERCISED) | set(GRAPH_CORE_CONTRACTS)


def test_spec_required_phone_fields_when_asked(flow) -> None:
    """Where the client asks for them, phone numbers carry the fields the spec marks required."""
    items = [item for r in flow.of("getWhatsAppBusinessAccountPhoneNumbers")
             if {"display_phone_number", "status"} <= set(r.query.get("fields", "").split(","))
             for item in json.loads(r.response_body)["data"]]
    assert items
    assert [i["id"] for i in items if not {"id", "display_phone_number", "status"} <= set(i)] \
        == []



# --- error envelopes ---------------------------------------------------------------------------

def _waba_fault(**fault: Any) -> Callable[[SandboxServer], None]:
    def inject(server: SandboxServer) -> None:
        server.faults.inject(method="GET", path=rf"/{WABA}$", times=1, **fault)
    return inject


def _refuse_extra_fields(server: SandboxServer) -> None:
    server.world.refuse_extra_phone_fields = True


@dataclass(frozen=True)
class ErrorCase:
    operation: str
    call: Callable[[GraphClient], object]
    code: int
    setup: Callable[[SandboxServer], None] = lambda _server: None
    token: str = TOKEN


ERROR_CASES: dict[str, ErrorCase] = {
    # Injected: the 190 and 100 envelopes the operation declares (401 and 400).
    "injected-190-401": ErrorCase("getWhatsAppBusinessAccountDetails", lambda c: c.waba(WABA),
                                  190, _waba_fault(kind="graph_error", code=190, subcode=463,
                                                   status=401)),
    "injected-100-400": ErrorCase("getWhatsAppBusinessAccountDetails", lambda c: c.waba(WABA),
                                  100, _waba_fault(kind="graph_error", code=100, status=400)),
    "injected-4-429": ErrorCase("getWhatsAppBusinessAccountDetails", lambda c: c.waba(WABA), 4,
                                _waba_fault(kind="rate_limit", code=4, retry_after=600)),
    # The emulator's own refusals.
    "unknown-token-190": ErrorCase("getWhatsAppBusinessAccountDetails",
                                   lambda c: c.waba(WABA), 190, token="SANDBOX-no-such-token"),
    "expired-token-190-463": ErrorCase("getAllSubscriptionsForAWaba",
                                       lambda c: c.subscribed_apps(WABA), 190,
                                       token="SANDBOX-expired-user-token-0002"),
    "unknown-waba-100": ErrorCase("getWhatsAppBusinessAccountDetails",
                                  lambda c: c.waba("100000000000099"), 100),
    "other-waba-200": ErrorCase("getWhatsAppBusinessAccountPhoneNumbers",
                                lambda c: c.phone_numbers("100000000000011"), 200),
    "extra-phone-fields-100": ErrorCase(
        "getWhatsAppBusinessAccountPhoneNumbers",
        lambda c: c.paginate(f"{WABA}/phone_numbers", {"fields": "id,throughput"}).__next__(),
        100, _refuse_extra_fields),
    "unreachable-override-100-422": ErrorCase(
        "subscribeToWabaWebhooks",
        lambda c: c.subscribe_app(WABA, "http://127.0.0.1:9/hook", "contract"), 100),
    # Operations that declare only 200: checked against components/schemas/GraphAPIError.
    "delete-missing-template-100": ErrorCase(
        "deleteTemplateByName", lambda c: c.delete_template(WABA, "no_such_template"), 100),
    "send-not-allowed-131030": ErrorCase(
        "sendMessage", lambda c: c.send_template(PHONE, "15559999999", "hello_world", "en_US"),
        131030),
    "send-outside-window-131047": ErrorCase(
        "sendMessage", lambda c: c.send_text(PHONE, "15551234568", "free text"), 131047),
}


@pytest.fixture
def clean(server: SandboxServer) -> Iterator[SandboxServer]:
    server.faults.clear()
    server.requests.clear()
    yield server
    server.faults.clear()
    server.world.refuse_extra_phone_fields = False


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_envelopes_match_the_spec(clean, contract, case) -> None:
    """Graph errors from the emulator fit the spec's GraphAPIError where the operation has it."""
    error = ERROR_CASES[case]
    error.setup(clean)
    with make_client(clean, token=error.token, max_attempts=1) as client, \
            pytest.raises(GraphApiError) as raised:
        error.call(client)
    assert raised.value.code == error.code
    (recorded,) = clean.requests
    assert recorded.status >= 400
    report = format_report(
        [(error.operation, "request", t)
         for t in contract.request_errors(error.operation, recorded, clean.base_url)]
        + [(error.operation, f"response {recorded.status}", t)
           for t in contract.response_errors(error.operation, recorded, clean.base_url)])
    assert not report, "\n" + report


def test_graph_core_errors_match_graph_api_error(clean, contract) -> None:
    """A debug_token refused for a wrong app secret answers with a GraphAPIError envelope."""
    client = GraphClient(ClientConfig(base_url=clean.base_url), token=lambda: TOKEN,
                         app_id=APP_ID, app_secret=lambda: "wrong-secret")
    with client, pytest.raises(GraphApiError) as raised:
        client.debug_token()
    assert raised.value.code == 190
    (recorded,) = clean.requests
    assert core_request_errors("debug_token", recorded, clean.base_url) == []
    assert core_response_errors("debug_token", recorded, contract) == []
