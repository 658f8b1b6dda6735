//! [`ChatCompletionJson`]: a Chat Completions response served in the
//! provider's own bytes.
//!
//! When the client speaks OpenAI's dialect and the provider answers in it
//! too, decoding the whole answer into [`ChatResponse`] and encoding it
//! again only to change three fields was the largest single cost of a
//! non-streaming call after token counting. This type instead checks the
//! answer's frame, reads its `usage`, and writes the answer out again with
//! the gateway's `id`, `created` and `model` spliced in: every other member
//! goes out byte for byte, so fields the gateway does not model (a
//! provider's extensions, `service_tier`, exact number formatting) reach
//! the client unchanged.
//!
//! The check is the frame, not every field: the body must be one JSON
//! object with a `choices` array, an integer `created` and string `id` and
//! `model` when present, and a `usage` the gateway can read (or none).
//! Anything else is refused like an unreadable answer.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{ChatResponse, Usage};

/// A whole Chat Completions response body, kept as received.
#[derive(Debug, Clone)]
pub struct ChatCompletionJson {
    body: Bytes,
    /// Top-level members in order.
    members: Vec<Member>,
    /// `usage`, read and normalised (`total_tokens` recomputed).
    usage: Option<Usage>,
    /// `usage` must be written out again: normalising changed it.
    usage_changed: bool,
}

#[derive(Debug, Clone)]
struct Member {
    key: KeyText,
    /// The value's bytes in the body.
    value: Range<usize>,
}

#[derive(Debug, Clone)]
enum KeyText {
    /// The key's bytes between its quotes, which hold no escape: the text
    /// itself (the common case; nothing allocated).
    Plain(Range<usize>),
    /// A key written with escapes, decoded.
    Decoded(Box<str>),
}

/// Members the gateway sets.
const STAMPED: [&[u8]; 3] = [b"id", b"created", b"model"];

impl ChatCompletionJson {
    /// Check `body`'s frame (see the module docs) and index its members.
    pub fn scan(body: Bytes) -> Result<ChatCompletionJson, serde_json::Error> {
        let members = {
            let mut de = serde_json::Deserializer::from_slice(&body);
            let members = Members { base: &body }.deserialize(&mut de)?;
            de.end()?;
            members
        };
        let mut json = ChatCompletionJson {
            body,
            members,
            usage: None,
            usage_changed: false,
        };
        let mut choices = false;
        for m in &json.members {
            let value = json.body.get(m.value.clone()).unwrap_or_default();
            match json.key(m) {
                b"usage" => {
                    let mut read: Option<Usage> = serde_json::from_slice(value)?;
                    if let Some(u) = read.as_mut() {
                        let total = u.total_tokens;
                        u.normalize();
                        json.usage_changed = u.total_tokens != total;
                    }
                    json.usage = read;
                }
                b"choices" => choices = value.first() == Some(&b'['),
                b"created" if serde_json::from_slice::<u64>(value).is_err() => {
                    return Err(de::Error::custom("`created` is not an integer"));
                }
                key @ (b"id" | b"model") if value.first() != Some(&b'"') => {
                    let key = String::from_utf8_lossy(key);
                    return Err(de::Error::custom(format!("`{key}` is not a string")));
                }
                _ => {}
            }
        }
        if !choices {
            return Err(de::Error::custom("no `choices` array"));
        }
        Ok(json)
    }

    /// The provider's token counts, normalised.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The body with `id`, `created` and `model` replaced (added first when
    /// the provider left them out) and `usage` normalised; every other
    /// member as the provider wrote it.
    pub fn stamped(&self, id: &str, created: u64, model: &str) -> Bytes {
        let mut out = BytesMut::with_capacity(self.body.len() + id.len() + model.len() + 48);
        let stamp = |out: &mut BytesMut, key: &[u8]| match key {
            b"id" => put_json(out, id),
            b"model" => put_json(out, model),
            _ => put_json(out, &created),
        };
        out.put_u8(b'{');
        for key in STAMPED {
            if !self.members.iter().any(|m| self.key(m) == key) {
                if out.len() > 1 {
                    out.put_u8(b',');
                }
                out.put_u8(b'"');
                out.extend_from_slice(key);
                out.extend_from_slice(b"\":");
                stamp(&mut out, key);
            }
        }
        for m in &self.members {
            if out.len() > 1 {
                out.put_u8(b',');
            }
            match &m.key {
                KeyText::Plain(range) => {
                    out.put_u8(b'"');
                    out.extend_from_slice(self.body.get(range.clone()).unwrap_or_default());
                    out.put_u8(b'"');
                }
                KeyText::Decoded(key) => put_json(&mut out, key),
            }
            out.put_u8(b':');
            let key = self.key(m);
            let raw = self.body.get(m.value.clone()).unwrap_or_default();
            if STAMPED.contains(&key) {
                stamp(&mut out, key);
            } else if key == b"usage" && self.usage_changed {
                match serde_json::to_vec(&self.usage) {
                    Ok(usage) => out.extend_from_slice(&usage),
                    Err(_) => out.extend_from_slice(raw),
                }
            } else {
                out.extend_from_slice(raw);
            }
        }
        out.put_u8(b'}');
        out.freeze()
    }

    /// The whole answer decoded, for what needs its content (other
    /// dialects, estimates when the provider reported no usage).
    pub fn parse(&self) -> Result<ChatResponse, serde_json::Error> {
        ChatResponse::from_openai_json(&self.body)
    }

    fn key<'s>(&'s self, m: &'s Member) -> &'s [u8] {
        match &m.key {
            KeyText::Plain(range) => self.body.get(range.clone()).unwrap_or_default(),
            KeyText::Decoded(key) => key.as_bytes(),
        }
    }
}

/// `value` as JSON (strings escaped); writing to a growable buffer of
/// strings and integers cannot fail.
fn put_json<T: serde::Serialize + ?Sized>(out: &mut BytesMut, value: &T) {
    let _ = serde_json::to_writer(out.writer(), value);
}

/// Reads a top-level object as members without decoding the values (each
/// is only checked to be well-formed JSON).
struct Members<'b> {
    base: &'b [u8],
}

impl Members<'_> {
    /// Where `text`, a slice of the body being read, lies in it.
    fn range<E: de::Error>(&self, text: &str) -> Result<Range<usize>, E> {
        (text.as_ptr() as usize)
            .checked_sub(self.base.as_ptr() as usize)
            .filter(|start| start + text.len() <= self.base.len())
            .map(|start| start..start + text.len())
            .ok_or_else(|| E::custom("a value outside the body"))
    }
}

impl<'de> DeserializeSeed<'de> for Members<'_> {
    type Value = Vec<Member>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Members<'_> {
    type Value = Vec<Member>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a chat completion object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(8);
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let key = match key {
                Cow::Borrowed(text) => KeyText::Plain(self.range(text)?),
                Cow::Owned(text) => KeyText::Decoded(text.into()),
            };
            let raw: &'de RawValue = map.next_value()?;
            let value = self.range(raw.get())?;
            members.push(Member { key, value });
        }
        Ok(members)
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests;
