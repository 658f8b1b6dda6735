//! The real `switchyard` binary: validate, schema, and serve with reloads by
//! SIGHUP and by file change, then a clean exit on SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn validate_names_file_line_column_key_and_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "routes:\n  - name: r\n    match: { path: { prefix: /a } }\n    target: { upstream: nowhere }\n  - name: s\n    target: { respond: { status: 999 } }\n",
    )
    .unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let file = path.display().to_string();
    assert!(
        err.contains(&format!("{file}:4:")),
        "missing line of the bad upstream:\n{err}"
    );
    assert!(err.contains("routes[0].target.upstream"), "{err}");
    assert!(err.contains("routes[1].target.respond.status"), "{err}");
    assert!(err.contains("2 error(s)"), "{err}");

    std::fs::write(&path, "listeners:\n  - name: main\n    bnd: 1.2.3.4:80\n").unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{file}:3:"))
            && err.contains("unknown field `bnd`")
            && err.contains("`bind`"),
        "{err}"
    );

    let ok = dir.path().join("ok.yaml");
    std::fs::write(&ok, "routes: []\n").unwrap();
    let out = bin().arg("validate").arg(&ok).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn schema_and_help() {
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["properties"]["routes"].is_object(), "{schema}");
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["validate", "--help"],
        &["schema", "--help"],
    ] {
        let out = bin().args(cmd).output().unwrap();
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("Usage"),
            "{cmd:?}"
        );
    }
}

async fn get_json(url: &str) -> Option<serde_json::Value> {
    let res = reqwest::Client::new().get(url).send().await.ok()?;
    res.json().await.ok()
}

async fn wait_generation(admin: &str, want: u64) -> bool {
    for _ in 0..300 {
        if let Some(v) = get_json(&format!("{admin}/readyz")).await
            && v["config_generation"] == want
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn serve_reloads_on_sighup_and_file_change_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gw.yaml");
    let (port, admin_port) = (free_port(), free_port());
    let cfg = |body: &str| {
        format!(
            "listeners: [{{ name: main, bind: \"127.0.0.1:{port}\" }}]\nadmin: {{ bind: \"127.0.0.1:{admin_port}\" }}\nroutes:\n  - name: r\n    match: {{ path: {{ exact: / }} }}\n    target: {{ respond: {{ body: \"{body}\" }} }}\n"
        )
    };
    std::fs::write(&path, cfg("one")).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--config"])
        .arg(&path)
        // The default store (`./data`) goes into the temp folder.
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let admin = format!("http://127.0.0.1:{admin_port}");
    let base = format!("http://127.0.0.1:{port}/");
    assert!(wait_generation(&admin, 1).await, "gateway did not start");
    let body = |url: String| async move { reqwest::get(url).await.unwrap().text().await.unwrap() };
    assert_eq!(body(base.clone()).await, "one");

    // A file change reloads by itself.
    std::fs::write(&path, cfg("two")).unwrap();
    assert!(
        wait_generation(&admin, 2).await,
        "file change did not reload"
    );
    assert_eq!(body(base.clone()).await, "two");

    // A broken file is rejected (the failure counter says the reload was
    // attempted); the running config keeps serving.
    std::fs::write(&path, "routes: [ { name: x } ]\n").unwrap();
    let failed = r#"switchyard_config_reloads_total{result="failure"} 1"#;
    let mut rejected = false;
    for _ in 0..300 {
        let metrics = body(format!("{admin}/metrics")).await;
        if metrics.contains(failed) {
            rejected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rejected, "the broken file was never reloaded and rejected");
    assert_eq!(body(base.clone()).await, "two");
    assert!(
        wait_generation(&admin, 2).await,
        "a rejected file must not change the generation"
    );

    // SIGHUP reloads too (the file is good again, written while watched,
    // so either trigger may win; both must end on generation 3 or 4).
    std::fs::write(&path, cfg("three")).unwrap();
    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut reloaded = false;
    for _ in 0..300 {
        if body(base.clone()).await == "three" {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reloaded);

    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    // The access log on stdout has one JSON line per request answered.
    let mut out = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 4, "{out}");
    assert!(
        lines
            .iter()
            .all(|l| l["route"] == "r" && l["status"] == 200)
    );
}

/// Docs nobody runs rot first: every YAML block in the README must load
/// (variables are given placeholder values).
#[test]
fn readme_yaml_examples_validate() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let mut blocks = 0;
    for (i, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let yaml = block.split("```").next().unwrap();
        let env = |name: &str| Some(format!("placeholder-value-for-{name}"));
        if let Err(e) = sy_config::load_str(yaml, &format!("README block {i}"), &env) {
            panic!("README YAML block {i} is invalid:\n{e}\n---\n{yaml}");
        }
        blocks += 1;
    }
    assert!(
        blocks >= 2,
        "expected the README's YAML examples, found {blocks}"
    );
}

#[tokio::test]
async fn migrate_and_rotate_secret_key_work_on_a_store() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    let out = bin().args(["migrate", "--store", &url]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrated"));

    // A provider credential stored under the old key.
    let b64 = |k: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
    let (old, new) = ([7u8; 32], [9u8; 32]);
    let store = sy_store::Store::open(&url)
        .await
        .unwrap()
        .with_secrets(sy_store::SecretBox::from_key_bytes(old));
    store
        .create_resource(
            &sy_store::Actor::bootstrap(),
            sy_store::NewResource {
                kind: sy_store::ResourceKind::Provider,
                name: "openai".into(),
                tenant_id: None,
                spec: serde_json::json!({"name": "openai", "kind": "openai"}),
                secret: Some("sk-upstream-secret".into()),
            },
        )
        .await
        .unwrap();
    store.close().await;

    let new_file = dir.path().join("new.key");
    std::fs::write(&new_file, b64(new)).unwrap();
    // Without the current key the command refuses, naming the variables.
    let out = bin()
        .args(["rotate-secret-key", "--store", &url, "--new-key-file"])
        .arg(&new_file)
        .env_remove(sy_store::SECRET_KEY_ENV)
        .env_remove(sy_store::SECRET_KEY_FILE_ENV)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(sy_store::SECRET_KEY_ENV));

    let out = bin()
        .args(["rotate-secret-key", "--store", &url, "--new-key-file"])
        .arg(&new_file)
        .env(sy_store::SECRET_KEY_ENV, b64(old))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-encrypted 1 secret"));

    // Only the new key opens it now; the stored text never holds it in clear.
    let reopened = sy_store::Store::open(&url).await.unwrap();
    let with_new = reopened
        .clone()
        .with_secrets(sy_store::SecretBox::from_key_bytes(new));
    assert_eq!(
        with_new.provider_secret("openai").await.unwrap().as_deref(),
        Some("sk-upstream-secret")
    );
    let with_old = reopened.with_secrets(sy_store::SecretBox::from_key_bytes(old));
    assert!(with_old.provider_secret("openai").await.is_err());
}
