"""Session fixtures: one mock upstream and one gateway for the whole run,
clients of the official SDKs pointed at it, and the capability probes that
turn tests on as gateway features land (the Anthropic Messages endpoint,
HTTP provider kinds).

The binaries are built by scripts/test; set SWITCHYARD_BIN and
SY_MOCK_UPSTREAM_BIN to test other builds.
"""

from __future__ import annotations

import atexit
import os
import signal

import httpx
import pytest

import harness
import sdk


def pytest_configure(config):
    # `timeout`, CI cancellation and the like send SIGTERM: turn it into
    # KeyboardInterrupt so fixture teardown still stops the processes.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    # Only loopback traffic: never route it through a proxy from the env.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def _kill_if_running(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("switchyard-e2e")


@pytest.fixture(scope="session")
def upstream(workdir):
    mock = harness.MockUpstream.start(workdir)
    atexit.register(_kill_if_running, mock.proc)
    yield mock
    mock.stop()


@pytest.fixture(scope="session")
def gateway(workdir, upstream):
    gw = harness.Gateway.start(workdir, upstream)
    atexit.register(_kill_if_running, gw.proc)
    yield gw
    status = gw.stop()
    assert status == 0, f"gateway exited with {status} after SIGTERM\n{gw.logs()}"


@pytest.fixture(scope="session")
def base_url(gateway) -> str:
    """The OpenAI SDK's base URL."""
    return f"{gateway.base_url}/v1"


@pytest.fixture(scope="session")
def client(base_url):
    with sdk.openai_client(base_url) as c:
        yield c


@pytest.fixture
async def aclient(base_url):
    async with sdk.async_openai_client(base_url) as c:
        yield c


@pytest.fixture(scope="session")
def raw(gateway):
    """Plain HTTP to the gateway, for what an SDK would refuse to send."""
    with httpx.Client(base_url=gateway.base_url, timeout=sdk.CLIENT_TIMEOUT_S) as c:
        yield c


# --- Anthropic Messages -------------------------------------------------------


@pytest.fixture(scope="session")
def anthropic_base_url(gateway, raw) -> str:
    """The Anthropic SDK's base URL (it appends /v1/messages). Skips the
    test when the gateway has no such endpoint yet: only the gateway's own
    "unknown URL" answer counts as absent, so an endpoint that exists but
    fails the probe still runs the tests and fails them loudly."""
    r = raw.post(
        "/v1/messages",
        headers={"x-api-key": "sk-ant-e2e-any-key", "anthropic-version": "2023-06-01"},
        json={"model": "mock-1", "max_tokens": 16, "messages": sdk.ask("probe")},
    )
    code = _openai_error_code(r)
    if r.status_code in (404, 405) and code in ("unknown_url", "method_not_allowed"):
        pytest.skip(f"POST /v1/messages is not served by this gateway build yet ({r.status_code} {code})")
    return gateway.base_url


def _openai_error_code(r: httpx.Response) -> str | None:
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


@pytest.fixture(scope="session")
def claude(anthropic_base_url):
    with sdk.anthropic_client(anthropic_base_url) as c:
        yield c


@pytest.fixture
async def aclaude(anthropic_base_url):
    async with sdk.async_anthropic_client(anthropic_base_url) as c:
        yield c


# --- HTTP providers routed to the mock upstream ----------------------------------


@pytest.fixture(scope="session")
def provider_status(gateway, raw) -> dict[str, str]:
    """Per upstream provider kind: empty when it works end to end, else why
    its tests are skipped (not a kind `switchyard validate` knows, or a kind
    whose adapter answers 501 provider_unsupported)."""
    status = {}
    for kind, refused in gateway.layout.accepted_kinds.items():
        if refused:
            status[kind] = f"`switchyard validate` does not accept provider kind {kind!r}: {refused[:200]}"
            continue
        r = raw.post(
            "/v1/chat/completions",
            json={"model": harness.upstream_model(kind), "messages": [{"role": "user", "content": "probe"}]},
        )
        if r.status_code == 501 and _openai_error_code(r) == "provider_unsupported":
            status[kind] = f"provider kind {kind!r} has no adapter in this build yet (501 provider_unsupported)"
        else:
            status[kind] = ""
    return status


@pytest.fixture(params=harness.UPSTREAM_KINDS)
def upstream_kind(request, provider_status) -> str:
    """Each HTTP provider kind in turn; skipped where it has not landed."""
    why = provider_status[request.param]
    if why:
        pytest.skip(why)
    return request.param
