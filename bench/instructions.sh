#!/usr/bin/env bash
# User-space instructions per request, counted by valgrind's callgrind: the
# same figure for the same binary and load whatever else the machine is
# doing, unlike RPS and CPU time on a shared, noisy machine. For nginx (one
# worker), Switchyard's proxy and Switchyard's AI path in front of the same
# mock upstream, with the POST /v1/chat/completions of post.lua.
#
# Each server runs twice under callgrind, with a short and a long wrk load;
# instructions per request = (long total − short total) / (long requests −
# short requests), which cancels start-up (tiktoken's vocabulary, the admin
# API's schemas) and shutdown. Kernel time is not counted: this measures
# our own code, not the syscalls it makes (bench/run.sh measures those in
# CPU time per request).
#
# Knobs: BENCH_IR_CONNS (default 1), BENCH_IR_SHORT / BENCH_IR_LONG (wrk
# seconds, default 3 / 10), BENCH_IR_TARGETS (default "nginx switchyard
# switchyard-ai"), BENCH_SKIP_BUILD, BENCH_IR_KEEP (a directory: the
# callgrind outputs are copied there as TARGET.SECONDS, for
# `callgrind_annotate --inclusive=yes`). Every server is started with setsid and
# stopped by its PID; traffic goes to 127.0.0.1 only.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
CONNS="${BENCH_IR_CONNS:-1}"
SHORT="${BENCH_IR_SHORT:-3}"
LONG="${BENCH_IR_LONG:-10}"
TARGETS="${BENCH_IR_TARGETS:-nginx switchyard switchyard-ai}"
MOCK_PORT=18100 MOCK_STREAM_PORT=18101 MOCK_IDLE_PORT=18102 NGINX_PORT=18181
SY_PORT=18180 SY_ADMIN_PORT=19911 SY_AI_PORT=18182 SY_AI_ADMIN_PORT=19912
SY_BENCH_KEY="sk-bench-switchyard-0123456789abcdef"
export SY_BENCH_KEY
# shellcheck source=bench/configs.sh
source "$BENCH_DIR/configs.sh"
log() { echo "[instructions] $*" >&2; }

install_missing valgrind:valgrind wrk:wrk nginx:nginx-light curl:curl
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchyard-target}"
MOCK_BIN="$CARGO_TARGET_DIR/release/sy-mock-upstream"
SY_BIN="$CARGO_TARGET_DIR/release/switchyard"
if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
  log "building (release)"
  (cd "$REPO" && timeout 3600 cargo build --release -p switchyard -p sy-testkit \
    --bin switchyard --bin sy-mock-upstream >&2)
fi

TMP="$(mktemp -d /tmp/sy-instr.XXXXXX)"
# callgrind writes its totals as the program exits: stop with SIGINT (a
# graceful shutdown) and give it time.
STOP_SIGNAL=INT STOP_WAIT=300
trap cleanup EXIT
trap 'exit 130' INT TERM

setsid "$MOCK_BIN" --port "$MOCK_PORT" --name mock >"$TMP/mock.log" 2>&1 </dev/null &
PIDS+=("$!")
chat_ready "$MOCK_PORT" 20 "$!" gpt-4o-mini || { log "the mock did not start"; exit 1; }

mkdir -p "$TMP/nginx/tmp"
sed -e "s#@PREFIX@#$TMP/nginx#g" -e "s/@MOCK_PORT@/$MOCK_PORT/" -e "s/@PORT@/$NGINX_PORT/" \
  -e "s/@STREAM_PORT@/18183/" -e "s/@MOCK_STREAM_PORT@/$MOCK_STREAM_PORT/" \
  -e 's/master_process on;/master_process off;/' "$BENCH_DIR/nginx.conf.tmpl" >"$TMP/nginx/nginx.conf"
write_sy_config "$TMP/switchyard.yaml"
write_sy_ai_config "$TMP/switchyard-ai.yaml"
# Switchyard re-executes itself to set its allocator's options unless they
# are set; set them as it would, so callgrind follows the serving process.
export SWITCHYARD_ALLOCATOR_TUNED=1 MIMALLOC_PURGE_DELAY=10 MIMALLOC_ARENA_EAGER_COMMIT=0

# One callgrind run: "$1" seconds of load, then stop; sets RUN_REQS, RUN_IR.
run_once() {
  local secs="$1" port="$2" model="$3" auth="$4"; shift 4
  local out="$TMP/callgrind.$secs"
  rm -f "$out"
  setsid valgrind --tool=callgrind --vgdb=no --callgrind-out-file="$out" "$@" \
    >"$TMP/server.log" 2>&1 </dev/null &
  local pid=$!
  PIDS+=("$pid")
  # At most 120 s: programs start slowly under valgrind.
  chat_ready "$port" 120 "$pid" "$model" -H "authorization: $auth" || { log "server did not start: $*"; tail -n 5 "$TMP/server.log" >&2; exit 1; }
  local res
  res="$(BENCH_LUA_DIR="$BENCH_DIR" BENCH_MODEL="$model" BENCH_HEADERS="authorization: $auth" \
    timeout $((secs + 60)) wrk -t1 -c"$CONNS" -d"${secs}s" -s "$BENCH_DIR/post.lua" \
    "http://127.0.0.1:$port/v1/chat/completions" 2>&1)"
  RUN_REQS="$(grep -o '[0-9]* requests in' <<<"$res" | awk '{print $1}')"
  stop_pid "$pid"
  RUN_IR="$(awk '/^totals:/ {print $2; exit}' "$out")"
  if [[ -n "${BENCH_IR_KEEP:-}" ]]; then
    mkdir -p "$BENCH_IR_KEEP" && cp "$out" "$BENCH_IR_KEEP/$RUN_NAME.$secs"
  fi
  [[ -n "$RUN_REQS" && -n "$RUN_IR" ]] || { log "no figures from: $*"; exit 1; }
}

declare -A IR
measure() {
  local name="$1"; shift
  RUN_NAME="$name"
  log "$name: ${SHORT}s and ${LONG}s under callgrind"
  run_once "$SHORT" "$@"; local r1="$RUN_REQS" i1="$RUN_IR"
  run_once "$LONG" "$@"; local r2="$RUN_REQS" i2="$RUN_IR"
  ((r2 > r1)) || { log "$name: the long run served no more requests than the short"; exit 1; }
  IR[$name]=$(((i2 - i1) / (r2 - r1)))
  log "$name: $((r2 - r1)) requests, ${IR[$name]} instructions each"
}

for t in $TARGETS; do
  case "$t" in
  nginx) measure nginx "$NGINX_PORT" gpt-4o-mini none "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" ;;
  switchyard) measure switchyard "$SY_PORT" gpt-4o-mini none "$SY_BIN" serve --config "$TMP/switchyard.yaml" ;;
  switchyard-ai) measure switchyard-ai "$SY_AI_PORT" bench-model "Bearer $SY_BENCH_KEY" \
    "$SY_BIN" serve --config "$TMP/switchyard-ai.yaml" ;;
  *) log "unknown target $t"; exit 2 ;;
  esac
done

echo "| Target | Instructions per request (user space) | × nginx |"
echo "|---|---:|---:|"
for t in $TARGETS; do
  ratio="–"
  [[ -n "${IR[nginx]:-}" ]] && ratio="$(awk -v a="${IR[$t]}" -v b="${IR[nginx]}" 'BEGIN {printf "%.2f", a / b}')"
  echo "| $t | ${IR[$t]} | $ratio |"
done
echo
echo "$CONNS keep-alive connection(s), POST /v1/chat/completions (bench/post.lua); $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%d)."
