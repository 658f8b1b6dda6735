#!/usr/bin/env bash
# One-command benchmark: the mock upstream directly, nginx, Switchyard's
# proxy, Switchyard's AI gateway path (key auth, virtual model, token and cost
# accounting) and, opt-in, the peer gateways LiteLLM and Portkey in front of
# it: GET / and non-streaming POST /v1/chat/completions at several keep-alive
# concurrencies, streamed chat (time to first token, chunk pacing, 256
# concurrent streams) and Switchyard's RSS with 10,000 open idle streams.
# See bench/README.md for the method and the knobs.
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
QUICK=""
if [[ -n "${BENCH_QUICK:-}" && "${BENCH_QUICK}" != 0 ]]; then QUICK=1; fi
PEERS="${BENCH_PEERS:-$([[ -n "$QUICK" ]] && echo 0 || echo 1)}"
CONNS="${BENCH_CONNS:-1 64 256}"
PEER_CONNS="${BENCH_PEER_CONNS:-1 64}"
DEFAULT_TARGETS="direct nginx switchyard switchyard-ai"
if [[ "$PEERS" == 1 ]]; then DEFAULT_TARGETS+=" litellm portkey"; fi
TARGETS="${BENCH_TARGETS:-$DEFAULT_TARGETS}"
STREAM_SAMPLES="${BENCH_STREAM_SAMPLES:-$([[ -n "$QUICK" ]] && echo 20 || echo 50)}"
STREAM_CONNS="${BENCH_STREAM_CONNS:-256}"
IDLE_STREAMS="${BENCH_IDLE_STREAMS:-10000}"
SCENARIOS="${BENCH_SCENARIOS:-get post}"
IDLE_CONNS="${BENCH_IDLE_CONNS:-1000}"
MOCK_PORT="${BENCH_MOCK_PORT:-18000}"
NGINX_PORT="${BENCH_NGINX_PORT:-18081}"
SY_PORT="${BENCH_SY_PORT:-18080}"
SY_ADMIN_PORT="${BENCH_SY_ADMIN_PORT:-19901}"
MOCK_STREAM_PORT="${BENCH_MOCK_STREAM_PORT:-18001}"
MOCK_IDLE_PORT="${BENCH_MOCK_IDLE_PORT:-18002}"
NGINX_STREAM_PORT="${BENCH_NGINX_STREAM_PORT:-18083}"
SY_AI_PORT="${BENCH_SY_AI_PORT:-18082}"
SY_AI_ADMIN_PORT="${BENCH_SY_AI_ADMIN_PORT:-19902}"
LITELLM_PORT="${BENCH_LITELLM_PORT:-14000}"
PORTKEY_PORT="${BENCH_PORTKEY_PORT:-18787}"
PEERS_DIR="${BENCH_PEERS_DIR:-$HOME/.cache/sy-bench-peers}"
# Keys for the gateways under test; loopback-only, meaningless elsewhere.
SY_BENCH_KEY="sk-bench-switchyard-0123456789abcdef"
LITELLM_MASTER_KEY="sk-bench-litellm-0123456789abcdef"
export SY_BENCH_KEY
# shellcheck source=bench/configs.sh
source "$BENCH_DIR/configs.sh"
SERVER_CPU="${BENCH_SERVER_CPU:-0}"
LOAD_CPU="${BENCH_LOAD_CPU:-1}"
if [[ "$(nproc)" -lt 2 ]]; then SERVER_CPU=0; LOAD_CPU=0; fi

log() { echo "[bench] $*" >&2; }
NOTES=()
note() { NOTES+=("$*"); log "note: $*"; }

# ---------------------------------------------------------------- tools
install_missing wrk:wrk nginx:nginx-light curl:curl taskset:util-linux python3:python3
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
  if { want switchyard || want switchyard-ai; } && [[ -d "$REPO/crates/switchyard" ]]; then
    log "building switchyard (release; slow the first time)"
    if ! (cd "$REPO" && timeout 3600 cargo build --release -p switchyard >&2); then
      note "switchyard release build failed; using an existing binary if there is one"
    fi
  fi
