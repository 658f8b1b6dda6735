//! Prompt-caching breakpoints (`cache_control`) reach the upstream that acts
//! on them, from either dialect: an upstream on loopback answers a fixed
//! message and hands the test the body it received.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_up","type":"message","role":"assistant","model":"real-model","content":[{"type":"text","text":"Reset it."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":2,"cache_creation_input_tokens":1200,"cache_read_input_tokens":0}}"#;

const OPENAI_ANSWER: &str = r#"{"id":"up","object":"chat.completion","created":1,"model":"real-model","choices":[{"index":0,"message":{"role":"assistant","content":"Reset it."},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

/// The deployment's model id: priced, so calls through Anthropic carry a
/// cost.
const CLAUDE: &str = "claude-sonnet-4-5";

const EPHEMERAL: fn() -> Value = || json!({"type": "ephemeral"});

/// `request` sent to `/v1/messages`: the answer (which must be a 200) and
/// the body the upstream received.
async fn messages(
    gw: &sy_ai::AiGateway,
    request: &Value,
    seen: &mut tokio::sync::mpsc::UnboundedReceiver<Value>,
) -> (http::HeaderMap, bytes::Bytes, Value) {
    let (status, headers, body) =
        call(gw, &[], Method::POST, "/v1/messages", &request.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    (headers, body, seen.recv().await.unwrap())
}

/// Anthropic SDK → gateway → Anthropic: the system prompt's and a message's
/// breakpoints arrive where the client put them, so the call still caches.
#[tokio::test]
async fn anthropic_clients_keep_their_breakpoints_at_anthropic() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let request = json!({
        "model": "m", "max_tokens": 64,
        "system": [
            {"type": "text", "text": "You answer questions about the manual."},
            {"type": "text", "text": "MANUAL: long text.", "cache_control": EPHEMERAL()}
        ],
        "cache_control": EPHEMERAL(),
        "tools": [{"name": "lookup", "description": "Look a page up",
                   "input_schema": {"type": "object", "properties": {"page": {"type": "integer"}}},
                   "cache_control": EPHEMERAL()}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Earlier turns.", "cache_control": EPHEMERAL()},
            {"type": "text", "text": "How do I reset it?"}
        ]}]
    });
    let (headers, body, sent) = messages(&gw, &request, &mut seen).await;
    assert_eq!(sent["system"], request["system"]);
    assert_eq!(sent["tools"], request["tools"]);
    assert_eq!(sent["cache_control"], EPHEMERAL(), "automatic caching");
    assert_eq!(
        sent["messages"][0]["content"],
        request["messages"][0]["content"]
    );
    let answer = json_of(&body);
    assert_eq!(answer["content"][0]["text"], "Reset it.");
    // The cache write is reported as Anthropic reports it, and billed at
    // 1.25× input: 3 × $3/M + 1,200 × $3.75/M + 2 × $15/M.
    assert_eq!(answer["usage"]["input_tokens"], 3);
    assert_eq!(answer["usage"]["cache_creation_input_tokens"], 1200);
    assert_eq!(
        answer["usage"]["cache_creation"],
        json!({"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 1200})
    );
    assert_eq!(header(&headers, "x-switchyard-cost-usd"), Some("0.004539"));
}

/// A client caching a screenshot marks the image: the breakpoint reaches
/// Anthropic on the image block, where the client put it.
#[tokio::test]
async fn an_images_breakpoint_reaches_anthropic_on_the_image() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let request = json!({
        "model": "m", "max_tokens": 64,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
             "cache_control": EPHEMERAL()},
            {"type": "text", "text": "What changed since this screenshot?"}
        ]}]
    });
    let (_, _, sent) = messages(&gw, &request, &mut seen).await;
    assert_eq!(
        sent["messages"][0]["content"],
        request["messages"][0]["content"]
    );
}

/// Anthropic SDK → gateway → Anthropic with documents: a PDF and a plain
/// text document reach Anthropic as the documents (and breakpoints) the
/// client sent, as they would calling Anthropic directly.
#[tokio::test]
async fn documents_reach_anthropic_with_their_breakpoints() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let request = json!({
        "model": "m", "max_tokens": 64,
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"},
             "cache_control": EPHEMERAL()},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Appendix."}},
            {"type": "text", "text": "Summarise the report."}
        ]}]
    });
    let (_, _, sent) = messages(&gw, &request, &mut seen).await;
    assert_eq!(
        sent["messages"][0]["content"][0],
        request["messages"][0]["content"][0]
    );
    // A text document travels as text (the canonical form has no text
    // document), which is what the model reads either way.
    assert_eq!(
        sent["messages"][0]["content"][1],
        json!({"type": "text", "text": "Appendix."})
    );
}

