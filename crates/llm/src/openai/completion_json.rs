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
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::{ChatResponse, Usage};

/// A whole Chat Completions response body, kept as received.
#[derive(Debug, Clone)]
pub struct ChatCompletionJson {
    body: Bytes,
    /// Where the values the gateway replaces or reads lie, in body order.
    stamps: Vec<(Stamp, Range<usize>)>,
    /// `usage`, read and normalised (`total_tokens` recomputed).
    usage: Option<Usage>,
    /// `usage` must be written out again: normalising changed it.
    usage_changed: bool,
}

/// The members the gateway sets (`id`, `created`, `model`) or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Id,
    Created,
    Model,
    Usage,
}

impl Stamp {
    fn of(key: &str) -> Option<Stamp> {
        match key {
            "id" => Some(Stamp::Id),
            "created" => Some(Stamp::Created),
            "model" => Some(Stamp::Model),
            "usage" => Some(Stamp::Usage),
            _ => None,
        }
    }
}

/// Members the gateway sets, in the order it adds missing ones.
const STAMPED: [(Stamp, &str); 3] = [
    (Stamp::Id, "id"),
    (Stamp::Created, "created"),
    (Stamp::Model, "model"),
];

impl ChatCompletionJson {
    /// Check `body`'s frame (see the module docs) and find the members it
    /// replaces. Every value is checked to be well-formed JSON, but only
    /// the few the gateway touches are kept as slices: the rest (the
    /// `choices`, most of the body) is skipped, not copied or re-checked.
    pub fn scan(body: Bytes) -> Result<ChatCompletionJson, serde_json::Error> {
        let frame = {
            let mut de = serde_json::Deserializer::from_slice(&body);
            let frame = Members { base: &body }.deserialize(&mut de)?;
            de.end()?;
            frame
        };
        if !frame.choices {
            return Err(de::Error::custom("no `choices` array"));
        }
        let mut json = ChatCompletionJson {
            body,
            stamps: frame.stamps,
            usage: None,
            usage_changed: false,
        };
        for (stamp, range) in &json.stamps {
            let value = json.body.get(range.clone()).unwrap_or_default();
            match stamp {
                Stamp::Usage => {
                    let mut read: Option<Usage> = serde_json::from_slice(value)?;
                    if let Some(u) = read.as_mut() {
                        let total = u.total_tokens;
                        u.normalize();
                        json.usage_changed = u.total_tokens != total;
                    }
                    json.usage = read;
                }
                Stamp::Created if serde_json::from_slice::<u64>(value).is_err() => {
                    return Err(de::Error::custom("`created` is not an integer"));
                }
                Stamp::Id | Stamp::Model if value.first() != Some(&b'"') => {
                    let key = if *stamp == Stamp::Id { "id" } else { "model" };
                    return Err(de::Error::custom(format!("`{key}` is not a string")));
                }
                _ => {}
            }
        }
        Ok(json)
    }

    /// The provider's token counts, normalised.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The body with `id`, `created` and `model` replaced (added first when
    /// the provider left them out) and `usage` normalised; every other
    /// byte as the provider wrote it.
    pub fn stamped(&self, id: &str, created: u64, model: &str) -> Bytes {
        let mut out = BytesMut::with_capacity(self.body.len() + id.len() + model.len() + 48);
        let stamp = |out: &mut BytesMut, which: Stamp| match which {
            Stamp::Id => put_json(out, id),
            Stamp::Model => put_json(out, model),
            _ => put_json(out, &created),
        };
        // The object's `{` (the scan proved the body is one object).
        let open = self
            .body
            .iter()
            .position(|&b| b == b'{')
            .map_or(0, |at| at + 1);
        out.extend_from_slice(self.body.get(..open).unwrap_or_default());
        for (which, key) in STAMPED {
            if !self.stamps.iter().any(|(s, _)| *s == which) {
                out.put_u8(b'"');
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":");
                stamp(&mut out, which);
                // `choices` follows: the object is never empty.
                out.put_u8(b',');
            }
        }
        let mut copied = open;
        for (which, range) in &self.stamps {
            let replaced = match which {
                Stamp::Usage => self.usage_changed,
                _ => true,
            };
            if !replaced {
                continue;
            }
            out.extend_from_slice(self.body.get(copied..range.start).unwrap_or_default());
            if *which == Stamp::Usage {
                match serde_json::to_vec(&self.usage) {
                    Ok(usage) => out.extend_from_slice(&usage),
                    Err(_) => {
                        out.extend_from_slice(self.body.get(range.clone()).unwrap_or_default())
                    }
                }
            } else {
                stamp(&mut out, *which);
            }
            copied = range.end;
        }
        out.extend_from_slice(self.body.get(copied..).unwrap_or_default());
        out.freeze()
    }

    /// The whole answer decoded, for what needs its content (other
    /// dialects, estimates when the provider reported no usage).
    pub fn parse(&self) -> Result<ChatResponse, serde_json::Error> {
        ChatResponse::from_openai_json(&self.body)
    }
}

/// `value` as JSON (strings escaped); writing to a growable buffer of
/// strings and integers cannot fail.
fn put_json<T: serde::Serialize + ?Sized>(out: &mut BytesMut, value: &T) {
    let _ = serde_json::to_writer(out.writer(), value);
}

/// What reading the top-level object found.
struct Frame {
    stamps: Vec<(Stamp, Range<usize>)>,
    /// A `choices` member was there, and an array.
    choices: bool,
}

/// Reads a top-level object: the members the gateway touches as slices of
/// the body, `choices` checked to be an array, every other value only
/// checked to be well-formed JSON.
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
    type Value = Frame;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Members<'_> {
    type Value = Frame;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a chat completion object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut frame = Frame {
            stamps: Vec::with_capacity(4),
            choices: false,
        };
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if let Some(stamp) = Stamp::of(&key) {
                let raw: &'de RawValue = map.next_value()?;
                frame.stamps.push((stamp, self.range(raw.get())?));
            } else if key == "choices" {
                map.next_value::<AnArray>()?;
                frame.choices = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(frame)
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

/// Any JSON array, its elements only checked to be well-formed.
struct AnArray;

impl<'de> Deserialize<'de> for AnArray {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnArray;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnArray, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnArray)
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests;
