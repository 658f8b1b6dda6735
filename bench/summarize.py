#!/usr/bin/env python3
"""Turn run.sh's raw files (results.jsonl, targets.jsonl, meta.json in OUT)
into the markdown report printed to stdout.

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
            lines.append(
                f"| {t['target']} | {mib(t['rss_kib'])} | {mib(t['idle_rss_kib'])} | "
                f"{t['idle_answered']} | {mib(t['hwm_kib'])} |"
            )

    if meta.get("notes"):
        lines.append("")
        lines.append("## Notes")
        lines.append("")
        for n in meta["notes"]:
            lines.append(f"- {n}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