fi
[[ -x "$MOCK_BIN" ]] || { log "missing $MOCK_BIN"; exit 1; }
LOAD_BEFORE="$(cut -d" " -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- processes
# 10,000 idle streams need two descriptors each in a proxy (client + upstream)
# and one in the mock and in the client: take the hard limit.
HARD_NOFILE="$(ulimit -Hn)"
[[ "$HARD_NOFILE" == unlimited ]] && HARD_NOFILE=1048576
ulimit -n "$HARD_NOFILE" 2>/dev/null || true
NOFILE="$(ulimit -n)"

TMP="$(mktemp -d /tmp/sy-bench.XXXXXX)"
LAST_PID=""
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

# Per-target request profile, set by `profile TARGET`:
#   T_PORT T_MODEL T_HDRS      non-streaming chat (headers "name: value|...")
#   T_SPORT T_SMODEL T_SHDRS   streamed chat (empty T_SPORT: not measured)
#   T_SCEN T_CONNS T_IDLE      wrk scenarios, concurrencies, 1,000-idle-conns figure
profile() {
  T_MODEL=gpt-4o-mini; T_HDRS=""; T_SMODEL=gpt-4o-mini; T_SHDRS=""
  T_SCEN="$SCENARIOS"; T_CONNS="$CONNS"; T_IDLE=1
  case "$1" in
  direct) T_PORT=$MOCK_PORT; T_SPORT=$MOCK_STREAM_PORT ;;
  nginx) T_PORT=$NGINX_PORT; T_SPORT=$NGINX_STREAM_PORT ;;
  switchyard) T_PORT=$SY_PORT; T_SPORT=$SY_PORT; T_SHDRS="x-bench-stream: 1" ;;
  switchyard-ai)
    T_PORT=$SY_AI_PORT; T_SPORT=$SY_AI_PORT; T_SCEN=post; T_IDLE=0
    T_MODEL=bench-model; T_SMODEL=bench-stream
    T_HDRS="authorization: Bearer $SY_BENCH_KEY"; T_SHDRS="$T_HDRS" ;;
  litellm)
    T_PORT=$LITELLM_PORT; T_SPORT=$LITELLM_PORT; T_SCEN=post; T_CONNS="$PEER_CONNS"; T_IDLE=0
    T_MODEL=bench-model; T_SMODEL=bench-stream
    T_HDRS="authorization: Bearer $LITELLM_MASTER_KEY"; T_SHDRS="$T_HDRS" ;;
  portkey)
    T_PORT=$PORTKEY_PORT; T_SPORT=$PORTKEY_PORT; T_SCEN=post; T_CONNS="$PEER_CONNS"; T_IDLE=0
    T_HDRS="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/v1|authorization: Bearer sk-mock"
    T_SHDRS="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$MOCK_STREAM_PORT/v1|authorization: Bearer sk-mock" ;;
  esac
}

# "a: 1|b: 2" -> curl -H arguments in the array HDR_ARGS ($2: flag, -H or --header)
hdr_args() {
  HDR_ARGS=()
  local pair
  IFS='|' read -ra pairs <<<"$1"
  for pair in "${pairs[@]}"; do [[ -n "$pair" ]] && HDR_ARGS+=("$2" "$pair"); done
  return 0
}

# Waits up to $2 seconds for a real chat answer on port $1 while pid $3 lives
# (model and headers from the current profile).
wait_chat() {
  hdr_args "$T_HDRS" -H
  chat_ready "$1" "$2" "$3" "$T_MODEL" "${HDR_ARGS[@]}"
}

upstream_count() {
  curl -fsS --max-time 5 "http://127.0.0.1:${1:-$MOCK_PORT}/__stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'
}

# Waits (at most 30 s) until the upstream on port $1 sees no new requests for
# 0.5 s: a slow gateway may still work through requests queued by the last run.
settle() {
  local port="${1:-$MOCK_PORT}" a b i
  a="$(upstream_count "$port")"
  for ((i = 0; i < 60; i++)); do
    sleep 0.5
    b="$(upstream_count "$port")"
    [[ "$a" == "$b" ]] && return 0
    a="$b"
  done
  note "upstream on :$port still busy 30 s after a run"
}

