# What run.sh and instructions.sh share: installing their tools, and
# Switchyard's configurations. The configurations read the ports, $TMP and
# $SY_BENCH_KEY (through the config's ${VAR} interpolation) from the sourcing
# script.

# Installs, with apt-get (through sudo unless root), the Debian package of
# each command that is missing. Args: "command:package" pairs; a command
# found under /usr/sbin counts as present (nginx).
install_missing() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || [[ -x "/usr/sbin/${pair%%:*}" ]] || missing+=("${pair#*:}")
  done
  ((${#missing[@]})) || return 0
  echo "[bench] installing ${missing[*]}" >&2
  local sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" timeout 300 apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >&2
}

# Process handling. Servers are started with setsid (their PID names their
# process group) and recorded in PIDS; STOP_SIGNAL and STOP_WAIT (tenths of
# a second before SIGKILL) say how they are stopped.
PIDS=()
STOP_SIGNAL="${STOP_SIGNAL:-TERM}"
STOP_WAIT="${STOP_WAIT:-50}"
stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$STOP_SIGNAL" -- "-$pid" 2>/dev/null || kill "-$STOP_SIGNAL" "$pid" 2>/dev/null || true
  for _ in $(seq "$STOP_WAIT"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# Stops every server and removes $TMP; installed as the EXIT trap.
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}

# Waits until port $1 answers a chat completion for model $4 (further
# arguments are extra curl arguments, such as -H 'authorization: ...'):
# at most $2 seconds, and only while process $3 lives. Polls every 0.1 s.
chat_ready() {
  local port="$1" limit="$2" pid="$3" model="$4" i
  shift 4
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if curl -fsS --max-time 5 -H 'content-type: application/json' "$@" \
        -d "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" \
        "http://127.0.0.1:$port/v1/chat/completions" 2>/dev/null | grep -q '"chat.completion"'; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# The proxy: every path to the mock; requests with x-bench-stream go to the
# paced stream mock (same proxy path). $1: the file to write.
write_sy_config() {
  cat >"$1" <<EOF
server: { workers: 1 }
listeners: [{ name: main, bind: "127.0.0.1:$SY_PORT" }]
admin: { bind: "127.0.0.1:$SY_ADMIN_PORT" }
access_log: { enabled: false }
store: "sqlite://$TMP/switchyard-store.db"
upstreams:
  - { name: mock, targets: [{ url: "http://127.0.0.1:$MOCK_PORT" }] }
  - { name: mock-stream, targets: [{ url: "http://127.0.0.1:$MOCK_STREAM_PORT" }] }
routes:
  - { name: all, match: { path: { prefix: / } }, target: { upstream: mock } }
  - name: stream
    priority: 10
    match: { path: { prefix: / }, headers: [{ name: x-bench-stream, present: true }] }
    target: { upstream: mock-stream }
EOF
}

# The AI path. $1: the file to write.
write_sy_ai_config() {
  # Key auth (store-backed), a product subscription, consumer and tenant
  # limits with reservation, virtual model names, openai_compatible
  # deployments with prices (token and cost accounting on every answer).
  cat >"$1" <<EOF
server: { workers: 1 }
listeners:
  - { name: main, bind: "127.0.0.1:$SY_AI_PORT", limits: { max_connections: 100000 } }
admin: { bind: "127.0.0.1:$SY_AI_ADMIN_PORT" }
access_log: { enabled: false }
# The whole control-plane path on every call: a store-backed key, a
# subscription check (the route is in a product), and limit accounting on
# the consumer and its tenant (limits far above what the run reaches).
store: "sqlite://$TMP/switchyard-ai-store.db"
tenants:
  - name: bench
    limits: { requests_per_minute: 1000000000, spend_per_month: 1000000 }
products:
  - { name: bench-product, routes: [ai] }
consumers:
  - name: bench
    tenant: bench
    subscriptions: [bench-product]
    limits: { requests_per_minute: 1000000000, tokens_per_minute: 100000000000, tokens_per_day: 100000000000, concurrent_requests: 1000000, spend_per_day: 1000000 }
    keys: [{ key: "\${SY_BENCH_KEY}" }]
providers:
  - { name: mock, kind: openai_compatible, base_url: "http://127.0.0.1:$MOCK_PORT/v1" }
  - { name: mock-stream, kind: openai_compatible, base_url: "http://127.0.0.1:$MOCK_STREAM_PORT/v1" }
  - { name: mock-idle, kind: openai_compatible, base_url: "http://127.0.0.1:$MOCK_IDLE_PORT/v1" }
models:
  - name: bench-model
    deployments:
      - { provider: mock, model: gpt-4o-mini, input_price_per_million: "0.15", output_price_per_million: "0.60" }
  - name: bench-stream
    deployments:
      - { provider: mock-stream, model: gpt-4o-mini, input_price_per_million: "0.15", output_price_per_million: "0.60" }
  - name: bench-idle
    deployments:
      - { provider: mock-idle, model: gpt-4o-mini, input_price_per_million: "0.15", output_price_per_million: "0.60" }
routes:
  - name: ai
    match: { path: { prefix: /v1 } }
    policies: { key_auth: { consumers: [bench] } }
    target: { ai: {} }
EOF
}
