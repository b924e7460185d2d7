"""Fixtures of the client tests: a fake clock and sleep, the fake platform, clients wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aignostics_jupyter.client import Client
from tests.client.fakes import FakePlatform, settings_for


class FakeClock:
    """Time that moves only when slept on (or advanced)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def platform(clock: FakeClock) -> FakePlatform:
    return FakePlatform(clock=clock)


@pytest.fixture
def make_client(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> Iterator[Callable[..., Client]]:
    """Build a client on the fake platform: ``make_client(transport=..., token_provider=..., **settings)``."""
    made: list[Client] = []

    def make(*, transport: httpx.BaseTransport | None = None, token_provider: Any = "mint", **overrides: Any) -> Client:
        settings = settings_for(tmp_path / "cache", **overrides)
        token = platform.mint()
        provider = (lambda: token) if token_provider == "mint" else token_provider
        client = Client(
            settings,
            transport=transport or platform.transport(),
            token_provider=provider,
            clock=clock,
            sleep=clock.sleep,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
