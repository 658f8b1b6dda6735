"""Processes under test: the gateway and the mock upstream, started from
already built binaries (scripts/test builds them; this module never does).

Everything here talks to 127.0.0.1 only. Waits are bounded polls on a
condition (a ready line, a 200 from /readyz, a process exit), never fixed
sleeps.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# How long a process gets to become ready or to exit after SIGTERM.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
# The gateway's drain period on SIGTERM; the suite's streams are short.
SHUTDOWN_GRACE = "5s"
# Content chunks per streamed answer from sy-mock-upstream: its completion is
# `t0 t1 … t{N-1} ` (one token and a space per chunk).
UPSTREAM_CHUNKS = 5
UPSTREAM_TEXT = "".join(f"t{i} " for i in range(UPSTREAM_CHUNKS))


def target_dir() -> Path:
    """Cargo's target directory, as scripts/test sets it."""
    default = Path.home() / ".cache" / "switchyard-target"
    return Path(os.environ.get("CARGO_TARGET_DIR", default))


def switchyard_bin() -> Path:
    return Path(os.environ.get("SWITCHYARD_BIN", target_dir() / "debug" / "switchyard"))


def mock_upstream_bin() -> Path:
    default = switchyard_bin().parent / "sy-mock-upstream"
    return Path(os.environ.get("SY_MOCK_UPSTREAM_BIN", default))


def require_binary(path: Path) -> Path:
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(
            f"{path} is not an executable file; build it first "
            "(cargo build -p switchyard -p sy-testkit --bins) or set "
            "SWITCHYARD_BIN / SY_MOCK_UPSTREAM_BIN"
        )
    return path


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1. Another process could
    take it before the gateway binds it; `Gateway.start` retries on that."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def stop_process(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM to `proc` by its PID, then wait; if it does not exit in time,
    SIGKILL its process group (its own: it was started in a new session)."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
        raise


# --- the mock upstream -------------------------------------------------------


