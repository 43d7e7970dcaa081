"""One valid channel-account configuration, shared by the store and GUI tests."""

from __future__ import annotations

TOKEN = "EAAGm0PX4ZCpsBAKZBZAtesttokenvalue123456789"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY = "verify-me-please-42"

TYPED = {  # the plain fields, as an admin types them
    "account_name": "Main campus",
    "waba_id": "102290129340398",
    "phone_number_id": "106540352242922",
    "display_phone_number": "+44 7911 123456",
    "app_id": "1234567890123456",
    "webhook_callback_url": "https://platform.example.org/webhooks/whatsapp",
}
SECRETS = {"access_token": TOKEN, "app_secret": APP_SECRET, "webhook_verify_token": VERIFY}
