"""`wa-console sandbox` / `python -m wa_console.sandbox`: serve the emulator until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.sandbox.server import SandboxServer
from wa_console.sandbox.world import seeded_world

__all__ = ["banner", "main", "run"]

DEFAULT_PORT = 8766
DEFAULT_TEMPLATES = 200


def banner(server: SandboxServer) -> str:
    """What `run` prints first: where to point the console, and the simulated credentials."""
    world = server.world
    app = world.app
    phone = world.phone_numbers[world.main_phone_number_id]
    lines = [
        "WhatsApp Cloud API sandbox (simulated; nothing here reaches Meta)",
        f"  Base URL           {server.base_url}",
        f"  Graph version      {world.graph_version}   (Graph URL {server.graph_url})",
        f"  WABA ID            {world.main_waba_id}",
        f"  Phone number ID    {phone.id}",
        f"  Display number     {SANDBOX_VALUES['display_phone_number']}  "
        f"({phone.display_phone_number})",
        f"  App ID             {app.id}",
        f"  App secret         {app.secret}",
        f"  Verify token       {app.verify_token}",
        f"  Webhooks go to     {world.callback_url or '(nowhere: callback_url not set)'}",
        f"  Templates          {len(world.templates)}",
        f"  Test recipients    {', '.join(sorted(world.allowed_recipients))}",
        "  Tokens:",
    ]
    width = max(len(name) for name in world.tokens)
    for name, token in world.tokens.items():
        lines.append(f"    {name:<{width}}  {token.value}  ({token.type})")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def run(port: int, templates: int, host: str = "127.0.0.1", *,
        callback_url: str | None = str(SANDBOX_VALUES["webhook_callback_url"]),
        out: TextIO | None = None,
        wait: Callable[[], None] | None = None) -> int:
    """Serve a seeded world on host:port until Ctrl+C; returns the exit code.

    Webhooks go to `callback_url` (the console's default receiver unless told otherwise).
    `wait` (tests) replaces the wait-for-Ctrl+C.
    """
    out = out or sys.stdout
    world = seeded_world(templates=templates, seed=0)
    world.callback_url = callback_url
    server = SandboxServer(world, host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        print(f"Could not listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        world.close()
        return 1
    try:
        print(banner(server), file=out, flush=True)
        if wait is not None:
            wait()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopping the sandbox.", file=out, flush=True)
    finally:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wa_console.sandbox",
                                     description="Run the simulated WhatsApp Cloud API.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--templates", type=int, default=DEFAULT_TEMPLATES, metavar="N",
                        help=f"generated message templates (default {DEFAULT_TEMPLATES})")
    args = parser.parse_args(argv)
    if args.templates < 0:
        parser.error("--templates must be >= 0")
    return run(port=args.port, templates=args.templates, host=args.host)
