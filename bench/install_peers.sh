#!/usr/bin/env bash
# Installs the peer gateways for run.sh (see /work/shared/BENCH-PEERS.md) under
# $BENCH_PEERS_DIR (default ~/.cache/sy-bench-peers). Idempotent: a finished
# install leaves a `.done` marker and is not repeated.
#
#   install_peers.sh litellm   LiteLLM proxy in its own virtualenv (~70 s)
#   install_peers.sh portkey   Portkey gateway 1.15.2 with @hono/node-server 1.13.5
#
# Exit status 0 when the peer is ready to run.
set -euo pipefail

PEERS_DIR="${BENCH_PEERS_DIR:-$HOME/.cache/sy-bench-peers}"
LITELLM_SPEC="${BENCH_LITELLM_SPEC:-litellm[proxy]}"
PORTKEY_VERSION="${BENCH_PORTKEY_VERSION:-1.15.2}"
mkdir -p "$PEERS_DIR"

case "${1:-}" in
litellm)
  dir="$PEERS_DIR/litellm"
  [[ -f "$dir/.done" && -x "$dir/venv/bin/litellm" ]] && exit 0
  if [[ ! -x "$dir/venv/bin/litellm" ]] || ! "$dir/venv/bin/pip" show litellm >/dev/null 2>&1; then
    rm -rf "$dir"; mkdir -p "$dir"
    timeout 120 python3 -m venv "$dir/venv"
    timeout 900 "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "$LITELLM_SPEC"
  fi
  "$dir/venv/bin/pip" show litellm 2>/dev/null | sed -n 's/^Version: //p' >"$dir/version"
  touch "$dir/.done"
  ;;
portkey)
  dir="$PEERS_DIR/portkey"
  [[ -f "$dir/.done" && -f "$dir/node_modules/@portkey-ai/gateway/build/start-server.js" ]] && exit 0
  rm -rf "$dir"; mkdir -p "$dir"
  # The gateway's range lets @hono/node-server resolve to 1.14+, which breaks
  # streaming (`TypeError: immutable`); pin it with an npm override.
  cat >"$dir/package.json" <<EOF
{
  "name": "sy-bench-portkey",
  "private": true,
  "dependencies": { "@portkey-ai/gateway": "$PORTKEY_VERSION" },
  "overrides": { "@hono/node-server": "1.13.5" }
}
EOF
  # The gateway listens on every interface and has no flag for that: this
  # preload makes a listen(port) without a host bind to loopback.
  cat >"$dir/loopback.js" <<'EOF'
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || /^[0-9]+$/.test(String(args[0]))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else if (args[1] === undefined || args[1] === null) args[1] = '127.0.0.1';
    else if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].path) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};
EOF
  (cd "$dir" && timeout 900 npm install --no-audit --no-fund --loglevel=error >/dev/null)
  [[ -f "$dir/node_modules/@portkey-ai/gateway/build/start-server.js" ]]
  node -e 'console.log(require(process.argv[1]).version)' \
    "$dir/node_modules/@portkey-ai/gateway/package.json" >"$dir/version"
  touch "$dir/.done"
  ;;
*)
  echo "usage: install_peers.sh litellm|portkey" >&2
  exit 2
  ;;
esac
