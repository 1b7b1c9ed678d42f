"""api_http: retries, backoff, rate limits and timeouts, driven by fake transports that fail on cue."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from copilot_seats.errors import ApiStatusError, RateLimitError, TransportError
from copilot_seats.github.api import CopilotClient

TOKEN = "ghp_resilienceSecret987"
BILLING = {"seat_breakdown": {}, "seat_management_setting": "assign_selected",
           "public_code_suggestions": "block"}
NOW = 1_700_000_000.0


class Script:
    """A transport that plays a list of answers (a Response, or an exception to raise) in order."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers: Iterator[httpx.Response | Exception] = iter(answers)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_for(script: Script, **options: object) -> tuple[CopilotClient, list[float]]:
    slept: list[float] = []
    client = CopilotClient("https://api.example.test", TOKEN, transport=httpx.MockTransport(script),
                           sleep=slept.append, clock=lambda: NOW, write_spacing=0,
                           **options)  # type: ignore[arg-type]
    return client, slept


OK = httpx.Response(200, json=BILLING)


@pytest.mark.parametrize(
    ("failure", "expected_sleep"),
    [
        pytest.param(httpx.Response(429, headers={"retry-after": "7"}, json={"message": "slow down"}), 7.0,
                     id="429-retry-after"),
        pytest.param(httpx.Response(403, headers={"retry-after": "3"},
                                    json={"message": "You have exceeded a secondary rate limit."}), 3.0,
                     id="secondary-403-retry-after"),
        pytest.param(httpx.Response(403, headers={"x-ratelimit-remaining": "0",
                                                  "x-ratelimit-reset": str(int(NOW + 30))},
                                    json={"message": "API rate limit exceeded"}), 30.0,
                     id="primary-403-waits-until-reset"),
        pytest.param(httpx.Response(429, json={"message": "secondary"}), 60.0,
                     id="429-without-headers-waits-a-minute"),
        pytest.param(httpx.Response(502, json={"message": "bad gateway"}), 0.5, id="5xx-backoff"),
        pytest.param(httpx.ConnectError("refused"), 0.5, id="connection-error-backoff"),
        pytest.param(httpx.ReadTimeout("slow"), 0.5, id="timeout-backoff"),
    ],
)
def test_transient_failure_is_waited_out_then_succeeds(failure: httpx.Response | Exception,
                                                      expected_sleep: float) -> None:
    script = Script(failure, OK)
    client, slept = client_for(script, backoff=0.5)
    assert client.get_billing("acme")["seat_management_setting"] == "assign_selected"
    assert script.calls == 2 and slept == [expected_sleep]


def test_5xx_backoff_doubles_and_exhausted_retries_raise_a_clear_error() -> None:
    script = Script(*[httpx.Response(503, json={"message": "unavailable"})] * 4)
    client, slept = client_for(script, backoff=1.0, max_retries=3)
    with pytest.raises(ApiStatusError, match="3 retries did not help") as info:
        client.get_billing("acme")
    assert info.value.status == 503 and script.calls == 4 and slept == [1.0, 2.0, 4.0]


def test_connection_errors_exhausted_raise_transport_error() -> None:
    script = Script(*[httpx.ConnectError("refused")] * 3)
    client, _ = client_for(script, max_retries=2)
    with pytest.raises(TransportError, match="connection failed after 3 attempt"):
        client.get_billing("acme")


def test_rate_limit_wait_beyond_cap_raises_without_sleeping() -> None:
    reset = str(int(NOW + 3600))
    script = Script(httpx.Response(403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
                                   json={"message": "API rate limit exceeded"}))
    client, slept = client_for(script, max_rate_limit_wait=600)
    with pytest.raises(RateLimitError, match="beyond the 600s wait cap") as info:
        client.get_billing("acme")
    assert info.value.retry_after == 3600 and slept == []


def test_rate_limit_retries_are_bounded() -> None:
    script = Script(*[httpx.Response(429, headers={"retry-after": "1"}, json={})] * 3)
    client, slept = client_for(script, max_retries=2)
    with pytest.raises(RateLimitError, match="retries are used up"):
        client.get_billing("acme")
    assert slept == [1.0, 1.0]


def test_exhausted_primary_budget_on_success_waits_before_the_next_request() -> None:
    drained = httpx.Response(200, json=BILLING, headers={"x-ratelimit-remaining": "0",
                                                         "x-ratelimit-reset": str(int(NOW + 42))})
    script = Script(drained, OK)
    client, slept = client_for(script)
    client.get_billing("acme")
    assert slept == []
    client.get_billing("acme")
    assert slept == [42.0]


def test_exhausted_primary_budget_beyond_cap_raises_before_sending() -> None:
    drained = httpx.Response(200, json=BILLING, headers={"x-ratelimit-remaining": "0",
                                                         "x-ratelimit-reset": str(int(NOW + 5000))})
    script = Script(drained)
    client, _ = client_for(script, max_rate_limit_wait=60)
    client.get_billing("acme")
    with pytest.raises(RateLimitError, match="wait cap"):
        client.get_billing("acme")
    assert script.calls == 1


def test_plain_403_without_rate_limit_signals_is_not_retried() -> None:
    script = Script(httpx.Response(403, json={"message": "Resource not accessible by integration"}))
    client, slept = client_for(script)
    with pytest.raises(ApiStatusError) as info:
        client.get_billing("acme")
    assert info.value.status == 403 and slept == [] and script.calls == 1


def test_errors_after_retries_do_not_leak_the_token() -> None:
    script = Script(*[httpx.ConnectError(f"refused for {TOKEN}")] * 2)
    client, _ = client_for(script, max_retries=1)
    with pytest.raises(TransportError) as info:
        client.get_billing("acme")
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("bad", [{"max_retries": -1}, {"write_spacing": -1}, {"batch_size": 0}],
                         ids=["negative-retries", "negative-spacing", "zero-batch"])
def test_constructor_rejects_bad_settings(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        CopilotClient("https://x", "t", **bad)  # type: ignore[arg-type]
