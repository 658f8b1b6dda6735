"""Anthropic SDK against the gateway's Messages API (`POST /v1/messages`,
`POST /v1/messages/count_tokens`) on the built-in mock provider.

Every test here takes the `claude`/`aclaude` fixture, which skips with the
reason when the gateway answers `POST /v1/messages` with 404 or 405: the
tests turn on by themselves when the endpoint lands."""

from __future__ import annotations

import asyncio
import json
import uuid

import anthropic
import openai
import pytest

import harness
from sdk import MAX_TOKENS, MOCK_PREFIX, ask

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
}
TIME = {
    "name": "get_time",
    "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
}


def text_of(message) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


def test_messages_create(claude):
    m = claude.messages.create(model="mock-1", max_tokens=MAX_TOKENS, messages=ask("hello from anthropic"))
    assert m.type == "message"
    assert m.role == "assistant"
    assert m.id
    assert m.model == "mock-1"
    assert [b.type for b in m.content] == ["text"]
    assert m.content[0].text == MOCK_PREFIX + "hello from anthropic"
    assert m.stop_reason == "end_turn"
    assert m.usage.input_tokens > 0
    assert m.usage.output_tokens > 0


def test_messages_system_and_content_blocks(claude):
    m = claude.messages.create(
        model="mock-1", max_tokens=MAX_TOKENS, system="You are terse.",
        stop_sequences=["\n\n\n"], metadata={"user_id": "e2e"},
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "block question"}]},
        ],
    )
    assert text_of(m) == MOCK_PREFIX + "block question"


def test_messages_max_tokens_stop_reason(claude):
    m = claude.messages.create(
        model="mock-1", max_tokens=3,
        messages=ask("please give a rather long answer with many words in it"),
    )
    assert m.stop_reason == "max_tokens"
    assert m.usage.output_tokens <= 3


async def test_messages_create_async(aclaude):
    m = await aclaude.messages.create(model="mock-1", max_tokens=MAX_TOKENS, messages=ask("async hello"))
    assert text_of(m) == MOCK_PREFIX + "async hello"


def test_messages_stream(claude):
    with claude.messages.stream(model="mock-1", max_tokens=MAX_TOKENS, messages=ask("stream me")) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 3
    assert "".join(pieces) == MOCK_PREFIX + "stream me"
    assert text_of(final) == MOCK_PREFIX + "stream me"
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 0


def test_messages_stream_event_order(claude):
    stream = claude.messages.create(model="mock-1", max_tokens=MAX_TOKENS, messages=ask("events"), stream=True)
    kinds = [e.type for e in stream]
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    assert kinds[1] == "content_block_start"
    assert "content_block_delta" in kinds
    assert kinds.index("content_block_stop") < kinds.index("message_delta") < kinds.index("message_stop")


def test_messages_tool_use(claude):
    m = claude.messages.create(
        model="mock-1", max_tokens=MAX_TOKENS, messages=ask("weather in Paris?"),
        tools=[TIME, WEATHER], tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert m.stop_reason == "tool_use"
    uses = [b for b in m.content if b.type == "tool_use"]
    assert len(uses) == 1
    assert uses[0].name == "get_weather"
    assert uses[0].id
    assert isinstance(uses[0].input, dict)
    assert {"city", "unit"} <= uses[0].input.keys()

    # Second turn: the tool result goes back as a user content block.
    r = claude.messages.create(
        model="mock-1", max_tokens=MAX_TOKENS, tools=[WEATHER],
        messages=[
            *ask("weather in Paris?"),
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "3°C"}]},
        ],
    )
    assert r.stop_reason == "end_turn"


