#!/usr/bin/env python3
"""Sync templates (the op, database write included) vs the bare `requests` floor.

Full sync: 6,000 templates from the sandbox emulator through `ops.sync.sync_templates` into a
fresh SQLite file (one transaction), vs `benchmarks/sync_floor.bare` fetching the same pages
(pages of 100, same fields). No-change re-sync: the same op on a database that already holds
them all (nothing is rewritten) vs the same floor. Interleaved rounds; each op run times itself
(database preparation and a gc.collect() are outside the measurement). Also the op's memory:
peak RSS growth of the process over its first full sync, and the tracemalloc peak of one full
sync (the latter includes the in-process emulator's allocations for the pages it renders).
Targets (issue 5): full <= 1.3x the floor, no-change <= 1.1x.
Usage: python benchmarks/sync_templates.py [--runs 7] [--templates 6000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keyring

from benchmarks.harness import interleaved, median_ms, ratio_line
from benchmarks.sync_floor import bare
from tests.support.memory_keyring import MemoryKeyring
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import (
    SANDBOX_ACCOUNT_NAME,
    SANDBOX_SECRETS,
    SANDBOX_VALUES,
)
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_templates
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.db import open_database
from wa_console.store.secrets import SecretStore


class Db:
    """A fresh SQLite file with the sandbox account."""

    def __init__(self, folder: Path, n: int) -> None:
        self.engine = open_database(f"sqlite:///{folder / f'bench-{n}.db'}")
        self.store = AccountStore(self.engine, SecretStore())
        self.account_id = self.store.create(
            {**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
            {"access_token": SecretEdit("set", SANDBOX_SECRETS["access_token"])}).id

    def sync(self, base_url: str) -> tuple[float, int, int]:
        """Seconds, templates seen, rows added+changed."""
        gc.collect()
        start = time.perf_counter()
        result = sync_templates(OpContext(), self.store, self.account_id, base_url=base_url)
        return time.perf_counter() - start, result.total, result.added + result.changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--templates", type=int, default=6000)
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of one full and one no-change sync")
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())  # never the developer's real keyring
    folder = Path(tempfile.mkdtemp(prefix="wa-sync-bench-"))
    dbs: list[Db] = []

    def fresh() -> Db:
        db = Db(folder, len(dbs))
        dbs.append(db)
        return db

    with SandboxServer(seeded_world(templates=args.templates, seed=0), "127.0.0.1", 0) as server:
        url = server.base_url
        pending = fresh()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        _, expected, written = pending.sync(url)  # warm-up; its RSS growth is reported
        rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        assert written == expected and bare(url) == expected
        primed = pending  # holds every template now: the no-change contender's database

        target = fresh()
        tracemalloc.start()
        target.sync(url)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        queue = [fresh() for _ in range(args.runs)]

        # Every contender starts from a collected heap and times itself: a full collection of
        # the in-process emulator's world (~100 ms) otherwise lands on whichever runs next.
        def floor() -> float:
            gc.collect()
            start = time.perf_counter()
            assert bare(url) == expected
            return time.perf_counter() - start

        def full() -> float:
            seconds, total, written = queue.pop().sync(url)
            assert total == expected and written == expected
            return seconds

        def no_change() -> float:
            seconds, total, written = primed.sync(url)
            assert total == expected and written == 0
            return seconds

        times = interleaved(args.runs, floor=floor, full=full, no_change=no_change)

        if args.profile:
            for label, db in (("full sync", fresh()), ("no-change re-sync", primed)):
                profiler = cProfile.Profile()
                profiler.enable()
                db.sync(url)
                profiler.disable()
                print(f"--- cProfile: {label} (top 12 by own time; network wait excluded) ---")
                stats = pstats.Stats(profiler).sort_stats("tottime")
                stats.print_stats(r"^(?!.*(selectors|socket|ssl)).*$", 12)
    for db in dbs:
        db.engine.dispose()

    f, full_ms, same_ms = (median_ms(times[k]) for k in ("floor", "full", "no_change"))
    print(f"{expected} templates, pages of 100, {args.runs} interleaved runs each "
          "(SQLite file in a temp dir)")
    print(f"{'bare requests floor':<34} median {f:8.1f} ms")
    print(ratio_line("full sync (op + DB write)", full_ms, f, "<= 1.3x"))
    print(ratio_line("no-change re-sync (op)", same_ms, f, "<= 1.1x"))
    print(f"peak RSS growth over the first full sync: {rss_growth_kib / 1024:.1f} MiB; "
          f"tracemalloc peak of one full sync: {traced_peak / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
