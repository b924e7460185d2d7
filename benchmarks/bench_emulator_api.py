"""Latency of the local platform's API with 10,000 runs in the database.

Measures p50/p95 of get-run and list-runs (plain, sorted, filtered) over real HTTP, beside a baseline measured in
the same process: the unauthenticated health endpoint. Run it as a script::

    .venv/bin/python benchmarks/bench_emulator_api.py [--runs 10000] [--requests 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from aignostics_jupyter.client.models import RunCreationRequest
from aignostics_jupyter.emulator import ADMIN_USER_ID, LocalPlatform
from aignostics_jupyter.emulator.catalog import get_version
from aignostics_jupyter.emulator.identity import get_principal
from aignostics_jupyter.emulator.runstore import create_run


def _seed(platform: LocalPlatform, count: int) -> list[str]:
    db = platform.services.db
    principal = get_principal(db, ADMIN_USER_ID)
    version = get_version("test-app", "0.0.6")
    assert principal is not None
    assert version is not None
    run_ids = []
    with db.transaction():
        for n in range(count):
            body = RunCreationRequest.model_validate(
                {
                    "application_id": "test-app",
                    "custom_metadata": {"sdk": {"note": f"run {n}", "tags": ["bench", f"t{n % 10}"]}},
                    "items": [
                        {
                            "external_id": f"slide-{n}-{i}",
                            "input_artifacts": [
                                {"name": "whole_slide_image", "download_url": "http://127.0.0.1:9/x.tiff",
                                 "metadata": {"checksum_base64_crc32c": "AAAAAA==", "resolution_mpp": 0.5,
                                              "width_px": 10, "height_px": 10}}
                            ],
                        }
                        for i in range(2)
                    ],
                }
            )  # fmt: skip
            run_ids.append(create_run(db, principal, body, version))
        # Most runs are history: terminate 90 % so queue counters stay realistic.
        db.all("UPDATE items SET state = 'TERMINATED', termination_reason = 'SUCCEEDED' WHERE seq % 10 != 0")
        db.all("UPDATE runs SET state = 'TERMINATED', termination_reason = 'ALL_ITEMS_PROCESSED' WHERE seq % 10 != 0")
    return run_ids


def _measure(call: Callable[[], httpx.Response], requests: int) -> tuple[float, float, float]:
    for _ in range(10):
        call()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1], statistics.fmean(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalPlatform(Path(tmp), runner_enabled=False) as platform:
        started = time.perf_counter()
        run_ids = _seed(platform, options.runs)
        print(f"seeded {options.runs} runs ({2 * options.runs} items) in {time.perf_counter() - started:.1f} s")
        headers = {"Authorization": f"Bearer {platform.access_token()}"}
        rng = random.Random(7)
        with httpx.Client(base_url=f"{platform.api_root}/api/v1", headers=headers) as http:
            cases: dict[str, Callable[[], httpx.Response]] = {
                "health (baseline)": lambda: http.get("/health"),
                "get run": lambda: http.get(f"/runs/{rng.choice(run_ids)}"),
                "list runs (50, newest first)": lambda: http.get("/runs", params={"page_size": 50}),
                "list runs (page 100, sorted)": lambda: http.get(
                    "/runs", params={"page_size": 50, "page": 100, "sort": ["application_id", "-submitted_at"]}
                ),
                "list runs (JSONPath filter)": lambda: http.get(
                    "/runs", params={"page_size": 50, "custom_metadata": '$.sdk.tags[*] == "t3"'}
                ),
                "list items (50)": lambda: http.get(f"/runs/{rng.choice(run_ids)}/items"),
            }
            print(f"\n{'operation':<32}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
            print("-" * 62)
            for name, call in cases.items():
                p50, p95, mean = _measure(call, options.requests)
                print(f"{name:<32}{p50:>10.2f}{p95:>10.2f}{mean:>10.2f}")


if __name__ == "__main__":
    main()
