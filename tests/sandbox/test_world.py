"""The seeded world, the package boundary (no Qt) and the command line."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time

import requests

from tests.sandbox.conftest import APP_ID, PHONE, TOKEN, WABA
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.sandbox import World, seeded_world
from wa_console.sandbox import templates as rules
from wa_console.sandbox.cli import banner, run
from wa_console.sandbox.server import SandboxServer


def test_import_leaves_qt_out() -> None:
    """Importing wa_console.sandbox (and its cli) leaves PySide6 out of sys.modules."""
    code = ("import sys, wa_console.sandbox, wa_console.sandbox.cli; "
            "loaded = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]; "
            "print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_seeded_world_is_deterministic() -> None:
    """The same seed gives the same world; another seed gives other templates."""
    a, b, c = seeded_world(300, seed=7), seeded_world(300, seed=7), seeded_world(300, seed=8)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert [t.id for t in a.templates_of(WABA)] == [t.id for t in b.templates_of(WABA)]


def test_seeded_world_is_deterministic_across_processes() -> None:
    """Another interpreter (other hash seed) builds the identical world from the same seed."""
    code = ("from wa_console.sandbox import seeded_world; "
            "print(seeded_world(500, seed=5).fingerprint())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert result.stdout.strip() == seeded_world(500, seed=5).fingerprint()


def test_seeded_world_uses_the_sandbox_defaults() -> None:
    """Main WABA, phone number, app, token, secret and verify token are sandbox_defaults'."""
    world = seeded_world(templates=0)
    assert isinstance(world, World) and world.simulated
    assert world.main_waba_id == WABA and world.main_phone_number_id == PHONE
    assert world.app.id == APP_ID and world.app.secret == SANDBOX_SECRETS["app_secret"]
    assert world.app.verify_token == SANDBOX_SECRETS["webhook_verify_token"]
    assert world.tokens["valid"] == TOKEN and world.tokens["valid"].type == "SYSTEM_USER"
    main = world.phone_numbers[PHONE]
    assert main.digits == re.sub(r"\D", "", str(SANDBOX_VALUES["display_phone_number"]))
    assert (main.status, main.name_status, main.quality_rating, main.messaging_limit_tier,
            main.code_verification_status) == ("CONNECTED", "APPROVED", "GREEN", "TIER_1K",
                                               "VERIFIED")


def test_seeded_world_has_varied_numbers_tokens_and_templates() -> None:
    """Numbers in several states, every token kind, templates of every status and format."""
    world = seeded_world(templates=2000, seed=0)
    mine = world.phones_of(WABA)
    assert len(mine) >= 3 and any(p.name_status == "PENDING_REVIEW" for p in mine)
    assert any(p.status == "FLAGGED" and p.quality_rating in ("RED", "YELLOW") for p in mine)
    assert world.phones_of("100000000000011")
    assert {"valid", "expired", "no_messaging", "other_waba", "temporary"} <= set(world.tokens)
    temporary = world.tokens["temporary"]
    assert temporary.type == "USER" and 23 * 3600 < temporary.expires_at - time.time() <= 86400
    templates = world.templates_of(WABA)
    assert len(templates) == 2000 + 9
    assert all(t.id.isdigit() and t.simulated for t in templates)
    assert {t.status for t in templates} >= {"APPROVED", "PENDING", "REJECTED", "PAUSED"}
    assert {t.category for t in templates} == {"MARKETING", "UTILITY", "AUTHENTICATION"}
    assert {"en_US", "en_GB", "pt_BR", "es", "de"} <= {t.language for t in templates}
    assert {t.parameter_format for t in templates} == {"POSITIONAL", "NAMED"}
    assert all(t.rejected_reason != "NONE" for t in templates if t.status == "REJECTED")
    approved = world.find_template(WABA, "hello_world", "en_US")
    assert approved is not None and approved.status == "APPROVED"
    assert not rules.placeholders(" ".join(c.get("text", "") for c in approved.components))


def test_seeded_approved_templates_pass_the_review_rules() -> None:
    """Every generated APPROVED template would pass the emulator's own review."""
    world = seeded_world(templates=1500, seed=3)
    for t in world.templates_of(WABA):
        if t.status == "APPROVED":
            assert rules.review_problems(t.components, t.parameter_format, t.category) == [], t


def test_cli_run_prints_everything_needed() -> None:
    """run() prints URL, version, IDs, display number, secret, verify token and every token."""
    out = io.StringIO()
    assert run(port=0, templates=3, wait=lambda: None, out=out) == 0
    text = out.getvalue()
    world = seeded_world(templates=0)
    for value in ("http://127.0.0.1:", "v23.0", WABA, PHONE, APP_ID,
                  SANDBOX_VALUES["display_phone_number"], SANDBOX_SECRETS["app_secret"],
                  SANDBOX_SECRETS["webhook_verify_token"],
                  *(t.value for t in world.tokens.values()), *world.tokens):
        assert str(value) in text, value


def test_cli_reports_a_busy_port() -> None:
    """A port already in use makes run() return 1 instead of raising."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run(port=port, templates=0, wait=lambda: None, out=io.StringIO()) == 1


def test_python_m_serves_until_ctrl_c() -> None:
    """`python -m wa_console.sandbox` prints the banner, serves, and exits 0 on Ctrl+C."""
    proc = subprocess.Popen([sys.executable, "-m", "wa_console.sandbox", "--port", "0",
                             "--templates", "3"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or "Ctrl+C" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        base = re.search(r"Base URL\s+(\S+)", "".join(lines)).group(1)
        answer = requests.get(f"{base}/v23.0/{WABA}", timeout=5,
                              headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.json()["id"] == WABA
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "Stopping" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)


def test_banner_names_the_tokens() -> None:
    """The banner lists each named token with its type."""
    with SandboxServer(seeded_world(templates=0)) as server:
        text = banner(server)
        assert server.base_url in text
    assert "no_messaging" in text and "SYSTEM_USER" in text and "(USER)" in text
