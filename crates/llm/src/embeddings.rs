//! Embeddings: the canonical request and response, which are OpenAI's
//! `POST /v1/embeddings` shapes.
//!
//! The request's `input` is one text, several texts, one token array or
//! several token arrays. Vectors travel as JSON floats or, with
//! `encoding_format: "base64"`, as the base64 of their little-endian `f32`
//! bytes ([`encode_base64`]). Fields not typed here ride in `extra`.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::chat::Extra;

/// A `POST /v1/embeddings` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    /// The public model name (the deployment's id upstream).
    pub model: String,
    /// What to embed.
    pub input: EmbeddingInput,
    /// How vectors are sent back; `float` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    /// The vector length asked for (models that can shorten theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// The end user, for the provider's abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Fields not typed here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl EmbeddingsRequest {
    /// Whether the client asked for base64 vectors.
    pub fn wants_base64(&self) -> bool {
        self.encoding_format == Some(EncodingFormat::Base64)
    }
}

/// The `input` of an embeddings request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text.
    Text(String),
    /// Several texts, one vector each.
    Texts(Vec<String>),
    /// One pre-tokenized input.
    Tokens(Vec<u32>),
    /// Several pre-tokenized inputs.
    TokenArrays(Vec<Vec<u32>>),
}

/// One item of an [`EmbeddingInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputItem<'a> {
    /// A text.
    Text(&'a str),
    /// Token ids.
    Tokens(&'a [u32]),
}

impl EmbeddingInput {
    /// The inputs in order, one per vector to produce.
    pub fn items(&self) -> Vec<InputItem<'_>> {
        match self {
            EmbeddingInput::Text(t) => vec![InputItem::Text(t)],
            EmbeddingInput::Texts(ts) => ts.iter().map(|t| InputItem::Text(t)).collect(),
            EmbeddingInput::Tokens(ids) => vec![InputItem::Tokens(ids)],
            EmbeddingInput::TokenArrays(all) => {
                all.iter().map(|ids| InputItem::Tokens(ids)).collect()
            }
        }
    }
}

/// `encoding_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// JSON arrays of numbers.
    Float,
    /// Base64 of little-endian `f32` bytes.
    Base64,
}

/// The answer: `{"object":"list","data":[...],"model":..,"usage":..}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    /// Always `list`.
    pub object: String,
    /// One vector per input, in input order.
    pub data: Vec<Embedding>,
    /// The model name (the gateway puts the public name here).
    pub model: String,
    /// Tokens read.
    #[serde(default)]
    pub usage: EmbeddingsUsage,
    /// Fields not typed here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl EmbeddingsResponse {
    /// A list of `data` for `model`.
    pub fn new(
        model: impl Into<String>,
        data: Vec<Embedding>,
        usage: EmbeddingsUsage,
    ) -> EmbeddingsResponse {
        EmbeddingsResponse {
            object: "list".to_owned(),
            data,
            model: model.into(),
            usage,
            extra: Extra::new(),
        }
    }

    /// Turn float vectors into base64 ones (vectors already in base64 are
    /// kept).
    pub fn encode_base64(&mut self) {
        for item in &mut self.data {
            if let EmbeddingVector::Float(v) = &item.embedding {
                item.embedding = EmbeddingVector::Base64(encode_base64(v));
            }
        }
    }
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `embedding`.
    pub object: String,
    /// Position of its input.
    pub index: u32,
    /// The vector.
    pub embedding: EmbeddingVector,
}

impl Embedding {
    /// The float vector for input `index`.
    pub fn float(index: u32, vector: Vec<f32>) -> Embedding {
        Embedding {
            object: "embedding".to_owned(),
            index,
            embedding: EmbeddingVector::Float(vector),
        }
    }
}

/// A vector as numbers or as base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    /// Numbers.
    Float(Vec<f32>),
    /// Base64 of little-endian `f32` bytes.
    Base64(String),
}

/// Embeddings usage: no completion side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingsUsage {
    /// Tokens of every input.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Equal to `prompt_tokens`.
    #[serde(default)]
    pub total_tokens: u64,
}

impl EmbeddingsUsage {
    /// Usage of `prompt_tokens` input tokens.
    pub fn new(prompt_tokens: u64) -> EmbeddingsUsage {
        EmbeddingsUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        }
    }
}

/// A whole embeddings answer kept in the provider's bytes: what the
/// gateway serves a client that asked for float vectors from an
/// OpenAI-format provider. Decoding every float and writing it again cost
/// more than the rest of the call for a batch of inputs (a 1,536-wide
/// vector is ~20 KB of text); the body is walked once instead
/// ([`crate::json_scan`]: well-formed JSON, UTF-8) and only `model` is
/// replaced.
#[derive(Debug, Clone)]
pub struct EmbeddingsJson {
    body: bytes::Bytes,
    /// The `model` value, when the provider wrote one.
    model: Option<std::ops::Range<usize>>,
    usage: EmbeddingsUsage,
}

