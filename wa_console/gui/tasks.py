"""The one way the GUI runs work off the GUI thread: `run_task(fn, ...)` on a QThreadPool.

`fn(ctx)` is a plain (Qt-free) callable; `ctx.report(pct, text)` sends progress and
`ctx.cancelled()` tells it to stop. Results and failures come back as signals, which Qt queues
onto the GUI thread because the signal object lives there. Widgets are never touched off-thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class TaskContext:
    """What a worker function gets: progress reporting and the cancel flag."""

    def __init__(self, signals: TaskSignals, cancel: threading.Event) -> None:
        self._signals = signals
        self._cancel = cancel

    def report(self, pct: int, text: str = "") -> None:
        if not self._cancel.is_set():
            self._signals.progress.emit(pct, text)

    def cancelled(self) -> bool:
        return self._cancel.is_set()


class TaskSignals(QObject):
    """Signals:
    progress(int, str): percent (or -1 when unknown) and a line of text.
    succeeded(object): the function's return value.
    failed(object): the exception it raised.
    finished(): after succeeded or failed, always (also after a cancel).
    """

    progress = Signal(int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()


class TaskHandle:
    def __init__(self, signals: TaskSignals, cancel: threading.Event) -> None:
        self.signals = signals
        self._cancel = cancel
        self.done = False

    def cancel(self) -> None:
        """Ask the worker to stop; a result that still arrives is dropped."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[TaskContext], Any], handle: TaskHandle) -> None:
        super().__init__()
        self._fn = fn
        self._handle = handle

    def run(self) -> None:
        signals = self._handle.signals
        ctx = TaskContext(signals, self._handle._cancel)
        try:
            result = self._fn(ctx)
        except Exception as exc:
            log.warning("task %s failed", getattr(self._fn, "__name__", self._fn), exc_info=True)
            if not ctx.cancelled():
                signals.failed.emit(exc)
        else:
            if not ctx.cancelled():
                signals.succeeded.emit(result)
        signals.finished.emit()


_running: set[TaskHandle] = set()


def run_task(
    fn: Callable[[TaskContext], Any],
    *,
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[int, str], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
) -> TaskHandle:
    """Run `fn(ctx)` on `pool` (the global pool by default); callbacks run on the GUI thread."""
    signals = TaskSignals()  # created here, on the GUI thread: emissions are queued to it
    handle = TaskHandle(signals, threading.Event())
    if on_success:
        signals.succeeded.connect(on_success)
    if on_failure:
        signals.failed.connect(on_failure)
    if on_progress:
        signals.progress.connect(on_progress)

    def _finished() -> None:
        handle.done = True
        _running.discard(handle)
        if on_finished:
            on_finished()

    signals.finished.connect(_finished)
    _running.add(handle)  # keeps the signals object alive until the task is over
    (pool or QThreadPool.globalInstance()).start(_Runnable(fn, handle))
    return handle


def cancel_all_and_wait(pools: list[QThreadPool], msecs: int = 5000) -> None:
    """On quit: cancel every running task and wait for the pools to drain."""
    for handle in list(_running):
        handle.cancel()
    for pool in pools:
        pool.waitForDone(msecs)


def while_alive(widget: QObject, fn: Callable[..., None]) -> Callable[..., None]:
    """`fn`, dropped once `widget` is deleted: a task may finish after its page is gone."""
    import shiboken6

    def call(*args: Any) -> None:
        if shiboken6.isValid(widget):
            fn(*args)

    return call


class LatestOnly:
    """A page's loads, newest wins: `next()` starts a generation (another account was shown, a
    new load began); callbacks wrapped by `current(fn)` run only while no newer generation has
    begun and the widget still exists, so a slow load of the previous account never overwrites
    the page."""

    def __init__(self, widget: QObject) -> None:
        self._widget = widget
        self.generation = 0

    def next(self) -> None:
        self.generation += 1

    def current(self, fn: Callable[..., None]) -> Callable[..., None]:
        generation = self.generation

        def call(*args: Any) -> None:
            if generation == self.generation:
                fn(*args)

        return while_alive(self._widget, call)

    def load(self, work: Callable[[TaskContext], Any], pool: QThreadPool,
             on_success: Callable[[Any], None],
             on_failure: Callable[[BaseException], None]) -> TaskHandle:
        """Run `work` on `pool` as the newest load; only its results are delivered."""
        self.next()
        return run_task(work, pool=pool, on_success=self.current(on_success),
                        on_failure=self.current(on_failure))


class GuiAsker(QObject):
    """Lets a worker ask the admin something: `ask(question, task, default)` runs `question()`
    (a dialog) on the GUI thread and blocks the worker until it answers; a task cancelled
    meanwhile gets `default`. The worker never touches widgets."""

    _asked = Signal(object, object)  # question, reply

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        # A bound method of an object living on the GUI thread: the call is queued there.
        self._asked.connect(self._answer)

    def _answer(self, question: Callable[[], Any], reply: Callable[[Any], None]) -> None:
        answer = None
        try:
            answer = question()
        finally:
            reply(answer)  # the waiting worker always gets an answer

    def ask(self, question: Callable[[], Any], task: TaskContext, default: Any) -> Any:
        answered = threading.Event()
        box: list[Any] = []

        def reply(value: Any) -> None:
            box.append(value)
            answered.set()

        self._asked.emit(question, reply)
        while not answered.wait(0.05):
            if task.cancelled():
                return default
        return box[0] if box and box[0] is not None else default
