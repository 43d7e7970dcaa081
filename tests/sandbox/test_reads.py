"""Graph reads over HTTP: debug_token, token kinds, WABA, phone numbers, templates, paging,
field selection, app subscriptions and the error envelopes."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox.conftest import (
    APP_ID,
    APP_SECRET,
    APP_TOKEN,
    OTHER_PHONE,
    OTHER_WABA,
    PHONE,
    TIMEOUT,
    TOKEN,
    WABA,
    call,
    error_of,
)

TEMPLATE_FIELDS = ("id,name,language,status,category,components,rejected_reason,quality_score,"
                   "parameter_format,previous_category,sub_category")


def token(server, name: str) -> str:
    return server.world.tokens[name].value


# --- debug_token ---------------------------------------------------------------------------

def test_debug_token_valid_system_user(big_server) -> None:
    """The sandbox token debugs as a never-expiring SYSTEM_USER with both scopes on the WABA."""
    answer = call(big_server, "GET", "debug_token", token=None,
                  params={"input_token": TOKEN, "access_token": APP_TOKEN})
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["is_valid"] is True and data["app_id"] == APP_ID and data["type"] == "SYSTEM_USER"
    assert data["expires_at"] == 0 and data["application"] and data["user_id"]
    assert {"issued_at", "data_access_expires_at"} <= set(data)
    assert {"whatsapp_business_management", "whatsapp_business_messaging"} <= set(data["scopes"])
    assert all(g["target_ids"] == [WABA] for g in data["granular_scopes"])


@pytest.mark.parametrize(("name", "valid", "subcode"), [
    ("expired", False, 463), ("revoked", False, 460), ("temporary", True, None),
    ("no_messaging", True, None), ("other_waba", True, None)])
def test_debug_token_token_kinds(big_server, name, valid, subcode) -> None:
    """Each named token debugs with its validity, error subcode, scopes and targets."""
    data = call(big_server, "GET", "debug_token", token=None, params={
        "input_token": token(big_server, name), "access_token": APP_TOKEN}).json()["data"]
    assert data["is_valid"] is valid
    if subcode:
        assert data["error"]["code"] == 190 and data["error"]["subcode"] == subcode
    if name == "temporary":
        assert data["type"] == "USER" and 0 < data["expires_at"] - time.time() <= 86400
    if name == "no_messaging":
        assert data["scopes"] == ["whatsapp_business_management"]
    if name == "other_waba":
        assert {t for g in data["granular_scopes"] for t in g["target_ids"]} == {OTHER_WABA}


def test_debug_token_unknown_input_is_invalid(big_server) -> None:
    """An unknown input_token is reported is_valid false with error 190 (HTTP 200)."""
    answer = call(big_server, "GET", "debug_token", token=None,
                  params={"input_token": "nope", "access_token": APP_TOKEN})
    assert answer.status_code == 200
    assert answer.json()["data"]["is_valid"] is False
    assert answer.json()["data"]["error"]["code"] == 190


def test_debug_token_refuses_a_wrong_app_token(big_server) -> None:
    """A wrong app secret in access_token is error 190."""
    answer = call(big_server, "GET", "debug_token", token=None,
                  params={"input_token": TOKEN, "access_token": f"{APP_ID}|wrong"})
    assert answer.status_code == 401 and error_of(answer)["code"] == 190


def test_debug_token_with_user_token_and_missing_input(big_server) -> None:
    """A valid token of the app may debug; input_token is required (code 100)."""
    ok = call(big_server, "GET", "debug_token", params={"input_token": TOKEN})
    assert ok.json()["data"]["is_valid"] is True
    missing = call(big_server, "GET", "debug_token", token=None,
                   params={"access_token": APP_TOKEN})
    assert missing.status_code == 400 and error_of(missing)["code"] == 100


# --- auth on Graph calls -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "status", "code", "subcode"), [
    ("expired", 401, 190, 463), ("revoked", 401, 190, 460),
    ("other_waba", 403, 200, 1349174)])
def test_token_kinds_on_the_waba(big_server, name, status, code, subcode) -> None:
    """Expired/revoked tokens give 190 with their subcode; other_waba gives 200/1349174."""
    answer = call(big_server, "GET", WABA, token=token(big_server, name))
    error = error_of(answer)
    assert (answer.status_code, error["code"], error.get("error_subcode")) == (
        status, code, subcode)
    if name == "other_waba":
        assert error["message"] == "(#200) Permissions error" and error["error_user_msg"]


@pytest.mark.parametrize("name", ["valid", "no_messaging", "temporary"])
def test_readers_can_read_the_waba(big_server, name) -> None:
    """Valid, management-only and temporary tokens can read the WABA."""
    answer = call(big_server, "GET", WABA, token=token(big_server, name))
    assert answer.status_code == 200 and answer.json()["id"] == WABA


def test_other_waba_token_reads_its_own_waba(big_server) -> None:
    """The other_waba token works on the second WABA and its number."""
    other = token(big_server, "other_waba")
    assert call(big_server, "GET", OTHER_WABA, token=other).json()["id"] == OTHER_WABA
    assert call(big_server, "GET", OTHER_PHONE, token=other).json()["id"] == OTHER_PHONE


def test_missing_and_garbage_tokens(big_server) -> None:
    """No token is 104, an unknown bearer 190, both HTTP 401 with WWW-Authenticate."""
    missing = call(big_server, "GET", WABA, token=None)
    garbage = call(big_server, "GET", WABA, token="EAAG-not-a-token")
    assert missing.status_code == 401 and error_of(missing)["code"] == 104
    assert garbage.status_code == 401 and error_of(garbage)["code"] == 190
    assert "invalid_token" in garbage.headers["WWW-Authenticate"]


def test_access_token_query_parameter_works(big_server) -> None:
    """access_token in the query string is accepted like a bearer header."""
    answer = call(big_server, "GET", WABA, token=None, params={"access_token": TOKEN})
    assert answer.json()["id"] == WABA


def test_unknown_object_alias_and_edge(big_server) -> None:
    """Unknown ID -> 100/33, non-numeric alias -> 803, unknown edge -> 100 nonexisting field."""
    unknown = call(big_server, "GET", "123456789")
    error = error_of(unknown)
    assert unknown.status_code == 400 and (error["code"], error["error_subcode"]) == (100, 33)
    assert error["message"].startswith("Unsupported get request. Object with ID '123456789' "
                                       "does not exist, cannot be loaded due to missing "
                                       "permissions, or does not support this operation")
    alias = call(big_server, "GET", "not_an_id")
    assert alias.status_code == 404 and error_of(alias)["code"] == 803
    edge = call(big_server, "GET", f"{PHONE}/message_templates")
    assert error_of(edge)["message"] == ("(#100) Tried accessing nonexisting field "
                                         "(message_templates) on node type "
                                         "(WhatsAppBusinessPhoneNumber)")


def test_unsupported_method_is_100_33(big_server) -> None:
    """DELETE on a WABA is an unsupported request (100/33)."""
    error = error_of(call(big_server, "DELETE", WABA))
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert error["message"].startswith("Unsupported delete request")


# --- WABA ----------------------------------------------------------------------------------

def test_waba_default_and_selected_fields(big_server) -> None:
    """Default fields are id,name; fields= selects; version header echoes the request's."""
    plain = call(big_server, "GET", WABA, version="v21.0")
    assert set(plain.json()) == {"id", "name"}
    assert plain.headers["facebook-api-version"] == "v21.0"
    assert WABA in plain.headers["X-Business-Use-Case-Usage"]
    fields = ("id,name,timezone_id,message_template_namespace,account_review_status,"
              "business_verification_status,country,ownership_type,currency,"
              "primary_business_location")
    full = call(big_server, "GET", WABA, params={"fields": fields}).json()
    assert list(full) == fields.split(",")
    assert full["account_review_status"] == "APPROVED" and full["currency"] == "USD"
    only = call(big_server, "GET", WABA, params={"fields": "currency"}).json()
    assert only == {"currency": "USD", "id": WABA}


