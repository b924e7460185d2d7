"""The HTTP core: errors, retries, timeouts, the 401 refresh, headers, pagination and the read cache."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from aignostics_jupyter.client import USER_AGENT, Client
from aignostics_jupyter.exceptions import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    ServerError,
    TransportError,
)
from tests.client.conftest import FakeClock
from tests.client.fakes import FakePlatform, FaultyTransport

pytestmark = pytest.mark.unit


def _api(path: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.url.path == f"/api/v1{path}"


def test_reads_are_retried_on_5xx_timeouts_and_dropped_connections(
    platform: FakePlatform, make_client: Callable[..., Client], clock: FakeClock
) -> None:
    faulty = FaultyTransport(platform.transport(), [500, 502, "timeout"], _api("/me"))
    client = make_client(transport=faulty)

    me = client.me()

    assert me.user.id == "auth0|user-1"
    assert faulty.calls == 3
    assert len(clock.sleeps) == 3
    assert all(0 < s <= 0.002 for s in clock.sleeps)


def test_reads_give_up_after_the_configured_attempts(
    platform: FakePlatform, make_client: Callable[..., Client]
) -> None:
    faulty = FaultyTransport(platform.transport(), [503] * 10, _api("/me"))
    client = make_client(transport=faulty, me_retry_attempts=3)

    with pytest.raises(ServerError) as info:
        client.me()

    assert faulty.calls == 3
    assert info.value.status_code == 503
    assert "injected 503" in info.value.message


def test_transport_faults_become_transport_errors(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    faulty = FaultyTransport(platform.transport(), ["connect"] * 4, _api("/me"))
    client = make_client(transport=faulty)

    with pytest.raises(TransportError) as info:
        client.me()

    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert faulty.calls == 4


def test_4xx_are_not_retried_and_carry_the_detail(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    client = make_client()

    with pytest.raises(NotFoundError) as info:
        client.runs.get("3fa85f64-5717-4562-b3fc-2c963f66afa6")

    assert info.value.status_code == 404
    assert "run not found" in info.value.message
    assert sum(r.url.path.startswith("/api/v1/runs/") for r in platform.requests) == 1


def test_422_validation_lists_are_readable(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    client = make_client()

    with pytest.raises(InvalidInputError) as info:
        list(client.applications.list(page_size=500))

    assert "query.page-size: bad size" in info.value.message
    assert isinstance(info.value, ValueError)


def test_mutations_are_never_retried(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run()
    faulty = FaultyTransport(platform.transport(), [503, 503], _api(f"/runs/{run_id}/cancel"))
    client = make_client(transport=faulty)

    with pytest.raises(ServerError):
        client.runs.cancel(run_id)

    assert faulty.calls == 1
    assert faulty.faults == [503]


def test_user_agent_and_bearer_token_are_sent(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    client = make_client()

    client.me()

    request = platform.requests[-1]
    assert request.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("aignostics-jupyter/")
    assert request.headers["authorization"].startswith("Bearer ey")


def test_a_401_refreshes_the_token_once(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    class Provider:
        def __init__(self) -> None:
            self.calls = 0
            self.invalidated = 0

        def __call__(self) -> str:
            self.calls += 1
            return "not-a-valid-token" if self.invalidated == 0 else platform.mint()

        def invalidate(self) -> None:
            self.invalidated += 1

    provider = Provider()
    client = make_client(token_provider=provider)

    assert client.me().organization.id == "org_1"
    assert provider.invalidated == 1


def test_a_second_401_is_an_authentication_error_without_the_token(
    platform: FakePlatform, make_client: Callable[..., Client]
) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXgteA"
    client = make_client(token_provider=lambda: token)

    with pytest.raises(AuthenticationError) as info:
        client.me()

    assert token not in str(info.value)
    assert token not in repr(info.value)


def test_a_bad_api_root_is_a_configuration_error(make_client: Callable[..., Client]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no", request=request)

    client = make_client(transport=httpx.MockTransport(refuse))

    with pytest.raises(ConfigurationError):
        client.me()


def test_health_needs_no_token(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    client = make_client(token_provider=lambda: pytest.fail("no token needed"))

    assert client.health() is True
    assert "authorization" not in platform.requests[-1].headers


def test_health_is_false_when_the_platform_is_down(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=httpx.MockTransport(lambda r: httpx.Response(503)))

    assert client.health() is False


# ------------------------------------------------------------------------------------------- pagination


def test_lists_are_lazy_and_stop_on_a_short_page(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    platform.apps = 12
    client = make_client()

    pages = client.applications.list(page_size=5)
    assert platform.requests == []

    apps = list(pages)

    assert [a.application_id for a in apps] == [f"app-{i}" for i in range(12)]
    sizes = [r.url.params["page-size"] for r in platform.requests]
    assert sizes == ["5", "5", "5"]
    assert "page_size" not in platform.requests[0].url.params


def test_lists_stop_on_an_empty_page(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    platform.apps = 10
    client = make_client()

    assert len(list(client.applications.list(page_size=5))) == 10
    assert [r.url.params["page"] for r in platform.requests] == ["1", "2", "3"]


def test_lists_stop_on_a_404_past_the_first_page(make_client: Callable[..., Client]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1":
            return httpx.Response(200, json=[_run_json(i) for i in range(5)])
        return httpx.Response(404, json={"detail": "no such page"})

    client = make_client(transport=httpx.MockTransport(handler))

    assert len(list(client.runs.list(page_size=5))) == 5


def test_a_404_on_the_first_page_is_raised(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=httpx.MockTransport(lambda r: httpx.Response(404, json={"detail": "nope"})))

    with pytest.raises(NotFoundError):
        list(client.runs.items("3fa85f64-5717-4562-b3fc-2c963f66afa6"))


def test_first_fetches_one_page(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    platform.apps = 30
    client = make_client()

    first = client.applications.list(page_size=5).first()

    assert first is not None
    assert first.application_id == "app-0"
    assert len(platform.requests) == 1


def _run_json(i: int) -> dict[str, object]:
    return {
        "run_id": f"00000000-0000-0000-0000-{i:012d}",
        "application_id": "a",
        "version_number": "1.0.0",
        "state": "PENDING",
        "output": "NONE",
        "termination_reason": None,
        "error_code": None,
        "error_message": None,
        "statistics": dict.fromkeys(
            [
                "item_count",
                "item_pending_count",
                "item_processing_count",
                "item_user_error_count",
                "item_system_error_count",
                "item_skipped_count",
                "item_succeeded_count",
            ],
            0,
        ),
        "submitted_at": "2025-01-01T00:00:00Z",
        "submitted_by": "u",
    }


# ------------------------------------------------------------------------------------------------ cache


def _me_calls(platform: FakePlatform) -> int:
    return sum(r.url.path == "/api/v1/me" for r in platform.requests)


def test_reads_are_cached_per_ttl(platform: FakePlatform, make_client: Callable[..., Client], clock: FakeClock) -> None:
    client = make_client()

    client.me()
    client.me()
    assert _me_calls(platform) == 1

    clock.advance(301)
    client.me()
    assert _me_calls(platform) == 2


def test_runs_are_cached_for_15_seconds(
    platform: FakePlatform, make_client: Callable[..., Client], clock: FakeClock
) -> None:
    run_id = platform.add_run()
    client = make_client()

    client.runs.get(run_id)
    clock.advance(14)
    client.runs.get(run_id)
    clock.advance(2)
    client.runs.get(run_id)

    assert sum(r.url.path == f"/api/v1/runs/{run_id}" for r in platform.requests) == 2


def test_nocache_bypasses_but_refreshes_the_cache(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    client = make_client()

    client.me()
    client.me(nocache=True)
    client.me()

    assert _me_calls(platform) == 2


def test_mutations_clear_the_cache(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run()
    client = make_client()
    client.me()

    client.runs.cancel(run_id)
    client.me()

    assert _me_calls(platform) == 2


def test_the_cache_is_per_token(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    tokens = iter([platform.mint(sub="auth0|a"), platform.mint(sub="auth0|b")])
    current = {"token": next(tokens)}
    client = make_client(token_provider=lambda: current["token"])

    client.me()
    current["token"] = next(tokens)
    client.me()

    assert _me_calls(platform) == 2


def test_a_failed_mutation_still_clears_the_cache(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run(state="TERMINATED")
    client = make_client()
    client.me()

    with pytest.raises(Exception, match="already terminated"):
        client.runs.cancel(run_id)
    client.me()

    assert _me_calls(platform) == 2


def test_share_tokens_are_masked_in_debug_logs(
    platform: FakePlatform, make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="aignostics_jupyter.client")
    run_id = platform.add_run()
    client = make_client()

    client.runs.get(run_id, share_token="share-secret-12345")

    assert f"/api/v1/runs/{run_id}" in caplog.text
    assert "share-secret-12345" not in caplog.text


def test_one_page_can_be_fetched_directly(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    platform.apps = 12
    client = make_client()
    pages = client.applications.list(page_size=5)

    third = pages.page(3)
    beyond = pages.page(9)

    assert [a.application_id for a in third] == ["app-10", "app-11"]
    assert beyond == []
    assert [r.url.params["page"] for r in platform.requests] == ["3", "9"]
    with pytest.raises(ValueError, match="numbered from 1"):
        pages.page(0)


def test_a_page_past_the_end_may_answer_404(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=httpx.MockTransport(lambda r: httpx.Response(404, json={"detail": "no page"})))
    pages = client.runs.list(page_size=5)

    assert pages.page(2) == []
    with pytest.raises(NotFoundError):
        pages.page(1)
