"""The identity of the sandbox channel account a newcomer gets on first start.

The sandbox emulator (wa_console.sandbox, arriving with the Meta client issue) seeds the same
IDs, so an account created from these values works against it without typing anything.
"""

from __future__ import annotations

from typing import Final

from wa_console.core.schema import DEFAULT_GRAPH_VERSION, PROVIDER_META

SANDBOX_ACCOUNT_NAME: Final = "Sandbox (simulated)"
SANDBOX_VALUES: Final[dict[str, str | bool]] = {
    "provider": PROVIDER_META,
    "waba_id": "100000000000001",
    "phone_number_id": "200000000000002",
    "display_phone_number": "+15550100001",
    "app_id": "300000000000003",
    "webhook_callback_url": "http://127.0.0.1:8765/webhooks/whatsapp",
    "graph_api_version": DEFAULT_GRAPH_VERSION,
    "sandbox": True,
}
# Not secrets of anything real: the emulator's published test credentials.
SANDBOX_SECRETS: Final[dict[str, str]] = {
    "access_token": "SANDBOX-system-user-token-0001",
    "app_secret": "5a4db0c0ffee5a4db0c0ffee5a4db0c0",
    "webhook_verify_token": "sandbox-verify-token",
}


def sandbox_account_name(taken: set[str]) -> str:
    """The first free name among "Sandbox (simulated)", "Sandbox (simulated) 2", ..."""
    lowered = {name.lower() for name in taken}
    name, n = SANDBOX_ACCOUNT_NAME, 1
    while name.lower() in lowered:
        n += 1
        name = f"{SANDBOX_ACCOUNT_NAME} {n}"
    return name
