"""The seeded sandbox account as tests address it (the IDs the console's sandbox account uses)."""

from __future__ import annotations

from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES

WABA = str(SANDBOX_VALUES["waba_id"])
PHONE = str(SANDBOX_VALUES["phone_number_id"])
APP_ID = str(SANDBOX_VALUES["app_id"])
TOKEN = SANDBOX_SECRETS["access_token"]
APP_SECRET = SANDBOX_SECRETS["app_secret"]
RECIPIENT = "15551234567"  # on the emulator's test allow-list