def test_waba_unknown_field_is_code_100(big_server) -> None:
    """An unknown field names itself and the node type in the error."""
    answer = call(big_server, "GET", WABA, params={"fields": "id,display_phone_number"})
    assert answer.status_code == 400
    assert error_of(answer)["message"] == ("(#100) Tried accessing nonexisting field "
                                           "(display_phone_number) on node type "
                                           "(WhatsAppBusinessAccount)")


def test_waba_nested_edge_fields(big_server) -> None:
    """fields=phone_numbers{id,status} embeds the edge with the chosen subfields."""
    body = call(big_server, "GET", WABA, params={"fields": "name,phone_numbers{id,status}"}).json()
    numbers = body["phone_numbers"]["data"]
    assert {n["id"] for n in numbers} >= {PHONE} and all(set(n) == {"id", "status"}
                                                         for n in numbers)


# --- phone numbers -------------------------------------------------------------------------

def test_phone_numbers_default_fields_and_states(big_server) -> None:
    """The list has >= 3 numbers in different states; defaults are the 4 documented fields."""
    answer = call(big_server, "GET", f"{WABA}/phone_numbers")
    data = answer.json()["data"]
    assert len(data) >= 3 and "paging" in answer.json() and "next" not in answer.json()["paging"]
    assert all(set(n) == {"id", "display_phone_number", "verified_name", "quality_rating"}
               for n in data)
    fields = "id,status,quality_rating,code_verification_status,messaging_limit_tier,name_status"
    rows = {n["id"]: n for n in call(big_server, "GET", f"{WABA}/phone_numbers",
                                     params={"fields": fields}).json()["data"]}
    main = rows[PHONE]
    assert (main["status"], main["quality_rating"], main["messaging_limit_tier"],
            main["code_verification_status"], main["name_status"]) == (
        "CONNECTED", "GREEN", "TIER_1K", "VERIFIED", "APPROVED")
    assert any(r["name_status"] == "PENDING_REVIEW" for r in rows.values())
    assert any(r["status"] == "FLAGGED" and r["quality_rating"] in ("RED", "YELLOW")
               for r in rows.values())


