//! Writing events.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

use super::SseEvent;

/// The data of OpenAI's end-of-stream event.
pub const DONE_DATA: &str = "[DONE]";

/// OpenAI's end-of-stream event, encoded.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Encode one event. Multi-line data becomes several `data:` lines, as the
/// format requires; line breaks in `event` and `id` (which the format cannot
/// carry) are dropped so a value can never inject a field.
pub fn encode(event: &SseEvent) -> Bytes {
    let mut out = BytesMut::with_capacity(event.data.len() + 16);
    if let Some(kind) = &event.event {
        put_field(&mut out, "event", &single_line(kind));
    }
    if let Some(id) = &event.id {
        put_field(&mut out, "id", &single_line(id));
    }
    if let Some(retry) = event.retry {
        put_field(&mut out, "retry", &retry.to_string());
    }
    put_data(&mut out, &event.data);
    out.put_u8(b'\n');
    out.freeze()
}

/// Encode a `message` event carrying `data`.
pub fn encode_data(data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 8);
    put_data(&mut out, data);
    out.put_u8(b'\n');
    out.freeze()
}

/// Encode a `message` event carrying `value` as compact JSON (one line, as
/// JSON escapes line breaks inside strings).
pub fn encode_json<T: Serialize>(value: &T) -> Result<Bytes, serde_json::Error> {
    let json = serde_json::to_vec(value)?;
    let mut out = BytesMut::with_capacity(json.len() + 8);
    out.put_slice(b"data: ");
    out.put_slice(&json);
    out.put_slice(b"\n\n");
    Ok(out.freeze())
}

fn put_data(out: &mut BytesMut, data: &str) {
    for line in split_lines(data) {
        put_field(out, "data", line);
    }
}

fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

/// Lines of `data` split at `\r\n`, `\n` or `\r`; an empty string is one
/// empty line (so `data:` is still written and the event is dispatched).
fn split_lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(current)
            }
            Some(pos) => {
                let skip = if current[pos..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[pos + skip..]);
                Some(&current[..pos])
            }
        }
    })
}

fn single_line(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_event() {
        assert_eq!(&encode_data("{\"a\":1}")[..], b"data: {\"a\":1}\n\n");
        assert_eq!(&encode_data("")[..], b"data: \n\n");
        assert_eq!(
            &encode_data("a\nb\r\nc")[..],
            b"data: a\ndata: b\ndata: c\n\n"
        );
    }

    #[test]
    fn full_event_drops_injected_lines() {
        let ev = SseEvent {
            event: Some("ping\ndata: evil".into()),
            data: "x".into(),
            id: Some("7".into()),
            retry: Some(1000),
        };
        assert_eq!(
            &encode(&ev)[..],
            b"event: pingdata: evil\nid: 7\nretry: 1000\ndata: x\n\n"
        );
    }

    #[test]
    fn json_is_one_data_line() {
        let bytes = encode_json(&serde_json::json!({"t": "a\nb"})).unwrap();
        assert_eq!(&bytes[..], b"data: {\"t\":\"a\\nb\"}\n\n");
    }
}
