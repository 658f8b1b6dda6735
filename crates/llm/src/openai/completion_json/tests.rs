use serde_json::{Value, json};

use super::*;

/// An answer as an OpenAI-compatible server writes it, with members the
/// gateway does not model and number formatting serde would not keep.
const ANSWER: &str = r#"{"id":"chatcmpl-upstream","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Hi \u00e9","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],
  "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}},
  "service_tier":"default","system_fingerprint":"fp_1","x_provider":{"latency":1.50e2}}"#;

fn scan(text: &str) -> Result<ChatCompletionJson, serde_json::Error> {
    ChatCompletionJson::scan(Bytes::copy_from_slice(text.as_bytes()))
}

fn stamped(json: &ChatCompletionJson) -> String {
    String::from_utf8(json.stamped("chatcmpl-gw", 42, "public-model").to_vec()).unwrap()
}

#[test]
fn stamps_three_members_and_keeps_every_other_byte() {
    let json = scan(ANSWER).unwrap();
    assert_eq!(json.usage().map(|u| u.total_tokens), Some(12));
    let out = stamped(&json);
    // The other members, exactly as the provider wrote them.
    for kept in [
        r#""object":"chat.completion""#,
        r#""content":"Hi \u00e9""#,
        r#""annotations":[]"#,
        r#""usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}}"#,
        r#""service_tier":"default""#,
        r#""x_provider":{"latency":1.50e2}"#,
    ] {
        assert!(out.contains(kept), "{kept} missing from {out}");
    }
    let value: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["id"], "chatcmpl-gw");
    assert_eq!(value["created"], 42);
    assert_eq!(value["model"], "public-model");
    assert_eq!(value["choices"][0]["message"]["content"], "Hi é");
    // Member order is the provider's.
    assert!(out.starts_with(r#"{"id":"chatcmpl-gw","object":"#), "{out}");
    // Decoding the kept body gives what a full parse of the provider's does.
    let parsed = json.parse().unwrap();
    let direct: ChatResponse = serde_json::from_str(ANSWER).unwrap();
    assert_eq!(parsed, direct);
}

#[test]
fn missing_stamped_members_are_added_and_escaped_keys_recognised() {
    // No `id`, `created` written with an escape, `model` absent.
    let json = scan(r#"{"cr\u0065ated":1,"choices":[],"m\"x":true}"#).unwrap();
    let out = stamped(&json);
    let value: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        value,
        json!({"id": "chatcmpl-gw", "model": "public-model", "created": 42, "choices": [], "m\"x": true})
    );
    // The escaped key was recognised: its value replaced, not a second
    // `created` added.
    assert_eq!(
        out.matches("created").count() + out.matches("cr\\u0065ated").count(),
        1,
        "{out}"
    );
    // The gateway's values are escaped as JSON.
    let out = json.stamped("a\"b", 1, "m\\n");
    let value: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        (value["id"].as_str(), value["model"].as_str()),
        (Some("a\"b"), Some("m\\n"))
    );
}

