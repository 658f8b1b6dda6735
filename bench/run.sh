#!/usr/bin/env bash
# One-command benchmark: the mock upstream directly, nginx and Switchyard in
# front of it, GET / and non-streaming POST /v1/chat/completions at several
# keep-alive concurrencies. See bench/README.md for the method and the knobs.
#
# Every server is started with setsid (so its PID names its process group and
# session) and stopped by that PID; every wait is bounded; traffic only goes
# to 127.0.0.1.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
OUT="${BENCH_OUT:-$BENCH_DIR/out}"

secs() { local v="${1%s}"; [[ "$v" =~ ^[0-9]+$ ]] || { echo "bad duration: $1" >&2; exit 2; }; echo "$v"; }
if [[ -n "${BENCH_QUICK:-}" && "${BENCH_QUICK}" != 0 ]]; then
  DUR=$(secs "${BENCH_DURATION:-3}"); WARM=$(secs "${BENCH_WARMUP:-1}")
else
  DUR=$(secs "${BENCH_DURATION:-10}"); WARM=$(secs "${BENCH_WARMUP:-3}")
fi
CONNS="${BENCH_CONNS:-1 64 256}"
TARGETS="${BENCH_TARGETS:-direct nginx switchyard}"
SCENARIOS="${BENCH_SCENARIOS:-get post}"
IDLE_CONNS="${BENCH_IDLE_CONNS:-1000}"
MOCK_PORT="${BENCH_MOCK_PORT:-18000}"
NGINX_PORT="${BENCH_NGINX_PORT:-18081}"
SY_PORT="${BENCH_SY_PORT:-18080}"
SY_ADMIN_PORT="${BENCH_SY_ADMIN_PORT:-19901}"
SERVER_CPU="${BENCH_SERVER_CPU:-0}"
LOAD_CPU="${BENCH_LOAD_CPU:-1}"
if [[ "$(nproc)" -lt 2 ]]; then SERVER_CPU=0; LOAD_CPU=0; fi

log() { echo "[bench] $*" >&2; }
NOTES=()
note() { NOTES+=("$*"); log "note: $*"; }

# ---------------------------------------------------------------- tools
as_root() { if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
command -v taskset >/dev/null || missing+=(util-linux)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  as_root timeout 300 apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >&2
fi
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"

# ---------------------------------------------------------------- build
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchyard-target}"
MOCK_BIN="${MOCK_BIN:-$CARGO_TARGET_DIR/release/sy-mock-upstream}"
SY_BIN="${SWITCHYARD_BIN:-$CARGO_TARGET_DIR/release/switchyard}"
want() { [[ " $TARGETS " == *" $1 "* ]]; }
if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
  log "building sy-mock-upstream (release)"
  if ! (cd "$REPO" && timeout 3600 cargo build --release -p sy-testkit --bin sy-mock-upstream >&2); then
    [[ -x "$MOCK_BIN" ]] || { log "cannot build the mock upstream"; exit 1; }
    note "mock build failed; using the existing $MOCK_BIN"
  fi
  if want switchyard && [[ -d "$REPO/crates/switchyard" ]]; then
    log "building switchyard (release; slow the first time)"
    if ! (cd "$REPO" && timeout 3600 cargo build --release -p switchyard >&2); then
      note "switchyard release build failed; using an existing binary if there is one"
    fi
  fi
fi
[[ -x "$MOCK_BIN" ]] || { log "missing $MOCK_BIN"; exit 1; }