# ---------------------------------------------------------------- measuring
RESULTS="$TMP/results.jsonl"
TARGET_INFO="$TMP/targets.jsonl"
STREAMS="$TMP/streams.jsonl"
IDLE_INFO="$TMP/idle_streams.jsonl"
: >"$RESULTS"; : >"$TARGET_INFO"; : >"$STREAMS"; : >"$IDLE_INFO"

wrk_run() { # port script conns seconds [model] [headers] -> wrk output
  BENCH_LUA_DIR="$BENCH_DIR" BENCH_MODEL="${5:-gpt-4o-mini}" BENCH_HEADERS="${6:-}" \
    timeout $(($4 + 60)) taskset -c "$LOAD_CPU" \
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

# Streaming figures of a started target (current profile): TTFT and chunk
# pacing at one connection, then $STREAM_CONNS concurrent streams with wrk.
measure_stream() {
  local target="$1" sid="$2" out ttft t0 t1 u0 u1 json
  [[ "$target" == direct ]] && sid="$MOCK_STREAM_PID"
  hdr_args "$T_SHDRS" --header
  settle "$MOCK_STREAM_PORT"
  log "$target: streaming, time to first token ($STREAM_SAMPLES requests, 1 connection)"
  timeout 60 taskset -c "$LOAD_CPU" python3 "$BENCH_DIR/stream_client.py" ttft "$T_SPORT" 3 \
    --model "$T_SMODEL" "${HDR_ARGS[@]}" >/dev/null 2>&1 || true
  out="$(timeout $((STREAM_SAMPLES * 5 + 60)) taskset -c "$LOAD_CPU" python3 "$BENCH_DIR/stream_client.py" \
    ttft "$T_SPORT" "$STREAM_SAMPLES" --model "$T_SMODEL" "${HDR_ARGS[@]}" 2>&1)" || true
  ttft="$(sed -n 's/^BENCH_STREAM //p' <<<"$out")"
  [[ -n "$ttft" ]] || { note "$target: streaming client gave no result: $(tail -n 2 <<<"$out" | tr '\n' ' ' | cut -c1-200)"; ttft=null; }
  log "$target: $STREAM_CONNS concurrent streams, ${DUR}s"
  settle "$MOCK_STREAM_PORT"
  t0="$(python3 "$BENCH_DIR/proc.py" ticks "$sid")"; u0="$(upstream_count "$MOCK_STREAM_PORT")"
  out="$(wrk_run "$T_SPORT" stream.lua "$STREAM_CONNS" "$DUR" "$T_SMODEL" "$T_SHDRS")" || true
  t1="$(python3 "$BENCH_DIR/proc.py" ticks "$sid")"; u1="$(upstream_count "$MOCK_STREAM_PORT")"
  echo "$out" >>"$TMP/wrk-$target.txt"
  json="$(sed -n 's/^BENCH_JSON //p' <<<"$out")"
  [[ -n "$json" ]] || { note "$target streams c=$STREAM_CONNS: wrk gave no result"; json=null; }
  printf '{"target":"%s","ttft":%s,"conns":%d,"ticks":%d,"upstream":%d,"wrk":%s}\n' \
    "$target" "$ttft" "$STREAM_CONNS" $((t1 - t0)) $((u1 - u0)) "$json" >>"$STREAMS"
}

# Measures one started target: name, session id (profile already set).
measure() {
  local target="$1" sid="$2" port="$T_PORT" base_rss idle="0 0" scenario c out json t0 t1 u0 u1
  base_rss="$(python3 "$BENCH_DIR/proc.py" rss "$sid")"
  if [[ "$T_IDLE" == 1 ]]; then
    log "$target: $IDLE_CONNS idle connections"
    idle="$(idle_rss "$port" "$sid")"
  fi
  log "$target: warm-up ${WARM}s"
  wrk_run "$port" post.lua 64 "$WARM" "$T_MODEL" "$T_HDRS" >/dev/null || true
  for scenario in $T_SCEN; do
    for c in $T_CONNS; do
      log "$target: $scenario, $c connections, ${DUR}s"
      settle
      t0="$(python3 "$BENCH_DIR/proc.py" ticks "$sid")"; u0="$(upstream_count)"
      out="$(wrk_run "$port" "$scenario.lua" "$c" "$DUR" "$T_MODEL" "$T_HDRS")" || true
      t1="$(python3 "$BENCH_DIR/proc.py" ticks "$sid")"; u1="$(upstream_count)"
      echo "$out" >>"$TMP/wrk-$target.txt"
      json="$(sed -n 's/^BENCH_JSON //p' <<<"$out")"
      [[ -n "$json" ]] || { note "$target $scenario c=$c: wrk gave no result"; continue; }
      printf '{"target":"%s","scenario":"%s","conns":%d,"ticks":%d,"upstream":%d,"wrk":%s}\n' \
        "$target" "$scenario" "$c" $((t1 - t0)) $((u1 - u0)) "$json" >>"$RESULTS"
    done
  done
  if [[ -n "$T_SPORT" ]]; then measure_stream "$target" "$sid"; fi
  printf '{"target":"%s","rss_kib":%d,"idle_rss_kib":%d,"idle_answered":%d,"hwm_kib":%d,"version":"%s","check":"%s"}\n' \
    "$target" "$base_rss" "${idle% *}" "${idle#* }" "$(python3 "$BENCH_DIR/proc.py" hwm "$sid")" \
    "${T_VERSION:-}" "${T_CHECK:-}" >>"$TARGET_INFO"
  T_VERSION=""; T_CHECK=""
}

# RSS of session $2 with N open, idle streamed chat completions through port
# $1 (current profile, model $3). Each proxied stream holds two descriptors.
idle_streams() {
  local port="$1" sid="$2" model="$3" fifo="$TMP/streams.in" out="$TMP/streams.out" pid i n
  n="$IDLE_STREAMS"
  if ((n * 2 + 512 > NOFILE)); then
    n=$(((NOFILE - 512) / 2))
    note "idle streams: $IDLE_STREAMS asked, $n opened: the hard descriptor limit here is $NOFILE and a proxied stream holds two"
  fi
  local rss0 rss=0 hwm=0 mock_rss=0 ready="" t0 t1 fails
  rss0="$(python3 "$BENCH_DIR/proc.py" rss "$sid")"
  hdr_args "$T_SHDRS" --header
  rm -f "$fifo"; mkfifo "$fifo"
  log "idle streams: opening $n through :$port"
  t0=$(date +%s.%N)
  taskset -c "$LOAD_CPU" python3 "$BENCH_DIR/stream_client.py" idle "$port" "$n" --hold 120 --timeout 60 \
    --model "$model" "${HDR_ARGS[@]}" <"$fifo" >"$out" 2>&1 &
  pid=$!
  exec 4>"$fifo"
  for ((i = 0; i < 1200; i++)); do grep -q '^ready' "$out" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  t1=$(date +%s.%N)
  ready="$(sed -n 's/^ready //p' "$out")"
  if [[ -n "$ready" ]]; then
    sleep 2
    rss="$(python3 "$BENCH_DIR/proc.py" rss "$sid")"
    hwm="$(python3 "$BENCH_DIR/proc.py" hwm "$sid")"
    mock_rss="$(python3 "$BENCH_DIR/proc.py" rss "$MOCK_IDLE_PID")"
    fails="$(sed -n 's/^failures //p' "$out")"
    [[ -z "$fails" || "$fails" == "{}" ]] || note "idle streams not opened, by reason: $(tr -d '"' <<<"$fails")"
  else
    note "idle streams: the client did not report: $(tail -n 2 "$out" | tr '\n' ' ' | cut -c1-200)"
  fi
  exec 4>&-
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf '{"target":"%s","asked":%d,"tried":%d,"open":%d,"failed":%d,"open_s":%.1f,"rss_before_kib":%d,"rss_kib":%d,"hwm_kib":%d,"mock_rss_kib":%d,"nofile":%d}\n' \
    "$4" "$IDLE_STREAMS" "$n" "${ready% *}" "${ready#* }" "$(echo "$t1 - $t0" | bc 2>/dev/null || echo 0)" \
    "$rss0" "$rss" "$hwm" "$mock_rss" "$NOFILE" >>"$IDLE_INFO" 2>/dev/null || true
}

# Fails (with a note) when port $1 listens anywhere but loopback.
loopback_only() {
  if ss -Hltn "sport = :$1" 2>/dev/null | awk '{print $4}' | grep -qv '^127\.0\.0\.1:'; then
    note "$2 listened beyond loopback on :$1; stopped"
    return 1
  fi
}

skip_note() { # target pid logfile
  local why
  if kill -0 "$2" 2>/dev/null; then why="it did not answer a chat request in time"; else why="it exited at start-up"; fi
  note "$1 skipped: $why; log tail: $(tail -n 3 "$3" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
}

# ---------------------------------------------------------------- targets
ports=("$MOCK_PORT" "$MOCK_STREAM_PORT")
want nginx && ports+=("$NGINX_PORT" "$NGINX_STREAM_PORT")
want switchyard && ports+=("$SY_PORT" "$SY_ADMIN_PORT")
want switchyard-ai && ports+=("$SY_AI_PORT" "$SY_AI_ADMIN_PORT" "$MOCK_IDLE_PORT")
want litellm && ports+=("$LITELLM_PORT")
want portkey && ports+=("$PORTKEY_PORT")
for p in "${ports[@]}"; do
  if port_busy "$p"; then log "port $p is already in use; stop whatever holds it"; exit 1; fi
done

log "starting mock upstreams on :$MOCK_PORT and :$MOCK_STREAM_PORT (20 chunks, 5 ms apart) (core $SERVER_CPU)"
start_server "$TMP/mock.log" "$MOCK_BIN" --port "$MOCK_PORT" --name mock
MOCK_PID="$LAST_PID"
start_server "$TMP/mock-stream.log" "$MOCK_BIN" --port "$MOCK_STREAM_PORT" --name mock-stream \
  --chunks 20 --interval-ms 5
MOCK_STREAM_PID="$LAST_PID"
profile direct
wait_chat "$MOCK_PORT" 20 "$MOCK_PID" || { log "mock did not start"; cat "$TMP/mock.log" >&2; exit 1; }
wait_chat "$MOCK_STREAM_PORT" 20 "$MOCK_STREAM_PID" || { log "stream mock did not start"; cat "$TMP/mock-stream.log" >&2; exit 1; }

if want direct; then profile direct; measure direct "$MOCK_PID"; fi

if want nginx; then
  profile nginx
  mkdir -p "$TMP/nginx/tmp" "$TMP/nginx/logs"
  sed -e "s|@PREFIX@|$TMP/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@MOCK_PORT@|$MOCK_PORT|g" \
    -e "s|@STREAM_PORT@|$NGINX_STREAM_PORT|g" -e "s|@MOCK_STREAM_PORT@|$MOCK_STREAM_PORT|g" \
    "$BENCH_DIR/nginx.conf.tmpl" >"$TMP/nginx/nginx.conf"
  log "starting nginx on :$NGINX_PORT (streams :$NGINX_STREAM_PORT)"
  start_server "$TMP/nginx.log" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
  NGINX_PID="$LAST_PID"
  if wait_chat "$NGINX_PORT" 20 "$NGINX_PID"; then
    T_VERSION="$("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///')"
    measure nginx "$NGINX_PID"
  else
    note "nginx did not start: $(tail -n 3 "$TMP/nginx/error.log" "$TMP/nginx.log" 2>/dev/null | tr '\n' ' ')"
  fi
  stop_pid "$NGINX_PID"
fi

if want switchyard; then
  profile switchyard
  if [[ ! -x "$SY_BIN" ]]; then
    note "Switchyard skipped: no binary at $SY_BIN"
  else
    # Requests with x-bench-stream go to the paced stream mock (same proxy path).
    write_sy_config "$TMP/switchyard.yaml"
    log "starting switchyard (proxy) on :$SY_PORT"
    start_server "$TMP/switchyard.log" "$SY_BIN" serve --config "$TMP/switchyard.yaml"
    SY_PID="$LAST_PID"
    if wait_chat "$SY_PORT" 30 "$SY_PID"; then
      measure switchyard "$SY_PID"
    else
      skip_note Switchyard "$SY_PID" "$TMP/switchyard.log"
    fi
    stop_pid "$SY_PID"
  fi
fi

if want switchyard-ai; then
  profile switchyard-ai
  if [[ ! -x "$SY_BIN" ]]; then
    note "Switchyard AI path skipped: no binary at $SY_BIN"
  else
    start_server "$TMP/mock-idle.log" "$MOCK_BIN" --port "$MOCK_IDLE_PORT" --name mock-idle --interval-ms 60000
    MOCK_IDLE_PID="$LAST_PID"
    write_sy_ai_config "$TMP/switchyard-ai.yaml"
    log "starting switchyard (AI path) on :$SY_AI_PORT"
    start_server "$TMP/switchyard-ai.log" "$SY_BIN" serve --config "$TMP/switchyard-ai.yaml"
    SYAI_PID="$LAST_PID"
    if wait_chat "$SY_AI_PORT" 30 "$SYAI_PID"; then
      # A real answer with usage and a price, and no answer without the key.
      hdr_args "$T_HDRS" -H
      ans="$(curl -sS -i --max-time 5 -H 'content-type: application/json' "${HDR_ARGS[@]}" \
        -d '{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}' \
        "http://127.0.0.1:$SY_AI_PORT/v1/chat/completions" | tr -d '\r')"
      cost="$(sed -n 's/^x-switchyard-cost-usd: //Ip' <<<"$ans" | head -n1)"
      usage="$(tail -n1 <<<"$ans" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("usage",{}).get("total_tokens",""))' 2>/dev/null || true)"
      noauth="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'content-type: application/json' \
        -d '{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}' \
        "http://127.0.0.1:$SY_AI_PORT/v1/chat/completions")"
      T_CHECK="chat answer ok, total_tokens=${usage:-?}, x-switchyard-cost-usd=${cost:-missing}, without key: HTTP $noauth"
      [[ -n "$cost" ]] || note "switchyard-ai: no x-switchyard-cost-usd header on the answer"
      [[ "$noauth" == 401 ]] || note "switchyard-ai: a request without a key got HTTP $noauth, not 401"
      measure switchyard-ai "$SYAI_PID"
      if ((IDLE_STREAMS > 0)); then
        T_SHDRS="$T_HDRS"
        idle_streams "$SY_AI_PORT" "$SYAI_PID" bench-idle switchyard-ai
      fi
    else
      skip_note "Switchyard AI path" "$SYAI_PID" "$TMP/switchyard-ai.log"
    fi
    stop_pid "$SYAI_PID"
    stop_pid "$MOCK_IDLE_PID"
  fi
fi

if want litellm; then
  profile litellm
  log "litellm: installing if needed (first time ~70 s)"
  if ! timeout 1200 "$BENCH_DIR/install_peers.sh" litellm >"$TMP/litellm-install.log" 2>&1; then
    note "LiteLLM skipped: install failed: $(tail -n 2 "$TMP/litellm-install.log" | tr '\n' ' ' | cut -c1-200)"
  else
    cat >"$TMP/litellm.yaml" <<EOF
model_list:
  - model_name: bench-model
    litellm_params: { model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-mock }
  - model_name: bench-stream
    litellm_params: { model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$MOCK_STREAM_PORT/v1", api_key: sk-mock }
general_settings:
  master_key: $LITELLM_MASTER_KEY
router_settings:
  disable_cooldowns: true
EOF
    log "starting litellm on :$LITELLM_PORT"
    start_server "$TMP/litellm.log" env -u DATABASE_URL \
      LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOCAL_POLICY_TEMPLATES=True LITELLM_LOCAL_BLOG_POSTS=True \
      LITELLM_LOCAL_AUTOROUTER_PRESETS=True LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True \
      LITELLM_TELEMETRY=False LITELLM_MODE=PRODUCTION \
      "$PEERS_DIR/litellm/venv/bin/litellm" --config "$TMP/litellm.yaml" \
      --host 127.0.0.1 --port "$LITELLM_PORT" --num_workers 1
    LL_PID="$LAST_PID"
    if wait_chat "$LITELLM_PORT" 120 "$LL_PID" && loopback_only "$LITELLM_PORT" LiteLLM; then
      T_VERSION="$(cat "$PEERS_DIR/litellm/version" 2>/dev/null)"
      measure litellm "$LL_PID"
    else
      kill -0 "$LL_PID" 2>/dev/null && skip_note LiteLLM "$LL_PID" "$TMP/litellm.log"
    fi
    stop_pid "$LL_PID"
  fi
fi

if want portkey; then
  profile portkey
  log "portkey: installing if needed"
  if ! timeout 1200 "$BENCH_DIR/install_peers.sh" portkey >"$TMP/portkey-install.log" 2>&1; then
    note "Portkey skipped: install failed: $(tail -n 2 "$TMP/portkey-install.log" | tr '\n' ' ' | cut -c1-200)"
  else
    log "starting portkey on :$PORTKEY_PORT"
    start_server "$TMP/portkey.log" node --require "$PEERS_DIR/portkey/loopback.js" \
      "$PEERS_DIR/portkey/node_modules/@portkey-ai/gateway/build/start-server.js" \
      --port="$PORTKEY_PORT" --headless
    PK_PID="$LAST_PID"
    if wait_chat "$PORTKEY_PORT" 60 "$PK_PID" && loopback_only "$PORTKEY_PORT" Portkey; then
      T_VERSION="$(cat "$PEERS_DIR/portkey/version" 2>/dev/null) (Node $(node --version 2>/dev/null | tr -d v))"
      measure portkey "$PK_PID"
    else
      kill -0 "$PK_PID" 2>/dev/null && skip_note Portkey "$PK_PID" "$TMP/portkey.log"
    fi
    stop_pid "$PK_PID"
  fi
fi

# ---------------------------------------------------------------- report
mkdir -p "$OUT"
cp "$RESULTS" "$OUT/results.jsonl"; cp "$TARGET_INFO" "$OUT/targets.jsonl"
cp "$STREAMS" "$OUT/streams.jsonl"; cp "$IDLE_INFO" "$OUT/idle_streams.jsonl"
cat "$TMP"/wrk-*.txt >"$OUT/wrk.txt" 2>/dev/null || true
{
  printf '{"duration_s":%d,"warmup_s":%d,"idle_conns":%d,"server_cpu":"%s","load_cpu":"%s",' \
    "$DUR" "$WARM" "$IDLE_CONNS" "$SERVER_CPU" "$LOAD_CPU"
  printf '"stream_samples":%d,"stream_conns":%d,"load_before":"%s","load_after":"%s",' \
    "$STREAM_SAMPLES" "$STREAM_CONNS" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '"clk_tck":%d,"nginx":"%s","wrk":"%s","cpu":"%s","notes":[' \
    "$(python3 "$BENCH_DIR/proc.py" clk)" "$("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///')" \
    "$(wrk --version 2>&1 | head -n1 | awk '{print $2}')" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //; s/"/ /g') x $(nproc)"
  sep=""
  for n in "${NOTES[@]}"; do printf '%s"%s"' "$sep" "$(sed 's/["\\]/ /g' <<<"$n")"; sep=","; done
  printf ']}\n'
} >"$OUT/meta.json"
python3 "$BENCH_DIR/summarize.py" "$OUT" | tee "$OUT/results.md"
