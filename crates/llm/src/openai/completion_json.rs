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
//! The check is the frame, not every field: the body must be well-formed
//! JSON ([`crate::json_scan`], one pass over the bytes), one object with a
//! `choices` array, an integer `created` and string `id` and
//! `model` when present, and a `usage` the gateway can read (or none).
//! Anything else is refused like an unreadable answer.

use std::borrow::Cow;
use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use serde::de;

use crate::chat::Extra;
use crate::usage::{CompletionTokensDetails, PromptTokensDetails};
use crate::{ChatResponse, Usage, json_scan};

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
    fn of(key: &[u8]) -> Option<Stamp> {
        match key {
            b"id" => Some(Stamp::Id),
            b"created" => Some(Stamp::Created),
            b"model" => Some(Stamp::Model),
            b"usage" => Some(Stamp::Usage),
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
        let mut stamps = Vec::with_capacity(4);
        let mut choices = false;
        json_scan::object_members(&body, |member| {
            let raw = body.get(member.key.clone()).unwrap_or_default();
            // A key written with escapes is decoded to be recognised.
            let decoded: Cow<'_, [u8]> = if raw.contains(&b'\\') {
                let quoted = body
                    .get(member.key.start - 1..member.key.end + 1)
                    .unwrap_or_default();
                serde_json::from_slice::<String>(quoted)
                    .map_or(Cow::Borrowed(raw), |k| Cow::Owned(k.into_bytes()))
            } else {
                Cow::Borrowed(raw)
            };
            if let Some(stamp) = Stamp::of(&decoded) {
                stamps.push((stamp, member.value));
            } else if *decoded == *b"choices" {
                if body.get(member.value.start) != Some(&b'[') {
                    return Err(json_scan::ScanError {
                        what: "`choices` is not an array",
                        at: member.value.start,
                    });
                }
                choices = true;
            }
            Ok(())
        })
        .map_err(de::Error::custom)?;
        if !choices {
            return Err(de::Error::custom("no `choices` array"));
        }
        let mut json = ChatCompletionJson {
            body,
            stamps,
            usage: None,
            usage_changed: false,
        };
        for (stamp, range) in &json.stamps {
            let value = json.body.get(range.clone()).unwrap_or_default();
            match stamp {
                Stamp::Usage => {
                    let mut read: Option<Usage> = match flat_usage(value) {
                        Some(usage) => Some(usage),
                        None => serde_json::from_slice(value)?,
                    };
                    if let Some(u) = read.as_mut() {
                        let total = u.total_tokens;
                        u.normalize();
                        json.usage_changed = u.total_tokens != total;
                    }
                    json.usage = read;
                }
                Stamp::Created if json_scan::unsigned(value).is_none() => {
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
        // The scan proved the body is one object.
        let open = json_scan::object_start(&self.body);
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

/// `usage` read without serde in its common shapes: the three counts as
/// unsigned integers, and each of the two details absent, `null`, or an
/// object of unsigned integers (OpenAI's own answers carry both), every
/// member once and no key written with escapes. Anything else is `None`,
/// and serde reads it, errors included; the tests hold the two to the
/// same result.
fn flat_usage(value: &[u8]) -> Option<Usage> {
    let mut counts = [None::<u64>; 3];
    // Per details member: unseen, `null`, or its typed count and others.
    let mut details: [Option<Option<Detail>>; 2] = [None, None];
    let mut flat = true;
    let walked = json_scan::members_of(value, |m| {
        let key = value.get(m.key).unwrap_or_default();
        let member = value.get(m.value.clone()).unwrap_or_default();
        let (slot, typed): (usize, &str) = match key {
            b"prompt_tokens" => (0, ""),
            b"completion_tokens" => (1, ""),
            b"total_tokens" => (2, ""),
            b"prompt_tokens_details" => (3, "cached_tokens"),
            b"completion_tokens_details" => (4, "reasoning_tokens"),
            _ => {
                flat = false;
                return Ok(());
            }
        };
        if let Some(detail) = slot.checked_sub(3).and_then(|d| details.get_mut(d)) {
            match (detail.is_some(), member) {
                (false, b"null") => *detail = Some(None),
                (false, _) => match counts_of(member, typed) {
                    Some(read) => *detail = Some(Some(read)),
                    None => flat = false,
                },
                (true, _) => flat = false,
            }
            return Ok(());
        }
        match (counts.get_mut(slot), json_scan::unsigned(member)) {
            (Some(count @ None), Some(n)) => *count = Some(n),
            _ => flat = false,
        }
        Ok(())
    });
    let [
        Some(prompt_tokens),
        Some(completion_tokens),
        Some(total_tokens),
    ] = counts
    else {
        return None;
    };
    let [prompt_details, completion_details] = details;
    (walked.is_ok() && flat).then(|| Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens,
        prompt_tokens_details: prompt_details.flatten().map(|(cached_tokens, extra)| {
            PromptTokensDetails {
                cached_tokens,
                extra,
            }
        }),
        completion_tokens_details: completion_details
            .flatten()
            .map(|(reasoning_tokens, extra)| CompletionTokensDetails {
                reasoning_tokens,
                extra,
            }),
        extra: Extra::new(),
    })
}

/// A details object read: its typed count, and its other members.
type Detail = (Option<u64>, Extra);

/// A details object whose members are all unsigned integers, each once,
/// keys without escapes: the member named `typed`, and the others.
fn counts_of(object: &[u8], typed: &str) -> Option<Detail> {
    let mut typed_count = None;
    let mut others = Extra::new();
    let mut ok = true;
    let walked = json_scan::members_of(object, |m| {
        let key = object.get(m.key).unwrap_or_default();
        let n = json_scan::unsigned(object.get(m.value).unwrap_or_default());
        match (std::str::from_utf8(key), n) {
            (Ok(k), Some(n)) if !k.contains('\\') => {
                let repeated = if k == typed {
                    typed_count.replace(n).is_some()
                } else {
                    others.insert(k.to_owned(), n.into()).is_some()
                };
                ok &= !repeated;
            }
            _ => ok = false,
        }
        Ok(())
    });
    (walked.is_ok() && ok).then_some((typed_count, others))
}

/// `value` as JSON (strings escaped); writing to a growable buffer of
/// strings and integers cannot fail.
fn put_json<T: serde::Serialize + ?Sized>(out: &mut BytesMut, value: &T) {
    let _ = serde_json::to_writer(out.writer(), value);
}

#[cfg(test)]
mod tests;
