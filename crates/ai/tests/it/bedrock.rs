//! Bedrock through `AiGateway::handle`: the client speaks OpenAI, an
//! in-test loopback server speaks the Converse API (JSON answers) and
//! ConverseStream (binary AWS event-stream frames, built with the same
//! encoder as the adapter's unit tests), and records what it was sent,
//! signature headers included.

use std::sync::{Arc, Mutex};

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};
use sy_ai::AiGateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// The model id; its `:` must reach the server percent-encoded.
const MODEL_ID: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// One request as the server saw it.
struct Seen {
    /// Request line, as sent.
    line: String,
    /// Header names lower-cased, values as sent.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers: status, extra headers, body.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A server answering every request with `reply(request)`, one request
/// per connection.
async fn server(reply: fn(&Seen) -> Reply) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move { answer(socket, reply, seen).await });
        }
    });
    (format!("http://{addr}"), log)
}

async fn answer(mut socket: TcpStream, reply: fn(&Seen) -> Reply, log: Log) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let seen = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed early");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap().to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (name, value) = l.split_once(':').unwrap();
                (name.trim().to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        if buf.len() >= end + 4 + length {
            let body = serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap();
            break Seen {
                line,
                headers,
                body,
            };
        }
    };
    let reply = reply(&seen);
    log.lock().unwrap().push(seen);
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&reply.body).await.unwrap();
    socket.flush().await.unwrap();
}

/// One event-stream message: `:message-type` `event` (with `:event-type`)
/// or `exception` (with `:exception-type`), JSON payload.
fn frame(message_type: &str, kind: &str, payload: &Value) -> Vec<u8> {
    let type_header = if message_type == "exception" {
        ":exception-type"
    } else {
        ":event-type"
    };
    let message = Message::new(Bytes::from(payload.to_string()))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_owned().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).unwrap();
    out
}

/// Converse answers a whole JSON message; ConverseStream answers event
/// frames; a user turn saying `throttle` gets Bedrock's throttling error
/// (an HTTP 429 on Converse, an exception frame on ConverseStream).
fn bedrock_reply(seen: &Seen) -> Reply {
    let stream = seen.line.contains("/converse-stream ");
    let throttle = seen.body["messages"][0]["content"][0]["text"] == "throttle";
    if throttle && !stream {
        return Reply {
            status: 429,
            headers: vec![
                ("content-type", "application/json"),
                (
                    "x-amzn-errortype",
                    "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                ),
            ],
            body: json!({"message": "Too many requests, please wait before trying again."})
                .to_string()
                .into_bytes(),
        };
    }
    if throttle {
        return Reply {
            status: 200,
            headers: vec![("content-type", "application/vnd.amazon.eventstream")],
            body: frame(
                "exception",
                "throttlingException",
                &json!({"message": "Too many tokens, please wait."}),
            ),
        };
    }
    if stream {
        let frames = [
            frame("event", "messageStart", &json!({"role": "assistant"})),
            frame(
                "event",
                "contentBlockDelta",
                &json!({"contentBlockIndex": 0, "delta": {"text": "Bon"}}),
            ),
            frame(
                "event",
                "contentBlockDelta",
                &json!({"contentBlockIndex": 0, "delta": {"text": "jour"}}),
            ),
            frame(
                "event",
                "contentBlockStop",
                &json!({"contentBlockIndex": 0}),
            ),
            frame("event", "messageStop", &json!({"stopReason": "end_turn"})),
            frame(
                "event",
                "metadata",
                &json!({"usage": {"inputTokens": 7, "outputTokens": 2, "totalTokens": 9},
                        "metrics": {"latencyMs": 12}}),
            ),
        ];
        return Reply {
            status: 200,
            headers: vec![("content-type", "application/vnd.amazon.eventstream")],
            body: frames.concat(),
        };
    }
    Reply {
        status: 200,
        headers: vec![("content-type", "application/json")],
        body: json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "Bonjour."}]}},
            "stopReason": "max_tokens",
            "usage": {"inputTokens": 11, "outputTokens": 3, "totalTokens": 14},
            "metrics": {"latencyMs": 40}
        })
        .to_string()
        .into_bytes(),
    }
}