#[test]
fn usage_is_normalised_only_when_it_needs_to_be() {
    // Compatible servers that leave `total_tokens` out or at zero.
    let json = scan(r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":0,"x":1}}"#).unwrap();
    assert_eq!(json.usage().map(|u| u.total_tokens), Some(7));
    let value: Value = serde_json::from_slice(&json.stamped("i", 1, "m")).unwrap();
    assert_eq!(value["usage"]["total_tokens"], 7);
    assert_eq!(value["usage"]["x"], 1, "unknown usage fields survive");
    // No usage at all, or null.
    assert!(scan(r#"{"choices":[]}"#).unwrap().usage().is_none());
    assert!(
        scan(r#"{"choices":[],"usage":null}"#)
            .unwrap()
            .usage()
            .is_none()
    );
}

#[test]
fn what_is_not_a_chat_completion_is_refused() {
    for bad in [
        "",
        "not json",
        "[]",
        r#"{"choices":[]} trailing"#,
        r#"{"choices":[]"#,
        r#"{"object":"chat.completion"}"#,
        r#"{"choices":{}}"#,
        r#"{"choices":[],"created":"yesterday"}"#,
        r#"{"choices":[],"created":-1}"#,
        r#"{"choices":[],"id":7}"#,
        r#"{"choices":[],"model":null}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":"many"}}"#,
        r#"{"choices":[{"index":0,}]}"#,
        r#"{"error":{"message":"overloaded"}}"#,
    ] {
        assert!(scan(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn whitespace_and_repeated_members_are_kept_in_place() {
    // Space around the object, a repeated `id` (both replaced: a client
    // reading either must see the gateway's), usage normalised in the
    // middle of the body.
    let text = " \n{ \"id\" : \"a\", \"choices\" : [ ] ,\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1,\"total_tokens\":0}, \"id\":\"b\" ,\"z\":[1, 2]} \n";
    let json = scan(text).unwrap();
    let out = stamped(&json);
    assert_eq!(
        out,
        " \n{\"created\":42,\"model\":\"public-model\", \"id\" : \"chatcmpl-gw\", \"choices\" : [ ] ,\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1,\"total_tokens\":3}, \"id\":\"chatcmpl-gw\" ,\"z\":[1, 2]} \n"
    );
}

#[test]
fn flat_usage_is_read_without_serde_and_as_serde_reads_it() {
    let flat = [
        r#"{"prompt_tokens":17,"completion_tokens":20,"total_tokens":37}"#,
        r#"{ "total_tokens" : 0 , "prompt_tokens":5,"completion_tokens":2 }"#,
        r#"{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1,"prompt_tokens_details":null,"completion_tokens_details":null}"#,
        // OpenAI's own answers.
        r#"{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{},"completion_tokens_details":{"audio_tokens":1}}"#,
    ];
    for text in flat {
        let fast = flat_usage(text.as_bytes());
        assert!(fast.is_some(), "{text} not read flat");
        assert_eq!(fast, serde_json::from_str::<Usage>(text).ok(), "{text}");
    }
    // Left to serde: details, extensions, a repeated or missing count,
    // a count that is not an unsigned integer.
    for text in [
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4.0}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":null}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":2}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"a":1,"a":2}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"c\u0061ched_tokens":1}}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":null,"prompt_tokens_details":null}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"completion_tokens_details":[]}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"x":1}"#,
        r#"{"prompt_tokens":9,"prompt_tokens":8,"completion_tokens":3,"total_tokens":12}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3}"#,
        r#"{"prompt_tokens":-1,"completion_tokens":3,"total_tokens":2}"#,
        r#"{"prompt_tokens":1.0,"completion_tokens":3,"total_tokens":4}"#,
        r#"{"prompt_tokens":"9","completion_tokens":3,"total_tokens":12}"#,
    ] {
        assert_eq!(flat_usage(text.as_bytes()), None, "{text}");
    }
    // Serde's verdict on the ones left to it, for the record: a repeated
    // member is an error, a null count is none.
    assert!(serde_json::from_str::<Usage>(r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":null,"prompt_tokens_details":null}"#).is_err());
    // Through the scan, the fallback keeps serde's verdict on each.
    let answer = |usage: &str| format!(r#"{{"choices":[],"usage":{usage}}}"#);
    assert_eq!(
        scan(&answer(r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}}"#))
            .unwrap()
            .usage()
            .unwrap()
            .to_tokens()
            .cached,
        4
    );
    for refused in [
        r#"{"prompt_tokens":9,"prompt_tokens":8,"completion_tokens":3,"total_tokens":12}"#,
        r#"{"prompt_tokens":9,"completion_tokens":3}"#,
        r#"{"prompt_tokens":-1,"completion_tokens":3,"total_tokens":2}"#,
    ] {
        assert!(scan(&answer(refused)).is_err(), "{refused}");
    }
}