def test_phone_numbers_paging_with_small_limit(big_server) -> None:
    """limit=1 walks every number once by `after`; `next` disappears on the last page."""
    seen, params, pages = [], {"limit": "1"}, 0
    with requests.Session() as session:
        while True:
            body = call(big_server, "GET", f"{WABA}/phone_numbers", session=session,
                        params=params).json()
            pages += 1
            seen += [n["id"] for n in body["data"]]
            if "next" not in body["paging"]:
                break
            assert body["paging"]["next"].startswith(big_server.base_url + "/v23.0/")
            params = {"limit": "1", "after": body["paging"]["cursors"]["after"]}
    assert len(seen) == len(set(seen)) == pages >= 4


def test_phone_numbers_extra_fields_and_refusal(big_server) -> None:
    """Extra fields are served unless refuse_extra_phone_fields; then they are code 100."""
    extra = "id,name_status,throughput,platform_type,webhook_configuration,last_onboarded_time"
    row = call(big_server, "GET", f"{WABA}/phone_numbers", params={"fields": extra}
               ).json()["data"][0]
    assert row["throughput"]["level"] and row["platform_type"] == "CLOUD_API"
    # The seeded app has no callback URL: nothing to report (and nothing is delivered).
    assert "application" not in row["webhook_configuration"]
    assert row["last_onboarded_time"].endswith("+0000")
    big_server.world.refuse_extra_phone_fields = True
    try:
        refused = call(big_server, "GET", f"{WABA}/phone_numbers", params={"fields": extra})
        spec = call(big_server, "GET", f"{WABA}/phone_numbers",
                    params={"fields": "id,status,unified_cert_status,host_platform"})
    finally:
        big_server.world.refuse_extra_phone_fields = False
    assert refused.status_code == 400 and error_of(refused)["code"] == 100
    assert "name_status" in error_of(refused)["message"]
    assert spec.status_code == 200 and spec.json()["data"][0]["host_platform"] == "CLOUD_API"


