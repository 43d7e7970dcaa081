"""Logging to a rotating file in the user log dir, with every secret redacted."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from wa_console.core.redaction import redact

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets from the whole text (tracebacks included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("wa-console", appauthor=False))


def setup_logging(directory: Path | None = None, level: int = logging.INFO) -> Path:
    """Send the `wa_console` loggers to `<dir>/wa-console.log`; returns the file path."""
    directory = directory or log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "wa-console.log"
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    root = logging.getLogger("wa_console")
    for old in [h for h in root.handlers if getattr(h, "_wa_console", False)]:
        root.removeHandler(old)
        old.close()
    handler._wa_console = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return path
