"""A small scheduler thread: runs jobs (template reviews, webhook POSTs) at their due time,
in due-time order (ties in submission order), one at a time, so the webhooks of one message
leave in the order they were scheduled. Restartable: `stop()` drops what is pending and the
next `schedule()` starts a fresh worker.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

import requests

log = logging.getLogger(__name__)

__all__ = ["Dispatcher", "Job"]

type Job = Callable[[requests.Session], None]


class Dispatcher:
    """Runs `job(session)` callables on one daemon worker thread."""

    def __init__(self, name: str = "wa-sandbox-dispatch") -> None:
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._busy = 0

    def schedule(self, delay: float, job: Job) -> None:
        """Run `job` after `delay` seconds (0 = as soon as the worker is free)."""
        with self._cond:
            due = time.monotonic() + max(0.0, float(delay))
            heapq.heappush(self._heap, (due, next(self._seq), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, args=(self._generation,),
                                                name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> int:
        """Jobs scheduled or running."""
        with self._cond:
            return len(self._heap) + self._busy

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is scheduled or running; False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def stop(self, timeout: float = 1.0) -> None:
        """Drop pending jobs and end the worker (waits at most `timeout` for a running job)."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, generation: int) -> None:
        session = requests.Session()
        try:
            while True:
                with self._cond:
                    while True:
                        if generation != self._generation:
                            return
                        if self._heap:
                            wait = self._heap[0][0] - time.monotonic()
                            if wait <= 0:
                                _, _, job = heapq.heappop(self._heap)
                                self._busy += 1
                                break
                            self._cond.wait(wait)
                        else:
                            self._cond.wait()
                try:
                    job(session)
                except Exception:  # a job bug must not end the worker
                    log.exception("sandbox job failed")
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()
        finally:
            session.close()
