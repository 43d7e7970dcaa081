"""The receiver's modules stay out of Qt, and importing them loads no database code yet."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = ["wa_console.webhook.app", "wa_console.webhook.server", "wa_console.webhook.cli",
           "wa_console.webhook.proof_import", "wa_console.store.messages"]


@pytest.mark.parametrize("module", MODULES)
def test_imports_without_qt_or_sqlalchemy(module: str) -> None:
    """A fresh interpreter importing the module has neither PySide6 nor SQLAlchemy loaded."""
    code = (f"import sys, {module}; "
            "loaded = sorted({m.split('.')[0] for m in sys.modules "
            "if m.startswith(('PySide6', 'shiboken6', 'sqlalchemy', 'waitress'))}); "
            "print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"{module} pulled in {result.stdout.strip()} {result.stderr}"
