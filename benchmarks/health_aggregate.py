#!/usr/bin/env python3
"""Delivery health figures + day series for 30 days vs a hand-written single GROUP BY.

A SQLite file holds 200,000 messages (~600,000 status callbacks, webhook deliveries and quality
changes) from `sandbox.history.generate_history(via="store")`, over 30 days. The file is cached
in the temp dir between runs (generation takes a while); `--fresh` rebuilds it.

  health_report: `store.health.health_report` for the 30 days (figures, every day's counts by
                 figure, unconfirmed after 24 h, failures by code with templates, senders and
                 the catalog's explanation), what the Delivery health page shows first.
  floor:         one hand-written `SELECT day, status, count(*) ... GROUP BY day, status` over
                 the same rows and index, read into a dict (what any report must at least do).

Target (issue 8): health_report <= 1.5x the floor at 200,000 messages. `--quick` (20,000) is a
smoke run: there the report's fixed costs (failure groups, explanations) weigh more.
Usage: python benchmarks/health_aggregate.py [--runs 7] [--messages 200000] [--quick] [--fresh]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import interleaved, median_ms, ratio_line
from wa_console.sandbox.history import generate_history
from wa_console.store.db import open_database
from wa_console.store.health import HealthFilter, health_report

# A fixed "now" keeps the cached file's history valid across runs.
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAYS = 30
FLOOR_SQL = """
SELECT substr(created_at, 1, 10) AS day, status, count(*)
FROM outbound_message
WHERE account_id = :account AND created_at >= :since AND created_at < :until
GROUP BY day, status
"""


def database(messages: int, fresh: bool) -> tuple[str, int]:
    """(URL, account id) of the cached benchmark database, generated when missing."""
    from sqlalchemy.orm import Session

    from wa_console.store.models import ChannelAccount

    path = Path(tempfile.gettempdir()) / f"wa-console-health-bench-{messages}.db"
    url = f"sqlite:///{path}"
    if path.exists() and not fresh:
        return url, 1
    path.unlink(missing_ok=True)
    engine = open_database(url)
    with Session(engine) as session, session.begin():
        account = ChannelAccount(uid="bench-health", provider="meta_cloud",
                                 account_name="Bench", waba_id="100000000000001",
                                 phone_number_id="200000000000002", graph_api_version="v23.0",
                                 sandbox=True)
        session.add(account)
        session.flush()
        account_id = account.id
    start = time.perf_counter()
    stats = generate_history(engine, account_id, messages=messages, days=DAYS, seed=0, now=NOW)
    print(f"generated {stats.messages:,} messages, {stats.status_events:,} status callbacks, "
          f"{stats.deliveries:,} deliveries in {time.perf_counter() - start:.1f} s → {path}")
    with engine.begin() as connection:  # the planner's statistics, as a long-lived file has
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return url, account_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 messages, 3 runs")
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached database")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.runs = 20_000, 3
    url, account_id = database(args.messages, args.fresh)
    engine = open_database(url)
    flt = HealthFilter(account_id, NOW - timedelta(days=DAYS), NOW)
    params = {"account": account_id, "since": flt.since.strftime("%Y-%m-%d %H:%M:%S.%f"),
              "until": flt.until.strftime("%Y-%m-%d %H:%M:%S.%f")}

    def floor() -> None:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                FLOOR_SQL.replace(":account", "?").replace(":since", "?")
                .replace(":until", "?"), (params["account"], params["since"],
                                          params["until"])).all()
        assert rows

    def report() -> None:
        assert health_report(engine, flt, now=NOW).figures.total

    floor(), report()  # warm the page cache and SQLAlchemy's statement cache
    result = health_report(engine, flt, now=NOW)
    with engine.connect() as connection:
        statuses = connection.exec_driver_sql("SELECT count(*) FROM message_status").scalar()
    times = interleaved(args.runs, floor=floor, health_report=report)
    f, r = median_ms(times["floor"]), median_ms(times["health_report"])
    figures = result.figures
    print(f"{figures.total:,} messages ({statuses:,} stored status callbacks), {DAYS} days, "
          f"{args.runs} interleaved runs each")
    print(f"  figures: sent {figures.sent:,}, delivered {figures.delivered:,}, read "
          f"{figures.read:,}, failed {figures.failed:,} ({result.failure_rate:.1%}), "
          f"unconfirmed {figures.unconfirmed:,}; {len(result.days)} days, "
          f"{len(result.failures)} error codes")
    print(f"{'hand-written GROUP BY (floor)':<34} median {f:8.1f} ms")
    print(ratio_line("health_report (30 days)", r, f, "<= 1.5x"))
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
