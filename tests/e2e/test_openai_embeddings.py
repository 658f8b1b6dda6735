"""OpenAI SDK: embeddings against the built-in mock provider, which answers
deterministic unit vectors derived from each input's text."""

from __future__ import annotations

import math

import openai
import pytest

from sdk import CLIENT_TIMEOUT_S


def lenient(base_url: str) -> openai.OpenAI:
    # Without `encoding_format` the SDK asks for base64 and decodes it after
    # validation; strict validation would refuse the base64 string first
    # (against any server), so these calls use a default client.
    return openai.OpenAI(
        base_url=base_url, api_key="sk-e2e-any-key", max_retries=0, timeout=CLIENT_TIMEOUT_S
    )


def test_float_embeddings(client):
    r = client.embeddings.create(
        model="mock-1", input=["alpha", "beta"], dimensions=16, encoding_format="float"
    )
    assert r.object == "list"
    assert r.model == "mock-1"
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == 16 for d in r.data)
    assert r.data[0].embedding != r.data[1].embedding
    assert math.isclose(sum(x * x for x in r.data[0].embedding), 1.0, rel_tol=1e-4)
    assert r.usage.prompt_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens
    again = client.embeddings.create(
        model="mock-1", input="alpha", dimensions=16, encoding_format="float"
    )
    assert again.data[0].embedding == r.data[0].embedding


def test_base64_embeddings_decode_to_the_same_vector(client, base_url):
    floats = client.embeddings.create(
        model="mock-1", input="gamma", dimensions=32, encoding_format="float"
    )
    # The SDK asks for base64 by default and decodes it itself.
    decoded = lenient(base_url).embeddings.create(model="mock-1", input="gamma", dimensions=32)
    assert len(decoded.data[0].embedding) == 32
    for a, b in zip(floats.data[0].embedding, decoded.data[0].embedding):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)


def test_default_dimensions(client):
    r = client.embeddings.create(model="mock-1", input="delta", encoding_format="float")
    assert len(r.data[0].embedding) == 1536


def test_embeddings_errors(client):
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-model", input="x")
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model="mock-1", input="")
    assert e.value.body["param"] == "input"
