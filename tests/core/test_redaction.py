"""Redaction of secrets in text bound for logs: registered values and token-shaped parameters."""

from __future__ import annotations

import pytest

from wa_console.core.redaction import redact, register_secret


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /v23.0/debug_token?input_token=EAAB123&access_token=EAAX9",
     "GET /v23.0/debug_token?input_token=<redacted>&access_token=<redacted>"),
    ("https://hooks.example.org/wa?hub.mode=subscribe&hub.verify_token=s3cr3t-vt&"
     "hub.challenge=42",
     "https://hooks.example.org/wa?hub.mode=subscribe&hub.verify_token=<redacted>&hub.challenge=42"),
    ("headers={'Authorization': 'Bearer EAAZZ'}", "headers={'Authorization': 'Bearer <redacted>'}"),
    ("nothing secret here", "nothing secret here"),
])
def test_token_parameters_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_registered_secret_is_masked_anywhere() -> None:
    register_secret("verify-token-only-we-know")
    assert "verify-token-only-we-know" not in redact("token was verify-token-only-we-know, ok")
