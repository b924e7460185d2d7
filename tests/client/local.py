"""Start the local platform for integration tests (real HTTP on 127.0.0.1, fast synthetic analysis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aignostics_jupyter.emulator import SYNTHETIC_ANALYSER, LocalPlatform
from aignostics_jupyter.settings import Settings


@contextmanager
def local_platform(data_dir: Path, **options: Any) -> Iterator[LocalPlatform]:
    """A running local platform that stops by itself when the block ends."""
    options.setdefault("worker_mode", "thread")
    options.setdefault("analyser", SYNTHETIC_ANALYSER)
    options.setdefault("device_poll_interval", 0)
    with LocalPlatform(data_dir, **options) as platform:
        yield platform


def local_settings(platform: LocalPlatform, cache_dir: Path, **overrides: Any) -> Settings:
    """Settings pointing a client at a local platform, as ``platform.env()`` would."""
    env = platform.env()
    values: dict[str, Any] = {
        "api_root": env["AIGNOSTICS_API_ROOT"],
        "client_id_device": env["AIGNOSTICS_CLIENT_ID_DEVICE"],
        "storage_endpoint_url": env["AIGNOSTICS_STORAGE_ENDPOINT_URL"],
        "bucket_protocol": env["AIGNOSTICS_BUCKET_PROTOCOL"],
        "cache_dir": cache_dir,
        "retry_wait_min": 0.01,
        "retry_wait_max": 0.05,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
