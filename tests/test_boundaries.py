"""Architecture rules that a test can hold: the non-GUI layers never import Qt."""

from __future__ import annotations

import subprocess
import sys

import pytest

QT_FREE = ["wa_console.core.schema", "wa_console.core.validation", "wa_console.core.transfer",
           "wa_console.core.credentials", "wa_console.core.redaction",
           "wa_console.core.sandbox_defaults", "wa_console.store.accounts", "wa_console.store.db",
           "wa_console.store.secrets", "wa_console.store.models", "wa_console.store.snapshot",
           "wa_console.logs", "wa_console.cli", "wa_console.core.errors",
           "wa_console.meta.client", "wa_console.meta.errors", "wa_console.meta.webhooks",
           "wa_console.sandbox", "wa_console.sandbox.cli", "wa_console.core.readiness",
           "wa_console.ops.verify", "wa_console.ops.sync", "wa_console.ops.readiness",
           "wa_console.ops.check_cli", "wa_console.ops.provider", "wa_console.store.checks",
           "wa_console.store.synced", "wa_console.core.senders", "wa_console.store.senders",
           "wa_console.store.recipients", "wa_console.store.test_sends", "wa_console.store.proofs",
           "wa_console.ops.test_send", "wa_console.ops.webhook_check",
           "wa_console.core.webhook_routing", "wa_console.core.consent",
           "wa_console.store.preferences", "wa_console.store.messages", "wa_console.webhook.app",
           "wa_console.webhook.server", "wa_console.webhook.cli",
           "wa_console.webhook.proof_import", "wa_console.core.health",
           "wa_console.store.health", "wa_console.store.quality", "wa_console.ops.health_cli",
           "wa_console.sandbox.history"]


@pytest.mark.parametrize("module", QT_FREE)
def test_layer_imports_without_qt(module: str) -> None:
    """Importing a core/store module in a fresh interpreter leaves PySide6 out of sys.modules."""
    code = (f"import sys, {module}; "
            "loaded = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))); "
            "print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"{module} pulled in {result.stdout.strip()} {result.stderr}"


def test_version_flag_is_light() -> None:
    """`wa-console --version` answers without importing Qt, SQLAlchemy or keyring."""
    code = ("import sys\nfrom wa_console.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('PySide6', 'sqlalchemy', 'keyring', 'alembic') "
            "if m in sys.modules]\nprint('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert "wa-console 0.1.0" in result.stdout
    assert "HEAVY []" in result.stdout
