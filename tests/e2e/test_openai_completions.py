"""OpenAI SDK: legacy text completions, emulated over chat, against the
built-in mock provider."""

from __future__ import annotations

import openai
import pytest

from sdk import CLIENT_TIMEOUT_S, MOCK_PREFIX


def test_completion(client):
    r = client.completions.create(model="mock-1", prompt="complete me")
    assert r.object == "text_completion"
    assert r.id.startswith("cmpl-")
    assert r.model == "mock-1"
    assert len(r.choices) == 1
    assert r.choices[0].text == MOCK_PREFIX + "complete me"
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].index == 0
    assert r.usage.prompt_tokens > 0
    assert r.usage.completion_tokens > 0


def test_streamed_completion(base_url):
    # Stream chunks carry `finish_reason: null` until the last, as OpenAI's
    # do; the SDK's `Completion` type has no null there, so strict
    # validation would refuse every chunk (from any server).
    lenient = openai.OpenAI(
        base_url=base_url, api_key="sk-e2e-any-key", max_retries=0, timeout=CLIENT_TIMEOUT_S
    )
    stream = lenient.completions.create(
        model="mock-1",
        prompt="stream me",
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "text_completion" for c in chunks)
    text = "".join(ch.text for c in chunks for ch in c.choices)
    assert text == MOCK_PREFIX + "stream me"
    finishes = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_several_prompts_are_refused(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model="mock-1", prompt=["a", "b"])
    assert e.value.body["param"] == "prompt"