# ---------------------------------------------------------------- processes
TMP="$(mktemp -d /tmp/sy-bench.XXXXXX)"
PIDS=()
LAST_PID=""
stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" on the server core in its own session; sets LAST_PID.
start_server() {
  local logfile="$1"; shift
  setsid taskset -c "$SERVER_CPU" "$@" >"$logfile" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

CHAT_BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
# Waits up to $2 seconds for a real chat answer on port $1 while pid $3 lives.
wait_chat() {
  local port="$1" limit="$2" pid="$3" i
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if curl -fsS --max-time 2 -H 'content-type: application/json' -d "$CHAT_BODY" \
        "http://127.0.0.1:$port/v1/chat/completions" 2>/dev/null | grep -q '"chat.completion"'; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

upstream_count() {
  curl -fsS --max-time 5 "http://127.0.0.1:$MOCK_PORT/__stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'
}

# ---------------------------------------------------------------- measuring
RESULTS="$TMP/results.jsonl"
TARGET_INFO="$TMP/targets.jsonl"
: >"$RESULTS"; : >"$TARGET_INFO"

wrk_run() { # port script conns seconds -> wrk output
  BENCH_LUA_DIR="$BENCH_DIR" timeout $(($4 + 60)) taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$3" -d"$4s" --latency --timeout 30s -s "$BENCH_DIR/$2" "http://127.0.0.1:$1/"
}

# RSS of session $2 with $IDLE_CONNS idle keep-alive connections on port $1.
idle_rss() {
  local port="$1" sid="$2" fifo="$TMP/idle.in" out="$TMP/idle.out" pid i
  rm -f "$fifo"; mkfifo "$fifo"
  taskset -c "$LOAD_CPU" python3 "$BENCH_DIR/idle_conns.py" "$port" "$IDLE_CONNS" 60 <"$fifo" >"$out" 2>&1 &
  pid=$!
  exec 4>"$fifo"
  for ((i = 0; i < 300; i++)); do grep -q '^ready' "$out" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  local answered rss=0
  answered="$(sed -n 's/^ready //p' "$out")"
  if [[ -n "$answered" ]]; then
    sleep 1
    rss="$(python3 "$BENCH_DIR/proc.py" rss "$sid")"
  fi
  exec 4>&-
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "${rss} ${answered:-0}"
}

# Measures one started target: port, session id.
measure() {
  local target="$1" port="$2" sid="$3" base_rss idle scenario c out json t0 t1 u0 u1
  base_rss="$(python3 "$BENCH_DIR/proc.py" rss "$sid")"
  log "$target: $IDLE_CONNS idle connections"
  idle="$(idle_rss "$port" "$sid")"
  log "$target: warm-up ${WARM}s"
  wrk_run "$port" post.lua 64 "$WARM" >/dev/null
  for scenario in $SCENARIOS; do
    for c in $CONNS; do
      log "$target: $scenario, $c connections, ${DUR}s"
      t0="$(python3 "$BENCH_DIR/proc.py" ticks "$sid")"; u0="$(upstream_count)"
      out="$(wrk_run "$port" "$scenario.lua" "$c" "$DUR")" || true
      t1="$(python3 "$BENCH_DIR/proc.py" ticks "$sid")"; u1="$(upstream_count)"
      echo "$out" >>"$TMP/wrk-$target.txt"
      json="$(sed -n 's/^BENCH_JSON //p' <<<"$out")"
      [[ -n "$json" ]] || { note "$target $scenario c=$c: wrk gave no result"; continue; }
      printf '{"target":"%s","scenario":"%s","conns":%d,"ticks":%d,"upstream":%d,"wrk":%s}\n' \
        "$target" "$scenario" "$c" $((t1 - t0)) $((u1 - u0)) "$json" >>"$RESULTS"
    done
  done
  printf '{"target":"%s","rss_kib":%d,"idle_rss_kib":%d,"idle_answered":%d,"hwm_kib":%d}\n' \
    "$target" "$base_rss" "${idle% *}" "${idle#* }" "$(python3 "$BENCH_DIR/proc.py" hwm "$sid")" >>"$TARGET_INFO"
}

# ---------------------------------------------------------------- targets
for p in "$MOCK_PORT" "$NGINX_PORT" "$SY_PORT" "$SY_ADMIN_PORT"; do
  if port_busy "$p"; then log "port $p is already in use; stop whatever holds it"; exit 1; fi
done

log "starting mock upstream on :$MOCK_PORT (core $SERVER_CPU)"
start_server "$TMP/mock.log" "$MOCK_BIN" --port "$MOCK_PORT" --name mock
MOCK_PID="$LAST_PID"
wait_chat "$MOCK_PORT" 20 "$MOCK_PID" || { log "mock did not start"; cat "$TMP/mock.log" >&2; exit 1; }

if want direct; then measure direct "$MOCK_PORT" "$MOCK_PID"; fi

if want nginx; then
  mkdir -p "$TMP/nginx/tmp" "$TMP/nginx/logs"
  sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@MOCK_PORT@|$MOCK_PORT|g" \
    "$BENCH_DIR/nginx.conf.tmpl" >"$TMP/nginx/nginx.conf"
  log "starting nginx on :$NGINX_PORT"
  start_server "$TMP/nginx.log" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
  NGINX_PID="$LAST_PID"
  if wait_chat "$NGINX_PORT" 20 "$NGINX_PID"; then
    measure nginx "$NGINX_PORT" "$NGINX_PID"
  else
    note "nginx did not start: $(tail -n 3 "$TMP/nginx/error.log" "$TMP/nginx.log" 2>/dev/null | tr '\n' ' ')"
  fi
  stop_pid "$NGINX_PID"
fi

if want switchyard; then
  if [[ ! -x "$SY_BIN" ]]; then
    note "Switchyard skipped: no binary at $SY_BIN"
  else
    cat >"$TMP/switchyard.yaml" <<EOF
server: { workers: 1 }
listeners: [{ name: main, bind: "127.0.0.1:$SY_PORT" }]
admin: { bind: "127.0.0.1:$SY_ADMIN_PORT" }
access_log: { enabled: false }
upstreams: [{ name: mock, targets: [{ url: "http://127.0.0.1:$MOCK_PORT" }] }]
routes: [{ name: all, match: { path: { prefix: / } }, target: { upstream: mock } }]
EOF
    log "starting switchyard on :$SY_PORT"
    start_server "$TMP/switchyard.log" "$SY_BIN" serve --config "$TMP/switchyard.yaml"
    SY_PID="$LAST_PID"
    if wait_chat "$SY_PORT" 30 "$SY_PID"; then
      measure switchyard "$SY_PORT" "$SY_PID"
    else
      if kill -0 "$SY_PID" 2>/dev/null; then why="it did not answer a chat request within 30 s"; else why="it exited at start-up"; fi
      note "Switchyard skipped: $why; log tail: $(tail -n 3 "$TMP/switchyard.log" | tr '\n' ' ' | cut -c1-300)"
    fi
    stop_pid "$SY_PID"
  fi
fi

# ---------------------------------------------------------------- report
mkdir -p "$OUT"
cp "$RESULTS" "$OUT/results.jsonl"; cp "$TARGET_INFO" "$OUT/targets.jsonl"
cat "$TMP"/wrk-*.txt >"$OUT/wrk.txt" 2>/dev/null || true
{
  printf '{"duration_s":%d,"warmup_s":%d,"idle_conns":%d,"server_cpu":"%s","load_cpu":"%s",' \
    "$DUR" "$WARM" "$IDLE_CONNS" "$SERVER_CPU" "$LOAD_CPU"
  printf '"clk_tck":%d,"nginx":"%s","wrk":"%s","cpu":"%s","notes":[' \
    "$(python3 "$BENCH_DIR/proc.py" clk)" "$("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///')" \
    "$(wrk --version 2>&1 | head -n1 | awk '{print $2}')" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //; s/"/ /g') x $(nproc)"
  sep=""
  for n in "${NOTES[@]}"; do printf '%s"%s"' "$sep" "$(sed 's/["\\]/ /g' <<<"$n")"; sep=","; done
  printf ']}\n'
} >"$OUT/meta.json"
python3 "$BENCH_DIR/summarize.py" "$OUT" | tee "$OUT/results.md"
