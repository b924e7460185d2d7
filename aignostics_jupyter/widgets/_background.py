"""Work off the kernel's main thread: one-shot jobs and polling with backoff, both joinable from tests.

Widgets never block the kernel while they wait: a button callback hands its work to :class:`Background`,
which runs it in a daemon thread and reports the result (or the exception) through callbacks that set traits.
:class:`Poller` repeats a step with exponential backoff until the step says stop or :meth:`Poller.stop` is called.

Example:
    >>> results = []
    >>> job = Background("demo")
    >>> job.run(lambda: 6 * 7, on_done=results.append)
    >>> job.wait(5), results
    (True, [42])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aignostics_jupyter.exceptions import redact

__all__ = ["Background", "Poller"]

logger = logging.getLogger("aignostics_jupyter.widgets")

T = TypeVar("T")


class Background:
    """Runs one job at a time in a daemon thread.

    Args:
        name: The thread name prefix (shown in debuggers).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def run(
        self,
        work: Callable[[], T],
        *,
        on_done: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        """Start ``work`` in a thread; then call ``on_done(result)`` or ``on_error(exception)`` there.

        Raises:
            RuntimeError: When a job is already running.
        """
        with self._lock:
            if self.busy:
                msg = f"{self.name}: a job is already running"
                raise RuntimeError(msg)

            def target() -> None:
                try:
                    result = work()
                except BaseException as exc:  # reported to the widget, never lost in a thread
                    logger.debug("%s failed: %s", self.name, redact(str(exc)))
                    if on_error is not None:
                        on_error(exc)
                    return
                if on_done is not None:
                    on_done(result)

            self._thread = threading.Thread(target=target, name=f"aignostics-{self.name}", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running job (if any); return True when none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy


class Poller:
    """Calls ``step`` repeatedly in a daemon thread, backing off while nothing changes.

    ``step`` returns ``(stop, changed)``: stop ends the polling; changed resets the interval to ``interval``,
    else it grows by ``factor`` up to ``max_interval``. Exceptions from ``step`` are passed to ``on_error`` and
    polling goes on (with backoff).

    Args:
        step: One poll.
        interval: The first (and shortest) pause in seconds.
        max_interval: The longest pause.
        factor: Backoff factor.
        on_error: Called with an exception raised by ``step``.
        name: The thread name suffix.
    """

    def __init__(
        self,
        step: Callable[[], tuple[bool, bool]],
        *,
        interval: float = 2.0,
        max_interval: float = 30.0,
        factor: float = 1.5,
        on_error: Callable[[BaseException], Any] | None = None,
        name: str = "poll",
    ) -> None:
        self._step = step
        self.interval = interval
        self.max_interval = max(max_interval, interval)
        self.factor = factor
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"aignostics-{name}", daemon=True)
        #: The pauses taken so far (seconds), for tests and diagnostics.
        self.pauses: list[float] = []

    def start(self) -> Poller:
        """Start polling; returns self."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Ask the poller to stop (it stops at its next pause)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the poller to end; return True when it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self.running

    def _loop(self) -> None:
        pause = self.interval
        while not self._stop.is_set():
            try:
                stop, changed = self._step()
            except Exception as exc:  # keep polling: the next attempt may work
                if self._on_error is not None:
                    self._on_error(exc)
                stop, changed = False, False
            if stop:
                return
            pause = self.interval if changed else min(pause * self.factor, self.max_interval)
            self.pauses.append(pause)
            if self._stop.wait(pause):
                return
