"""A throwaway PostgreSQL server for the store tests.

Uses $WA_TEST_PG_URL when set; otherwise starts one from Debian's `postgresql` package in a temp
directory on a free port (initdb/pg_ctl refuse to run as root, so they run as `postgres`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class Unavailable(Exception):
    """Why no PostgreSQL server can be had here (shown as the skip reason)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            raise Unavailable("running as root and runuser is missing")
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def server() -> Iterator[str]:
    """Yield an admin URL (postgresql+psycopg://...) of a running server."""
    if os.environ.get("WA_TEST_PG_URL"):
        yield os.environ["WA_TEST_PG_URL"]
        return
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise Unavailable("psycopg is not installed (pip install -e .[test])") from exc
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise Unavailable("no PostgreSQL server binaries (apt-get install postgresql), "
                          "and WA_TEST_PG_URL is not set")
    bindir = os.path.dirname(bins[-1])
    tmp = tempfile.mkdtemp(prefix="wa-pg-")
    os.chmod(tmp, 0o777)
    data = os.path.join(tmp, "data")
    port = _free_port()
    try:
        subprocess.run(_as_postgres([f"{bindir}/initdb", "-D", data, "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8"]),
                       check=True, capture_output=True, timeout=120)
        subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-w", "-l",
                                     os.path.join(tmp, "log"), "-o",
                                     f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1",
                                     "start"]),
                       check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(tmp, ignore_errors=True)
        reason = detail.decode(errors="replace")[-300:]
        raise Unavailable(f"could not start PostgreSQL: {exc} {reason}") from exc
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
