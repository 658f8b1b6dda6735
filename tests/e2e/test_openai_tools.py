"""OpenAI SDK: function calling. The mock calls a tool when `tool_choice`
names it (or is `required`, or the user text says `call <name>`), with
arguments sampled from the tool's parameter schema."""

from __future__ import annotations

import json

import openai
import pydantic

from sdk import MOCK_PREFIX, ask

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
}
NAMED = {"type": "function", "function": {"name": "get_weather"}}


def assert_weather_call(call):
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args, dict)
    assert {"city", "unit"} <= args.keys()
    assert isinstance(args["city"], str)
    assert args["unit"] in ("celsius", "fahrenheit")


def test_named_tool_choice(client):
    r = client.chat.completions.create(
        model="mock-1", messages=ask("what is the weather in Paris?"),
        tools=[TIME, WEATHER], tool_choice=NAMED,
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    assert_weather_call(choice.message.tool_calls[0])
    assert r.usage.completion_tokens > 0


def test_required_and_auto_tool_choice(client):
    r = client.chat.completions.create(
        model="mock-1", messages=ask("anything"), tools=[TIME, WEATHER], tool_choice="required",
    )
    assert r.choices[0].message.tool_calls[0].function.name == "get_time"
    r = client.chat.completions.create(
        model="mock-1", messages=ask("please call get_weather now"), tools=[TIME, WEATHER],
    )
    assert_weather_call(r.choices[0].message.tool_calls[0])
    r = client.chat.completions.create(
        model="mock-1", messages=ask("no tool here"), tools=[TIME, WEATHER], tool_choice="none",
    )
    assert r.choices[0].message.tool_calls is None
    assert r.choices[0].message.content == MOCK_PREFIX + "no tool here"


def test_tool_result_round_trip(client):
    # The second turn of a tool conversation: the SDK sends the assistant's
    # call and the tool's result back.
    first = client.chat.completions.create(
        model="mock-1", messages=ask("weather in Oslo"), tools=[WEATHER], tool_choice=NAMED,
    )
    call = first.choices[0].message.tool_calls[0]
    r = client.chat.completions.create(
        model="mock-1",
        tools=[WEATHER],
        messages=[
            *ask("weather in Oslo"),
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": '{"celsius": 3}'},
        ],
    )
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content.startswith("This is a mock response")


def test_streamed_tool_call_reassembled(client):
    stream = client.chat.completions.create(
        model="mock-1", messages=ask("weather, streamed"), tools=[WEATHER], tool_choice=NAMED,
        stream=True,
    )
    calls: dict[int, dict] = {}
    finish = None
    fragments = 0
    for chunk in stream:
        for c in chunk.choices:
            finish = c.finish_reason or finish
            for d in c.delta.tool_calls or []:
                slot = calls.setdefault(d.index, {"id": None, "name": "", "arguments": ""})
                slot["id"] = d.id or slot["id"]
                if d.function:
                    slot["name"] += d.function.name or ""
                    slot["arguments"] += d.function.arguments or ""
                    fragments += bool(d.function.arguments)
    assert finish == "tool_calls"
    assert list(calls) == [0]
    assert calls[0]["id"] and calls[0]["name"] == "get_weather"
    assert fragments > 1, "arguments arrive in pieces"
    args = json.loads(calls[0]["arguments"])
    assert {"city", "unit"} <= args.keys()


def test_stream_helper_tool_call(client):
    with client.chat.completions.stream(
        model="mock-1", messages=ask("weather via helper"), tools=[WEATHER], tool_choice=NAMED,
    ) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    assert [e.name for e in done] == ["get_weather"]
    assert json.loads(done[0].arguments) == json.loads(final.choices[0].message.tool_calls[0].function.arguments)
    assert_weather_call(final.choices[0].message.tool_calls[0])


class GetWeather(pydantic.BaseModel):
    city: str
    days: int


def test_strict_pydantic_tool_parses(client):
    r = client.chat.completions.parse(
        model="mock-1", messages=ask("weather"),
        tools=[openai.pydantic_function_tool(GetWeather)],
        tool_choice={"type": "function", "function": {"name": "GetWeather"}},
    )
    parsed = r.choices[0].message.tool_calls[0].function.parsed_arguments
    assert isinstance(parsed, GetWeather)


async def test_tool_call_async(aclient):
    r = await aclient.chat.completions.create(
        model="mock-1", messages=ask("async weather"), tools=[WEATHER], tool_choice=NAMED,
    )
    assert_weather_call(r.choices[0].message.tool_calls[0])