/// A Responses client's `input_file` reaches Anthropic as a document, as a
/// chat client's `file` part does.
#[tokio::test]
async fn a_responses_input_file_reaches_anthropic_as_a_document() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let request = json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_file", "filename": "r.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"},
        {"type": "input_text", "text": "Summarise the report."}
    ]}]});
    let (status, _, body) = call(
        &gw,
        &[],
        Method::POST,
        "/v1/responses",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let sent = seen.recv().await.unwrap();
    assert_eq!(
        sent["messages"][0]["content"][0],
        json!({"type": "document",
               "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}})
    );
}

/// A search result block, as a search tool answers.
fn search_block() -> Value {
    json!({"type": "search_result", "source": "https://example.com/kb", "title": "KB",
           "content": [{"type": "text", "text": "Hold the button."}]})
}

/// Blocks the gateway does not translate (a document by URL, a search
/// result) reach an Anthropic deployment as the client wrote them,
/// breakpoints included; a provider that cannot read them refuses the call
/// naming the part, before any upstream is called.
#[tokio::test]
async fn anthropic_blocks_the_gateway_does_not_translate_reach_anthropic_whole() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let by_url = json!({"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"},
                        "citations": {"enabled": true}, "cache_control": EPHEMERAL()});
    let search = search_block();
    let request = json!({
        "model": "m", "max_tokens": 64,
        "messages": [{"role": "user", "content": [by_url, search, {"type": "text", "text": "How?"}]}]
    });
    let (_, _, sent) = messages(&gw, &request, &mut seen).await;
    assert_eq!(
        sent["messages"][0]["content"],
        request["messages"][0]["content"]
    );

    // In a tool's result, where search tools answer with them.
    let in_result = json!({
        "model": "m", "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "How do I reset it?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "kb", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                          "content": [search_block()]}]}
        ]
    });
    let (_, _, sent) = messages(&gw, &in_result, &mut seen).await;
    assert_eq!(
        sent["messages"][2]["content"],
        in_result["messages"][2]["content"]
    );

    let (url, _seen) = capturing_server(OPENAI_ANSWER).await;
    let gw = gateway_on("gemini", &url, "gemini-2.0-flash");
    let (status, _, body) =
        call(&gw, &[], Method::POST, "/v1/messages", &request.to_string()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages[0].content[0].type"),
        "{body}"
    );
}

/// An agent marks its latest tool result: the breakpoint stays on the
/// `tool_result` block (Anthropic refuses one inside its content).
#[tokio::test]
async fn a_tool_results_breakpoint_stays_on_the_result() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let request = json!({
        "model": "m", "max_tokens": 64,
        "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "Look page 4 up."},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"page": 4}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Page 4: reset with the pin.",
                 "cache_control": EPHEMERAL()}
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_2", "name": "lookup", "input": {"page": 5}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_2", "cache_control": EPHEMERAL()}
            ]}
        ]
    });
    let (_, _, sent) = messages(&gw, &request, &mut seen).await;
    assert_eq!(
        sent["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                "content": [{"type": "text", "text": "Page 4: reset with the pin."}],
                "cache_control": EPHEMERAL()}])
    );
    // An empty result keeps its breakpoint too.
    assert_eq!(sent["messages"][4]["content"][0]["tool_use_id"], "toolu_2");
    assert_eq!(
        sent["messages"][4]["content"][0]["cache_control"],
        EPHEMERAL()
    );
}

