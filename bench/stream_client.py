#!/usr/bin/env python3
"""Streaming chat client for run.sh: raw sockets, no third-party modules.

  stream_client.py ttft PORT N [options]
      N streamed chat completions one after another, each on a fresh
      connection (connected before the clock starts). Per request: time from
      sending the request to the first SSE `data:` event carrying content
      (TTFT), and the gaps between content events as they reach the client.
      Prints one line `BENCH_STREAM {json}`.

  stream_client.py idle PORT N [options] [--hold S]
      Opens N streamed chat completions at once (asyncio, one process) and
      waits until each has delivered its first content event; prints
      `ready <streams with content> <failed>` and holds every connection open
      until stdin closes or S seconds pass.

Options: --model M, --auth KEY (sent as `Authorization: Bearer KEY`),
--header 'name: value' (repeatable), --path P (default /v1/chat/completions),
--timeout S (per request).
"""
import argparse
import asyncio
import json
import socket
import statistics
import sys
import time


def build_request(args):
    body = json.dumps({
        "model": args.model,
        "stream": True,
        "messages": [{"role": "user", "content": "Say hello."}],
    }).encode()
    head = [
        f"POST {args.path} HTTP/1.1",
        f"Host: 127.0.0.1:{args.port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if args.auth:
        head.append(f"Authorization: Bearer {args.auth}")
    head.extend(args.header)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class StreamParser:
    """Incremental HTTP/1.1 response parser (chunked, length or close
    delimited) that splits the body into SSE lines and counts content events."""

    def __init__(self):
        self.buf = b""
        self.status = None
        self.chunked = False
        self.remaining = None  # bytes left in the current chunk / body
        self.lines = b""
        self.done = False

    def feed(self, data):
        """Returns the number of content events completed by `data`."""
        self.buf += data
        body = b""
        if self.status is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return 0
            head = self.buf[:end].decode("latin-1").split("\r\n")
            self.buf = self.buf[end + 4:]
            self.status = int(head[0].split()[1])
            for line in head[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
                elif name == "content-length":
                    self.remaining = int(value)
        if self.chunked:
            while True:
                if self.remaining is None or self.remaining == 0:
                    if self.remaining == 0:  # CRLF after a chunk's data
                        if len(self.buf) < 2:
                            break
                        self.buf = self.buf[2:]
                        self.remaining = None
                    nl = self.buf.find(b"\r\n")
                    if nl < 0:
                        break
                    size = int(self.buf[:nl].split(b";")[0], 16)
                    self.buf = self.buf[nl + 2:]
                    if size == 0:
                        self.done = True
                        break
                    self.remaining = size
                take = self.buf[:self.remaining]
                body += take
                self.buf = self.buf[len(take):]
                self.remaining -= len(take)
                if self.remaining > 0:
                    break
        else:
            body, self.buf = self.buf, b""
            if self.remaining is not None:
                self.remaining -= len(body)
                if self.remaining <= 0:
                    self.done = True
        return self._events(body)

    def _events(self, body):
        self.lines += body
        count = 0
        while True:
            nl = self.lines.find(b"\n")
            if nl < 0:
                break
            line, self.lines = self.lines[:nl].strip(), self.lines[nl + 1:]
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                self.done = True
                continue
            try:
                ev = json.loads(payload)
            except ValueError:
                continue
            for choice in ev.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    count += 1
                    break
        return count


def pct(values, p):
    if not values:
        return 0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def ttft(args):
    request = build_request(args)
    ttfts, gaps, events, errors, statuses = [], [], [], 0, {}
    batched = 0  # content events that arrived in the same read as another
    for _ in range(args.n):
        try:
            sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            parser = StreamParser()
            t0 = time.perf_counter()
            sock.sendall(request)
            first, last, n = None, None, 0
            while not parser.done:
                data = sock.recv(65536)
                now = time.perf_counter()
                if not data:
                    break
                got = parser.feed(data)
                if got:
                    if first is None:
                        first = now
                    else:
                        gaps.append((now - last) * 1e6)
                    batched += got - 1
                    last = now
                    n += got
            sock.close()
            statuses[parser.status] = statuses.get(parser.status, 0) + 1
            if parser.status != 200 or first is None:
                errors += 1
                continue
            ttfts.append((first - t0) * 1e6)
            events.append(n)
        except OSError:
            errors += 1
    out = {
        "n": args.n,
        "ok": len(ttfts),
        "errors": errors,
        "statuses": {str(k): v for k, v in statuses.items()},
        "ttft_p50_us": statistics.median(ttfts) if ttfts else 0,
        "ttft_p90_us": pct(ttfts, 90),
        "ttft_min_us": min(ttfts) if ttfts else 0,
        "content_events_median": statistics.median(events) if events else 0,
        "gap_p10_us": pct(gaps, 10),
        "gap_p50_us": pct(gaps, 50),
        "gap_p90_us": pct(gaps, 90),
        "gaps_under_1ms": sum(1 for g in gaps if g < 1000),
        "gaps": len(gaps),
        "batched_events": batched,
    }
    print("BENCH_STREAM " + json.dumps(out), flush=True)


async def open_stream(args, request, sem, writers):
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", args.port), args.timeout)
        except asyncio.TimeoutError:
            return "connect timeout"
        except OSError as e:
            return f"connect: {e.strerror or e}"
        writers.append(writer)
        writer.write(request)
        parser = StreamParser()
        deadline = time.monotonic() + args.timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                data = await asyncio.wait_for(reader.read(65536), left)
                if not data:
                    return f"closed (status {parser.status})"
                if parser.feed(data):
                    return True if parser.status == 200 else f"status {parser.status}"
        except asyncio.TimeoutError:
            return "timeout"
        except OSError as e:
            return f"read: {e.strerror or e}"


async def idle(args):
    request = build_request(args)
    sem = asyncio.Semaphore(args.opening)
    writers = []
    results = await asyncio.gather(*(open_stream(args, request, sem, writers) for _ in range(args.n)))
    ok = sum(1 for r in results if r is True)
    reasons = {}
    for r in results:
        if r is not True:
            reasons[r] = reasons.get(r, 0) + 1
    print("failures " + json.dumps(reasons), flush=True)
    print(f"ready {ok} {args.n - ok}", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()

    def on_stdin():
        if not sys.stdin.buffer.read1(1) and not stdin_closed.done():
            stdin_closed.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    try:
        await asyncio.wait_for(stdin_closed, args.hold)
    except asyncio.TimeoutError:
        pass
    for w in writers:
        w.transport.abort()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ttft", "idle"])
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--model", default="gpt-4o-mini")
    ap.add_argument("--auth")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--path", default="/v1/chat/completions")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--hold", type=float, default=60)
    ap.add_argument("--opening", type=int, default=500, help="idle: streams being opened at once")
    args = ap.parse_args()
    if args.mode == "ttft":
        ttft(args)
    else:
        asyncio.run(idle(args))


if __name__ == "__main__":
    main()
