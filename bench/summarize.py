#!/usr/bin/env python3
"""Turn run.sh's raw files (results.jsonl, targets.jsonl, streams.jsonl,
idle_streams.jsonl, meta.json in OUT) into the markdown report printed to
stdout.

  summarize.py OUT_DIR
"""
import json
import sys
from pathlib import Path

SCENARIO_TITLE = {
    "get": "GET /",
    "post": "POST /v1/chat/completions (non-streaming)",
}


def load_lines(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ms(us):
    return f"{us / 1000:.3f}"


def mib(kib):
    return f"{kib / 1024:.1f}" if kib else "–"


def signed_ms(us):
    return f"{'+' if us >= 0 else '−'}{abs(us) / 1000:.3f}"


def main():
    out = Path(sys.argv[1])
    rows = load_lines(out / "results.jsonl")
    targets = load_lines(out / "targets.jsonl")
    meta = json.loads((out / "meta.json").read_text())
    clk = meta.get("clk_tck", 100)

    by_key = {}
    for r in rows:
        w = r["wrk"]
        secs = w["duration_us"] / 1e6 or 1
        r["rps"] = w["requests"] / secs
        r["cpu_us"] = r["ticks"] * 1e6 / clk / w["requests"] if w["requests"] else 0
        r["errors"] = sum(w[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        r["up_ratio"] = r["upstream"] / w["requests"] if w["requests"] else 0
        by_key[(r["target"], r["scenario"], r["conns"])] = r

    lines = []
    lines.append("# Switchyard benchmark")
    lines.append("")
    lines.append(
        f"{meta['duration_s']} s per run after {meta['warmup_s']} s warm-up; wrk {meta['wrk']} "
        f"(1 thread) on core {meta['load_cpu']}, proxy and mock upstream on core {meta['server_cpu']}; "
        f"nginx {meta['nginx']}; CPU {meta['cpu']}. Keep-alive connections throughout."
    )
    if meta.get("load_before"):
        lines.append("")
        lines.append(
            f"Machine load average (1/5/15 min) before the run: {meta['load_before']}; "
            f"after: {meta.get('load_after', '?')} (2 cores; other builds share the machine)."
        )
    lines.append("")
    lines.append(
        "RPS ×nginx compares with nginx at the same scenario and concurrency. CPU µs/req is the "
        "target's process tree CPU time (utime+stime) over the run ÷ completed requests (for "
        "`direct`, the mock's own). upstream/req is the mock's request counter ÷ completed "
        "requests (≈1.00 means every answer came from the upstream)."
    )

    scenarios = []
    for r in rows:
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    for sc in scenarios:
        lines.append("")
        lines.append(f"## {SCENARIO_TITLE.get(sc, sc)}")
        lines.append("")
        lines.append("| target | conns | RPS | ×nginx | p50 ms | p99 ms | CPU µs/req | upstream/req | errors |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if r["scenario"] != sc:
                continue
            ng = by_key.get(("nginx", sc, r["conns"]))
            ratio = f"{r['rps'] / ng['rps']:.2f}" if ng and ng["rps"] else "–"
            lines.append(
                f"| {r['target']} | {r['conns']} | {r['rps']:,.0f} | {ratio} | {ms(r['wrk']['p50_us'])} | "
                f"{ms(r['wrk']['p99_us'])} | {r['cpu_us']:.1f} | {r['up_ratio']:.3f} | {r['errors']} |"
            )

    added = []
    for r in rows:
        if r["target"] == "direct" or r["conns"] != 1:
            continue
        d = by_key.get(("direct", r["scenario"], 1))
        if d:
            added.append((r, d))
    if added:
        lines.append("")
        lines.append("## Added latency at 1 connection (vs the mock directly)")
        lines.append("")
        lines.append("| target | scenario | added p50 ms | added p99 ms |")
        lines.append("|---|---|---:|---:|")
        for r, d in added:
            lines.append(
                f"| {r['target']} | {SCENARIO_TITLE.get(r['scenario'], r['scenario'])} | "
                f"{signed_ms(r['wrk']['p50_us'] - d['wrk']['p50_us'])} | "
                f"{signed_ms(r['wrk']['p99_us'] - d['wrk']['p99_us'])} |"
            )

    goal_rows = [r for r in rows if r["target"] == "switchyard-ai" and r["scenario"] == "post"]
    if goal_rows:
        lines.append("")
        lines.append("## Switchyard AI path vs nginx (non-streaming chat)")
        lines.append("")
        lines.append(
            "Key auth (Bearer key of a consumer), virtual model → `openai_compatible` deployment, "
            "token and cost accounting; nginx proxies the same POST. Goals: RPS ≥ 0.9× nginx, "
            "CPU/request ≤ nginx."
        )
        lines.append("")
        lines.append("| conns | RPS ×nginx | CPU µs/req | nginx CPU µs/req | CPU ×nginx | RPS goal | CPU goal |")
        lines.append("|---:|---:|---:|---:|---:|:---:|:---:|")
        for r in goal_rows:
            ng = by_key.get(("nginx", "post", r["conns"]))
            if not ng or not ng["rps"] or not ng["cpu_us"]:
                continue
            rr, cr = r["rps"] / ng["rps"], r["cpu_us"] / ng["cpu_us"]
            lines.append(
                f"| {r['conns']} | {rr:.2f} | {r['cpu_us']:.1f} | {ng['cpu_us']:.1f} | {cr:.2f} | "
                f"{'met' if rr >= 0.9 else 'missed'} | {'met' if cr <= 1.0 else 'missed'} |"
            )

    streams = load_lines(out / "streams.jsonl")
    if streams:
        direct = next((x for x in streams if x["target"] == "direct"), None)
        d_ttft = direct["ttft"]["ttft_p50_us"] if direct and direct.get("ttft") else None
        d_rate = None
        if direct and direct.get("wrk"):
            d_rate = direct["wrk"]["requests"] / (direct["wrk"]["duration_us"] / 1e6 or 1)
        lines.append("")
        lines.append("## Streaming chat (20 chunks, 5 ms apart)")
        lines.append("")
        lines.append(
            f"TTFT: {meta.get('stream_samples', '?')} streamed requests one after another, each on a fresh "
            "connection (connect not timed): request sent → first SSE event with content. Gaps: time between "
            "content events at the client (≈5 ms when chunks are forwarded as they arrive; a p10 near 0 or many "
            "gaps < 1 ms would mean coalescing). Rate: "
            f"{meta.get('stream_conns', 256)} concurrent streams with wrk, complete streams per second; CPU per "
            "stream is the target's process tree."
        )
        lines.append("")
        lines.append(
            "| target | TTFT p50 ms | added p50 ms | TTFT p90 ms | events/stream | gap p10 / p50 / p90 ms "
            "| gaps < 1 ms | streams/s | ×direct | CPU µs/stream | errors |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for x in streams:
            t = x.get("ttft") or {}
            w = x.get("wrk")
            if t:
                added = signed_ms(t["ttft_p50_us"] - d_ttft) if d_ttft is not None and x["target"] != "direct" else "–"
                tcols = (
                    f"{ms(t['ttft_p50_us'])} | {added} | {ms(t['ttft_p90_us'])} | {t['content_events_median']:.0f} | "
                    f"{ms(t['gap_p10_us'])} / {ms(t['gap_p50_us'])} / {ms(t['gap_p90_us'])} | "
                    f"{t['gaps_under_1ms']}/{t['gaps']}"
                )
                terr = t["errors"]
            else:
                tcols, terr = "– | – | – | – | – | –", 0
            if w:
                rate = w["requests"] / (w["duration_us"] / 1e6 or 1)
                rx = f"{rate / d_rate:.2f}" if d_rate else "–"
                cpu = x["ticks"] * 1e6 / clk / w["requests"] if w["requests"] else 0
                werr = sum(w[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
                wcols = f"{rate:,.0f} | {rx} | {cpu:,.1f}"
            else:
                wcols, werr = "– | – | –", 0
            lines.append(f"| {x['target']} | {tcols} | {wcols} | {terr + werr} |")

    idle_streams = load_lines(out / "idle_streams.jsonl")
    if idle_streams:
        lines.append("")
        lines.append("## Open idle streams")
        lines.append("")
        lines.append(
            "Streamed chat completions opened at once by one asyncio client and held open (the upstream "
            "sends its first token, then pauses 60 s); RSS of the gateway's process tree while they are open. "
            "Goal: < 200 MiB for 10,000."
        )
        lines.append("")
        lines.append(
            "| target | streams asked | opened (first token received) | failed | seconds to open "
            "| RSS before MiB | RSS with streams open MiB | peak RSS MiB | KiB per stream | mock RSS MiB |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for x in idle_streams:
            per = (x["rss_kib"] - x["rss_before_kib"]) / x["open"] if x["open"] else 0
            lines.append(
                f"| {x['target']} | {x['asked']:,} | {x['open']:,} | {x['failed']:,} | {x['open_s']:.1f} | "
                f"{mib(x['rss_before_kib'])} | {mib(x['rss_kib'])} | {mib(x['hwm_kib'])} | {per:.1f} | "
                f"{mib(x['mock_rss_kib'])} |"
            )

    if targets:
        lines.append("")
        lines.append("## Memory (process tree)")
        lines.append("")
        lines.append(
            f"| target | RSS at start MiB | RSS with {meta['idle_conns']} idle keep-alive conns MiB "
            "| idle conns answered | peak RSS (VmHWM) MiB |"
        )
        lines.append("|---|---:|---:|---:|---:|")
        for t in targets:
            idle = mib(t["idle_rss_kib"]) if t.get("idle_rss_kib") else "–"
            answered = t["idle_answered"] if t.get("idle_rss_kib") else "–"
            lines.append(
                f"| {t['target']} | {mib(t['rss_kib'])} | {idle} | "
                f"{answered} | {mib(t['hwm_kib'])} |"
            )
        extra = [t for t in targets if t.get("version") or t.get("check")]
        if extra:
            lines.append("")
            lines.append("## Targets")
            lines.append("")
            for t in extra:
                bits = [b for b in (t.get("version"), t.get("check")) if b]
                lines.append(f"- **{t['target']}**: " + "; ".join(bits))

    if meta.get("notes"):
        lines.append("")
        lines.append("## Notes")
        lines.append("")
        for n in meta["notes"]:
            lines.append(f"- {n}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
