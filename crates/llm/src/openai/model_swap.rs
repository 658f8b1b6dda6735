//! A client's own request bytes with another `model`: what an upstream that
//! speaks OpenAI's format is sent when the gateway changes nothing else.
//!
//! Why: decoding a request is needed to route, count and check it, but
//! encoding the decoded request again for an OpenAI-compatible upstream
//! only reproduced the client's bytes (~2.5k instructions for a short chat
//! request). Finding the one member to change (a walk over the body up to
//! it that builds nothing) and copying the rest around it costs a fraction.

use crate::json_scan::{self, ScanError};

/// `source`, a JSON object decoded strictly (its `model` member once: see
/// [`super::parse_chat_request_with_source`]), with the value of its
/// top-level `model` member replaced by `model`. The walk stops there: the
/// rest was checked by the decoder, and walking it cost as much as the
/// encoding this replaces. `None` when the member cannot be found as
/// written (a key spelled with escapes, a value that is not a string): the
/// caller encodes the decoded request instead.
pub fn with_model(source: &[u8], model: &str) -> Option<Vec<u8>> {
    /// Stops the walk once the member is found.
    const FOUND: ScanError = ScanError {
        what: "found",
        at: 0,
    };
    let mut value = None;
    let walked = json_scan::members_of(source, |m| {
        if source.get(m.key) == Some(b"model".as_slice()) {
            value = Some(m.value);
            return Err(FOUND);
        }
        Ok(())
    });
    let value = value.filter(|_| walked == Err(FOUND))?;
    let (head, rest) = (source.get(..value.start)?, source.get(value.end..)?);
    if source.get(value.start) != Some(&b'"') {
        return None;
    }
    let mut out = Vec::with_capacity(source.len() + model.len() + 2);
    out.extend_from_slice(head);
    serde_json::to_writer(&mut out, model).ok()?;
    out.extend_from_slice(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::with_model;

    fn swapped(source: &str, model: &str) -> Option<Value> {
        with_model(source.as_bytes(), model).map(|b| serde_json::from_slice(&b).unwrap())
    }

    /// The model is replaced wherever it stands among the members, and
    /// everything else (whitespace, numbers as written, unknown members,
    /// nested `model` keys) is the client's.
    #[test]
    fn only_the_top_level_model_changes() {
        let first = r#"{"model":"virtual","messages":[{"role":"user","content":"hi"}]}"#;
        assert_eq!(
            with_model(first.as_bytes(), "real").unwrap(),
            br#"{"model":"real","messages":[{"role":"user","content":"hi"}]}"#
        );
        let last = "{ \"messages\" : [{\"role\":\"user\",\"content\":\"{\\\"model\\\":1}\",\
                    \"model\":\"nested\"}], \"temperature\": 1,\n \"model\" : \"v\" }";
        assert_eq!(
            String::from_utf8(with_model(last.as_bytes(), "a\"b\\c ✓").unwrap()).unwrap(),
            "{ \"messages\" : [{\"role\":\"user\",\"content\":\"{\\\"model\\\":1}\",\
             \"model\":\"nested\"}], \"temperature\": 1,\n \"model\" : \"a\\\"b\\\\c ✓\" }"
        );
        assert_eq!(
            swapped(r#"{"x":{"model":"no"},"model":"yes","y":[]}"#, "m"),
            Some(json!({"x": {"model": "no"}, "model": "m", "y": []}))
        );
    }

    /// A repeated `model` (which the lenient pass reads as its last value)
    /// gives no source to swap in, so one member is never swapped alone;
    /// a strictly decoded body is its own source.
    #[test]
    fn only_a_strictly_decoded_body_is_a_source() {
        use crate::openai::parse_chat_request_with_source as parse;
        let repeated = br#"{"model":"a","messages":[{"role":"user","content":"x"}],"model":"b"}"#;
        let (request, source) = parse(repeated).unwrap();
        assert_eq!((request.model.as_str(), source), ("b", None));
        let once = br#"{"model":"a","messages":[{"role":"user","content":"x"}]}"#;
        assert_eq!(parse(once).unwrap().1, Some(once.as_slice()));
    }

    /// A member the scan cannot see as written is left to the encoder.
    #[test]
    fn a_model_not_written_plainly_is_not_swapped() {
        assert_eq!(swapped(r#"{"mod\u0065l":"v","messages":[]}"#, "m"), None);
        assert_eq!(swapped(r#"{"model":null,"messages":[]}"#, "m"), None);
        assert_eq!(swapped(r#"{"messages":[]}"#, "m"), None);
        assert_eq!(swapped(r#"["model"]"#, "m"), None);
    }
}
