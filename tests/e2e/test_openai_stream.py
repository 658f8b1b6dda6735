"""OpenAI SDK: streamed chat completions (server-sent events), with the raw
`stream=True` iterator and with the SDK's accumulating `stream()` helper."""

from __future__ import annotations

import json

from sdk import MOCK_PREFIX, ask, assert_usage


def collect(chunks):
    """Content per choice index, finish reasons, and the chunks themselves."""
    content: dict[int, str] = {}
    finish: dict[int, str] = {}
    seen = []
    for chunk in chunks:
        seen.append(chunk)
        for c in chunk.choices:
            content[c.index] = content.get(c.index, "") + (c.delta.content or "")
            if c.finish_reason:
                finish[c.index] = c.finish_reason
    return content, finish, seen


def test_stream_deltas(client):
    stream = client.chat.completions.create(model="mock-1", messages=ask("stream this please"), stream=True)
    content, finish, chunks = collect(stream)
    assert content == {0: MOCK_PREFIX + "stream this please"}
    assert finish == {0: "stop"}
    # One word per chunk: several content chunks, not one blob.
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 3
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1, "every chunk of one completion shares its id"
    assert {c.model for c in chunks} == {"mock-1"}
    assert chunks[0].choices[0].delta.role == "assistant"
    # Usage was not asked for: no chunk carries it.
    assert all(c.usage is None for c in chunks)


def test_stream_include_usage(client):
    stream = client.chat.completions.create(
        model="mock-1", messages=ask("count my tokens"), stream=True,
        stream_options={"include_usage": True},
    )
    content, finish, chunks = collect(stream)
    assert content[0] == MOCK_PREFIX + "count my tokens"
    last = chunks[-1]
    assert last.choices == []
    assert_usage(last.usage)
    # OpenAI sends usage only on the final chunk (null on the others).
    assert all(c.usage is None for c in chunks[:-1])
    whole = client.chat.completions.create(model="mock-1", messages=ask("count my tokens"))
    assert last.usage.prompt_tokens == whole.usage.prompt_tokens
    assert last.usage.completion_tokens == whole.usage.completion_tokens


async def test_stream_async(aclient):
    stream = await aclient.chat.completions.create(
        model="mock-1", messages=ask("async stream"), stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in stream:
        for c in chunk.choices:
            text += c.delta.content or ""
        usage = chunk.usage or usage
    assert text == MOCK_PREFIX + "async stream"
    assert_usage(usage)


def test_stream_n_choices(client):
    stream = client.chat.completions.create(model="mock-1", messages=ask("two streams"), n=2, stream=True)
    content, finish, _ = collect(stream)
    assert content == {0: MOCK_PREFIX + "two streams", 1: MOCK_PREFIX + "two streams"}
    assert finish == {0: "stop", 1: "stop"}


def test_stream_max_tokens(client):
    messages = ask("a long answer with quite a few words in it")
    stream = client.chat.completions.create(model="mock-1", messages=messages, max_tokens=3, stream=True)
    content, finish, _ = collect(stream)
    assert finish == {0: "length"}
    whole = client.chat.completions.create(model="mock-1", messages=messages, max_tokens=3)
    assert content[0] == whole.choices[0].message.content
    full = MOCK_PREFIX + "a long answer with quite a few words in it"
    assert full.startswith(content[0]) and len(content[0]) < len(full)


def test_stream_json_mode(client):
    stream = client.chat.completions.create(
        model="mock-1", messages=ask("json stream"), stream=True,
        response_format={"type": "json_object"},
    )
    content, _, _ = collect(stream)
    assert json.loads(content[0]) == {"response": MOCK_PREFIX + "json stream"}


def test_stream_helper_final_completion(client):
    # The SDK's stream() helper rebuilds the whole completion from deltas.
    with client.chat.completions.stream(
        model="mock-1", messages=ask("helper stream"),
        stream_options={"include_usage": True},
    ) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == MOCK_PREFIX + "helper stream"
    assert final.choices[0].message.content == MOCK_PREFIX + "helper stream"
    assert final.choices[0].finish_reason == "stop"
    assert_usage(final.usage)


def test_stream_raw_sse_framing(raw):
    # What every SSE client relies on: the content type, `data: ` lines,
    # and `data: [DONE]` last.
    with raw.stream(
        "POST", "/v1/chat/completions",
        json={"model": "mock-1", "stream": True, "messages": ask("raw sse")},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line.startswith("data:")]
    assert events[-1] == "data: [DONE]"
    for e in events[:-1]:
        json.loads(e[len("data:"):])
