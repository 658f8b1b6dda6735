"""Smoke run: the official OpenAI and Anthropic SDKs, through a running
Switchyard gateway, against a real open-weight model (SmolLM2-135M served by
llama-cpp-python's OpenAI-compatible server).

scripts/smoke-local-model starts both servers and runs this file; to run it
alone against a gateway you started yourself:

    ~/.cache/switchyard-venv/bin/python tests/smoke/local_model.py \
        --gateway http://127.0.0.1:8080 --model smol

Exit status 0 when every check passed, 1 otherwise. A tiny model's answers
are not checked for sense, only for shape: non-empty text and token counts
above zero, as the client SDKs parse them.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

import anthropic
import openai

# A 135M model on two CPU cores answers 64 tokens in a few seconds; the
# timeout only keeps a hang from stalling the run.
CLIENT_TIMEOUT_S = 120.0
MAX_TOKENS = 64
PROMPT = "Name three colours of the rainbow."


def shorten(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def usage_line(u) -> str:
    if u is None:
        return "None"
    return f"prompt_tokens={u.prompt_tokens} completion_tokens={u.completion_tokens} total_tokens={u.total_tokens}"


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def openai_chat(oa: openai.OpenAI, model: str) -> dict:
    r = oa.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0.2,
    )
    text = r.choices[0].message.content or ""
    u = r.usage
    print(f"  answer: {shorten(text, 200)!r}")
    print(f"  usage:  {usage_line(u)}")
    print(f"  finish_reason: {r.choices[0].finish_reason}, model: {r.model}")
    check(text.strip() != "", "empty content")
    check(u is not None, "no usage")
    check(u.prompt_tokens > 0, f"prompt_tokens={u.prompt_tokens}")
    check(u.completion_tokens > 0, f"completion_tokens={u.completion_tokens}")
    return {"text": text, "in": u.prompt_tokens, "out": u.completion_tokens, "note": ""}


def openai_stream(oa: openai.OpenAI, model: str) -> dict:
    stream = oa.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0.2,
        stream=True,
        stream_options={"include_usage": True},
    )
    deltas: list[str] = []
    usage = None
    usage_chunk_last = False
    chunks = 0
    for chunk in stream:
        chunks += 1
        usage_chunk_last = False
        for choice in chunk.choices:
            if choice.delta and choice.delta.content:
                deltas.append(choice.delta.content)
        if chunk.usage is not None:
            usage = chunk.usage
            # The usage chunk carries no choices and comes last.
            usage_chunk_last = not chunk.choices
    text = "".join(deltas)
    print(f"  answer: {shorten(text, 200)!r}")
    print(f"  chunks: {chunks}, content deltas: {len(deltas)}")
    print(f"  usage:  {usage_line(usage)} (on a final chunk without choices: {usage_chunk_last})")
    check(len(deltas) >= 3, f"only {len(deltas)} content deltas")
    check(text.strip() != "", "empty streamed content")
    check(usage is not None, "no usage chunk")
    check(usage_chunk_last, "usage did not come on a final chunk without choices")
    check(usage.prompt_tokens > 0, f"prompt_tokens={usage.prompt_tokens}")
    check(usage.completion_tokens > 0, f"completion_tokens={usage.completion_tokens}")
    return {"text": text, "in": usage.prompt_tokens, "out": usage.completion_tokens,
            "note": f"{len(deltas)} deltas"}


def anthropic_create(an: anthropic.Anthropic, model: str) -> dict:
    m = an.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=[{"role": "user", "content": PROMPT}],
    )
    text = "".join(b.text for b in m.content if b.type == "text")
    print(f"  answer: {shorten(text, 200)!r}")
    print(f"  usage:  input_tokens={m.usage.input_tokens} output_tokens={m.usage.output_tokens}")
    print(f"  stop_reason: {m.stop_reason}, model: {m.model}")
    check(text.strip() != "", "empty text")
    check(m.usage.input_tokens > 0, f"input_tokens={m.usage.input_tokens}")
    check(m.usage.output_tokens > 0, f"output_tokens={m.usage.output_tokens}")
    return {"text": text, "in": m.usage.input_tokens, "out": m.usage.output_tokens, "note": ""}


def anthropic_stream(an: anthropic.Anthropic, model: str) -> dict:
    deltas = 0
    with an.messages.stream(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=[{"role": "user", "content": PROMPT}],
    ) as stream:
        for piece in stream.text_stream:
            if piece:
                deltas += 1
        m = stream.get_final_message()
    text = "".join(b.text for b in m.content if b.type == "text")
    print(f"  answer: {shorten(text, 200)!r}")
    print(f"  text deltas: {deltas}")
    print(f"  usage:  input_tokens={m.usage.input_tokens} output_tokens={m.usage.output_tokens}")
    print(f"  stop_reason: {m.stop_reason}")
    check(deltas >= 3, f"only {deltas} text deltas")
    check(text.strip() != "", "empty streamed text")
    check(m.usage.input_tokens > 0, f"input_tokens={m.usage.input_tokens}")
    check(m.usage.output_tokens > 0, f"output_tokens={m.usage.output_tokens}")
    return {"text": text, "in": m.usage.input_tokens, "out": m.usage.output_tokens,
            "note": f"{deltas} deltas"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gateway", required=True, help="gateway listener, e.g. http://127.0.0.1:8080")
    ap.add_argument("--model", default="smol", help="the gateway's model name")
    args = ap.parse_args()
    gw = args.gateway.rstrip("/")

    common = {"max_retries": 0, "timeout": CLIENT_TIMEOUT_S}
    oa = openai.OpenAI(base_url=f"{gw}/v1", api_key="sk-smoke-any-key", **common)
    an = anthropic.Anthropic(base_url=gw, api_key="sk-ant-smoke-any-key", **common)

    checks = [
        ("openai chat", lambda: openai_chat(oa, args.model)),
        ("openai stream+usage", lambda: openai_stream(oa, args.model)),
        ("anthropic create", lambda: anthropic_create(an, args.model)),
        ("anthropic stream", lambda: anthropic_stream(an, args.model)),
    ]
    rows = []
    for name, run in checks:
        print(f"== {name}")
        t0 = time.monotonic()
        try:
            res = run()
            status, err = "PASS", ""
        except Exception as e:  # noqa: BLE001 - every failure goes in the table
            res = {"in": "-", "out": "-", "note": ""}
            status, err = "FAIL", f"{type(e).__name__}: {e}"
            traceback.print_exc(limit=3)
        secs = time.monotonic() - t0
        rows.append((name, status, res["in"], res["out"], f"{secs:.1f}s", err or res["note"]))

    print()
    print(f"{'check':<22} {'result':<6} {'in':>5} {'out':>5} {'time':>7}  note")
    print("-" * 72)
    for name, status, tin, tout, secs, note in rows:
        print(f"{name:<22} {status:<6} {tin!s:>5} {tout!s:>5} {secs:>7}  {shorten(note, 60)}")
    # llama-cpp-python's server sends no usage on a stream even when asked, so
    # the gateway closes OpenAI streams with its own estimate: a prompt count
    # unlike the non-streamed one (which includes the chat template) shows it.
    if rows[0][1] == rows[1][1] == "PASS" and rows[0][2] != rows[1][2]:
        print("note: streamed usage differs from the non-streamed one: the upstream sent no "
              "stream usage and the gateway estimated it")
    failed = sum(1 for r in rows if r[1] != "PASS")
    print(f"smoke: {len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
