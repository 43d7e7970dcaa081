"""`wa-console`: the command line. Without a subcommand it starts the GUI.

Kept light: `--version` and `--help` import neither Qt nor SQLAlchemy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wa_console import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wa-console",
        description="Connect an organisation to the WhatsApp Business Cloud API and prove it "
        "works. Without options, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"wa-console {__version__}")
    parser.add_argument(
        "--db", metavar="URL",
        help="SQLAlchemy database URL (default: $WA_CONSOLE_DB_URL, else a SQLite file in the "
        "user data folder); PostgreSQL: postgresql://user@host/dbname",
    )
    parser.add_argument(
        "--smoke", action="store_true",
        help="open the main window on the database, exit 0 once it is usable (packaging check)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from wa_console.gui.app import run

    # The database URL is resolved (and logging set up) off the first-paint path, by the GUI.
    return run(args.db, smoke=args.smoke)


if __name__ == "__main__":
    sys.exit(main())
