"""Sending over HTTP: validation like Meta's, status webhooks (signed, in order), replies and
the 24 h window, webhook routing (overrides, subscriptions) and delivery failures."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.conftest import (
    APP_ID,
    APP_SECRET,
    OTHER_PHONE,
    PHONE,
    RECIPIENT,
    VERIFY_TOKEN,
    WABA,
    Receiver,
    call,
    error_of,
    wait_for,
)
from wa_console.meta.webhooks import (
    SIGNATURE_HEADER,
    InboundMessage,
    StatusEvent,
    parse_webhook,
    verify_signature,
)


def send(server, payload: dict, **kwargs):
    return call(server, "POST", f"{PHONE}/messages", json=payload, **kwargs)


def template(name: str = "hello_world", language: str = "en_US",
             components: list | None = None, to: str = RECIPIENT) -> dict:
    spec: dict = {"name": name, "language": {"code": language, "policy": "deterministic"}}
    if components is not None:
        spec["components"] = components
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template", "template": spec}


def text(body: str = "hi", to: str = RECIPIENT) -> dict:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


ORDER_OK = [{"type": "header", "parameters": [{"type": "text", "text": "A-1001"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                            {"type": "text", "text": "Friday"}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0",
             "parameters": [{"type": "payload", "payload": "ORDER_OK"}]}]


def named_params(*pairs: tuple[str, str]) -> list:
    return [{"type": "body", "parameters": [
        {"type": "text", "parameter_name": n, "text": v} for n, v in pairs]}]


def test_template_send_returns_a_wamid(server) -> None:
    """A valid send answers MessageResponse with a unique wamid and message_status accepted."""
    first = send(server, template(to="+1 555-123-4567"))
    second = send(server, template())
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+1 555-123-4567", "wa_id": RECIPIENT}]
    (message,) = body["messages"]
    assert message["id"].startswith("wamid.") and message["message_status"] == "accepted"
    assert message["id"] != second.json()["messages"][0]["id"]
    assert first.headers["facebook-api-version"] == "v23.0"


def test_order_update_with_all_parameters(server) -> None:
    """The documented order_update send (header, 2 body params, quick reply) is accepted."""
    assert send(server, template("order_update", components=ORDER_OK)).status_code == 200
    pt = send(server, template("order_update", "pt_BR", ORDER_OK[:2]))
    assert pt.status_code == 200


@pytest.mark.parametrize(("payload", "code"), [
    (template(to="15559999999"), 131030),
    (template("no_such_template"), 132001),
    (template("hello_world", "pt_BR"), 132001),
    (template("draft_notice"), 132001),
    (template("rejected_offer"), 132001),
    (template("spring_sale"), 132015),
    (template("order_update"), 132000),
    (template("order_update", components=ORDER_OK[1:]), 132000),
    (template("order_update", components=[ORDER_OK[0], {"type": "body", "parameters": [
        {"type": "text", "text": "Ana"}]}]), 132000),
    (template("hello_world", components=[{"type": "body", "parameters": [
        {"type": "text", "text": "x"}]}]), 132000),
    (template("appointment_reminder", components=[{"type": "body", "parameters": [
        {"type": "text", "text": "Ana"}, {"type": "text", "text": "May 5"},
        {"type": "text", "text": "9:30"}]}]), 132012),
    (template("appointment_reminder", components=named_params(
        ("first_name", "Ana"), ("appointment_date", "May 5"), ("wrong", "9:30"))), 132012),
    (template("welcome_offer", components=[
        {"type": "header", "parameters": [{"type": "text", "text": "x"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                        {"type": "text", "text": "W10"}]},
        {"type": "button", "sub_type": "url", "index": "0",
         "parameters": [{"type": "text", "text": "W10"}]}]), 132012),
    (text(), 131047),
    ({**template(), "messaging_product": "sms"}, 100),
    ({k: v for k, v in template().items() if k != "messaging_product"}, 100),
    ({k: v for k, v in template().items() if k != "to"}, 100),
    (template("order_update", components=[ORDER_OK[0], {"type": "body", "parameters": [
        {"type": "text", "text": "Ana\nB"}, {"type": "text", "text": "Friday"}]}]), 100),
])
def test_send_validation_like_meta(server, payload, code) -> None:
    """Each invalid send gets Meta's error code in the Graph envelope (nothing is sent)."""
    answer = send(server, payload)
    error = error_of(answer)
    assert answer.status_code == 400 and error["code"] == code, error
    if code >= 130000:
        assert error["error_data"]["messaging_product"] == "whatsapp"
        assert error["error_data"]["details"]
    assert server.world.sent == {}


