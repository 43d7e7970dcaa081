#!/usr/bin/env python3
"""Cold start of the console vs a bare PySide6 QMainWindow, both offscreen, interleaved.

Each run is a fresh interpreter. The parent takes `time.monotonic_ns()` just before starting the
child; the child prints its own stamps (system-wide monotonic clock) when the window is first
shown (first event-loop turn after show()) and, for the console, when the account list of an
existing database with 20 accounts is on screen and selectable (read by the start-up snapshot,
before SQLAlchemy is loaded), and when the store is open so every action works
(`wa-console --smoke`).

Targets (issue 3): shown <= 1.2x the bare window; list usable <= 2x the bare window.
Usage: python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import ratio_line  # noqa: E402

BARE = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(980, 720)
window.show()
QTimer.singleShot(0, lambda: (print(f"smoke: shown {time.monotonic_ns()}", flush=True), app.quit()))
app.exec()
"""


def make_database(path: Path, accounts: int = 20) -> str:
    """A migrated SQLite database with `accounts` channel accounts (secrets as env references,
    so no keyring is needed to build or open it)."""
    from wa_console.core.credentials import SecretEdit
    from wa_console.store.accounts import AccountStore
    from wa_console.store.db import open_database
    from wa_console.store.secrets import SecretStore

    url = f"sqlite:///{path}"
    engine = open_database(url)
    store = AccountStore(engine, SecretStore())
    for n in range(accounts):
        store.create(
            {"account_name": f"Campus {n:02d}", "waba_id": f"1022901293{n:05d}",
             "phone_number_id": f"1065403522{n:05d}", "display_phone_number": f"+4479111234{n:02d}",
             "app_id": f"12345678901{n:05d}", "sandbox": n % 4 == 0,
             "webhook_callback_url": "https://platform.example.org/webhooks/whatsapp"},
            {"access_token": SecretEdit("env", "WA_BENCH_TOKEN")})
    engine.dispose()
    return url


def run_child(args: list[str], env: dict[str, str]) -> dict[str, float]:
    start = time.monotonic_ns()
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"child failed ({result.returncode}): {result.stderr[-2000:]}")
    stamps = {}
    for line in result.stdout.splitlines():
        if line.startswith("smoke: "):
            _, what, stamp, *_ = line.split()
            stamps[what] = (int(stamp) - start) / 1e6
    return stamps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": tmp,
               "XDG_DATA_HOME": f"{tmp}/data", "XDG_CONFIG_HOME": f"{tmp}/config",
               "XDG_STATE_HOME": f"{tmp}/state", "WA_BENCH_TOKEN": "EAAbenchmark"}
        url = make_database(Path(tmp) / "bench.db")
        bare_cmd = [sys.executable, "-c", BARE]
        console_cmd = [sys.executable, "-m", "wa_console", "--smoke", "--db", url]
        run_child(bare_cmd, env), run_child(console_cmd, env)  # warm the OS file cache
        stamps: dict[str, list[float]] = {"bare": [], "shown": [], "usable": [], "ready": []}
        for _ in range(args.runs):  # interleaved, so drift affects both alike
            stamps["bare"].append(run_child(bare_cmd, env)["shown"])
            console = run_child(console_cmd, env)
            for moment in ("shown", "usable", "ready"):
                stamps[moment].append(console[moment])
    b, s, u, r = (statistics.median(stamps[k]) for k in ("bare", "shown", "usable", "ready"))
    print(f"runs: {args.runs} each, interleaved; 20 accounts in SQLite; offscreen")
    print(f"{'bare QMainWindow shown':<34} median {b:8.1f} ms")
    print(ratio_line("console main window shown", s, b, "<= 1.2x"))
    print(ratio_line("console account list usable", u, b, "<= 2.0x"))
    print(ratio_line("console store open (all actions)", r, b, "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
