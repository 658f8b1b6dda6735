"""OpenAI SDK through the gateway to a real, separate HTTP upstream: each
HTTP provider kind speaking OpenAI chat (harness.UPSTREAM_BASE_PATHS) pointed at
`sy-mock-upstream`. Skipped per kind until `switchyard validate` accepts
the kind and its adapter stops answering 501.

sy-mock-upstream's completion is `t0 t1 … t{N-1} ` whatever it is asked
(N = harness.UPSTREAM_CHUNKS), and `GET /__stats` counts its requests."""

from __future__ import annotations

import asyncio

import openai
import pytest

import harness
from sdk import MAX_TOKENS, ask, assert_usage, openai_client


def test_mock_upstream_speaks_openai(upstream):
    # The reference point for the tests below: the SDK talking to the mock
    # upstream directly gets exactly what they expect through the gateway.
    with openai_client(f"{upstream.base_url}/v1") as direct:
        r = direct.chat.completions.create(model="upstream-model", messages=ask("direct"))
        assert r.choices[0].message.content == harness.UPSTREAM_TEXT
        assert r.usage.completion_tokens == harness.UPSTREAM_CHUNKS
        stream = direct.chat.completions.create(
            model="upstream-model", messages=ask("direct"), stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    assert "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices) == harness.UPSTREAM_TEXT
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == harness.UPSTREAM_CHUNKS


def test_chat_via_upstream(client, upstream, upstream_kind):
    model = harness.upstream_model(upstream_kind)
    before = upstream.requests_served()
    r = client.chat.completions.create(model=model, messages=ask("through a real upstream"))
    assert upstream.requests_served() == before + 1, "the upstream served the call"
    assert r.model == model
    assert r.choices[0].message.content == harness.UPSTREAM_TEXT
    assert r.choices[0].finish_reason == "stop"
    assert_usage(r.usage)
    assert r.usage.completion_tokens == harness.UPSTREAM_CHUNKS


def test_stream_via_upstream(client, upstream_kind):
    model = harness.upstream_model(upstream_kind)
    stream = client.chat.completions.create(
        model=model, messages=ask("stream through a real upstream"), stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices)
    assert text == harness.UPSTREAM_TEXT
    assert [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason] == ["stop"]
    assert {c.model for c in chunks} == {model}
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == []
    assert_usage(chunks[-1].usage)
    if upstream_kind not in harness.STREAM_USAGE_ESTIMATED:
        assert chunks[-1].usage.completion_tokens == harness.UPSTREAM_CHUNKS


def test_stream_via_upstream_without_usage(client, upstream_kind):
    stream = client.chat.completions.create(
        model=harness.upstream_model(upstream_kind), messages=ask("no usage please"), stream=True,
    )
    chunks = list(stream)
    assert "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices) == harness.UPSTREAM_TEXT
    assert all(c.usage is None for c in chunks)


async def test_concurrent_calls_via_upstream(aclient, upstream_kind):
    model = harness.upstream_model(upstream_kind)

    async def call(i: int) -> str:
        if i % 2:
            r = await aclient.chat.completions.create(model=model, messages=ask(f"call {i}"))
            return r.choices[0].message.content
        stream = await aclient.chat.completions.create(model=model, messages=ask(f"call {i}"), stream=True)
        return "".join([c.delta.content or "" async for chunk in stream for c in chunk.choices])

    texts = await asyncio.gather(*(call(i) for i in range(50)))
    assert texts == [harness.UPSTREAM_TEXT] * 50


def test_unreachable_upstream_is_a_server_error(client, upstream_kind):
    with pytest.raises(openai.InternalServerError) as e:
        client.chat.completions.create(model=harness.down_model(upstream_kind), messages=ask("hello?"))
    assert e.value.status_code in (502, 503, 504)
    body = e.value.response.json()
    assert body["error"]["type"] and body["error"]["message"]
    # Where the upstream is must not leak into what the client sees.
    assert "127.0.0.1" not in body["error"]["message"]


def test_anthropic_sdk_via_upstream(claude, upstream_kind):
    # The Messages API in front of an OpenAI-speaking upstream: both
    # translations, request and answer, in one call.
    model = harness.upstream_model(upstream_kind)
    m = claude.messages.create(model=model, max_tokens=MAX_TOKENS, messages=ask("via an upstream"))
    assert m.model == model
    assert "".join(b.text for b in m.content if b.type == "text") == harness.UPSTREAM_TEXT
    assert m.stop_reason == "end_turn"
    assert m.usage.output_tokens == harness.UPSTREAM_CHUNKS
    with claude.messages.stream(model=model, max_tokens=MAX_TOKENS, messages=ask("streamed")) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == harness.UPSTREAM_TEXT
    assert final.stop_reason == "end_turn"


def test_embeddings_via_upstream(client, base_url, upstream_kind):
    # Floats asked for: the upstream's answer is served in its own bytes
    # with the public model name. The SDK's default (base64, which it
    # decodes after validation, so through a non-strict client): converted
    # by the gateway from the upstream's floats. The mock upstream embeds
    # input i as [i, its length, 0.5].
    model = harness.upstream_model(upstream_kind)
    with openai.OpenAI(base_url=base_url, api_key="sk-e2e-any-key", max_retries=0) as lenient:
        for c, kwargs in ((client, {"encoding_format": "float"}), (lenient, {})):
            r = c.embeddings.create(model=model, input=["ab", "cde"], **kwargs)
            assert r.model == model, kwargs
            assert [d.embedding for d in r.data] == [[0.0, 2.0, 0.5], [1.0, 3.0, 0.5]], kwargs
            assert r.usage.prompt_tokens > 0, kwargs
