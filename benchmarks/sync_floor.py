#!/usr/bin/env python3
"""Listing 6,000 templates (pages of 100) through GraphClient vs a bare `requests` loop.

Both fetch the same pages from the same sandbox emulator on loopback, interleaved, so what
differs is the client's own overhead (typed errors, retry bookkeeping, paging checks,
redaction). Target (issue 4): client <= 1.3x the bare loop.
Usage: python benchmarks/sync_floor.py [--runs 5] [--templates 6000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import interleaved, median_ms, ratio_line
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.meta.client import TEMPLATE_FIELDS, ClientConfig, GraphClient
from wa_console.sandbox import SandboxServer, seeded_world

WABA = str(SANDBOX_VALUES["waba_id"])
TOKEN = SANDBOX_SECRETS["access_token"]


def bare(base_url: str) -> int:
    """The floor: one Session, the same URL and fields, follow `after` until `next` is gone."""
    count = 0
    params = {"fields": ",".join(TEMPLATE_FIELDS), "limit": "100"}
    with requests.Session() as session:
        while True:
            body = session.get(f"{base_url}/v23.0/{WABA}/message_templates", params=params,
                               headers={"Authorization": f"Bearer {TOKEN}"},
                               timeout=(5, 30)).json()
            count += len(body["data"])
            paging = body.get("paging", {})
            if not paging.get("next"):
                return count
            params = {**params, "after": paging["cursors"]["after"]}


def client(base_url: str) -> int:
    config = ClientConfig(base_url=base_url, page_limit=100)
    with GraphClient(config, token=lambda: TOKEN) as graph:
        return sum(1 for _ in graph.iter_templates(WABA))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--templates", type=int, default=6000)
    args = parser.parse_args()
    with SandboxServer(seeded_world(templates=args.templates, seed=0), "127.0.0.1", 0) as server:
        expected = bare(server.base_url)  # warm-up, and the count both must reach
        assert client(server.base_url) == expected
        def timed(fn):  # type: ignore[no-untyped-def]
            def run() -> None:
                assert fn(server.base_url) == expected
            return run

        times = interleaved(args.runs, bare=timed(bare), client=timed(client))
    b, c = median_ms(times["bare"]), median_ms(times["client"])
    print(f"{expected} templates, pages of 100, {args.runs} interleaved runs each")
    print(f"{'bare requests loop':<34} median {b:8.1f} ms")
    print(ratio_line("GraphClient.iter_templates", c, b, "<= 1.3x"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