def test_phone_numbers_limit_filtering_and_sort(big_server) -> None:
    """Bad limit and bad filtering JSON are 100; filtering and sort apply."""
    assert error_of(call(big_server, "GET", f"{WABA}/phone_numbers",
                         params={"limit": "x"}))["code"] == 100
    assert error_of(call(big_server, "GET", f"{WABA}/phone_numbers",
                         params={"filtering": "[oops"}))["code"] == 100
    sandbox = call(big_server, "GET", f"{WABA}/phone_numbers", params={
        "fields": "id,account_mode",
        "filtering": '[{"field":"account_mode","operator":"EQUAL","value":"SANDBOX"}]'}).json()
    assert sandbox["data"] and all(n["account_mode"] == "SANDBOX" for n in sandbox["data"])
    desc = call(big_server, "GET", f"{WABA}/phone_numbers",
                params={"sort": "last_onboarded_time.desc"}).json()["data"]
    asc = call(big_server, "GET", f"{WABA}/phone_numbers",
               params={"sort": "last_onboarded_time.asc"}).json()["data"]
    assert [n["id"] for n in desc] == [n["id"] for n in reversed(asc)]


def test_phone_number_node(big_server) -> None:
    """GET /{phone} has 4 default fields; name_status and code_verification_status on request."""
    plain = call(big_server, "GET", PHONE).json()
    assert set(plain) == {"id", "display_phone_number", "verified_name", "quality_rating"}
    more = call(big_server, "GET", PHONE,
                params={"fields": "name_status,code_verification_status"}).json()
    assert more == {"name_status": "APPROVED", "code_verification_status": "VERIFIED",
                    "id": PHONE}
    assert error_of(call(big_server, "GET", PHONE, params={"fields": "bogus"}))["code"] == 100


# --- templates -----------------------------------------------------------------------------

def test_six_thousand_templates_in_pages_of_100(big_server) -> None:
    """limit=100 reaches every template exactly once; next disappears at the end."""
    ids: list[str] = []
    pages = 0
    params = {"fields": TEMPLATE_FIELDS, "limit": "100"}
    with requests.Session() as session:
        while True:
            body = call(big_server, "GET", f"{WABA}/message_templates", session=session,
                        params=params).json()
            pages += 1
            assert len(body["data"]) <= 100
            ids += [t["id"] for t in body["data"]]
            if pages > 1:
                assert "previous" in body["paging"]
            if "next" not in body["paging"]:
                break
            params = {**params, "after": body["paging"]["cursors"]["after"]}
    expected = [t.id for t in big_server.world.templates_of(WABA)]
    assert len(ids) == len(set(ids)) == len(expected) >= 6000
    assert sorted(ids) == sorted(expected) and pages == -(-len(expected) // 100)


def test_template_next_url_is_followed_verbatim(big_server) -> None:
    """paging.next is an absolute URL to this server that can be GET as-is."""
    raw = call(big_server, "GET", f"{WABA}/message_templates", params={"limit": "3"})
    first = raw.json()
    url = first["paging"]["next"]
    assert '"next":"http:\\/\\/' in raw.text  # Graph escapes "/" in its JSON
    assert url.startswith(big_server.base_url) and "limit=3" in url
    second = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=TIMEOUT)
    assert len(second.json()["data"]) == 3
    assert not {t["id"] for t in first["data"]} & {t["id"] for t in second.json()["data"]}
    back = call(big_server, "GET", f"{WABA}/message_templates", params={
        "limit": "3", "before": second.json()["paging"]["cursors"]["before"]}).json()
    assert [t["id"] for t in back["data"]] == [t["id"] for t in first["data"]]


