//! The admin commands of the real `switchyard` binary against a gateway
//! started in-process: login, tenants in table and JSON output, consumers,
//! a key whose secret is printed once and then works on the data plane once
//! its subscription is approved, API errors and an unreachable admin URL.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sy_store::{Actor, NewUser, Role};
use tokio::io::AsyncWriteExt;

use crate::harness::TestGateway;

const CONFIG: &str = r#"
tenants:
  - name: acme
routes:
  - name: billing
    match: { path: { prefix: /billing } }
    policies: { key_auth: {} }
    target: { respond: { status: 200, body: billing } }
products:
  - name: payments
    routes: [billing]
    requires_approval: true
"#;

const PASSWORD: &str = "correct horse battery staple";

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "failed: {self:?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `switchyard <args>` with the admin URL and token in the
/// environment (as scripts set them), `stdin` piped in.
async fn sy(admin: &str, token: Option<&str>, args: &[&str], stdin: &str) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.args(args)
        .env("SWITCHYARD_ADMIN_URL", admin)
        .env_remove("SWITCHYARD_ADMIN_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(t) = token {
        cmd.env("SWITCHYARD_ADMIN_TOKEN", t);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the CLI hung")
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

async fn add_platform_admin(gw: &TestGateway, username: &str) {
    let store = gw.gw.as_ref().unwrap().control.as_ref().unwrap().store();
    store
        .create_user(
            &Actor::bootstrap(),
            NewUser {
                username: username.into(),
                password: PASSWORD.into(),
                role: Role::PlatformAdmin,
                tenant_id: None,
            },
        )
        .await
        .unwrap();
}

/// Once the data plane has applied every store change so far, `/billing`
/// with `key` must answer `status` with `needle`.
async fn eventually(gw: &TestGateway, key: &str, status: u16, needle: &str) {
    gw.after_sync_expect("/billing", key, status, needle).await;
}

/// The table's rows (header first), split on runs of spaces.
fn rows(table: &str) -> Vec<Vec<&str>> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

#[tokio::test]
async fn admin_cli_drives_the_api_and_the_data_plane() {
    let gw = TestGateway::start(CONFIG).await;
    let admin = gw.admin.clone();
    add_platform_admin(&gw, "root").await;

    // Without a token the API's 401 comes with a hint, exit code 1.
    let run = sy(&admin, None, &["tenants", "list"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("401 Unauthorized") && run.stderr.contains("switchyard login"),
        "{run:?}"
    );

    // login prints the token alone, for `export …=$(switchyard login …)`.
    let run = sy(
        &admin,
        None,
        &["login", "--username", "root", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    )
    .await
    .ok();
    let token = run.stdout.trim().to_owned();
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(token.len() >= 20 && !token.contains(' '), "{token}");
    let wrong = sy(
        &admin,
        None,
        &["login", "--username", "root", "--password-stdin"],
        "wrong password\n",
    )
    .await;
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("wrong password"), "{wrong:?}");
    let t = Some(token.as_str());

    // whoami: the session's user, role and tenant (none: platform admin).
    let run = sy(&admin, t, &["whoami"], "").await.ok();
    let table = rows(&run.stdout);
    assert_eq!(
        table[0],
        ["ID", "USERNAME", "ROLE", "TENANT"],
        "{}",
        run.stdout
    );
    assert_eq!(
        &table[1][1..],
        ["root", "platform_admin", "-"],
        "{}",
        run.stdout
    );
    let run = sy(&admin, t, &["whoami", "-o", "json"], "").await.ok();
    let me: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(me["user"]["username"], "root", "{me}");

    // tenants create: a one-row table.
    let run = sy(
        &admin,
        t,
        &[
            "tenants",
            "create",
            "--name",
            "globex",
            "--display-name",
            "Globex Corporation",
            "--limits-json",
            r#"{"requests_per_minute":600}"#,
        ],
        "",
    )
    .await
    .ok();
    let table = rows(&run.stdout);
    assert_eq!(table.len(), 2, "{}", run.stdout);
    assert_eq!(&table[0][..2], ["ID", "NAME"], "{}", run.stdout);
    assert_eq!(table[1][1], "globex", "{}", run.stdout);
    let globex_id = table[1][0].to_owned();

    // tenants list: aligned columns, one row per tenant.
    let run = sy(&admin, t, &["tenants", "list"], "").await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    let name_at = lines[0].find("NAME").unwrap();
    let created_at = lines[0].find("CREATED").unwrap();
    for line in &lines[1..] {
        let name = &line[name_at..];
        assert!(
            name.starts_with("acme ") || name.starts_with("globex "),
            "{}",
            run.stdout
        );
        assert!(line[created_at..].ends_with('Z'), "{}", run.stdout);
    }

    // … and as the API's JSON.
    let list = sy(&admin, t, &["tenants", "list", "-o", "json"], "")
        .await
        .ok()
        .json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "globex"], "{list}");
    assert!(list["next"].is_null(), "{list}");
    // Paging: one row per page, --all follows the cursors.
    let page = sy(
        &admin,
        t,
        &["tenants", "-o", "json", "list", "--limit", "1"],
        "",
    )
    .await
    .ok()
    .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert!(page["next"].is_string(), "{page}");
    let all = sy(
        &admin,
        t,
        &["tenants", "list", "--limit", "1", "--all", "-o", "json"],
        "",
    )
    .await
    .ok()
    .json();
    assert_eq!(all, list);
    // A name works where an id is expected.
    let got = sy(&admin, t, &["tenants", "get", "globex", "-o", "json"], "")
        .await
        .ok()
        .json();
    assert_eq!(got["id"], globex_id.as_str());
    assert_eq!(got["display_name"], "Globex Corporation");
    assert_eq!(got["limits"]["requests_per_minute"], 600);

    // The API's error: status and message on stderr, exit code 1.
    let dup = sy(&admin, t, &["tenants", "create", "--name", "globex"], "").await;
    assert_eq!(dup.code, 1, "{dup:?}");
    assert!(dup.stdout.is_empty(), "{dup:?}");
    assert!(
        dup.stderr.contains("409 Conflict") && dup.stderr.contains("\"globex\" already exists"),
        "{dup:?}"
    );
    // A stale --if-match: 412 with the version to retry with.
    let stale = sy(
        &admin,
        t,
        &[
            "tenants",
            "update",
            "globex",
            "--display-name",
            "G",
            "--if-match",
            "99",
        ],
        "",
    )
    .await;
    assert_eq!(stale.code, 1, "{stale:?}");
    assert!(
        stale.stderr.contains("412") && stale.stderr.contains("--if-match 1"),
        "{stale:?}"
    );
    let updated = sy(
        &admin,
        t,
        &[
            "tenants",
            "update",
            "globex",
            "--display-name",
            "G",
            "--if-match",
            "1",
            "-o",
            "json",
        ],
        "",
    )
    .await
    .ok()
    .json();
    assert_eq!(updated["display_name"], "G");
    assert_eq!(updated["version"], 2);

    // A consumer of acme (the tenant given by name), then a key for it.
    let consumer = sy(
        &admin,
        t,
        &[
            "consumers",
            "create",
            "--tenant",
            "acme",
            "--name",
            "shop",
            "-o",
            "json",
        ],
        "",
    )
    .await
    .ok()
    .json();
    assert_eq!(consumer["name"], "shop");
    let run = sy(
        &admin,
        t,
        &["keys", "create", "--consumer", "shop", "--name", "prod"],
        "",
    )
    .await
    .ok();
    let secret = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap_or_else(|| panic!("no secret line: {}", run.stdout))
        .to_owned();
    assert!(secret.starts_with("sk-sy-"), "{secret}");
    assert_eq!(run.stdout.matches(&secret).count(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("will not be shown again"),
        "{}",
        run.stdout
    );
    let key_row = rows(&run.stdout)[1].clone();
    let key_id = key_row[0].to_owned();
    assert_eq!(key_row[1], "prod");
    // Reads never show it again.
    let listed = sy(
        &admin,
        t,
        &["keys", "list", "--consumer", "shop", "-o", "json"],
        "",
    )
    .await
    .ok();
    assert!(listed.stdout.contains(&key_id) && !listed.stdout.contains(&secret));
    let got = sy(&admin, t, &["keys", "get", &key_id], "").await.ok();
    assert!(got.stdout.contains("active") && !got.stdout.contains(&secret));

    // The key authenticates, but the product wants an approved subscription.
    eventually(&gw, &secret, 403, "has none").await;
    let sub = sy(
        &admin,
        t,
        &[
            "subscriptions",
            "request",
            "--consumer",
            "shop",
            "--product",
            "payments",
            "-o",
            "json",
        ],
        "",
    )
    .await
    .ok()
    .json();
    assert_eq!(sub["state"], "pending", "{sub}");
    let sub_id = sub["id"].as_str().unwrap().to_owned();
    eventually(&gw, &secret, 403, "is pending").await;
    let pending = sy(&admin, t, &["subscriptions", "pending"], "").await.ok();
    let pending_rows = rows(&pending.stdout);
    assert_eq!(pending_rows.len(), 2, "{}", pending.stdout);
    assert_eq!(pending_rows[1][0], sub_id);
    assert!(pending_rows[1].contains(&"pending"), "{}", pending.stdout);
    let approved = sy(&admin, t, &["subscriptions", "approve", &sub_id], "")
        .await
        .ok();
    assert!(
        rows(&approved.stdout)[1].contains(&"approved"),
        "{}",
        approved.stdout
    );
    eventually(&gw, &secret, 200, "billing").await;

    // Approving twice is the API's 409.
    let again = sy(&admin, t, &["subscriptions", "approve", &sub_id], "").await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("409"), "{again:?}");

    // Revoking the key stops it.
    let revoked = sy(&admin, t, &["keys", "revoke", &key_id], "").await.ok();
    assert!(revoked.stdout.contains("revoked"), "{}", revoked.stdout);
    eventually(&gw, &secret, 401, "").await;

    // The audit log has every step.
    let audit = sy(&admin, t, &["audit", "list", "--all", "--limit", "2"], "")
        .await
        .ok();
    for needed in ["create", "approve", "revoke"] {
        assert!(
            rows(&audit.stdout)
                .iter()
                .any(|r| r.get(2) == Some(&needed)),
            "no `{needed}` in\n{}",
            audit.stdout
        );
    }

    // delete answers 204: a line in table output.
    let deleted = sy(&admin, t, &["tenants", "delete", "globex"], "")
        .await
        .ok();
    assert_eq!(deleted.stdout.trim(), format!("deleted tenant {globex_id}"));

    // logout ends the session: the same token is refused at once.
    let run = sy(&admin, t, &["logout"], "").await.ok();
    assert!(run.stdout.starts_with("logged out"), "{run:?}");
    let run = sy(&admin, t, &["whoami"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("401 Unauthorized"), "{run:?}");
    gw.shutdown().await;
}

#[tokio::test]
async fn admin_cli_reports_unreachable_urls_and_usage_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = sy(&url, Some("t"), &["tenants", "list"], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("cannot connect to the admin API at {url}")),
        "{run:?}"
    );
    assert!(run.stderr.contains("SWITCHYARD_ADMIN_URL"), "{run:?}");
    // The flag beats the environment.
    let run = sy(
        "http://127.0.0.1:1",
        Some("t"),
        &["keys", "list", "--admin-url", &url],
        "",
    )
    .await;
    assert!(run.stderr.contains(&url), "{run:?}");

    // Usage errors are clap's: exit code 2, before any request.
    for args in [
        &["tenants", "create"][..],
        &["tenants", "create", "--name", "a", "--limits-json", "{nope"],
        &["users", "create", "--username", "u", "--role", "king"],
        &["keys", "list", "--limit", "0"],
        &["subscriptions", "list", "--state", "maybe"],
        &["tenants", "list", "-o", "yaml"],
    ] {
        let run = sy(&url, Some("t"), args, "").await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }

    // Every command has help.
    for group in [
        "login",
        "whoami",
        "logout",
        "tenants",
        "users",
        "consumers",
        "keys",
        "products",
        "subscriptions",
        "audit",
    ] {
        let run = sy(&url, None, &[group, "--help"], "").await.ok();
        assert!(run.stdout.contains("--admin-url"), "{group}: {run:?}");
    }
    let run = sy(&url, None, &["keys", "create", "--help"], "").await.ok();
    assert!(run.stdout.contains("--limits-json") && run.stdout.contains("--body-file"));
}
