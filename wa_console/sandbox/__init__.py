"""Sandbox mode: a local, faithful emulator of Meta's WhatsApp Cloud API (Graph API).

Meta cannot be reached from a test machine, so every test, benchmark and the console's sandbox
account talk to this instead::

    from wa_console.sandbox import SandboxServer, seeded_world
    world = seeded_world(templates=6000, seed=0)          # deterministic
    with SandboxServer(world, host="127.0.0.1", port=0) as server:
        server.base_url      # "http://127.0.0.1:PORT"; Graph paths: f"{base_url}/v23.0/..."
        server.faults.inject(method="GET", path=r"/message_templates$", kind="http_5xx")
        server.requests      # every request, recorded
        world.callback_url = "http://127.0.0.1:9999/hook"  # signed webhooks go here

Everything it holds or answers is simulated; the IDs and credentials of the main WABA, phone
number, app and system-user token are those of `wa_console.core.sandbox_defaults`.
No Qt, no web framework: stdlib http.server plus requests (for webhooks).
"""

from __future__ import annotations

from wa_console.sandbox.errors import GraphError
from wa_console.sandbox.faults import KINDS as FAULT_KINDS
from wa_console.sandbox.faults import Fault, FaultInjector
from wa_console.sandbox.server import RecordedRequest, SandboxServer
from wa_console.sandbox.world import (
    App,
    Business,
    PhoneNumber,
    SentMessage,
    Template,
    Token,
    Waba,
    WebhookDelivery,
    World,
    seeded_world,
)

__all__ = [
    "FAULT_KINDS",
    "App",
    "Business",
    "Fault",
    "FaultInjector",
    "GraphError",
    "PhoneNumber",
    "RecordedRequest",
    "SandboxServer",
    "SentMessage",
    "Template",
    "Token",
    "Waba",
    "WebhookDelivery",
    "World",
    "seeded_world",
]