def test_named_and_media_templates_send(server) -> None:
    """Named parameters with parameter_name, and an image header + URL button, are accepted."""
    named = send(server, template("appointment_reminder", components=named_params(
        ("appointment_time", "9:30"), ("first_name", "Ana"), ("appointment_date", "May 5"))))
    assert named.status_code == 200
    media = send(server, template("welcome_offer", components=[
        {"type": "header", "parameters": [{"type": "image",
                                           "image": {"link": "https://example.com/a.png"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                        {"type": "text", "text": "W10"}]},
        {"type": "button", "sub_type": "url", "index": "0",
         "parameters": [{"type": "text", "text": "W10"}]}]))
    assert media.status_code == 200


@pytest.mark.parametrize(("name", "status", "code", "subcode"), [
    ("no_messaging", 403, 10, None), ("other_waba", 403, 200, 1349174),
    ("expired", 401, 190, 463)])
def test_send_permission_errors(server, name, status, code, subcode) -> None:
    """Sending needs whatsapp_business_messaging on the number's WABA and a live token."""
    answer = send(server, template(), token=server.world.tokens[name].value)
    error = error_of(answer)
    assert (answer.status_code, error["code"], error.get("error_subcode")) == (
        status, code, subcode)


def test_other_phone_numbers(server) -> None:
    """An unregistered number is 133010; the other WABA's number refuses the main token."""
    unregistered = call(server, "POST", "200000000000014/messages", json=template())
    assert error_of(unregistered)["code"] == 133010
    other = call(server, "POST", f"{OTHER_PHONE}/messages", json=template())
    assert error_of(other)["code"] == 200
    allowed = call(server, "POST", f"{OTHER_PHONE}/messages", json=template(),
                   token=server.world.tokens["other_waba"].value)
    assert allowed.status_code == 200
    registered = call(server, "POST", "200000000000014/register",
                      json={"messaging_product": "whatsapp", "pin": "123456"})
    assert registered.json() == {"success": True}
    assert call(server, "POST", "200000000000014/messages", json=template()).status_code == 200


def test_status_webhooks_arrive_signed_and_in_order(server, receiver) -> None:
    """sent -> delivered -> read reach the callback, signed with the app secret, §c shapes."""
    server.world.callback_url = receiver.url
    wamid = send(server, template("order_update", components=ORDER_OK)).json()["messages"][0]["id"]
    posts = receiver.take(3)
    events = []
    for headers, raw in posts:
        assert headers["Content-Type"] == "application/json"
        assert verify_signature(APP_SECRET, raw, headers[SIGNATURE_HEADER])
        assert not verify_signature("wrong-secret", raw, headers[SIGNATURE_HEADER])
        (event,) = parse_webhook(raw)
        events.append(event)
    assert [e.status for e in events] == ["sent", "delivered", "read"]
    assert all(isinstance(e, StatusEvent) and e.wamid == wamid for e in events)
    assert all((e.waba_id, e.phone_number_id, e.recipient_id) == (WABA, PHONE, RECIPIENT)
               for e in events)
    assert events[0].display_phone_number == server.world.phone_numbers[PHONE].digits
    assert events[0].conversation_expiration and events[1].conversation_expiration is None
    assert (events[0].billable, events[0].pricing_model, events[0].pricing_category) == (
        True, "PMP", "utility")
    envelope = json.loads(posts[0][1])
    assert envelope["object"] == "whatsapp_business_account"
    assert envelope["entry"][0]["changes"][0]["field"] == "messages"
    assert server.world.wait_webhooks(2)
    deliveries = server.world.webhook_deliveries
    assert len(deliveries) == 3 and all(d.status == 200 and d.error is None for d in deliveries)


def test_status_delays_are_respected(server, receiver) -> None:
    """status_delays spaces the statuses; None stops before that status."""
    server.world.callback_url = receiver.url
    server.world.status_delays = {"sent": 0.0, "delivered": 0.2, "read": None}
    send(server, template())
    (sent_headers, first), (_, second) = receiver.take(2)
    assert [parse_webhook(r)[0].status for r in (first, second)] == ["sent", "delivered"]
    assert server.world.wait_webhooks(2)
    assert receiver.posts.empty()


def test_failed_recipient_gets_a_failed_status(server, receiver) -> None:
    """A configured failure sends `failed` with the error in errors[]."""
    server.world.callback_url = receiver.url
    server.world.fail_recipients["15551234568"] = 131049
    wamid = send(server, template(to="15551234568")).json()["messages"][0]["id"]
    ((headers, raw),) = receiver.take(1)
    (event,) = parse_webhook(raw)
    assert b"https:\\/\\/" in raw  # Meta's escaped slashes: re-serialising breaks the MAC
    reencoded = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert not verify_signature(APP_SECRET, reencoded, headers[SIGNATURE_HEADER])
    assert (event.wamid, event.status, event.error.code) == (wamid, "failed", 131049)
    assert event.error.title and event.error.details and event.error.href
    seeded = send(server, template(to="15551239999")).json()["messages"][0]["id"]
    (event,) = parse_webhook(receiver.take(1)[0][1])
    assert (event.wamid, event.error.code) == (seeded, 131026)


def test_reply_arrives_with_context_and_opens_the_window(server, receiver) -> None:
    """simulate_reply posts a signed inbound message with context.id; text then works."""
    server.world.callback_url = receiver.url
    server.world.status_delays = {"sent": None}
    wamid = send(server, template()).json()["messages"][0]["id"]
    inbound_id = server.world.simulate_reply(wamid, text="Got it, thanks")
    ((headers, raw),) = receiver.take(1)
    assert verify_signature(APP_SECRET, raw, headers[SIGNATURE_HEADER])
    (event,) = parse_webhook(raw)
    assert isinstance(event, InboundMessage)
    assert (event.wamid, event.context_id, event.from_wa_id, event.text) == (
        inbound_id, wamid, RECIPIENT, "Got it, thanks")
    assert event.phone_number_id == PHONE and event.contact_name
    free = send(server, text("thanks for answering"))
    assert free.status_code == 200 and "message_status" not in free.json()["messages"][0]
    with pytest.raises(KeyError):
        server.world.simulate_reply("wamid.unknown")


def test_window_closes_after_24_hours(server) -> None:
    """An inbound message opens the window for 24 h of the world's clock."""
    world = server.world
    world.simulate_inbound(RECIPIENT, "hello")
    assert send(server, text()).status_code == 200
    now = world.clock()
    world.clock = lambda: now + 24 * 3600 + 1
    assert error_of(send(server, text()))["code"] == 131047


def test_window_error_as_webhook(server, receiver) -> None:
    """window_errors='webhook': the send is accepted and a failed 131047 status follows."""
    server.world.callback_url = receiver.url
    server.world.window_errors = "webhook"
    wamid = send(server, text()).json()["messages"][0]["id"]
    (event,) = parse_webhook(receiver.take(1)[0][1])
    assert (event.wamid, event.status, event.error.code) == (wamid, "failed", 131047)


def test_admin_reply_endpoint(server, receiver) -> None:
    """POST /_sandbox/reply does what simulate_reply does; an unknown wamid is 404."""
    server.world.callback_url = receiver.url
    server.world.status_delays = {"sent": None}
    wamid = send(server, template()).json()["messages"][0]["id"]
    answer = call(server, "POST", "_sandbox/reply", token=None, version="",
                  json={"wamid": wamid, "text": "yes"})
    assert answer.json()["success"] is True
    (event,) = parse_webhook(receiver.take(1)[0][1])
    assert event.context_id == wamid and event.text == "yes"
    unknown = call(server, "POST", "_sandbox/reply", token=None, version="",
                   json={"wamid": "wamid.nope"})
    assert unknown.status_code == 404
    state = call(server, "GET", "_sandbox/state", token=None, version="").json()
    assert state["simulated"] is True and state["sent"] == 1


def test_unsubscribed_app_gets_no_webhooks(server, receiver) -> None:
    """DELETE subscribed_apps stops webhooks; POST subscribes again."""
    server.world.callback_url = receiver.url
    assert call(server, "DELETE", f"{WABA}/subscribed_apps").json() == {"success": True}
    assert call(server, "GET", f"{WABA}/subscribed_apps").json() == {"data": []}
    send(server, template())
    assert server.world.wait_webhooks(2) and receiver.posts.empty()
    assert call(server, "POST", f"{WABA}/subscribed_apps").json() == {"success": True}
    apps = call(server, "GET", f"{WABA}/subscribed_apps").json()["data"]
    assert [a["whatsapp_business_api_data"]["id"] for a in apps] == [APP_ID]
    send(server, template())
    assert len(receiver.take(3)) == 3


def test_waba_override_with_handshake(server, receiver) -> None:
    """A WABA override is verified by the GET handshake and then receives `messages`."""
    override = Receiver()
    try:
        answer = call(server, "POST", f"{WABA}/subscribed_apps", json={
            "override_callback_uri": override.url, "verify_token": VERIFY_TOKEN})
        assert answer.json()["success"] is True
        assert answer.json()["data"][0]["override_callback_uri"] == override.url
        assert override.handshakes[0]["hub.mode"] == "subscribe"
        server.world.callback_url = receiver.url
        send(server, template())
        assert len(override.take(3)) == 3 and receiver.posts.empty()
    finally:
        override.close()


def test_override_handshake_failure_is_refused(server, receiver) -> None:
    """A wrong verify token (403 from the receiver) makes the override POST fail with 100."""
    answer = call(server, "POST", f"{WABA}/subscribed_apps", json={
        "override_callback_uri": receiver.url, "verify_token": "wrong"})
    assert answer.status_code == 422 and error_of(answer)["code"] == 100
    closed = call(server, "POST", f"{WABA}/subscribed_apps", json={
        "override_callback_uri": "http://127.0.0.1:9/hook", "verify_token": "x"})
    assert error_of(closed)["code"] == 100


def test_phone_number_override_and_removal(server, receiver) -> None:
    """POST /{phone} webhook_configuration sets a verified override; "" removes it."""
    override = Receiver()
    try:
        answer = call(server, "POST", PHONE, json={"webhook_configuration": {
            "override_callback_uri": override.url, "verify_token": VERIFY_TOKEN}})
        assert answer.json() == {"success": True}
        config = call(server, "GET", PHONE,
                      params={"fields": "webhook_configuration"}).json()["webhook_configuration"]
        assert config["phone_number"] == override.url
        server.world.callback_url = receiver.url
        send(server, template())
        assert len(override.take(3)) == 3
        template_event = call(server, "POST", f"{WABA}/message_templates", json={
            "name": "route_check", "language": "en_US", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Plain text only."}]})
        assert template_event.status_code == 200
        assert parse_webhook(receiver.take(1)[0][1])[0].name == "route_check"
        removed = call(server, "POST", PHONE, json={"webhook_configuration": {
            "override_callback_uri": ""}})
        assert removed.json() == {"success": True}
        send(server, template())
        assert len(receiver.take(3)) == 3
    finally:
        override.close()


def test_app_subscription_post_sets_the_callback(server, receiver) -> None:
    """POST /{app}/subscriptions verifies the URL and makes it the app callback."""
    app_token = f"{APP_ID}|{APP_SECRET}"
    answer = call(server, "POST", f"{APP_ID}/subscriptions", token=app_token, data={
        "object": "whatsapp_business_account", "callback_url": receiver.url,
        "verify_token": VERIFY_TOKEN, "fields": "messages,message_template_status_update"})
    assert answer.json() == {"success": True}
    assert server.world.callback_url == receiver.url
    send(server, template())
    assert len(receiver.take(3)) == 3
    bad = call(server, "POST", f"{APP_ID}/subscriptions", token=app_token, data={
        "object": "whatsapp_business_account", "callback_url": receiver.url,
        "verify_token": "wrong"})
    assert error_of(bad)["code"] == 2200


def test_failed_webhook_delivery_is_recorded_not_fatal(server) -> None:
    """A callback that refuses connections is recorded with its error; sending still works."""
    server.world.callback_url = "http://127.0.0.1:9/nowhere"
    send(server, template())
    assert server.world.wait_webhooks(10)
    deliveries = server.world.webhook_deliveries
    assert len(deliveries) == 3
    assert all(d.status is None and d.error and d.signature.startswith("sha256=")
               for d in deliveries)
    assert send(server, template()).status_code == 200


def test_webhook_retries_on_error_status(server) -> None:
    """webhook_retry_delays retries a non-2xx delivery, each attempt recorded."""
    failing = Receiver(status=500)
    try:
        server.world.callback_url = failing.url
        server.world.webhook_retry_delays = (0.01, 0.01)
        server.world.status_delays = {"sent": 0.0, "delivered": None}
        send(server, template())
        wait_for(lambda: len(server.world.webhook_deliveries) == 3)
        assert [d.attempt for d in server.world.webhook_deliveries] == [1, 2, 3]
        assert all(d.status == 500 for d in server.world.webhook_deliveries)
        assert len(failing.take(3)) == 3
    finally:
        failing.close()
