"""Answers that come back but are not whole: each has its own kind, is retried a counted number of
times, and goes to the fallback. Real HTTP through litellm to bench/fake_openai.py, no mocks."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from backend.engine.ports import LLMError, LLMRequest, LLMResult
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import ModelRoute
from bench.fake_openai import FakeConfig, make_answer, start_in_thread

MESSAGES = [{"role": "user", "content": "Say hello to the whole team please"}]
ANSWER = make_answer({"messages": MESSAGES})

# (misbehaviour the fake server plays, streamed?, the kind the span must name)
BAD_ANSWERS = [
    ("truncated_stream", True, "truncated_stream"),
    ("aborted_stream", True, "truncated_stream"),
    ("empty_completion", False, "empty_completion"),
    ("empty_completion", True, "empty_completion"),
    ("empty_choices", False, "empty_completion"),
    ("empty_choices", True, "empty_completion"),
    ("malformed_body", False, "malformed_response"),
    ("malformed_body", True, "malformed_response"),
    ("no_choices", False, "malformed_response"),
    ("aborted_stream", False, "malformed_response"),  # a plain body cut off half way
]


@pytest.fixture(autouse=True)
def _fresh_fake(fake_openai: Any) -> None:
    # The server is shared by the session: start each test from default behaviour and zeroed counters.
    fake_openai.configure(**vars(FakeConfig()))
    fake_openai.reset_stats()


def route(fake: Any, model: str, alias: str = "primary", **kw: Any) -> ModelRoute:
    options: dict[str, Any] = {"api_key": "k", "retry_backoff_s": 0.01, "timeout_s": 5, **kw}
    return ModelRoute(alias=alias, model=f"openai/{model}", api_base=fake.url, **options)


def call(primary: ModelRoute, *, stream: bool = False, timeout_s: float | None = None,
         deltas: list[tuple[int, str]] | None = None) -> LLMResult:
    async def resolve(alias: str) -> ModelRoute:
        return primary

    def on_delta(text: str, *, attempt: int = 1) -> None:
        if deltas is not None:
            deltas.append((attempt, text))

    request = LLMRequest(primary.alias, MESSAGES, stream=stream, timeout_s=timeout_s)
    return asyncio.run(LiteLLMGateway(resolve).complete(request, on_delta))


def calls_to(fake: Any, model: str) -> int:
    return fake.stats()["calls_by_model"].get(model, 0)


@pytest.mark.parametrize(("misbehaviour", "stream", "kind"), BAD_ANSWERS)
def test_a_bad_answer_has_its_own_kind_and_is_retried_a_counted_number_of_times(
        fake_openai: Any, misbehaviour: str, stream: bool, kind: str) -> None:
    model = f"gpt-4o-mini+{misbehaviour}"
    with pytest.raises(LLMError) as info:
        call(route(fake_openai, model, max_retries=2), stream=stream)
    error = info.value
    assert error.kind == kind and str(error).startswith(f"{kind}: ")
    assert error.attempts == 3 and calls_to(fake_openai, model) == 3  # 1 try + 2 retries, none by litellm
    attempt_errors = error.attributes["patchbay.attempt_errors"]
    assert [e.split(": ", 2)[:2] for e in attempt_errors] == [[f"primary attempt {n}", kind] for n in (1, 2, 3)]
    assert "provider error 500" not in str(error)  # a 200 came back each time: never reported as a 500


@pytest.mark.parametrize(("misbehaviour", "stream", "kind"), BAD_ANSWERS[:1] + BAD_ANSWERS[2:3] + BAD_ANSWERS[6:7])
def test_a_bad_answer_goes_to_the_fallback_after_its_retries(
        fake_openai: Any, misbehaviour: str, stream: bool, kind: str) -> None:
    fallback = route(fake_openai, "gpt-4o-mini", alias="backup")
    primary = route(fake_openai, f"gpt-4o-mini+{misbehaviour}", max_retries=1, fallbacks=(fallback,))
    deltas: list[tuple[int, str]] = []
    result = call(primary, stream=stream, deltas=deltas)
    assert result.text == ANSWER and result.fallback_from == ["primary"]
    assert result.attempts == 3 and calls_to(fake_openai, "gpt-4o-mini") == 1
    assert [e.split(": ")[1] for e in result.attributes["patchbay.attempt_errors"]] == [kind, kind]
    if stream:
        # Deltas went out live, but the answer that counts is the one tagged with the last attempt.
        assert "".join(text for attempt, text in deltas if attempt == 3) == ANSWER
        assert {attempt for attempt, _ in deltas} <= {1, 2, 3}


def test_a_truncated_stream_that_recovers_on_retry_succeeds_with_its_attempts_counted(fake_openai: Any) -> None:
    model = "gpt-4o-mini+truncated_stream:1"  # the first call is cut short, the second is whole
    deltas: list[tuple[int, str]] = []
    result = call(route(fake_openai, model), stream=True, deltas=deltas)
    assert result.text == ANSWER and result.attempts == 2 and result.fallback_from == []
    first = "".join(t for a, t in deltas if a == 1)
    assert first and ANSWER.startswith(first) and first != ANSWER  # the partial answer, marked attempt 1
    assert "".join(t for a, t in deltas if a == 2) == ANSWER
    assert result.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert len(result.attributes["patchbay.attempt_errors"]) == 1


def test_provider_errors_keep_their_kinds_with_real_attempt_counts(fake_openai: Any) -> None:
    with pytest.raises(LLMError) as info:
        call(route(fake_openai, "gpt-4o-mini+error_500", max_retries=1))
    assert info.value.kind == "provider" and "provider error 500 after 2 attempts" in str(info.value)
    assert calls_to(fake_openai, "gpt-4o-mini+error_500") == 2
    result = call(route(fake_openai, "gpt-4o-mini+error_429:2", max_retries=2))
    assert result.text == ANSWER and result.attempts == 3


def test_a_refused_request_is_not_retried() -> None:
    with start_in_thread(api_key="the-right-key") as fake:
        with pytest.raises(LLMError) as info:
            call(route(fake, "gpt-4o-mini", max_retries=3, api_key="a-wrong-key"))
        assert info.value.kind == "bad_request" and info.value.attempts == 1
        assert fake.stats()["by_status"].get("401") == 1


def test_retry_after_is_honoured_and_never_outlives_the_run_deadline(fake_openai: Any) -> None:
    fake_openai.configure(retry_after_s=1)
    started = time.monotonic()
    result = call(route(fake_openai, "gpt-4o-mini+error_429:1"))
    assert result.attempts == 2 and time.monotonic() - started >= 1.0  # waited as the provider asked

    # With 0.5 s left of the run, a 1 s Retry-After is not waited out: the call fails now, without retrying.
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        call(route(fake_openai, "gpt-4o+error_429:1", max_retries=5), timeout_s=0.5)
    assert info.value.kind == "rate_limit" and info.value.attempts == 1 and "no time left to retry" in str(info.value)
    assert time.monotonic() - started < 0.5 + 2  # generous: the machine is shared


def test_a_hanging_provider_is_retried_only_while_the_run_has_time(fake_openai: Any) -> None:
    fake_openai.configure(hang_rate=1.0)
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        call(route(fake_openai, "gpt-4o-mini", max_retries=5, timeout_s=30), timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert info.value.kind == "timeout" and str(info.value).startswith("timeout: ")
    assert info.value.attempts == fake_openai.stats()["requests"]  # what the span says is what happened
    assert elapsed < 1.0 + 3  # the run's deadline bounds every retry (generous slack for a noisy machine)


SCHEMA = {"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]}


@pytest.mark.parametrize("stream", [False, True])
def test_a_structured_answer_that_is_not_json_counts_as_empty_and_is_retried(fake_openai: Any, stream: bool) -> None:
    model = f"{'streamed' if stream else 'plain'}+half_answer:1"  # the first call is cut at half, then whole

    async def resolve(alias: str) -> ModelRoute:
        return route(fake_openai, model)

    request = LLMRequest("primary", MESSAGES, response_schema=SCHEMA, stream=stream)
    result = asyncio.run(LiteLLMGateway(resolve).complete(request, lambda text, attempt=1: None))
    assert result.text == '{"greeting": "fake"}' and result.attempts == 2
    (error,) = result.attributes["patchbay.attempt_errors"]
    assert "empty_completion: the structured answer was not JSON: finish_reason length" in error


def test_a_provider_asking_for_a_long_wait_is_skipped_for_the_fallback(fake_openai: Any) -> None:
    fake_openai.configure(retry_after_s=120)
    backup = route(fake_openai, "gpt-4o-mini", alias="backup")
    started = time.monotonic()
    result = call(route(fake_openai, "gpt-4o-mini+error_429", max_retries=3, fallbacks=(backup,)))
    assert result.fallback_from == ["primary"] and result.attempts == 2 and time.monotonic() - started < 10
    assert result.attributes["patchbay.attempt_errors"] == [
        "primary attempt 1: rate_limit: rate limited (429): Rate limit reached (injected)."]
    assert calls_to(fake_openai, "gpt-4o-mini+error_429") == 1
