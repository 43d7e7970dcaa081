"""The receiver served by waitress on a daemon thread, startable and stoppable from the GUI.

waitress runs one asyncore loop (our thread) plus a pool of worker threads for the WSGI app.
Stopping it from another thread by closing its sockets races the loop (a socket closed under a
live channel): every close here runs as a trigger thunk ON THE LOOP THREAD. `stop()` first stops
accepting, lets the workers finish the requests they hold (their answers are flushed by the still
running loop), then closes the remaining channels and the trigger, which ends the loop.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from wa_console.webhook.app import DEFAULT_MAX_BODY, DEFAULT_PATH, ReceiverSecrets, make_app

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["DEFAULT_PORT", "ReceiverServer", "WaitressServer"]

log = logging.getLogger(__name__)
# "Task queue depth is N" on every burst: normal for webhooks (Meta batches retries), and the
# answers still go out in milliseconds; real problems are logged by waitress's main logger.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

DEFAULT_PORT = 8765


class WaitressServer:
    """Any WSGI app on waitress, on `host:port` (port 0: any free port), served from a daemon
    thread with the clean stop described in the module doc. The receiver is one; the ingest
    benchmark serves its bare floor app on the very same setup."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, threads: int = 8, *,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        self.wsgi_app = app
        self.host = host
        self.threads = threads
        self.max_body = max_body
        self._requested_port = port
        self._port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The bound port (the requested one before `start()`)."""
        return self._port if self._port is not None else self._requested_port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> Self:
        """Bind and serve on a daemon thread.

        Raises:
            OSError: the address cannot be bound (the message names the port and the fix).
        """
        import waitress

        with self._lock:
            if self.running:
                return self
            # Bound here, not by waitress: create_server starts its worker threads before it
            # binds, and would leave them behind when the port is taken.
            sock = self._bind()
            try:
                server = waitress.create_server(
                    self.wsgi_app, sockets=[sock], threads=self.threads,
                    # waitress refuses a larger body itself (413) before buffering it.
                    max_request_body_size=self.max_body,
                    ident="wa-console", asyncore_use_poll=True,
                    channel_timeout=30, clear_untrusted_proxy_headers=True)
            except BaseException:
                sock.close()
                raise
            self._server = server
            self._port = int(server.effective_port)
            self._thread = threading.Thread(target=self._serve, args=(server,),
                                            name=f"webhook-receiver-{self._port}", daemon=True)
            self._thread.start()
        log.info("webhook server listening on %s", self.base_url)
        return self

    def _bind(self) -> socket.socket:
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.host, self._requested_port, type=socket.SOCK_STREAM)[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            raise OSError(exc.errno, self._bind_error(exc)) from None
        try:
            if sys.platform == "win32":  # there SO_REUSEADDR would share a port in use
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            else:  # restart at once over connections still in TIME_WAIT
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, self._bind_error(exc)) from None
        return sock

    def _bind_error(self, exc: OSError) -> str:
        import errno

        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            return (f"port {self._requested_port} is in use: {reason}. Stop the program using "
                    "it or choose another port.")
        return f"cannot listen on {self.host}:{self._requested_port}: {reason}"

    @staticmethod
    def _serve(server: Any) -> None:
        try:
            server.run()
        except Exception:
            log.exception("webhook server: the server loop stopped unexpectedly")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join every thread; safe to call twice or before `start()`."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None or thread is None:
                return
            if thread.is_alive():
                self._on_loop(server, self._stop_accepting, timeout)
                # Workers finish the requests they hold; the loop still flushes their answers.
                server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
                self._on_loop(server, self._close_all, timeout)
                thread.join(timeout)
                if thread.is_alive():
                    log.warning("webhook server: the server loop did not stop within %.1f s",
                                timeout)
            else:  # the loop died on its own: only the workers are left
                server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout)
        log.info("webhook server on port %s stopped", self.port)

    @staticmethod
    def _on_loop(server: Any, action: Callable[[Any], None], timeout: float) -> None:
        """Run `action(server)` on the loop thread (a trigger thunk) and wait for it."""
        done = threading.Event()

        def thunk() -> None:
            try:
                action(server)
            finally:
                done.set()

        server.trigger.pull_trigger(thunk)
        if not done.wait(timeout):
            log.warning("webhook server: the server loop did not answer within %.1f s",
                        timeout)

    @staticmethod
    def _stop_accepting(server: Any) -> None:
        from waitress import wasyncore

        server.accepting = False
        wasyncore.dispatcher.close(server)  # the listening socket only; the trigger stays

    @staticmethod
    def _close_all(server: Any) -> None:
        for channel in list(server._map.values()):
            if channel is server.trigger:
                continue
            try:
                if getattr(channel, "total_outbufs_len", 0):
                    # A finished answer still in the buffer goes out first (non-blocking).
                    channel._flush_some_if_lockable(do_close=False)
                channel.handle_close()  # marks it disconnected and wakes a waiting writer
            except OSError:
                pass
        server.trigger.close()  # the map is now empty: the loop returns

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class ReceiverServer(WaitressServer):
    """The webhook receiver (`webhook.app`) on `host:port` (port 0: any free port).

    `url` is the callback URL to give Meta (behind HTTPS for a non-loopback host);
    `events_accepted` / `events_refused` count POSTs live (the GUI polls them).
    """

    def __init__(self, engine: Engine, secrets_provider: Callable[[], ReceiverSecrets],
                 host: str = "127.0.0.1", port: int = DEFAULT_PORT, threads: int = 8,
                 path: str = DEFAULT_PATH, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = make_app(engine, secrets_provider, path=path, max_body=max_body)
        self.path = path
        super().__init__(self.app, host, port, threads, max_body=max_body)

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def events_accepted(self) -> int:
        return self.app.accepted

    @property
    def events_refused(self) -> int:
        return self.app.refused
