"""Client costs: cached reads, listing many runs, import time (uploads: ``bench_upload.py``).

Usage: ``python benchmarks/bench_client.py [--runs 10000]``

Prints a table:
  * ``client.me()`` uncached (a real HTTP round trip to the local platform) and cached;
  * listing N runs through the lazy paginator (pages of 100, parsed into models) from an in-process fake;
  * ``python -c "import aignostics_jupyter"`` beside ``python -c "import httpx"``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from aignostics_jupyter.client import Client
from aignostics_jupyter.emulator import SYNTHETIC_ANALYSER, LocalPlatform
from aignostics_jupyter.settings import Settings


def _timed(func: Any, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _run_json(i: int) -> dict[str, Any]:
    stats = ["count", "pending_count", "processing_count", "user_error_count", "system_error_count"]
    statistics = {f"item_{k}": 0 for k in [*stats, "skipped_count", "succeeded_count"]}
    return {
        "run_id": str(uuid.UUID(int=i)),
        "application_id": "he-tme",
        "version_number": "1.0.0",
        "state": "TERMINATED",
        "output": "FULL",
        "termination_reason": "ALL_ITEMS_PROCESSED",
        "error_code": None,
        "error_message": None,
        "statistics": statistics,
        "custom_metadata": {"sdk": {"tags": ["a", "b"], "note": "benchmark"}},
        "submitted_at": "2025-01-01T00:00:00Z",
        "submitted_by": "auth0|bench",
    }


def _listing(n_runs: int) -> float:
    runs = [_run_json(i) for i in range(n_runs)]

    def handler(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        return httpx.Response(200, json=runs[(page - 1) * size : page * size])

    settings = Settings(_env_file=None, api_root="http://127.0.0.1:9", run_cache_ttl=0)  # type: ignore[call-arg]
    with Client(settings, transport=httpx.MockTransport(handler), token_provider=lambda: "t") as client:
        count = 0

        def consume() -> None:
            nonlocal count
            count = sum(1 for _ in client.runs.list(page_size=100))

        seconds = _timed(consume)
    assert count == n_runs
    return seconds


def _import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    best = float("inf")
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        best = min(best, float(out.stdout))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with LocalPlatform(root / "platform", worker_mode="thread", analyser=SYNTHETIC_ANALYSER) as platform:
            env = platform.env()
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                api_root=env["AIGNOSTICS_API_ROOT"],
                bucket_protocol="local",
                cache_dir=root / "cache",
            )
            token = platform.access_token()
            with Client(settings, token_provider=lambda: token) as client:
                uncached = _timed(lambda: client.me(nocache=True), repeat=20)
                client.me()
                cached = _timed(client.me, repeat=200)
                rows.append(("me() over HTTP", f"{uncached * 1e3:8.2f} ms", ""))
                rows.append(("me() cached", f"{cached * 1e6:8.1f} us", f"{uncached / cached:.0f}x faster"))

    list_s = _listing(args.runs)
    rows.append((f"list {args.runs} runs (pages of 100)", f"{list_s:8.2f} s", f"{args.runs / list_s:.0f} runs/s"))
    ours, theirs = _import_time("aignostics_jupyter"), _import_time("httpx")
    rows.append(("import aignostics_jupyter", f"{ours * 1e3:8.1f} ms", f"{ours / theirs:.2f}x import httpx"))
    rows.append(("import httpx", f"{theirs * 1e3:8.1f} ms", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>14}  relative")
    for name, value, relative in rows:
        print(f"{name:<{width}}  {value:>14}  {relative}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
