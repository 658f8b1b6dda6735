"""OpenAI SDK: error statuses and bodies turn into the SDK's exception
classes. The mock fails on purpose when the user text holds
`mock:error:<status>`; clients have max_retries=0."""

from __future__ import annotations

import openai
import pytest

from sdk import ask

INJECTED = [
    (400, openai.BadRequestError),
    (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError),
    (422, openai.UnprocessableEntityError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
    (503, openai.InternalServerError),
]


def assert_openai_error_body(err: openai.APIStatusError):
    body = err.response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["type"], str) and body["error"]["type"]
    assert err.message  # the SDK found the message
    assert err.type == body["error"]["type"]


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="no-such-model", messages=ask("hi"))
    assert e.value.status_code == 404
    assert e.value.code == "model_not_found"
    assert e.value.type == "invalid_request_error"
    assert "no-such-model" in e.value.message
    assert_openai_error_body(e.value)


@pytest.mark.parametrize("status,error_class", INJECTED, ids=[str(s) for s, _ in INJECTED])
def test_injected_provider_errors(client, status, error_class):
    with pytest.raises(error_class) as e:
        client.chat.completions.create(model="mock-1", messages=ask(f"please fail mock:error:{status}"))
    assert e.value.status_code == status
    assert_openai_error_body(e.value)


def test_rate_limit_error_shape(client):
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="mock-1", messages=ask("mock:error:429"))
    assert e.value.type == "rate_limit_error"
    assert e.value.code == "rate_limit_exceeded"
    # The SDK reads the request id from `x-request-id`, so a user can quote
    # the failed call.
    assert e.value.request_id
    assert e.value.request_id == e.value.response.headers["x-request-id"]


def test_injected_error_before_stream_raises(client):
    # An error before the first chunk is a real HTTP status, not an SSE event.
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="mock-1", messages=ask("mock:error:429"), stream=True)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="mock-1", messages=ask("mock:error:500"), stream=True)


async def test_injected_errors_async(aclient):
    with pytest.raises(openai.RateLimitError):
        await aclient.chat.completions.create(model="mock-1", messages=ask("mock:error:429"))
    with pytest.raises(openai.InternalServerError):
        await aclient.chat.completions.create(model="mock-1", messages=ask("mock:error:500"))
    with pytest.raises(openai.NotFoundError):
        await aclient.chat.completions.create(model="no-such-model", messages=ask("hi"))


def test_sdk_validation_errors_are_bad_requests(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="mock-1", messages=[])
    assert_openai_error_body(e.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="mock-1", messages=[{"role": "wizard", "content": "x"}])


MALFORMED = {
    "truncated-json": (b'{"model": "mock-1", "messages": [', "application/json"),
    "not-json": (b"model=mock-1", "application/json"),
    "array-body": (b"[]", "application/json"),
    "missing-messages": (b'{"model": "mock-1"}', "application/json"),
    "missing-model": (b'{"messages": [{"role": "user", "content": "hi"}]}', "application/json"),
    "messages-wrong-type": (b'{"model": "mock-1", "messages": "hi"}', "application/json"),
    "stream-wrong-type": (
        b'{"model": "mock-1", "stream": "yes", "messages": [{"role": "user", "content": "hi"}]}',
        "application/json",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_body_is_400_with_error_type(raw, name):
    body, content_type = MALFORMED[name]
    r = raw.post("/v1/chat/completions", content=body, headers={"content-type": content_type})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"]


def test_wrong_method_and_unknown_path(raw):
    r = raw.get("/v1/chat/completions")
    assert r.status_code == 405
    assert r.json()["error"]["type"] == "invalid_request_error"
    r = raw.post("/v1/no-such-endpoint", json={})
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "invalid_request_error"
