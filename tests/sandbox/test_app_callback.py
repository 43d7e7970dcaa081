"""One place decides the app's webhook callback: what GET /{app}/subscriptions and the phone's
webhook_configuration report is where app-routed webhooks are delivered."""

from __future__ import annotations

from tests.sandbox.conftest import APP_ID, APP_SECRET, PHONE, TOKEN, WABA, call
from tests.sandbox.test_messages import send, template

APP_TOKEN = f"{APP_ID}|{APP_SECRET}"


def reported(server) -> tuple[list[dict], dict]:  # type: ignore[no-untyped-def]
    subs = call(server, "GET", f"{APP_ID}/subscriptions", token=APP_TOKEN).json()["data"]
    hook = call(server, "GET", PHONE, token=TOKEN,
                params={"fields": "webhook_configuration"}).json()["webhook_configuration"]
    return subs, hook


def test_reported_callback_is_where_webhooks_go(server, receiver) -> None:
    """With a callback set, both reads name it and the statuses arrive there."""
    server.world.callback_url = receiver.url
    (sub,), hook = reported(server)
    assert sub["callback_url"] == hook["application"] == receiver.url
    assert server.world.webhook_target(WABA, "messages") == receiver.url
    send(server, template())
    assert len(receiver.take(3)) == 3


def test_no_callback_reports_no_subscription_and_sends_nothing(server) -> None:
    """The seeded default (None): no subscription listed, no application URL, no delivery."""
    assert server.world.callback_url is None
    subs, hook = reported(server)
    assert subs == [] and "application" not in hook
    send(server, template())
    assert server.world.wait_webhooks(5)
    assert server.world.webhook_deliveries == []


def test_inactive_subscription_is_listed_and_delivers_nothing(server, receiver) -> None:
    """active: false is reported, and nothing is delivered while it is."""
    server.world.callback_url = receiver.url
    server.world.app.subscription_active = False
    (sub,), _ = reported(server)
    assert sub["active"] is False and sub["callback_url"] == receiver.url
    assert server.world.webhook_target(WABA, "messages") is None
    send(server, template())
    assert server.world.wait_webhooks(5)
    assert receiver.posts.empty()


def test_deleting_the_subscription_drops_the_callback(server, receiver) -> None:
    """DELETE /{app}/subscriptions removes the subscription with its callback URL."""
    server.world.callback_url = receiver.url
    assert call(server, "DELETE", f"{APP_ID}/subscriptions", token=APP_TOKEN).json() == {
        "success": True}
    assert server.world.callback_url is None
    assert reported(server)[0] == []
