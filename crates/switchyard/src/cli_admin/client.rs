//! The one request helper: sends a call to `<admin-url>/admin/v1<path>`
//! with the bearer token, and turns every failure into a message for
//! people: the API's error (status, message, failing fields), or what kept
//! the request from reaching the API at all.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use reqwest::header::IF_MATCH;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::resources::Resource;

/// Query parameters of one call.
pub type Query = Vec<(&'static str, String)>;

/// A client of one admin API.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    /// `--admin-url` without a trailing slash.
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client of the admin listener at `admin_url`, authenticating with
    /// `token` when given.
    pub fn new(admin_url: &str, token: Option<String>) -> anyhow::Result<Client> {
        let base = admin_url.trim().trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base)
            .with_context(|| format!("--admin-url {admin_url:?} is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("--admin-url {admin_url:?} must start with http:// or https://");
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("switchyard-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        Ok(Client { http, base, token })
    }

    /// Sends one call; `Ok(None)` for an answer without a body (204).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&'static str, String)],
        body: Option<&Value>,
        if_match: Option<i64>,
    ) -> anyhow::Result<Option<Value>> {
        let url = format!("{}/admin/v1{path}", self.base);
        let mut req = self.http.request(method.clone(), &url).query(query);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(v) = if_match {
            req = req.header(IF_MATCH, format!("\"{v}\""));
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            return Err(api_error(status, &bytes, self.token.is_some()));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&bytes).map(Some).with_context(|| {
            format!("{method} {url} answered {status} with a body that is not JSON")
        })
    }

    /// `GET` of a list: one page, or with `all` every page, merged into one
    /// `{"items": [...], "next": null}` answer (the API's page shape).
    pub async fn list(&self, path: &str, mut query: Query, all: bool) -> anyhow::Result<Value> {
        let mut items = Vec::new();
        loop {
            let page = self
                .send(Method::GET, path, &query, None, None)
                .await?
                .unwrap_or(Value::Null);
            if !all {
                return Ok(page);
            }
            let Value::Object(mut page) = page else {
                bail!("GET {path}: the answer is not a page of items");
            };
            if let Some(Value::Array(rows)) = page.remove("items") {
                items.extend(rows);
            }
            match page.remove("next") {
                Some(Value::String(next)) if !next.is_empty() => {
                    query.retain(|(k, _)| *k != "after");
                    query.push(("after", next));
                }
                _ => return Ok(json!({"items": items, "next": null})),
            }
        }
    }

    /// The id of the `resource` called `value`: `value` itself when it is
    /// an id (a UUID) or the resource has no names; otherwise the one row
    /// whose name is exactly `value`.
    pub async fn resolve(&self, resource: &Resource, value: &str) -> anyhow::Result<String> {
        if !resource.by_name || looks_like_id(value) {
            return Ok(value.to_owned());
        }
        let query = vec![("name", value.to_owned()), ("limit", "500".to_owned())];
        let page = self.list(resource.path, query, true).await?;
        let ids: Vec<&str> = page["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|row| row["name"] == value)
            .filter_map(|row| row["id"].as_str())
            .collect();
        match ids.as_slice() {
            [one] => Ok((*one).to_owned()),
            [] => bail!(
                "no {} named {value:?} (or you may not see it)",
                resource.noun
            ),
            many => bail!(
                "{} {}s are named {value:?}; give the id instead",
                many.len(),
                resource.noun
            ),
        }
    }

    /// A failure before any answer: names the URL, and for a refused or
    /// unresolvable connection says what to check.
    fn transport_error(&self, e: &reqwest::Error) -> anyhow::Error {
        let mut root: &dyn std::error::Error = e;
        while let Some(next) = root.source() {
            root = next;
        }
        if e.is_connect() {
            anyhow!(
                "cannot connect to the admin API at {}: {root}; is the gateway running \
                 there? (set --admin-url or SWITCHYARD_ADMIN_URL)",
                self.base
            )
        } else if e.is_timeout() {
            anyhow!("the admin API at {} did not answer in time", self.base)
        } else {
            anyhow!("calling the admin API at {} failed: {root}", self.base)
        }
    }
}

/// Whether `s` is shaped like the API's ids (hyphenated UUIDs).
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The API's error shape, `{"error":{"type","message","fields","current_version"}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    message: String,
    #[serde(default)]
    fields: Vec<FieldError>,
    #[serde(default)]
    current_version: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct FieldError {
    field: String,
    message: String,
}

/// The error for a non-2xx answer: `<status>: <message>`, every failing
/// field on a line of its own, and a hint where one helps.
fn api_error(status: StatusCode, body: &[u8], have_token: bool) -> anyhow::Error {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let mut msg = match &parsed {
        Some(b) => format!("{status}: {}", b.error.message),
        None => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(300).collect();
            if text.is_empty() {
                status.to_string()
            } else {
                format!("{status}: {text}")
            }
        }
    };
    if let Some(b) = &parsed {
        if b.error.fields.len() > 1 {
            for f in &b.error.fields {
                let field = if f.field.is_empty() {
                    "(body)"
                } else {
                    &f.field
                };
                msg.push_str(&format!("\n  {field}: {}", f.message));
            }
        }
        if let Some(v) = b.error.current_version {
            msg.push_str(&format!(" (retry with --if-match {v} after checking it)"));
        }
    }
    match status {
        StatusCode::UNAUTHORIZED if !have_token => msg.push_str(
            " (pass --token or set SWITCHYARD_ADMIN_TOKEN; `switchyard login` prints a session token)",
        ),
        StatusCode::UNAUTHORIZED => msg.push_str(
            " (the token is wrong or its session expired; log in again with `switchyard login`)",
        ),
        StatusCode::NOT_FOUND if parsed.as_ref().is_none_or(|b| b.error.kind.is_none()) => msg
            .push_str(
                " (no admin API there: is this the admin listener, and does the gateway have a store?)",
            ),
        _ => {}
    }
    anyhow!(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_told_from_names() {
        assert!(looks_like_id("0190b1c2-3d4e-7f00-8a9b-0c1d2e3f4a5b"));
        assert!(!looks_like_id("acme"));
        assert!(!looks_like_id("0190b1c2x3d4e-7f00-8a9b-0c1d2e3f4a5b"));
    }

    #[test]
    fn api_errors_carry_status_message_fields_and_hints() {
        let e = api_error(
            StatusCode::CONFLICT,
            br#"{"error":{"type":"conflict","message":"tenant name \"a\" is taken"}}"#,
            true,
        );
        assert_eq!(e.to_string(), "409 Conflict: tenant name \"a\" is taken");
        let e = api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":{"type":"validation_error","message":"2 fields are invalid",
                "fields":[{"field":"name","message":"bad"},{"field":"","message":"worse"}]}}"#,
            true,
        );
        assert_eq!(
            e.to_string(),
            "422 Unprocessable Entity: 2 fields are invalid\n  name: bad\n  (body): worse"
        );
        let e = api_error(
            StatusCode::PRECONDITION_FAILED,
            br#"{"error":{"type":"precondition_failed","message":"stale","current_version":4}}"#,
            true,
        );
        assert!(e.to_string().contains("--if-match 4"), "{e}");
        let e = api_error(StatusCode::UNAUTHORIZED, b"{}", false);
        assert!(e.to_string().contains("SWITCHYARD_ADMIN_TOKEN"), "{e}");
        let e = api_error(StatusCode::NOT_FOUND, b"not found", true);
        assert!(e.to_string().contains("store"), "{e}");
    }
}