impl EmbeddingsJson {
    /// Check `body`: one object with a `data` array, `model` a string and
    /// `usage` (if present) an object of counts, no member twice and no key
    /// written with escapes (such a body is left to the decoder, which
    /// names what is wrong).
    pub fn scan(body: bytes::Bytes) -> Result<EmbeddingsJson, serde_json::Error> {
        use serde::de::Error as _;
        let (mut model, mut usage, mut data) = (None, None, false);
        crate::json_scan::object_members(&body, |member| {
            let key = body.get(member.key.clone()).unwrap_or_default();
            let first = body.get(member.value.start).copied();
            let fail = |what| {
                Err(crate::json_scan::ScanError {
                    what,
                    at: member.key.start,
                })
            };
            match key {
                _ if key.contains(&b'\\') => return fail("a key written with escapes"),
                b"model" if model.is_some() => return fail("`model` twice"),
                b"model" if first != Some(b'"') => return fail("`model` is not a string"),
                b"model" => model = Some(member.value),
                b"usage" if usage.is_some() => return fail("`usage` twice"),
                b"usage" => usage = Some(member.value),
                b"data" if data => return fail("`data` twice"),
                b"data" if first != Some(b'[') => return fail("`data` is not an array"),
                b"data" => data = true,
                _ => {}
            }
            Ok(())
        })
        .map_err(serde_json::Error::custom)?;
        if !data {
            return Err(serde_json::Error::custom("no `data` array"));
        }
        let usage = match usage {
            Some(range) => serde_json::from_slice(body.get(range).unwrap_or_default())?,
            None => EmbeddingsUsage::default(),
        };
        Ok(EmbeddingsJson { body, model, usage })
    }

    /// The provider's token count.
    pub fn usage(&self) -> EmbeddingsUsage {
        self.usage
    }

    /// The body with `model` set to `model` (added first when the provider
    /// left it out); every other byte as the provider wrote it.
    pub fn stamped(&self, model: &str) -> bytes::Bytes {
        let name = serde_json::to_vec(model).unwrap_or_else(|_| b"\"\"".to_vec());
        let mut out = Vec::with_capacity(self.body.len() + name.len() + 10);
        match &self.model {
            Some(range) => {
                out.extend_from_slice(self.body.get(..range.start).unwrap_or_default());
                out.extend_from_slice(&name);
                out.extend_from_slice(self.body.get(range.end..).unwrap_or_default());
            }
            None => {
                // First: `data` follows, so the object is not empty.
                let open = crate::json_scan::object_start(&self.body);
                out.extend_from_slice(self.body.get(..open).unwrap_or_default());
                out.extend_from_slice(b"\"model\":");
                out.extend_from_slice(&name);
                out.push(b',');
                out.extend_from_slice(self.body.get(open..).unwrap_or_default());
            }
        }
        out.into()
    }

    /// The answer decoded, for a client that needs it converted (base64).
    pub fn decode(&self) -> Result<EmbeddingsResponse, serde_json::Error> {
        crate::from_json(&self.body)
    }
}

/// The base64 of `vector`'s little-endian `f32` bytes, as OpenAI sends
/// `encoding_format: "base64"` vectors.
pub fn encode_base64(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The inverse of [`encode_base64`]; `None` for text that is not base64 of
/// a whole number of `f32`s.
pub fn decode_base64(text: &str) -> Option<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(body: &str) -> Result<EmbeddingsJson, serde_json::Error> {
        EmbeddingsJson::scan(bytes::Bytes::copy_from_slice(body.as_bytes()))
    }

    /// The provider's bytes come back with only `model` replaced (numbers
    /// as written, spacing kept), or added when missing; the usage is read.
    #[test]
    fn an_answer_is_served_in_its_own_bytes() {
        let body = r#"{"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.10, -2e-3, 1E+2]}], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 7, "total_tokens": 7}}"#;
        let json = scan(body).unwrap();
        assert_eq!(json.usage(), EmbeddingsUsage::new(7));
        assert_eq!(
            json.stamped("public \"name\""),
            body.replace("\"text-embedding-3-small\"", r#""public \"name\"""#)
        );
        let bare = r#" {"data":[{"embedding":[1],"index":0}]}"#;
        let json = scan(bare).unwrap();
        assert_eq!(json.usage(), EmbeddingsUsage::default());
        assert_eq!(
            json.stamped("m"),
            r#" {"model":"m","data":[{"embedding":[1],"index":0}]}"#
        );
        let decoded = scan(body).unwrap().decode().unwrap();
        assert_eq!(decoded.usage.prompt_tokens, 7);
    }

    /// What the decoder would refuse, or read differently, is not served
    /// as bytes.
    #[test]
    fn doubtful_answers_are_refused() {
        for body in [
            r#"{"model":"m"}"#,
            r#"{"data":{}}"#,
            r#"{"data":[],"data":[]}"#,
            r#"{"data":[],"model":"a","model":"b"}"#,
            r#"{"data":[],"model":7}"#,
            r#"{"data":[],"usage":{},"usage":{}}"#,
            r#"{"data":[],"usage":{"prompt_tokens":"many"}}"#,
            r#"{"data":[],"mod\u0065l":"m"}"#,
            r#"{"data":[1,]}"#,
            r#"[{"data":[]}]"#,
        ] {
            assert!(scan(body).is_err(), "{body}");
        }
    }

    #[test]
    fn base64_round_trip() {
        let v = vec![0.5f32, -1.25, 3.0e-7, 0.0];
        let text = encode_base64(&v);
        assert_eq!(decode_base64(&text), Some(v));
        // 1.0f32 is 00 00 80 3f little-endian.
        assert_eq!(encode_base64(&[1.0]), "AACAPw==");
        assert_eq!(decode_base64("AAA="), None);
    }

    #[test]
    fn inputs_of_every_shape() {
        let parse = |s: &str| serde_json::from_str::<EmbeddingInput>(s).unwrap();
        assert_eq!(parse(r#""a""#).items(), vec![InputItem::Text("a")]);
        assert_eq!(parse(r#"["a","b"]"#).items().len(), 2);
        assert_eq!(parse("[1,2]").items(), vec![InputItem::Tokens(&[1, 2])]);
        assert_eq!(parse("[[1],[2,3]]").items().len(), 2);
    }
}
