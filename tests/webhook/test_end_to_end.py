"""The whole path through real servers: the sandbox emulator sends a template, its signed status
webhooks and the simulated reply reach the receiver, and land mapped in the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.webhook.conftest import PHONE_ID, USER
from wa_console.ops.context import OpContext
from wa_console.ops.provider import client_for
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store import messages
from wa_console.store.accounts import AccountStore
from wa_console.store.models import OutboundMessage, WebhookEvent
from wa_console.webhook.app import CachedAccountSecrets
from wa_console.webhook.server import ReceiverServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    world = seeded_world(templates=20, seed=1)
    world.review_delay = 0
    world.status_delays = {"sent": 0.0, "delivered": 0.0, "read": 0.0}
    world.webhook_timeout = 2.0
    with SandboxServer(world, host="127.0.0.1", port=0) as running:
        yield running
    world.close()


def test_send_statuses_and_reply_land_in_the_database(
        sandbox: SandboxServer, store: AccountStore, secrets: CachedAccountSecrets) -> None:
    """sent/delivered/read arrive signed and advance the message to read; the simulated reply
    is stored and mapped to the send by context.id; all of it marked simulated."""
    account = store.list_accounts()[0]
    world = sandbox.world
    with ReceiverServer(store.engine, secrets, port=0, threads=4) as receiver:
        world.callback_url = receiver.url
        client = client_for(store.get(account.id), store.secrets, OpContext(),
                            base_url=sandbox.base_url)
        wamid = client.send_template(PHONE_ID, USER, "hello_world", "en_US").wamid
        assert world.wait_webhooks(5)
        reply_id = world.simulate_reply(wamid, "Received, thanks")
        assert world.wait_webhooks(5)
        accepted = receiver.events_accepted
    assert [d.status for d in world.webhook_deliveries] == [200, 200, 200, 200]
    assert accepted == 4

    history = messages.statuses_for(store.engine, wamid)
    assert [s.status for s in history] == ["sent", "delivered", "read"]
    assert all(s.signature_valid and s.recipient == USER for s in history)
    [reply] = messages.replies_to(store.engine, wamid)
    assert (reply.wamid, reply.text, reply.context_wamid, reply.from_number) == (
        reply_id, "Received, thanks", wamid, USER)
    with Session(store.engine) as session:
        sent = session.scalar(select(OutboundMessage).where(OutboundMessage.wamid == wamid))
        assert sent is not None
        assert (sent.status, sent.account_id, sent.simulated) == ("read", account.id, True)
        events = session.scalars(select(WebhookEvent)).all()
        assert len(events) == 4
        assert all(e.simulated and e.account_id == account.id and e.signature_valid
                   for e in events)
    assert messages.event_count(store.engine, account.id) == 4
