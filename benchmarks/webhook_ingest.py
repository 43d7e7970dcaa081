#!/usr/bin/env python3
"""Webhook ingest end to end: the receiver + SQLite vs a bare WSGI app on the same waitress.

10,000 distinct signed bodies, one event each, as Meta sends them (compact JSON, seeded):
status callbacks for 2,500 wamids (sent/delivered/read, or sent/failed with errors[] for 10%),
shuffled so a wamid's statuses arrive out of order and race each other across threads, plus
inbound messages (replies with context.id, replies without, a few "STOP"). 5% of the bodies are
POSTed a second time later in the run (Meta retries): stored once.

Both contenders get the same POSTs from 8 client threads (one `requests.Session` each) over
loopback, against `WaitressServer` with the same settings (8 threads) in this process. The
clients run in a separate Python process by default, as Meta's senders are never inside the
receiver's process (`--in-process-clients` puts them here, where their CPU and GIL time is
charged to both servers alike):

  receiver: `webhook.app` (Content-Length, X-Hub-Signature-256 check, parse, one transaction
            per delivery into a fresh SQLite file in a temp dir: WAL, busy_timeout).
  bare:     a WSGI app that reads the body and answers 200 (the floor: HTTP + waitress).

Timed: from the first POST to the last answer. Afterwards the receiver's database must hold
exactly the distinct events (webhook_event rows), with every wamid at its highest status.
Target (issue 7): receiver >= 0.5x the bare floor's events/s.
Usage: python benchmarks/webhook_ingest.py [--runs 3] [--events 10000] [--quick]
                                          [--in-process-clients]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import interleaved
from wa_console.meta.webhooks import SIGNATURE_HEADER, sign

APP_SECRET = "5f2b8c1e9a7d4e3f8b6a0c2d4e6f8a1b"
VERIFY_TOKEN = "bench-verify-token"
WABA = "102290129340398"
PHONE_ID = "106540352242922"
DISPLAY = "15550001111"
CLIENTS = 8
THREADS = 8
RETRY_SHARE = 0.05
TEXTS = ["Got it, thanks", "Yes please 👍", "Can I change the delivery address?",
         "¿Cuándo llega mi pedido?", "STOP", "ok", "Merci beaucoup 🙏 à demain"]


def _compact(doc: dict[str, Any]) -> bytes:
    """Meta's bytes: compact, non-ASCII as \\uXXXX, "/" as "\\/"."""
    return json.dumps(doc, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def _envelope(value: dict[str, Any]) -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PHONE_ID},
             **value}
    return _compact({"object": "whatsapp_business_account", "entry": [
        {"id": WABA, "changes": [{"value": value, "field": "messages"}]}]})


