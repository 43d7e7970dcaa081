"""`wa-console health`: text and JSON output, and the exit codes monitoring relies on."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from wa_console import cli
from wa_console.core.credentials import SecretEdit
from wa_console.core.health import HealthThresholds
from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.ops.health_cli import EXIT_ERROR, EXIT_HEALTHY, EXIT_UNHEALTHY, parse_since, run
from wa_console.sandbox.history import generate_history
from wa_console.store.accounts import AccountStore
from wa_console.store.health import HealthFilter, health_report
from wa_console.store.secrets import SecretStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def history(sqlite_url: str, open_db) -> int:  # type: ignore[no-untyped-def]
    """A sandbox account with 300 generated messages over 10 days (about 6% failed)."""
    engine = open_db(sqlite_url)
    account_id = AccountStore(engine, SecretStore()).create(
        {**SANDBOX_VALUES, "account_name": "Sandbox"},
        {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()}).id
    generate_history(engine, account_id, messages=300, days=10, seed=3, now=NOW)
    return account_id


def invoke(url: str, **kwargs) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    code = run(url, kwargs.pop("account", None), kwargs.pop("since", "30d"),
               kwargs.pop("as_json", False), kwargs.pop("thresholds", None), out=out, err=err,
               now=NOW)
    return code, out.getvalue(), err.getvalue()


def test_json_matches_the_report_and_crossed_threshold_exits_1(sqlite_url: str, open_db,
                                                               history: int) -> None:
    """Default limits (5% failed, 0 unconfirmed) are crossed: exit 1, breaches listed."""
    code, out, err = invoke(sqlite_url, as_json=True)
    assert (code, err) == (EXIT_UNHEALTHY, "")
    doc = json.loads(out)
    report = health_report(open_db(sqlite_url),
                           HealthFilter(history, NOW - timedelta(days=30), NOW), now=NOW)
    assert doc["figures"]["total"] == report.figures.total == 300
    assert doc["figures"]["failed"] == report.figures.failed
    assert doc["failure_rate"] == round(report.failure_rate, 4)
    assert [f["code"] for f in doc["failures"]] == [g.code for g in report.failures]
    assert doc["failures"][0]["fix"] and doc["failures"][0]["meaning"]
    assert doc["healthy"] is False and len(doc["breaches"]) == 2


def test_within_limits_exits_0(sqlite_url: str, history: int) -> None:
    """Generous limits: healthy, the text lists figures with rates and top codes."""
    code, out, _ = invoke(sqlite_url, thresholds=HealthThresholds(0.5, 1000))
    assert code == EXIT_HEALTHY
    assert f"Sandbox — {SIMULATED_LABEL}: delivery health" in out
    assert "messages" in out and "unconfirmed" in out and "%" in out
    assert "Top failure codes" in out and "fix:" in out
    assert out.rstrip().splitlines()[-1].startswith("Healthy:")


def test_text_names_the_breach(sqlite_url: str, history: int) -> None:
    """Unconfirmed messages above the limit: exit 1 and a sentence saying what to check."""
    code, out, _ = invoke(sqlite_url, thresholds=HealthThresholds(0.5, 0))
    assert code == EXIT_UNHEALTHY
    assert "ATTENTION:" in out and "no delivery confirmation" in out


def test_unknown_account_lists_the_accounts(sqlite_url: str, history: int) -> None:
    """Exit 2 naming the accounts there are."""
    code, out, err = invoke(sqlite_url, account="nope")
    assert (code, out) == (EXIT_ERROR, "")
    assert "no channel account named 'nope' (accounts: Sandbox)" in err


def test_bad_since_is_an_error_with_the_fix(sqlite_url: str, history: int) -> None:
    """Exit 2 with the two accepted forms."""
    code, _, err = invoke(sqlite_url, since="last week")
    assert code == EXIT_ERROR and "30d" in err and "2026-03-01" in err


def test_unavailable_database_is_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A database that cannot be opened: exit 2, one readable line."""
    code, _, err = invoke(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    assert code == EXIT_ERROR and err.startswith("error:")


def test_parse_since() -> None:
    """Days back from now, or a UTC date's start."""
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("2026-02-01", NOW) == datetime(2026, 2, 1, tzinfo=UTC)


def test_command_line_flags_reach_the_command(sqlite_url: str, history: int,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`wa-console health --db ... --max-failure-rate 1 --max-unconfirmed 100000 --json`."""
    code = cli.main(["health", "--db", sqlite_url, "--since", "3650d", "--json",
                     "--max-failure-rate", "1", "--max-unconfirmed", "100000"])
    doc = json.loads(capsys.readouterr().out)
    assert code == EXIT_HEALTHY
    assert doc["thresholds"] == {"max_failure_rate": 1.0, "max_unconfirmed": 100000}
    assert doc["account"] == "Sandbox"
