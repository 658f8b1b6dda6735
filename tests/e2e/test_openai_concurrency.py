"""OpenAI SDK: many concurrent streams through one async client, each
receiving exactly its own answer (no crossed or dropped chunks)."""

from __future__ import annotations

import asyncio
import re
import uuid

from sdk import MOCK_PREFIX, ask

STREAMS = 200
TOKEN = re.compile(r"tok-\d+-[0-9a-f]{12}")


async def one_stream(client, token: str) -> tuple[str, int, object]:
    stream = await client.chat.completions.create(
        model="mock-paced",  # 2 ms between chunks: the streams overlap
        messages=ask(f"echo {token} back to me"),
        stream=True,
        stream_options={"include_usage": True},
    )
    text, chunks, usage, ids = "", 0, None, set()
    async for chunk in stream:
        chunks += 1
        ids.add(chunk.id)
        for c in chunk.choices:
            text += c.delta.content or ""
        usage = chunk.usage or usage
    assert len(ids) == 1, f"{token}: chunks of several completions in one stream: {ids}"
    return text, chunks, usage


async def test_concurrent_streams_get_their_own_content(aclient):
    tokens = [f"tok-{i}-{uuid.uuid4().hex[:12]}" for i in range(STREAMS)]
    results = await asyncio.gather(*(one_stream(aclient, t) for t in tokens))
    for token, (text, chunks, usage) in zip(tokens, results):
        assert text == f"{MOCK_PREFIX}echo {token} back to me", text
        assert TOKEN.findall(text) == [token]
        assert chunks > 3
        assert usage is not None and usage.completion_tokens > 0
