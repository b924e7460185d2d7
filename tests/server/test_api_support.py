"""Fixtures of the sidebar REST API tests: a local platform, a Jupyter server pointed at it, a kernel-side client.

The local platform runs in this process over real HTTP (threads, synthetic analysis). Slides whose name contains
``slow`` stay PROCESSING until the module ends (so a test can cancel a run before it finishes).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aignostics_jupyter.client import Client, TokenStore
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.emulator.synthetic import analyse as synthetic_analyse
from aignostics_jupyter.settings import get_settings, reset_settings
from aignostics_jupyter.slides.writers import write_test_pattern_slide

RELEASE = threading.Event()


def slow_aware_analyse(*args: Any, **kwargs: Any) -> Any:
    """The synthetic analysis; a slide named ``*slow*`` is held until the module's platform stops."""
    slide_path = Path(args[2] if len(args) > 2 else kwargs["slide_path"])
    if "slow" in slide_path.name or "slow" in str(kwargs.get("metadata", "")):
        RELEASE.wait(60)
    return synthetic_analyse(*args, **kwargs)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The local platform, shared by a module's tests."""
    RELEASE.clear()
    running = LocalPlatform(
        tmp_path_factory.mktemp("platform"),
        auto_approve=True,
        analyse=slow_aware_analyse,
        worker_mode="thread",
        workers=3,
        device_poll_interval=0,
    ).start()
    try:
        yield running
    finally:
        RELEASE.set()
        running.stop()


@pytest.fixture(scope="module")
def slides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small slides, and one the analysis holds."""
    folder = tmp_path_factory.mktemp("slides")
    for name in ("case-1.tiff", "case-2.tiff", "slow-1.tiff"):
        write_test_pattern_slide(folder / name, 512, 384, fmt="tiff", mpp=0.5, smallest_level=128)
    return folder


@pytest.fixture
def platform_env(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> LocalPlatform:
    """``AIGNOSTICS_*`` pointing at the platform, set before the Jupyter server starts."""
    for name, value in platform.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIGNOSTICS_RETRY_WAIT_MIN", "0.01")
    monkeypatch.setenv("AIGNOSTICS_RETRY_WAIT_MAX", "0.05")
    reset_settings()
    return platform


@pytest.fixture
def jp_server_config(platform_env: LocalPlatform, jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The server of ``tests/server/conftest.py``, started after the environment points at the platform."""
    return jp_server_config


@pytest.fixture
def logged_in(platform_env: LocalPlatform) -> TokenStore:
    """Log in as the kernel would: a refresh token in the shared token cache."""
    store = TokenStore.for_settings(get_settings())
    store.write_refresh(platform_env.refresh_token())
    return store


@pytest.fixture
def kernel_client(logged_in: TokenStore) -> Iterator[Client]:
    """A client as a notebook kernel would hold it (same settings, same token cache)."""
    with Client(get_settings()) as client:
        yield client


def body(response: Any) -> Any:
    """The decoded JSON body of a response."""
    return json.loads(response.body)


async def call(jp_fetch: Callable[..., Any], path: str, method: str = "GET", payload: Any = None, **params: Any) -> Any:
    """Request ``aignostics-jupyter/api/{path}``; answer the response without raising on errors."""
    kwargs: dict[str, Any] = {"method": method, "raise_error": False, "allow_nonstandard_methods": True}
    if payload is not None:
        kwargs["body"] = json.dumps(payload)
    elif method in ("POST", "PUT"):
        kwargs["body"] = b"{}"
    if params:
        kwargs["params"] = params
    return await jp_fetch("aignostics-jupyter", "api", *path.split("/"), **kwargs)


async def poll(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Await ``check()`` until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(interval)
    raise AssertionError("the condition did not become true in time")


def assert_no_token(text: str | bytes) -> None:
    """No JWT, bearer token or refresh token in a response."""
    raw = text.decode() if isinstance(text, bytes) else text
    assert "eyJ" not in raw
    assert "refresh_token" not in raw
    assert "device_code" not in raw
