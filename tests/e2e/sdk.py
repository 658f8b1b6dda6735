"""The official SDK clients as the suite configures them, and helpers the
test files share."""

from __future__ import annotations

import anthropic
import openai

# Generous for a loaded 2-core machine, but a hang still fails the test.
CLIENT_TIMEOUT_S = 30.0
# Anthropic requests need a max_tokens; the mock's answers are far shorter.
MAX_TOKENS = 256
# What the built-in mock answers before the last user message, quoted.
MOCK_PREFIX = "This is a mock response to: "

# Strict validation makes the SDKs check every response against their own
# types, so a missing or mistyped field fails the test; no retries, so an
# error status is seen once and at once.
_COMMON = {"max_retries": 0, "timeout": CLIENT_TIMEOUT_S, "_strict_response_validation": True}


def openai_client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sk-e2e-any-key", **_COMMON)


def async_openai_client(base_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=base_url, api_key="sk-e2e-any-key", **_COMMON)


def anthropic_client(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-e2e-any-key", **_COMMON)


def async_anthropic_client(base_url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=base_url, api_key="sk-ant-e2e-any-key", **_COMMON)


def ask(text: str) -> list[dict]:
    """A one-message conversation."""
    return [{"role": "user", "content": text}]


def assert_usage(usage) -> None:
    """OpenAI usage: present, positive, and adding up."""
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
