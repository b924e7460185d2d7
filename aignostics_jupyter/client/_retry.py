"""Retry policy for idempotent reads: exponential backoff with jitter on passing faults only.

Only :class:`~aignostics_jupyter.exceptions.RetryableError` (5xx answers, timeouts, refused or dropped
connections) is retried; 4xx answers never are. Mutations (submit, cancel, delete, metadata writes, grants and
share tokens) are sent once. ``sleep`` and the random source are injectable so tests take milliseconds.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

import tenacity

from aignostics_jupyter.exceptions import RetryableError

__all__ = ["call_with_retries"]

T = TypeVar("T")
logger = logging.getLogger("aignostics_jupyter.client")


def call_with_retries(
    func: Callable[[], T],
    *,
    attempts: int,
    wait_min: float,
    wait_max: float,
    sleep: Callable[[float], None],
    what: str,
    rng: random.Random | None = None,
) -> T:
    """Call ``func`` and retry it on :class:`RetryableError` with exponential backoff and jitter.

    Args:
        func: The operation; it raises our exceptions only.
        attempts: Total number of attempts (at least one is made).
        wait_min: First backoff in seconds.
        wait_max: Longest backoff in seconds.
        sleep: Sleeps between attempts (injectable).
        what: Names the operation in log messages.
        rng: Random source of the jitter (injectable).

    Returns:
        What ``func`` returned.

    Raises:
        RetryableError: The last fault, when every attempt failed.
        AignosticsError: Any other error at once.
    """
    jitter_rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)

    def wait(state: tenacity.RetryCallState) -> float:
        exp = wait_min * (2 ** (state.attempt_number - 1))
        return float(min(wait_max, exp + jitter_rng.uniform(0, wait_min)))

    def log(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.warning("%s failed (attempt %d): %s; retrying in %.2f s", what, state.attempt_number, exc, delay)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, attempts)),
        wait=wait,
        retry=tenacity.retry_if_exception_type(RetryableError),
        sleep=sleep,
        before_sleep=log,
        reraise=True,
    )
    return retrying(func)
