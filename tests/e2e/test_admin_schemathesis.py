"""The admin API against its own OpenAPI document, with schemathesis.

A gateway of its own (a store in this test's temp folder, the bootstrap
admin token from the environment) runs as a real process; a few entities
are seeded so lists answer real rows; then `st run` (the schemathesis CLI
from this virtualenv) generates requests for every operation from
`GET /admin/v1/openapi.json` (examples, coverage, fuzzing, and stateful
sequences following the document's links) and checks every answer. Any
finding fails the test, with schemathesis' report (and a curl command per
failure) in the assertion message.

Bounded and repeatable: deterministic generation (no example database)
and a cap on examples per operation; about 40 s on two cores. Knobs (env):
SY_SCHEMATHESIS_MAX_EXAMPLES, SY_SCHEMATHESIS_SEED, SY_SCHEMATHESIS_ARGS
(extra `st run` flags, split on spaces).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import harness

TOKEN = "schemathesis-bootstrap-token"
SECRET_KEY = base64.b64encode(bytes(range(32))).decode()
# Unset: deterministic generation (the same requests every run). Set: a
# random run from that seed, to explore beyond what CI sends.
SEED = os.environ.get("SY_SCHEMATHESIS_SEED", "")
MAX_EXAMPLES = int(os.environ.get("SY_SCHEMATHESIS_MAX_EXAMPLES", "25"))
# Every check whose verdict follows from the document alone. Left out:
# positive_data_acceptance (a schema-valid request may still be refused
# for reasons a schema cannot state: a stale If-Match is 412, a developer
# user needs a tenant_id, a name must be unique) and the checks that need
# a second identity (ignored_auth probes by dropping the token, which is
# kept; object_level_authorization needs two tenants' users).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
)
# The whole run, as a bound against hangs (it takes about a minute).
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    """A gateway with a store and the bootstrap token; its admin URL."""
    workdir = tmp_path_factory.mktemp("schemathesis")
    binary = harness.require_binary(harness.switchyard_bin())
    last_error = ""
    for _ in range(3):
        layout = harness.Layout(harness.free_port(), harness.free_port(), "", "")
        config = {
            "server": {"shutdown_grace": "2s"},
            "store": f"sqlite://{workdir}/store.db",
            "listeners": [{"name": "main", "bind": f"127.0.0.1:{layout.port}"}],
            "admin": {"bind": f"127.0.0.1:{layout.admin_port}"},
            "providers": [{"name": "mock", "kind": "mock"}],
            "models": [{"name": "mock-1", "deployments": [{"provider": "mock", "model": "mock-1"}]}],
            "routes": [{"name": "ai", "match": {"path": {"prefix": "/v1"}}, "target": {"ai": {}}}],
        }
        path = workdir / "gateway.yaml"
        path.write_text(json.dumps(config, indent=2))
        with open(workdir / "gateway.stdout", "wb") as out, open(workdir / "gateway.stderr", "wb") as err:
            proc = subprocess.Popen(
                [str(binary), "serve", "--config", str(path)],
                cwd=str(workdir),
                stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={
                    **os.environ,
                    "SWITCHYARD_ADMIN_TOKEN": TOKEN,
                    # Literal provider credentials are stored encrypted.
                    "SWITCHYARD_SECRET_KEY": SECRET_KEY,
                    "SWITCHYARD_LOG": os.environ.get("SWITCHYARD_LOG", "warn"),
                },
            )
        gateway = harness.Gateway(proc, layout, workdir)
        if gateway._wait_ready():
            break
        harness.stop_process(proc)
        last_error = gateway.logs()
        if "in use" not in last_error.lower():
            raise RuntimeError(f"the gateway did not become ready:\n{last_error}")
    else:
        raise RuntimeError(f"the gateway did not become ready:\n{last_error}")
    try:
        yield gateway
    finally:
        status = gateway.stop()
    assert status == 0, f"gateway exited with {status} after SIGTERM\n{gateway.logs()}"


def seed(admin_url: str) -> dict[str, str]:
    """Entities of every kind, so lists and reads answer real rows (with
    optional fields both set and unset)."""
    ids: dict[str, str] = {}
    with httpx.Client(
        base_url=f"{admin_url}/admin/v1",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    ) as c:
        def create(path: str, body: dict) -> dict:
            r = c.post(path, json=body)
            assert r.status_code == 201, f"seeding POST {path}: {r.status_code} {r.text}"
            return r.json()

        ids["tenant"] = create("/tenants", {
            "name": "seed-tenant", "display_name": "Seed",
            "limits": {"requests_per_minute": 600}, "metadata": {"team": "qa"},
        })["id"]
        create("/tenants", {"name": "seed-bare"})
        ids["consumer"] = create("/consumers", {"tenant_id": ids["tenant"], "name": "seed-app"})["id"]
        ids["product"] = create("/products", {
            "tenant_id": ids["tenant"], "name": "seed-product", "models": ["mock-1"],
            "requires_approval": True,
        })["id"]
        ids["subscription"] = create("/subscriptions", {
            "consumer_id": ids["consumer"], "product_id": ids["product"],
        })["id"]
        ids["key"] = create("/keys", {"consumer_id": ids["consumer"], "name": "seed-key"})["key"]["id"]
        ids["user"] = create("/users", {
            "username": "seed-dev", "password": "correct-horse-battery",
            "role": "developer", "tenant_id": ids["tenant"],
        })["id"]
        create("/users", {"username": "seed-admin", "password": "correct-horse-battery",
                          "role": "platform_admin"})
        create("/upstreams", {"name": "seed-upstream", "targets": [{"url": "http://127.0.0.1:9"}]})
        create("/providers", {"name": "seed-provider", "kind": "openai", "api_key": "sk-seed"})
        create("/models", {"name": "seed-model",
                           "deployments": [{"provider": "seed-provider", "model": "gpt-x"}]})
        create("/routes", {"name": "seed-route", "match": {"path": {"prefix": "/seed"}},
                           "target": {"upstream": "seed-upstream"}})
    return ids


def test_admin_api_conforms_to_its_openapi(admin, tmp_path):
    seed(admin.admin_url)
    report = tmp_path / "report"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run",
        f"{admin.admin_url}/admin/v1/openapi.json",
        "--header", f"Authorization: Bearer {TOKEN}",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(MAX_EXAMPLES),
        *(["--seed", SEED] if SEED else ["--generation-deterministic"]),
        # Two cores: one for the gateway, one for schemathesis.
        "--workers", "1",
        "--request-timeout", "10",
        "--no-color",
        "--report", "junit",
        "--report-dir", str(report),
        *os.environ.get("SY_SCHEMATHESIS_ARGS", "").split(),
    ]
    started = time.monotonic()
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            # Its cache folder (.schemathesis) lands here, not in the checkout.
            cwd=str(tmp_path),
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost", "SCHEMATHESIS_HOOKS": ""},
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT_S}s:\n{e.stdout}\n{e.stderr}")
    took = time.monotonic() - started
    text = out.stdout + out.stderr
    print(text[-3000:])
    print(f"schemathesis took {took:.0f}s")
    assert out.returncode == 0, (
        f"schemathesis found problems (exit {out.returncode}; JUnit report in {report}):\n"
        f"{text[-20000:]}\n{admin.logs()}"
    )