def test_messages_tool_use_streamed(claude):
    with claude.messages.stream(
        model="mock-1", max_tokens=MAX_TOKENS, messages=ask("weather, streamed"),
        tools=[WEATHER], tool_choice={"type": "tool", "name": "get_weather"},
    ) as stream:
        partial = [e.partial_json for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    use = next(b for b in final.content if b.type == "tool_use")
    assert use.name == "get_weather"
    assert json.loads("".join(partial)) == use.input
    assert {"city", "unit"} <= use.input.keys()


def test_count_tokens(claude):
    short = claude.messages.count_tokens(model="mock-1", messages=ask("hi"))
    long = claude.messages.count_tokens(model="mock-1", messages=ask("hi " * 200), system="Be brief.")
    assert short.input_tokens > 0
    assert long.input_tokens > short.input_tokens
    created = claude.messages.create(model="mock-1", max_tokens=MAX_TOKENS, messages=ask("hi"))
    assert created.usage.input_tokens == short.input_tokens


ERRORS = [
    (400, anthropic.BadRequestError, "invalid_request_error"),
    (401, anthropic.AuthenticationError, "authentication_error"),
    (403, anthropic.PermissionDeniedError, "permission_error"),
    (429, anthropic.RateLimitError, "rate_limit_error"),
    (500, anthropic.InternalServerError, "api_error"),
    (529, anthropic.OverloadedError, "overloaded_error"),
]


@pytest.mark.parametrize("status,error_class,error_type", ERRORS, ids=[str(s) for s, _, _ in ERRORS])
def test_injected_errors(claude, status, error_class, error_type):
    with pytest.raises(error_class) as e:
        claude.messages.create(model="mock-1", max_tokens=MAX_TOKENS, messages=ask(f"mock:error:{status}"))
    assert e.value.status_code == status
    # Anthropic's error shape: {"type":"error","error":{"type":…,"message":…}}
    body = e.value.response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]


def test_unknown_model_is_not_found(claude):
    with pytest.raises(anthropic.NotFoundError) as e:
        claude.messages.create(model="no-such-model", max_tokens=MAX_TOKENS, messages=ask("hi"))
    body = e.value.response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "not_found_error"


def test_stream_error_before_first_event(claude):
    with pytest.raises(anthropic.RateLimitError):
        with claude.messages.stream(model="mock-1", max_tokens=MAX_TOKENS, messages=ask("mock:error:429")) as s:
            s.get_final_message()


def test_malformed_body_is_invalid_request(claude, raw):
    for body in (b'{"model": "mock-1", "messages": [', b'{"model": "mock-1", "max_tokens": 5}'):
        r = raw.post("/v1/messages", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["type"] == "error"
        assert r.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model="mock-1", max_tokens=MAX_TOKENS, messages=[])


async def test_concurrent_streams(aclaude):
    tokens = [f"tok-{i}-{uuid.uuid4().hex[:12]}" for i in range(50)]

    async def one(token: str) -> str:
        async with aclaude.messages.stream(
            model="mock-paced", max_tokens=MAX_TOKENS, messages=ask(f"echo {token}")
        ) as stream:
            return "".join([t async for t in stream.text_stream])

    texts = await asyncio.gather(*(one(t) for t in tokens))
    assert texts == [f"{MOCK_PREFIX}echo {t}" for t in tokens]


# A tiny PDF header: enough for the gateway, which never decodes the bytes.
PDF_B64 = "JVBERi0xLjQK"


def test_pdf_document_reaches_an_anthropic_upstream(claude):
    # Anthropic SDK → gateway → an Anthropic-kind provider (the mock
    # upstream's Messages API): a `document` block with a breakpoint, and a
    # plain-text one, go through as documents instead of being refused.
    m = claude.messages.create(
        model=harness.ANTHROPIC_UPSTREAM_MODEL,
        max_tokens=MAX_TOKENS,
        messages=[{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
             "cache_control": {"type": "ephemeral"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Appendix."}},
            {"type": "text", "text": "Summarise the report."},
        ]}],
    )
    assert text_of(m) == harness.ANTHROPIC_UPSTREAM_TEXT
    assert m.model == harness.ANTHROPIC_UPSTREAM_MODEL
    assert m.usage.cache_read_input_tokens == 2


def test_openai_file_part_reaches_an_anthropic_upstream(client):
    # OpenAI SDK with a `file` part (its form for PDFs) to the same
    # Anthropic-kind model; a file by id, which only OpenAI knows, is the
    # client's error naming the part.
    r = client.chat.completions.create(
        model=harness.ANTHROPIC_UPSTREAM_MODEL,
        messages=[{"role": "user", "content": [
            {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF_B64}", "filename": "r.pdf"}},
            {"type": "text", "text": "Summarise the report."},
        ]}],
    )
    assert r.choices[0].message.content == harness.ANTHROPIC_UPSTREAM_TEXT
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=harness.ANTHROPIC_UPSTREAM_MODEL,
            messages=[{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc"}}]}],
        )
    assert "messages[0].content[0]" in err.value.body["message"]