/// OpenAI SDK → gateway → Anthropic: a text part's `cache_control` (the
/// form OpenRouter and LiteLLM accept) becomes the block's.
#[tokio::test]
async fn openai_clients_reach_anthropic_breakpoints() {
    let (url, mut seen) = capturing_server(ANTHROPIC_ANSWER).await;
    let gw = gateway_on("anthropic", &url, CLAUDE);
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": [
            {"role": "system", "content": [
                {"type": "text", "text": "MANUAL: long text.", "cache_control": EPHEMERAL()}
            ]},
            {"role": "user", "content": "How do I reset it?"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let sent = seen.recv().await.unwrap();
    assert_eq!(
        sent["system"],
        json!([{"type": "text", "text": "MANUAL: long text.", "cache_control": EPHEMERAL()}])
    );
    assert_eq!(
        sent["messages"],
        json!([{"role": "user", "content": "How do I reset it?"}])
    );
}

/// Anthropic SDK → gateway → an OpenAI-compatible server: the breakpoints
/// ride on text and image parts; to OpenAI itself they are left out (it
/// refuses them), with the text and the image intact.
#[tokio::test]
async fn breakpoints_reach_compatible_servers_and_not_openai() {
    let request = json!({
        "model": "m", "max_tokens": 64, "cache_control": EPHEMERAL(),
        "system": [{"type": "text", "text": "MANUAL: long text.", "cache_control": EPHEMERAL()}],
        "tools": [{"name": "lookup", "input_schema": {"type": "object"}, "cache_control": EPHEMERAL()}],
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": "https://example.com/panel.png"},
             "cache_control": EPHEMERAL()},
            {"type": "text", "text": "How do I reset it?"}
        ]}]
    });
    for (kind, kept) in [("openai_compatible", true), ("openai", false)] {
        let (url, mut seen) = capturing_server(OPENAI_ANSWER).await;
        let gw = gateway_on(kind, &url, CLAUDE);
        let (status, _, body) =
            call(&gw, &[], Method::POST, "/v1/messages", &request.to_string()).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{kind}: {}",
            String::from_utf8_lossy(&body)
        );
        let sent = seen.recv().await.unwrap();
        let mut part = json!({"type": "text", "text": "MANUAL: long text."});
        if kept {
            part["cache_control"] = EPHEMERAL();
        }
        assert_eq!(
            sent["messages"][0],
            json!({"role": "system", "content": [part]}),
            "{kind}"
        );
        let mut image =
            json!({"type": "image_url", "image_url": {"url": "https://example.com/panel.png"}});
        if kept {
            image["cache_control"] = EPHEMERAL();
        }
        assert_eq!(sent["messages"][1]["content"][0], image, "{kind}");
        assert_eq!(
            sent["tools"][0].get("cache_control").is_some(),
            kept,
            "{kind}: {}",
            sent["tools"]
        );
        assert_eq!(sent["tools"][0]["function"]["name"], "lookup", "{kind}");
        // Anthropic's automatic caching, asked at the top level.
        assert_eq!(sent.get("cache_control").is_some(), kept, "{kind}: {sent}");
    }
}

/// Anthropic SDK → gateway → Claude on Bedrock: an hour-long breakpoint
/// becomes an hour-long checkpoint, and the hour's writes that Bedrock
/// reports in `cacheDetails` are billed at twice the input price, the
/// five minutes' at 1.25 times.
#[tokio::test]
async fn bedrock_checkpoints_keep_their_lifetime_and_bill_it() {
    const ANSWER: &str = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Reset it."}]}},"stopReason":"end_turn","usage":{"inputTokens":4,"outputTokens":8,"totalTokens":12,"cacheReadInputTokens":0,"cacheWriteInputTokens":2800,"cacheDetails":[{"ttl":"1h","inputTokens":2000},{"ttl":"5m","inputTokens":800}]}}"#;
    let (url, mut seen) = capturing_server(ANSWER).await;
    let gw = gateway_on("bedrock", &url, "anthropic.claude-3-haiku-20240307-v1:0");
    let hour = json!({"type": "ephemeral", "ttl": "1h"});
    let request = json!({
        "model": "m", "max_tokens": 64,
        "system": [{"type": "text", "text": "MANUAL: long text.", "cache_control": hour}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Earlier turns.", "cache_control": EPHEMERAL()},
            {"type": "text", "text": "How do I reset it?"}
        ]}]
    });
    let (headers, body, sent) = messages(&gw, &request, &mut seen).await;
    assert_eq!(
        sent["system"],
        json!([{"text": "MANUAL: long text."}, {"cachePoint": {"type": "default", "ttl": "1h"}}])
    );
    assert_eq!(
        sent["messages"][0]["content"][1],
        json!({"cachePoint": {"type": "default"}})
    );
    let usage = &json_of(&body)["usage"];
    assert_eq!(usage["cache_creation_input_tokens"], 2800);
    // The split by lifetime, as Anthropic reports it.
    assert_eq!(
        usage["cache_creation"],
        json!({"ephemeral_1h_input_tokens": 2000, "ephemeral_5m_input_tokens": 800})
    );
    // $0.25/M input: 4 × 0.25 + 800 × 0.3125 + 2,000 × 0.50 + 8 × $1.25/M.
    assert_eq!(header(&headers, "x-switchyard-cost-usd"), Some("0.001261"));
}
