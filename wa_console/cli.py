"""`wa-console`: the command line. Without a subcommand it starts the GUI;
`wa-console sandbox` runs the Graph API emulator, `wa-console webhook serve` the webhook
receiver, `wa-console check` / `wa-console health` print readiness / delivery health.

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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sandbox = commands.add_parser(
        "sandbox", help="run the sandbox Graph API emulator and print its URL, IDs and tokens",
        description="Run the built-in Graph API emulator (the console's Safe/fake provider "
        "mode) on loopback until Ctrl+C. Nothing it does counts as production proof.")
    sandbox.add_argument("--port", type=int, default=8766, help="port (default 8766; 0 = any)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    sandbox.add_argument("--templates", type=int, default=200, metavar="N",
                         help="generated message templates (default 200)")
    check = commands.add_parser(
        "check", help="print the readiness checklist (exit 0 ready, 1 not ready, 2 error)",
        description="Print the readiness checklist of a channel account from the database. "
        "--live first runs Verify provider, Sync channel account and Sync templates.")
    check.add_argument("--account", metavar="NAME", help="the account (default: the only one)")
    check.add_argument("--live", action="store_true", help="run the checks against Meta first "
                       "(the sandbox emulator for sandbox accounts)")
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    health = commands.add_parser(
        "health", help="print delivery health (exit 0 healthy, 1 threshold crossed, 2 error)",
        description="Print a period's delivery figures (sent, delivered, read, failed, "
        "unconfirmed) with rates and the top failure codes with their meaning and fix. Exit 1 "
        "when the failure rate or the unconfirmed count crosses its limit (for monitoring).")
    health.add_argument("--db", dest="health_db", metavar="URL",
                        help="database URL (default: as the console)")
    health.add_argument("--account", metavar="NAME", help="the account (default: the only one)")
    health.add_argument("--since", default="30d", metavar="30d|YYYY-MM-DD",
                        help="period start: days back (default 30d) or a UTC date")
    health.add_argument("--json", action="store_true", help="print JSON instead of text")
    health.add_argument("--max-failure-rate", type=float, default=0.05, metavar="RATE",
                        help="failed share above which to exit 1 (default 0.05)")
    health.add_argument("--max-unconfirmed", type=int, default=0, metavar="N",
                        help="unconfirmed messages above which to exit 1 (default 0)")
    webhook = commands.add_parser(
        "webhook", help="the webhook receiver (`webhook serve`)",
        description="Receive Meta's webhooks into the console's database.")
    webhook_commands = webhook.add_subparsers(dest="webhook_command", metavar="ACTION",
                                              required=True)
    serve = webhook_commands.add_parser(
        "serve", help="run the webhook receiver until Ctrl+C",
        description="Answer Meta's verification request and store signed webhook POSTs in the "
        "console's database (the same --db / WA_CONSOLE_DB_URL as the console). Meta calls "
        "only HTTPS URLs: on a server, put it behind a TLS reverse proxy.")
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    serve.add_argument("--db", dest="serve_db", metavar="URL",
                       help="database URL (default: as the console)")
    serve.add_argument("--account", dest="accounts", metavar="NAME", action="append",
                       default=[], help="accept only this account's secrets (repeatable; "
                       "default: all accounts)")
    serve.add_argument("--path", default="/webhooks/whatsapp",
                       help="callback path (default /webhooks/whatsapp)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check":
        from wa_console.ops.check_cli import run as run_check

        return run_check(args.db, args.account, args.live, args.json)
    if args.command == "health":
        from wa_console.core.health import HealthThresholds
        from wa_console.ops.health_cli import run as run_health

        return run_health(args.health_db or args.db, args.account, args.since, args.json,
                          HealthThresholds(max_failure_rate=args.max_failure_rate,
                                           max_unconfirmed=args.max_unconfirmed))
    if args.command == "webhook":
        from wa_console.webhook.cli import run as run_webhook

        return run_webhook(args.serve_db or args.db, host=args.host, port=args.port,
                           accounts=args.accounts, path=args.path)
    if args.command == "sandbox":
        from wa_console.sandbox.cli import run as run_sandbox

        return run_sandbox(port=args.port, templates=args.templates, host=args.host)
    from wa_console.gui.app import run

    # The database URL is resolved (and logging set up) off the first-paint path, by the GUI.
    return run(args.db, smoke=args.smoke)


if __name__ == "__main__":
    sys.exit(main())
