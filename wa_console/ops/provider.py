"""A Graph client for a channel account: Meta for live accounts, the emulator for sandbox ones.

Secrets are read through the secret store at call time; the sandbox emulator for sandbox
accounts runs once per process on loopback (`shared_sandbox()`), seeded with the IDs and
credentials of `core/sandbox_defaults`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from wa_console.meta.client import GRAPH_URL, ClientConfig, GraphClient, MissingCredential
from wa_console.ops.context import OpContext
from wa_console.store.records import AccountRecord
from wa_console.store.secrets import SecretStore

if TYPE_CHECKING:
    from wa_console.sandbox import SandboxServer

_sandbox_lock = threading.Lock()
_sandbox: SandboxServer | None = None
SANDBOX_TEMPLATES = 200


def shared_sandbox() -> SandboxServer:
    """The process's sandbox emulator, started on first use (loopback, any free port)."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None or not _sandbox.running:
            from wa_console.core.sandbox_defaults import SANDBOX_VALUES
            from wa_console.sandbox import SandboxServer, seeded_world

            # The emulated app's callback is the sandbox account's: webhooks go to the local
            # receiver (the Webhooks page starts it for sandbox accounts).
            world = seeded_world(templates=SANDBOX_TEMPLATES, seed=0,
                                 callback_url=str(SANDBOX_VALUES["webhook_callback_url"]))
            _sandbox = SandboxServer(world, host="127.0.0.1", port=0)
            _sandbox.start()
        return _sandbox


def stop_shared_sandbox() -> None:
    global _sandbox
    with _sandbox_lock:
        if _sandbox is not None:
            _sandbox.stop()
            _sandbox = None


def client_for(record: AccountRecord, secrets: SecretStore, ctx: OpContext,
               base_url: str | None = None) -> GraphClient:
    """The account's client. `base_url` overrides where it talks to (tests, a given emulator);
    otherwise sandbox accounts use the shared emulator and live ones Meta."""
    if base_url is None:
        base_url = shared_sandbox().base_url if record.sandbox else GRAPH_URL
    config = ClientConfig(base_url=base_url, version=str(record.values["graph_api_version"]))

    def secret(key: str) -> str | None:
        ref = record.refs.get(key)
        return secrets.get(ref) if ref is not None else None

    return GraphClient(config, token=lambda: secret("access_token"),
                       app_id=str(record.values.get("app_id") or "") or None,
                       app_secret=lambda: secret("app_secret"), cancelled=ctx.cancelled)


def waba_id_of(record: AccountRecord) -> str:
    """The account's WABA ID, or MissingCredential naming the settings field."""
    waba_id = str(record.values.get("waba_id") or "").strip()
    if not waba_id:
        raise MissingCredential("The WABA ID is not set for this account; enter it in the "
                                "settings.")
    return waba_id
