"""`wa-console health`: delivery health, headless, for monitoring and scripts.

Prints a period's figures with their rates and the top failure codes with meaning and fix.
Exit codes: 0 healthy, 1 a threshold is crossed (failure rate or unconfirmed messages),
2 error (no such account, bad --since, database trouble).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

from wa_console.core.health import BUCKETS, HealthThresholds, breaches
from wa_console.core.readiness import SIMULATED_LABEL

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_ERROR = 0, 1, 2
DEFAULT_SINCE = "30d"
TOP_FAILURES = 5
_DAYS = re.compile(r"^(\d{1,4})d$")


class SinceError(ValueError):
    """--since is neither "<N>d" nor a YYYY-MM-DD date."""


def parse_since(text: str, now: datetime) -> datetime:
    """"30d" -> 30 days before `now`; "2026-03-01" -> that day's start (UTC)."""
    text = text.strip()
    match = _DAYS.match(text)
    if match:
        return now - timedelta(days=int(match.group(1)))
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise SinceError(f"--since {text!r} is not understood: give a number of days like "
                         "30d, or a date like 2026-03-01") from None
    return day.replace(tzinfo=UTC)


def run(db_url: str | None, account: str | None, since: str = DEFAULT_SINCE,
        as_json: bool = False, thresholds: HealthThresholds | None = None, *,
        out: TextIO | None = None, err: TextIO | None = None,
        now: datetime | None = None) -> int:
    """Print the health of one account's period (see the module doc); returns the exit code."""
    from wa_console.ops.cli_accounts import choose_account, open_store
    from wa_console.store.health import HealthFilter, health_report, quality_warnings

    # Looked up at call time, so redirected streams (tests, wrappers) are honoured.
    out = out or sys.stdout
    err = err or sys.stderr
    thresholds = thresholds or HealthThresholds()
    now = now or datetime.now(UTC)
    try:
        start = parse_since(since, now)
    except SinceError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_ERROR
    store = open_store(db_url, err)
    if store is None:
        return EXIT_ERROR
    engine = store.engine
    try:
        summaries = store.list_accounts()
        summary = choose_account(summaries, account, err)
        if summary is None:
            return EXIT_ERROR
        report = health_report(engine, HealthFilter(summary.id, start, now), now=now)
        problems = breaches(report.figures, thresholds)
        warnings = quality_warnings(engine, summary.id)
        figures = report.figures
        if as_json:
            doc = {
                "account": summary.name, "simulated": summary.sandbox,
                "since": start.isoformat(), "until": now.isoformat(),
                "figures": {name: getattr(figures, name) for name in BUCKETS}
                | {"total": figures.total},
                "rates": {name: round(figures.rate(name), 4) for name in BUCKETS},
                "failure_rate": round(report.failure_rate, 4),
                "thresholds": {"max_failure_rate": thresholds.max_failure_rate,
                               "max_unconfirmed": thresholds.max_unconfirmed},
                "failures": [{"code": g.code, "title": g.title, "count": g.count,
                              "meaning": g.meaning, "fix": g.fix,
                              "templates": list(g.templates), "senders": list(g.senders)}
                             for g in report.failures],
                "breaches": problems, "quality_warnings": warnings, "healthy": not problems,
            }
            json.dump(doc, out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            label = f"{summary.name}" + (f" — {SIMULATED_LABEL}" if summary.sandbox else "")
            print(f"{label}: delivery health {start:%Y-%m-%d %H:%M} → {now:%Y-%m-%d %H:%M} UTC",
                  file=out)
            print(f"  {'messages':<12}{figures.total:>9,}", file=out)
            for name in BUCKETS:
                note = "  (in flight)" if name == "sent" else ""
                print(f"  {name:<12}{getattr(figures, name):>9,}  {figures.rate(name):6.1%}"
                      f"{note}", file=out)
            if report.failures:
                print(f"Top failure codes (of {len(report.failures)}):", file=out)
            for g in report.failures[:TOP_FAILURES]:
                code = "no code" if g.code is None else str(g.code)
                print(f"  {code:>7} ×{g.count:<6,} {g.title}", file=out)
                print(f"          meaning: {g.meaning}", file=out)
                print(f"          fix: {g.fix}", file=out)
                hit = "; ".join(filter(None, (
                    "templates " + ", ".join(g.templates[:3]) if g.templates else "",
                    "senders " + ", ".join(g.senders[:3]) if g.senders else "")))
                if hit:
                    print(f"          hit: {hit}", file=out)
            for warning in warnings:
                print(f"  note: {warning}", file=out)
            for problem in problems:
                print(f"ATTENTION: {problem}", file=out)
            if not problems:
                print(f"Healthy: failure rate {report.failure_rate:.1%} (limit "
                      f"{thresholds.max_failure_rate:.1%}), {figures.unconfirmed:,} unconfirmed "
                      f"(limit {thresholds.max_unconfirmed:,}).", file=out)
        return EXIT_UNHEALTHY if problems else EXIT_HEALTHY
    except Exception as exc:  # a readable line for scripts, never a traceback
        from wa_console.core.redaction import redact

        print(f"error: {type(exc).__name__}: {redact(str(exc))}", file=err)
        return EXIT_ERROR
    finally:
        engine.dispose()
