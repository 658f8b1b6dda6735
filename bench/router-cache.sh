#!/usr/bin/env bash
# Route lookup cost that does not move with the shared machine's caches:
# instructions, level-1 data-cache misses and last-level misses per lookup,
# counted by valgrind's cachegrind with a fixed cache model (64 KiB L1d and
# a 1 MiB last level, this machine's per-core L2), for the 10- and the
# 10,000-route tables of `cargo bench -p sy-proxy --bench router`.
#
# Each table runs twice (BENCH_RC_SHORT and BENCH_RC_LONG lookups); the
# difference divided by the difference in lookups cancels building the table.
# Run after `cargo bench -p sy-proxy --bench router --no-run`.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchyard-target}"
SHORT="${BENCH_RC_SHORT:-200000}"
LONG="${BENCH_RC_LONG:-1200000}"
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }
(cd "$REPO" && cargo bench -p sy-proxy --bench router --no-run >&2)
BIN="$(ls -t "$CARGO_TARGET_DIR"/release/deps/router-* | grep -v '\.d$' | head -n1)"
TMP="$(mktemp -d /tmp/sy-router-cache.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

# One run: prints "Ir D1mr+D1mw DLmr+DLmw" totals.
count() {
  ROUTER_LOOKUPS="$1" ROUTER_TABLE="$2" valgrind --tool=cachegrind --cache-sim=yes \
    --D1=65536,8,64 --LL=1048576,16,64 --cachegrind-out-file="$TMP/cg" "$BIN" >/dev/null 2>&1
  awk '/^events:/ {for (i = 2; i <= NF; i++) col[$i] = i}
       /^summary:/ {print $col["Ir"], $col["D1mr"] + $col["D1mw"], $col["DLmr"] + $col["DLmw"]}' "$TMP/cg"
}

echo "| routes | instructions per lookup | L1d misses per lookup | last-level misses per lookup |"
echo "|---:|---:|---:|---:|"
for n in 10 10000; do
  read -r i1 d1 l1 <<<"$(count "$SHORT" "$n")"
  read -r i2 d2 l2 <<<"$(count "$LONG" "$n")"
  awk -v n="$n" -v k=$((LONG - SHORT)) -v i=$((i2 - i1)) -v d=$((d2 - d1)) -v l=$((l2 - l1)) \
    'BEGIN {printf "| %d | %.0f | %.2f | %.2f |\n", n, i / k, d / k, l / k}'
done