@dataclass
class MockUpstream:
    """`sy-mock-upstream`: a separate process speaking OpenAI chat at
    `POST /v1/chat/completions`; `GET /__stats` counts requests served."""

    proc: subprocess.Popen
    addr: str

    @property
    def base_url(self) -> str:
        return f"http://{self.addr}"

    def requests_served(self) -> int:
        return httpx.get(f"{self.base_url}/__stats", timeout=5).json()["requests"]

    @classmethod
    def start(cls, workdir: Path) -> "MockUpstream":
        binary = require_binary(mock_upstream_bin())
        stderr = open(workdir / "mock-upstream.stderr", "wb")
        proc = subprocess.Popen(
            [str(binary), "--port", "0", "--name", "e2e-upstream",
             "--chunks", str(UPSTREAM_CHUNKS), "--threads", "2"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        stderr.close()
        # Port 0 lets the kernel pick; the one line on stdout says which:
        # `ready 127.0.0.1:PORT name=e2e-upstream`.
        line = _read_line(proc, START_TIMEOUT_S)
        if not line.startswith("ready "):
            stop_process(proc)
            raise RuntimeError(
                f"sy-mock-upstream did not report ready (got {line!r}):\n"
                + tail(workdir / "mock-upstream.stderr")
            )
        return cls(proc=proc, addr=line.split()[1])

    def stop(self) -> None:
        # The mock has no signal handler: SIGTERM ends it, and that is fine.
        stop_process(self.proc)
        if self.proc.stdout:
            self.proc.stdout.close()


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:  # EOF: the process exited
                break
            buf += chunk
    return buf.decode(errors="replace").strip()


# --- the gateway -------------------------------------------------------------

# Provider kinds that speak OpenAI Chat Completions, each routed to the mock
# upstream, with the path its `base_url` carries after host and port. A row
# is configured only when `switchyard validate` accepts its kind, so the
# suite runs on builds where the kind does not exist yet. Azure needs
# deployment paths sy-mock-upstream does not serve; Anthropic, which speaks
# Messages rather than Chat Completions, has its own provider below
# (ANTHROPIC_UPSTREAM_MODEL).
UPSTREAM_BASE_PATHS = {
    "openai_compatible": "/v1",
    "openai": "/v1",
    "mistral": "/v1",
    "ollama": "/v1",
}
UPSTREAM_KINDS = tuple(UPSTREAM_BASE_PATHS)
# Kinds whose real API puts usage on the last stream chunk unasked, so the
# gateway sends them no `stream_options`; sy-mock-upstream reports streamed
# usage only when asked, so through it the gateway closes these streams with
# its own estimate (token counts differ from the mock's chunk count).
STREAM_USAGE_ESTIMATED = {"mistral"}


# An Anthropic-kind provider on the mock upstream's `POST /v1/messages`
# (answers `Hello from the mock.`, usage with 2 cache-read tokens).
ANTHROPIC_UPSTREAM_MODEL = "upstream-anthropic"
ANTHROPIC_UPSTREAM_TEXT = "Hello from the mock."


def upstream_model(kind: str) -> str:
    return f"upstream-{kind}"


def down_model(kind: str) -> str:
    """A model whose provider points at a closed port."""
    return f"down-{kind}"


@dataclass
class Layout:
    """What the config declares; tests read names from here."""

    port: int
    admin_port: int
    upstream_url: str
    closed_url: str
    accepted_kinds: dict[str, str] = field(default_factory=dict)  # kind -> "" or why not


def _upstream_providers(kind: str, base_url: str, closed_url: str) -> tuple[list, list]:
    path = UPSTREAM_BASE_PATHS[kind]
    providers = [
        {"name": f"up-{kind}", "kind": kind, "base_url": f"{base_url}{path}", "api_key": "sk-e2e-test"},
        {"name": f"down-{kind}", "kind": kind, "base_url": f"{closed_url}{path}", "api_key": "sk-e2e-test"},
    ]
    models = [
        {"name": upstream_model(kind), "deployments": [{"provider": f"up-{kind}", "model": "upstream-model"}]},
        {"name": down_model(kind), "deployments": [{"provider": f"down-{kind}", "model": "upstream-model"}]},
    ]
    return providers, models


def build_config(layout: Layout, kinds: list[str]) -> dict:
    """The gateway config: JSON, which is also YAML."""
    providers = [
        {"name": "mock", "kind": "mock"},
        # Paced so that concurrent streams really overlap in time.
        {"name": "mock-paced", "kind": "mock", "mock": {"chunk_delay": "2ms"}},
    ]
    models = [
        {"name": "mock-1", "deployments": [{"provider": "mock", "model": "mock-1"}]},
        {"name": "mock-paced", "deployments": [{"provider": "mock-paced", "model": "mock-1"}]},
    ]
    providers.append(
        {"name": "up-anthropic", "kind": "anthropic", "base_url": f"{layout.upstream_url}/v1",
         "api_key": "sk-ant-e2e-test"}
    )
    models.append(
        {"name": ANTHROPIC_UPSTREAM_MODEL,
         "deployments": [{"provider": "up-anthropic", "model": "claude-sonnet-4-5"}]}
    )
    for kind in kinds:
        p, m = _upstream_providers(kind, layout.upstream_url, layout.closed_url)
        providers += p
        models += m
    return {
        "server": {"shutdown_grace": SHUTDOWN_GRACE},
        "listeners": [{"name": "main", "bind": f"127.0.0.1:{layout.port}"}],
        "admin": {"bind": f"127.0.0.1:{layout.admin_port}"},
        "providers": providers,
        "models": models,
        "routes": [
            # Only mock-1 is reachable under /scoped/v1.
            {
                "name": "ai-scoped",
                "match": {"path": {"prefix": "/scoped/v1"}},
                "rewrite": {"strip_prefix": "/scoped"},
                "target": {"ai": {"models": ["mock-1"]}},
            },
            {"name": "ai", "match": {"path": {"prefix": "/v1"}}, "target": {"ai": {}}},
        ],
    }


def validate(config: dict, path: Path) -> tuple[bool, str]:
    """Run `switchyard validate` on `config`; (ok, what it said)."""
    path.write_text(json.dumps(config, indent=2))
    out = subprocess.run(
        [str(require_binary(switchyard_bin())), "validate", str(path)],
        capture_output=True, text=True, timeout=START_TIMEOUT_S,
    )
    return out.returncode == 0, (out.stdout + out.stderr).strip()


@dataclass
class Gateway:
    proc: subprocess.Popen
    layout: Layout
    workdir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.admin_port}"

    def logs(self) -> str:
        return (
            "--- gateway stderr ---\n" + tail(self.workdir / "gateway.stderr")
            + "\n--- gateway stdout ---\n" + tail(self.workdir / "gateway.stdout", 10)
        )

    @classmethod
    def start(cls, workdir: Path, upstream: MockUpstream, attempts: int = 3) -> "Gateway":
        binary = require_binary(switchyard_bin())
        closed_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        base = Layout(free_port(), free_port(), upstream.base_url, closed_url)
        ok, said = validate(build_config(base, []), workdir / "validate-base.yaml")
        if not ok:
            raise RuntimeError(f"switchyard validate refused the suite's base config:\n{said}")
        accepted: dict[str, str] = {}
        for kind in UPSTREAM_KINDS:
            probe = Layout(free_port(), free_port(), upstream.base_url, closed_url)
            ok, said = validate(build_config(probe, [kind]), workdir / f"validate-{kind}.yaml")
            accepted[kind] = "" if ok else said
        kinds = [k for k, why in accepted.items() if not why]

        last_error = ""
        for _ in range(attempts):
            layout = Layout(free_port(), free_port(), upstream.base_url, closed_url, accepted)
            config = workdir / "gateway.yaml"
            config.write_text(json.dumps(build_config(layout, kinds), indent=2))
            with open(workdir / "gateway.stdout", "wb") as out, open(workdir / "gateway.stderr", "wb") as err:
                proc = subprocess.Popen(
                    [str(binary), "serve", "--config", str(config)],
                    # The default store (./data/switchyard.db) lands in the
                    # run's work folder, not in the checkout.
                    cwd=str(workdir),
                    stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    env={**os.environ, "SWITCHYARD_LOG": os.environ.get("SWITCHYARD_LOG", "warn")},
                )
            gateway = cls(proc, layout, workdir)
            if gateway._wait_ready():
                return gateway
            stop_process(proc)
            last_error = gateway.logs()
            # A port picked by free_port() may have been taken meanwhile:
            # only that is worth another attempt.
            if "in use" not in last_error.lower():
                break
        raise RuntimeError(f"the gateway did not become ready:\n{last_error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    if client.get(f"{self.admin_url}/readyz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                # Poll interval of a bounded readiness loop, not a sync sleep.
                time.sleep(0.02)
        return False

    def stop(self) -> int:
        """SIGTERM by PID; the exit status (0 is a clean drain)."""
        return stop_process(self.proc)
