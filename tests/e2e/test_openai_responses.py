"""OpenAI SDK: the Responses API, emulated over chat, against the built-in
mock provider. The gateway keeps no conversation state, so tool round trips
send the whole conversation back in `input`."""

from __future__ import annotations

import json

import openai
import pytest

import harness
from sdk import MOCK_PREFIX

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def test_text_response(client):
    r = client.responses.create(model="mock-1", input="hello responses", instructions="Be brief.")
    assert r.object == "response"
    assert r.id.startswith("resp_")
    assert r.status == "completed"
    assert r.model == "mock-1"
    assert r.instructions == "Be brief."
    assert r.output_text == MOCK_PREFIX + "hello responses"
    assert r.output[0].type == "message"
    assert r.output[0].role == "assistant"
    assert r.usage.input_tokens > 0
    assert r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.usage.output_tokens_details.reasoning_tokens == 0


def test_message_items_and_token_cap(client):
    r = client.responses.create(
        model="mock-1",
        input=[
            {"role": "developer", "content": "Answer plainly."},
            {"role": "user", "content": [{"type": "input_text", "text": "a long question about many things"}]},
        ],
        max_output_tokens=3,
    )
    assert r.status == "incomplete"
    assert r.incomplete_details.reason == "max_output_tokens"
    assert MOCK_PREFIX.startswith(r.output_text)


def test_stream_helper(client):
    deltas = []
    with client.responses.stream(model="mock-1", input="stream this") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == MOCK_PREFIX + "stream this"
    assert len(deltas) > 1
    assert final.output_text == MOCK_PREFIX + "stream this"
    assert final.usage.output_tokens > 0


def test_create_stream_events(client):
    events = list(client.responses.create(model="mock-1", input="raw events", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == MOCK_PREFIX + "raw events"
    assert events[-1].response.output_text == text


def test_function_call_round_trip(client):
    r = client.responses.create(model="mock-1", input="please call get_weather for Paris", tools=[WEATHER])
    calls = [item for item in r.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "mock"}
    assert call.call_id

    follow_up = client.responses.create(
        model="mock-1",
        tools=[WEATHER],
        tool_choice="none",
        input=[
            {"role": "user", "content": "please call get_weather for Paris"},
            call,
            {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "clear"}'},
        ],
    )
    assert follow_up.status == "completed"
    assert follow_up.output_text == MOCK_PREFIX + "please call get_weather for Paris"


def test_streamed_function_call(client):
    with client.responses.stream(model="mock-1", input="call get_weather", tools=[WEATHER]) as stream:
        pieces = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    assert json.loads("".join(pieces)) == {"city": "mock"}
    assert final.output[0].type == "function_call"
    assert final.output[0].arguments == "".join(pieces)


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id"),
        ({"store": True}, "store"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
    ],
)
def test_stateful_features_are_refused(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="mock-1", input="hi", **kwargs)
    assert e.value.body["param"] == param


def test_input_file_reaches_an_anthropic_upstream(client):
    # The Responses API's input_file (a PDF as a data URL) through the
    # gateway to an Anthropic-kind provider, which reads it as a document.
    r = client.responses.create(
        model=harness.ANTHROPIC_UPSTREAM_MODEL,
        input=[{"role": "user", "content": [
            {"type": "input_file", "filename": "r.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"},
            {"type": "input_text", "text": "Summarise the report."},
        ]}],
    )
    assert r.output_text == harness.ANTHROPIC_UPSTREAM_TEXT