/// Model `m` on a `bedrock` provider at `base_url`, signing with AWS
/// credentials for `us-east-1`.
fn gateway(base_url: &str) -> AiGateway {
    let mut spec = sy_config::defaults().expect("defaults load");
    let providers = json!([{
        "name": "aws", "kind": "bedrock", "base_url": base_url, "region": "us-east-1",
        "aws": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
        "timeout": "5s"
    }]);
    let models = json!([{"name": "m", "deployments": [{"provider": "aws", "model": MODEL_ID}]}]);
    spec.providers
        .extend(serde_json::from_value::<Vec<sy_config::ProviderSpec>>(providers).unwrap());
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    AiGateway::compile(&spec).expect("gateway compiles")
}

/// The request was signed with SigV4 for Bedrock in `us-east-1`.
fn assert_signed(seen: &Seen) {
    let authorization = seen.header("authorization").unwrap_or_default();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authorization}"
    );
    assert!(
        authorization.contains("/us-east-1/bedrock/aws4_request, SignedHeaders="),
        "{authorization}"
    );
    assert!(authorization.contains("host;"), "{authorization}");
    assert!(authorization.contains(", Signature="), "{authorization}");
    let date = seen.header("x-amz-date").unwrap_or_default();
    assert_eq!(date.len(), 16, "{date}");
    assert!(date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");
}

#[tokio::test]
async fn converse_answers_come_back_openai_shaped() {
    let (url, log) = server(bedrock_reply).await;
    let gw = gateway(&url);
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello in French."}
        ], "max_tokens": 3, "temperature": 0.5, "top_p": 0.9, "stop": ["END"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let got = json_of(&body);
    assert_eq!(got["object"], "chat.completion");
    assert_eq!(got["model"], "m");
    assert_eq!(got["choices"][0]["message"]["role"], "assistant");
    assert_eq!(got["choices"][0]["message"]["content"], "Bonjour.");
    assert_eq!(got["choices"][0]["finish_reason"], "length");
    assert_eq!(got["usage"]["prompt_tokens"], 11);
    assert_eq!(got["usage"]["completion_tokens"], 3);
    assert_eq!(got["usage"]["total_tokens"], 14);

    let log = log.lock().unwrap();
    let seen = &log[0];
    assert_eq!(
        seen.line,
        "POST /model/anthropic.claude-3-haiku-20240307-v1%3A0/converse HTTP/1.1"
    );
    assert_signed(seen);
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(
        seen.body["messages"],
        json!([{"role": "user", "content": [{"text": "Say hello in French."}]}])
    );
    assert_eq!(
        seen.body["inferenceConfig"],
        json!({"maxTokens": 3, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]})
    );
    assert!(seen.body.get("model").is_none(), "the model is in the path");
}

#[tokio::test]
async fn converse_stream_frames_become_openai_chunks() {
    let (url, log) = server(bedrock_reply).await;
    let gw = gateway(&url);
    let request = json!({"model": "m", "messages": user("hi"), "stream": true,
                         "stream_options": {"include_usage": true}});
    let (status, headers, frames) = call_frames(
        &gw,
        &[],
        http::Method::POST,
        "/v1/chat/completions",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("text/event-stream"));
    let events = events(&frames);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "m");
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let deltas: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(deltas, ["Bon", "jour"]);
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 7);
    assert_eq!(usage["usage"]["completion_tokens"], 2);
    assert_eq!(usage["usage"]["total_tokens"], 9);

    let log = log.lock().unwrap();
    let seen = &log[0];
    assert_eq!(
        seen.line,
        "POST /model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream HTTP/1.1"
    );
    assert_eq!(
        seen.header("accept"),
        Some("application/vnd.amazon.eventstream")
    );
    assert_signed(seen);
    assert_eq!(
        seen.body["messages"],
        json!([{"role": "user", "content": [{"text": "hi"}]}])
    );
    assert!(seen.body.get("stream").is_none(), "the path says stream");
}

#[tokio::test]
async fn throttling_is_an_openai_429() {
    let (url, log) = server(bedrock_reply).await;
    let gw = gateway(&url);
    let (status, headers, body) =
        chat(&gw, json!({"model": "m", "messages": user("throttle")})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "Too many requests, please wait before trying again.",
                         "type": "rate_limit_error", "param": null, "code": "rate_limit_exceeded"}})
    );
    // The same exception as the first frame of a stream: still a status,
    // as no output was sent yet.
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("throttle"), "stream": true}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "Too many tokens, please wait.",
                         "type": "rate_limit_error", "param": null, "code": "rate_limit_exceeded"}})
    );
    let log = log.lock().unwrap();
    assert_eq!(
        log.len(),
        2,
        "a rate limit is not retried on the same deployment"
    );
    assert!(log[1].line.contains("/converse-stream "), "{}", log[1].line);
}