def build_bodies(events: int, seed: int) -> tuple[list[bytes], int]:
    """(POST bodies in send order incl. retries, number of distinct bodies)."""
    rng = random.Random(seed)
    wamid_count = max(1, events // 4)
    now = 1_760_000_000
    distinct: list[bytes] = []
    outbound: list[tuple[str, str]] = []
    for n in range(wamid_count):
        wamid = f"wamid.HBgLMTU1NTAwMDAwMDAVAgARGBI{n:012d}AA=="
        user = f"1555{rng.randrange(10**6, 10**7)}"
        outbound.append((wamid, user))
        failed = rng.random() < 0.10
        chain = ["sent", "failed"] if failed else ["sent", "delivered", "read"]
        for step, state in enumerate(chain):
            if len(distinct) >= events * 3 // 4:
                break
            item: dict[str, Any] = {"id": wamid, "status": state,
                                    "timestamp": str(now + n + step), "recipient_id": user}
            if state == "failed":
                item["errors"] = [{"code": 131026, "title": "Message undeliverable",
                                   "message": "Message undeliverable",
                                   "error_data": {"details": "Message Undeliverable."}}]
            else:
                item["pricing"] = {"billable": True, "pricing_model": "PMP",
                                   "category": "utility"}
            distinct.append(_envelope({"statuses": [item]}))
    n = 0
    while len(distinct) < events:
        wamid, user = rng.choice(outbound)
        message: dict[str, Any] = {"from": user, "id": f"wamid.IN{n:016d}",
                                   "timestamp": str(now + 5000 + n), "type": "text",
                                   "text": {"body": rng.choice(TEXTS)}}
        if rng.random() < 0.6:
            message["context"] = {"from": DISPLAY, "id": wamid}
        distinct.append(_envelope({
            "contacts": [{"profile": {"name": "Test User"}, "wa_id": user}],
            "messages": [message]}))
        n += 1
    rng.shuffle(distinct)  # statuses of one wamid now arrive out of order
    posts = list(distinct)
    for body in rng.sample(distinct, int(len(distinct) * RETRY_SHARE)):
        posts.insert(rng.randrange(posts.index(body) + 1, len(posts) + 1), body)
    return posts, len(distinct)


def post_all(url: str, posts: list[bytes]) -> float:
    """POST every body from CLIENTS threads; seconds from the first POST to the last answer."""
    import time

    import requests

    signed = [(body, {SIGNATURE_HEADER: sign(APP_SECRET, body),
                      "Content-Type": "application/json"}) for body in posts]
    failures: list[str] = []
    start_gate = threading.Barrier(CLIENTS + 1)

    def client(share: Iterable[tuple[bytes, dict[str, str]]]) -> None:
        with requests.Session() as session:
            start_gate.wait()
            for body, headers in share:
                response = session.post(url, data=body, headers=headers, timeout=(5, 30))
                if response.status_code != 200:
                    failures.append(f"HTTP {response.status_code}: {response.text[:80]}")

    threads = [threading.Thread(target=client, args=(signed[i::CLIENTS],))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} POSTs failed, first: {failures[0]}")
    return elapsed


def post_from_subprocess(url: str, bodies_file: Path) -> float:
    """`post_all` in a separate Python process (the senders are never in the receiver's
    process: this keeps their CPU and GIL out of the server's); returns its timing."""
    import subprocess

    result = subprocess.run(
        [sys.executable, __file__, "--client", url, "--bodies-file", str(bodies_file)],
        capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise SystemExit(f"client process failed: {result.stderr.strip()[-500:]}")
    return float(result.stdout.strip().splitlines()[-1])


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The floor: read the body, answer 200."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "14")])
    return [b"EVENT_RECEIVED"]


class ReceiverRun:
    """One receiver run on a fresh SQLite database; keeps what it stored for the checks."""

    def __init__(self, posts: list[bytes], folder: Path,
                 poster: Callable[[str], float]) -> None:
        self.posts = posts
        self.folder = folder
        self.poster = poster
        self.runs = 0
        self.stored: list[int] = []
        self.wrong_final: list[int] = []

    def __call__(self) -> float:
        from wa_console.store.db import open_database
        from wa_console.webhook.app import ReceiverSecrets
        from wa_console.webhook.server import ReceiverServer

        self.runs += 1
        engine = open_database(f"sqlite:///{self.folder / f'run{self.runs}.db'}")
        _add_account(engine)
        secrets = ReceiverSecrets((VERIFY_TOKEN,), (APP_SECRET,))
        try:
            with ReceiverServer(engine, lambda: secrets, port=0, threads=THREADS) as server:
                elapsed = self.poster(server.url)
            self.stored.append(_stored(engine))
            self.wrong_final.append(_wrong_final(engine, self.posts))
        finally:
            engine.dispose()
        return elapsed


def _add_account(engine: Any) -> None:
    """The channel account the bodies belong to (secrets are served directly, not stored)."""
    from sqlalchemy.orm import Session

    from wa_console.store.models import ChannelAccount

    with Session(engine) as session, session.begin():
        session.add(ChannelAccount(uid="bench", provider="meta_whatsapp",
                                   account_name="Benchmark", waba_id=WABA,
                                   phone_number_id=PHONE_ID, graph_api_version="v23.0",
                                   sandbox=False))


def _stored(engine: Any) -> int:
    from wa_console.store.messages import event_count

    return event_count(engine)


def _wrong_final(engine: Any, posts: list[bytes]) -> int:
    """Outbound messages whose stored status is not the highest status POSTed for them."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.messages import STATUS_RANK
    from wa_console.store.models import OutboundMessage

    expected: dict[str, str] = {}
    for body in posts:
        value = json.loads(body)["entry"][0]["changes"][0]["value"]
        for item in value.get("statuses", ()):
            current = expected.get(item["id"])
            if current is None or STATUS_RANK[item["status"]] > STATUS_RANK[current]:
                expected[item["id"]] = item["status"]
    with Session(engine) as session:
        actual = {row.wamid: row.status for row in session.execute(
            select(OutboundMessage.wamid, OutboundMessage.status))}
    return sum(1 for wamid, status in expected.items() if actual.get(wamid) != status)


def bare_run(poster: Callable[[str], float]) -> Callable[[], float]:
    def run() -> float:
        from wa_console.webhook.server import WaitressServer

        with WaitressServer(bare_app, port=0, threads=THREADS) as server:
            return poster(server.base_url + "/webhooks/whatsapp")
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1,000 events, 1 run")
    parser.add_argument("--in-process-clients", action="store_true",
                        help="run the 8 client threads in this process (they then share the "
                        "server's GIL and CPU) instead of in a separate process")
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--bodies-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:  # the client process: POST the bodies, print the seconds it took
        posts = [bytes.fromhex(line) for line in args.bodies_file.read_text().split()]
        print(post_all(args.client, posts))
        return 0
    if args.quick:
        args.events, args.runs = 1_000, 1
    posts, distinct = build_bodies(args.events, args.seed)
    statuses = sum(1 for b in set(posts) if b'"statuses"' in b)
    print(f"{len(posts)} signed POSTs: {distinct} distinct events ({statuses} status, "
          f"{distinct - statuses} inbound) + {len(posts) - distinct} retried duplicates; "
          f"{CLIENTS} client threads "
          f"({'in this process' if args.in_process_clients else 'in a separate process'}), "
          f"waitress {THREADS} threads, {args.runs} run(s) each")
    with tempfile.TemporaryDirectory(prefix="wa-ingest-") as folder:
        bodies_file = Path(folder) / "bodies.hex"
        bodies_file.write_text("\n".join(body.hex() for body in posts))

        def poster(url: str) -> float:
            if args.in_process_clients:
                return post_all(url, posts)
            return post_from_subprocess(url, bodies_file)

        receiver = ReceiverRun(posts, Path(folder), poster)
        times = interleaved(args.runs, bare=bare_run(poster), receiver=receiver)
    med = {name: statistics.median(samples) for name, samples in times.items()}
    rate = {name: len(posts) / seconds for name, seconds in med.items()}
    print(f"{'':<10}{'median':>10}{'POSTs/s':>12}")
    for name in ("bare", "receiver"):
        print(f"{name:<10}{med[name]:>9.2f}s{rate[name]:>12,.0f}")
    ratio = rate["receiver"] / rate["bare"]
    print(f"ratio receiver/bare events/s: {ratio:.2f}x (target >= 0.5)  "
          f"{'OK' if ratio >= 0.5 else 'BELOW TARGET'}")
    print(f"stored events per run: {receiver.stored} (expected {distinct} each)  "
          f"{'OK' if all(n == distinct for n in receiver.stored) else 'MISMATCH'}")
    print(f"messages not at their highest status: {receiver.wrong_final}")
    print("runs (s): " + "; ".join(f"{name} " + ", ".join(f"{t:.2f}" for t in samples)
                                   for name, samples in times.items()))
    ok = all(n == distinct for n in receiver.stored) and not any(receiver.wrong_final)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
