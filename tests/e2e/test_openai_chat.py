"""OpenAI SDK: non-streaming chat completions and the models endpoints,
against the built-in mock provider (it answers `This is a mock response
to: <last user message>`)."""

from __future__ import annotations

import json

import openai
import pydantic
import pytest

from sdk import MOCK_PREFIX, ask, assert_usage, openai_client


def test_chat_completion(client):
    r = client.chat.completions.create(model="mock-1", messages=ask("hello from the sync client"))
    assert r.object == "chat.completion"
    assert r.id
    assert r.created > 0
    assert r.model == "mock-1"
    assert len(r.choices) == 1
    choice = r.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == MOCK_PREFIX + "hello from the sync client"
    assert choice.message.tool_calls is None
    assert_usage(r.usage)


def test_system_and_history_answer_the_last_user_message(client):
    r = client.chat.completions.create(
        model="mock-1",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "second question"},
        ],
        temperature=0.2, top_p=0.9, seed=7, user="e2e", stop=["\n\n"],
    )
    assert r.choices[0].message.content == MOCK_PREFIX + "second question"
    # A longer prompt costs more prompt tokens than a one-message one.
    short = client.chat.completions.create(model="mock-1", messages=ask("second question"))
    assert r.usage.prompt_tokens > short.usage.prompt_tokens


async def test_chat_completion_async(aclient):
    r = await aclient.chat.completions.create(model="mock-1", messages=ask("hello from the async client"))
    assert r.model == "mock-1"
    assert r.choices[0].message.content == MOCK_PREFIX + "hello from the async client"
    assert r.choices[0].finish_reason == "stop"
    assert_usage(r.usage)


def test_n_choices(client):
    r = client.chat.completions.create(model="mock-1", messages=ask("twice"), n=2)
    assert [c.index for c in r.choices] == [0, 1]
    assert {c.message.content for c in r.choices} == {MOCK_PREFIX + "twice"}
    single = client.chat.completions.create(model="mock-1", messages=ask("twice"))
    assert r.usage.completion_tokens == 2 * single.usage.completion_tokens


def test_max_tokens_cuts_with_finish_reason_length(client):
    text = "please give me a rather long answer with many words in it"
    full = client.chat.completions.create(model="mock-1", messages=ask(text))
    for cap in ({"max_tokens": 3}, {"max_completion_tokens": 3}):
        r = client.chat.completions.create(model="mock-1", messages=ask(text), **cap)
        assert r.choices[0].finish_reason == "length"
        content = r.choices[0].message.content
        assert full.choices[0].message.content.startswith(content)
        assert len(content) < len(full.choices[0].message.content)
        assert r.usage.completion_tokens <= 3


def test_json_mode(client):
    r = client.chat.completions.create(
        model="mock-1",
        messages=ask("reply in JSON please"),
        response_format={"type": "json_object"},
    )
    data = json.loads(r.choices[0].message.content)
    assert isinstance(data, dict)
    assert data["response"] == MOCK_PREFIX + "reply in JSON please"


class Weather(pydantic.BaseModel):
    city: str
    celsius: float
    rain: bool
    tags: list[str]


def test_json_schema_parses_into_a_model(client):
    # The SDK's structured-output helper: it sends a strict json_schema
    # response_format and parses the answer into the class.
    r = client.chat.completions.parse(model="mock-1", messages=ask("weather?"), response_format=Weather)
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Weather)
    assert r.choices[0].finish_reason == "stop"


def test_models_list_and_retrieve(client):
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert "mock-1" in ids and "mock-paced" in ids
    for m in models.data:
        assert m.object == "model"
        assert isinstance(m.created, int)
        assert m.owned_by
    one = client.models.retrieve("mock-1")
    assert one.id == "mock-1"
    assert one.object == "model"
    assert one.owned_by == "mock"


def test_models_retrieve_unknown_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("no-such-model")
    assert e.value.status_code == 404
    assert e.value.code == "model_not_found"


async def test_models_list_async(aclient):
    ids = [m.id async for m in aclient.models.list()]
    assert "mock-1" in ids


def test_route_scoped_models(gateway):
    # /scoped/v1 is a route whose ai target allows only mock-1: the other
    # models are invisible there, answering as if they did not exist.
    with openai_client(f"{gateway.base_url}/scoped/v1") as scoped:
        assert [m.id for m in scoped.models.list().data] == ["mock-1"]
        r = scoped.chat.completions.create(model="mock-1", messages=ask("scoped"))
        assert r.choices[0].message.content == MOCK_PREFIX + "scoped"
        with pytest.raises(openai.NotFoundError):
            scoped.chat.completions.create(model="mock-paced", messages=ask("scoped"))
        with pytest.raises(openai.NotFoundError):
            scoped.models.retrieve("mock-paced")
