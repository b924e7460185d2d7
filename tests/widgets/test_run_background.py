"""The background helpers of the widgets: one-shot jobs and polling with backoff."""

from __future__ import annotations

import threading
import time

import pytest

from aignostics_jupyter.widgets._background import Background, Poller

pytestmark = [pytest.mark.unit, pytest.mark.timeout(10)]


def test_poller_backs_off_while_nothing_changes_and_stops() -> None:
    calls = []

    def step() -> tuple[bool, bool]:
        calls.append(1)
        return len(calls) >= 5, len(calls) == 3

    poller = Poller(step, interval=0.001, max_interval=0.004, factor=2).start()

    assert poller.join(5)
    assert len(calls) == 5
    assert poller.pauses == [0.002, 0.004, 0.001, 0.002]


def test_poller_survives_errors_and_can_be_stopped() -> None:
    errors: list[BaseException] = []

    def step() -> tuple[bool, bool]:
        raise RuntimeError("flaky")

    poller = Poller(step, interval=0.001, on_error=errors.append).start()
    time.sleep(0.05)
    poller.stop()

    assert poller.join(5)
    assert errors
    assert isinstance(errors[0], RuntimeError)


def test_background_reports_results_and_errors_and_refuses_overlap() -> None:
    job = Background("test")
    gate = threading.Event()
    results: list[object] = []

    job.run(lambda: gate.wait(5) and 42, on_done=results.append)
    with pytest.raises(RuntimeError, match="already running"):
        job.run(lambda: 1)
    gate.set()
    assert job.wait(5)
    job.run(lambda: 1 / 0, on_error=results.append)
    assert job.wait(5)

    assert results[0] == 42
    assert isinstance(results[1], ZeroDivisionError)