def test_template_list_defaults_fields_and_filters(big_server) -> None:
    """Default page is 25 with the documented fields; filters and summary work."""
    body = call(big_server, "GET", f"{WABA}/message_templates").json()
    assert len(body["data"]) == 25
    assert all({"id", "name", "language", "status", "category", "components"} <= set(t)
               for t in body["data"])
    names = call(big_server, "GET", f"{WABA}/message_templates",
                 params={"fields": "name", "limit": "5"}).json()["data"]
    assert all(set(t) == {"name", "id"} for t in names)
    pending = call(big_server, "GET", f"{WABA}/message_templates", params={
        "status": "PENDING", "language": "en_US", "fields": "status,language",
        "limit": "1000", "summary": "total_count"}).json()
    assert pending["data"] and all(t["status"] == "PENDING" and t["language"] == "en_US"
                                   for t in pending["data"])
    assert pending["summary"]["total_count"] == len(pending["data"])
    hello = call(big_server, "GET", f"{WABA}/message_templates",
                 params={"name": "order_update", "fields": "name,language"}).json()["data"]
    assert sorted(t["language"] for t in hello) == ["en_US", "pt_BR"]
    none = call(big_server, "GET", f"{WABA}/message_templates",
                params={"name": "no_such_thing"}).json()
    assert none == {"data": []}
    bad = call(big_server, "GET", f"{WABA}/message_templates", params={"fields": "id,bogus"})
    assert error_of(bad)["message"] == ("(#100) Tried accessing nonexisting field (bogus) on "
                                        "node type (WhatsAppMessageTemplate)")


def test_template_limit_is_capped_at_1000(big_server) -> None:
    """limit above 1000 serves 1000."""
    body = call(big_server, "GET", f"{WABA}/message_templates",
                params={"limit": "5000", "fields": "id"}).json()
    assert len(body["data"]) == 1000


def test_template_node_get(big_server) -> None:
    """GET /{template-id} returns the template with the chosen fields."""
    hello = big_server.world.find_template(WABA, "order_update", "en_US")
    body = call(big_server, "GET", hello.id).json()
    assert body["name"] == "order_update" and body["status"] == "APPROVED"
    assert body["components"][0]["type"] == "HEADER"
    named = big_server.world.find_template(WABA, "appointment_reminder", "en_US")
    assert call(big_server, "GET", named.id, params={"fields": "parameter_format"}).json() == {
        "parameter_format": "NAMED", "id": named.id}


def test_templates_need_the_management_scope_on_the_waba(big_server) -> None:
    """other_waba cannot list the main WABA's templates (200/1349174)."""
    answer = call(big_server, "GET", f"{WABA}/message_templates",
                  token=token(big_server, "other_waba"))
    assert answer.status_code == 403 and error_of(answer)["error_subcode"] == 1349174


# --- subscriptions -------------------------------------------------------------------------

def test_subscribed_apps_lists_the_app(big_server) -> None:
    """GET subscribed_apps lists the sandbox app with id, name and link."""
    data = call(big_server, "GET", f"{WABA}/subscribed_apps").json()["data"]
    assert [a["whatsapp_business_api_data"]["id"] for a in data] == [APP_ID]
    assert data[0]["whatsapp_business_api_data"]["link"]


def test_app_subscriptions_need_the_app_token(big_server) -> None:
    """GET /{app}/subscriptions works with APP_ID|APP_SECRET and is code 15 otherwise."""
    def subscriptions() -> list[dict]:
        return call(big_server, "GET", f"{APP_ID}/subscriptions", token=None,
                    params={"access_token": f"{APP_ID}|{APP_SECRET}"}).json()["data"]

    assert subscriptions() == []  # no callback URL, no subscription
    hook = "https://platform.example.org/webhooks/whatsapp"
    big_server.world.callback_url = hook  # read-only module: nothing is sent to it
    try:
        (sub,) = subscriptions()
    finally:
        big_server.world.callback_url = None
    assert sub["object"] == "whatsapp_business_account" and sub["active"] is True
    assert sub["callback_url"] == hook
    assert {"name": "messages", "version": "v23.0"} in sub["fields"]
    assert error_of(call(big_server, "GET", f"{APP_ID}/subscriptions"))["code"] == 15
    bad = call(big_server, "GET", f"{APP_ID}/subscriptions", token=f"{APP_ID}|nope")
    assert error_of(bad)["code"] == 190


def test_app_node_with_either_token(big_server) -> None:
    """GET /{app-id} answers to the app token and to the app's user tokens."""
    assert call(big_server, "GET", APP_ID, token=APP_TOKEN).json()["id"] == APP_ID
    assert call(big_server, "GET", APP_ID).json()["name"]
