"""The sandbox HTTP server: stdlib ThreadingHTTPServer on its own thread, HTTP/1.1 keep-alive,
every request recorded, faults applied, fast clean shutdown (idle keep-alive connections are
closed, stalled requests are released).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from wa_console.sandbox.faults import FaultInjector
from wa_console.sandbox.graph import (
    LIST_EDGES,
    VERSION_RE,
    GraphApp,
    Request,
    Response,
    json_response,
    page_index,
)
from wa_console.sandbox.world import World, seeded_world

log = logging.getLogger(__name__)

__all__ = ["RecordedRequest", "RequestLog", "SandboxServer"]

MAX_BODY = 16 * 1024 * 1024
HTML_ERROR = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>"
              b"<h1>Bad Gateway</h1><p>The upstream server returned an invalid response. "
              b"(simulated)</p></body></html>\n")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it and what it answered. `status` 0 = no answer was sent
    (connection reset); for `drop_after_processing` it is the answer that was never sent."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    response_body: bytes
    response_headers: dict[str, str]
    fault: str | None
    at: float
    simulated: bool = True


class RequestLog(list[RecordedRequest]):
    """A list that is safe to append to, clear and iterate from several threads."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            super().append(item)

    def clear(self) -> None:
        with self._lock:
            super().clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(super().__iter__())

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return super().__len__()

    def __getitem__(self, index: Any) -> Any:
        with self._lock:
            return super().__getitem__(index)

    def __eq__(self, other: object) -> bool:
        return self.snapshot() == other

    __hash__ = None  # type: ignore[assignment]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() closes connections and joins threads itself
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._track = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        try:  # answers go out in one write; no Nagle / delayed-ACK stalls
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        worker = threading.Thread(target=self._work, args=(request, client_address),
                                  name="wa-sandbox-conn", daemon=True)
        with self._track:
            self._connections.add(request)
            self._workers.add(worker)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._track:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox connection error from %s", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._track:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_workers(self, deadline: float) -> None:
        while True:
            with self._track:
                workers = list(self._workers)
            if not workers:
                return
            for worker in workers:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                worker.join(left)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WA-Console-Sandbox"
    sys_version = ""
    timeout = 30  # idle keep-alive connections close after this
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        raw = self.headers.get("Content-Length")
        if not raw:
            return b""
        try:
            length = int(raw)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        received = time.time()
        method = self.command.upper()
        split = urlsplit(self.path)
        path = unquote(split.path) or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = dict(self.headers.items())
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._write(Response(400, b'{"error":{"message":"Bad request body","type":'
                                      b'"OAuthException","code":100}}',
                                 {"Content-Type": "application/json; charset=UTF-8"}))
            return
        segments = [s for s in path.split("/") if s]
        version = sandbox.world.graph_version
        if segments and VERSION_RE.match(segments[0]):
            version, segments = segments[0], segments[1:]
        page = (page_index(query) if method == "GET" and len(segments) == 2
                and segments[1] in LIST_EDGES else None)
        fault = sandbox.faults.take(method, path, page)
        kind = fault.kind if fault is not None else None

        def record(response: Response | None) -> None:
            sandbox.requests.append(RecordedRequest(
                method=method, path=path, query=query, headers=headers, body=body,
                status=response.status if response else 0,
                response_body=response.body if response else b"",
                response_headers=dict(response.headers) if response else {},
                fault=kind, at=received))

        if kind == "connection_reset":
            record(None)
            self._reset()
            return
        if kind in ("latency", "stall") and fault is not None and sandbox.stopping.wait(
                fault.seconds):
            record(None)  # the server is stopping: release the stalled request at once
            self._reset()
            return
        host = self.headers.get("Host")
        base_url = f"http://{host}" if host else sandbox.base_url
        if kind == "html_error" and fault is not None:
            response = Response(int(fault.params.get("status", 502)), HTML_ERROR,
                                {"Content-Type": "text/html; charset=utf-8"})
        elif kind in ("http_5xx", "rate_limit", "graph_error") and fault is not None:
            error = fault.error()
            extra = dict(error.headers)
            if kind == "rate_limit":
                extra["X-Business-Use-Case-Usage"] = (
                    f'{{"{sandbox.world.main_waba_id}":[{{"type":"whatsapp_business_management"'
                    f',"call_count":100,"total_cputime":10,"total_time":10,'
                    f'"estimated_time_to_regain_access":'
                    f'{max(1, int(float(fault.params.get("retry_after", 1) or 1) // 60))}}}]}}')
            response = json_response(error.status, error.body(), version, extra)
        else:
            response = sandbox.app.handle(Request(method, path, query, headers, body, base_url))
        if kind == "malformed_json":
            cut = response.body[:max(1, len(response.body) // 2)]
            response = Response(200, cut, dict(response.headers))
        if kind == "drop_after_processing" and fault is not None:
            record(response)
            if fault.seconds:
                sandbox.stopping.wait(fault.seconds)
            self._reset()
            return
        record(response)
        self._write(response)

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self._headers_buffer.append(b"\r\n" + response.body)  # one write: head + body
            self.flush_headers()
        except OSError:  # the client went away (e.g. after its own read timeout)
            self.close_connection = True

    def _reset(self) -> None:
        """Close the connection with a TCP RST and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        for closable in (self.rfile, self.connection):
            try:
                closable.close()
            except OSError:
                pass


class SandboxServer:
    """The emulated Graph API on `host:port` (port 0 = any free port), served from a thread.

    Use as a context manager, or `start()` / `stop()`. Graph paths are
    `f"{base_url}/v23.0/..."` (any `vNN.N` works). `faults` injects failures, `requests`
    records every request, `world` is the simulated state.
    """

    def __init__(self, world: World | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.world = world if world is not None else seeded_world()
        self.host = host
        self.port = port
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.app = GraphApp(self.world)
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running; call start() first")
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """`base_url` + the default Graph version, e.g. `http://127.0.0.1:8766/v23.0`."""
        return f"{self.base_url}/{self.world.graph_version}"

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        self.stopping.clear()
        httpd = _HTTPServer((self.host, self.port), self)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={
            "poll_interval": 0.05}, name="wa-sandbox-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.5) -> None:
        """Stop serving: releases stalled requests, closes idle connections, joins threads,
        drops pending webhooks. Returns within about `timeout` seconds."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        deadline = time.monotonic() + timeout
        self.stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.join_workers(deadline)
        httpd.server_close()
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.world.close(timeout=max(0.2, deadline - time.monotonic()))
        self._httpd = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"SandboxServer({where})"
