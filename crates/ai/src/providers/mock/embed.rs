//! What the mock answers to embeddings: deterministic unit vectors.
//!
//! Each input's vector is drawn from a generator (splitmix64) seeded with
//! the FNV-1a hash of its text (or of its token ids), then scaled to length
//! 1: the same input always gets the same vector, different inputs get
//! different ones. The length is the request's `dimensions`, else
//! [`DEFAULT_DIMENSIONS`]. Usage counts each text's tokens (token arrays
//! count their length). An input containing `mock:error:<status>` fails
//! the call with that status, as for chat.

use sy_llm::embeddings::{
    Embedding, EmbeddingsRequest, EmbeddingsResponse, EmbeddingsUsage, InputItem,
};
use sy_llm::tokens;

/// Vector length when the request names none (OpenAI's
/// `text-embedding-3-small`).
pub(crate) const DEFAULT_DIMENSIONS: u32 = 1536;

/// The answer to `request` from model `model`, or the injected error
/// status.
pub(crate) fn answer(request: &EmbeddingsRequest, model: &str) -> Result<EmbeddingsResponse, u16> {
    let dimensions = request.dimensions.unwrap_or(DEFAULT_DIMENSIONS);
    let mut data = Vec::new();
    let mut prompt = 0u64;
    for (index, item) in request.input.items().into_iter().enumerate() {
        let seed = match item {
            InputItem::Text(text) => {
                if let Some(status) = injected_error(text) {
                    return Err(status);
                }
                prompt += tokens::count_text_tokens(text, model);
                fnv1a(text.as_bytes())
            }
            InputItem::Tokens(ids) => {
                prompt += ids.len() as u64;
                let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
                fnv1a(&bytes)
            }
        };
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        data.push(Embedding::float(index, vector(seed, dimensions)));
    }
    Ok(EmbeddingsResponse::new(
        model,
        data,
        EmbeddingsUsage::new(prompt),
    ))
}

fn injected_error(text: &str) -> Option<u16> {
    let (_, rest) = text.split_once("mock:error:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|s| (400..=599).contains(s))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A unit vector of `n` components from `seed`.
fn vector(seed: u64, n: u32) -> Vec<f32> {
    let mut state = seed;
    let raw: Vec<f64> = (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // Top 53 bits → [0, 1) → [-1, 1).
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    let norm = if norm > 0.0 { norm } else { 1.0 };
    raw.iter().map(|x| (x / norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> EmbeddingsRequest {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn deterministic_unit_vectors() {
        let a = answer(
            &request(r#"{"model":"m","input":["hi","there","hi"],"dimensions":8}"#),
            "m",
        )
        .unwrap();
        assert_eq!(a.data.len(), 3);
        assert_eq!(a.data[0].embedding, a.data[2].embedding);
        assert_ne!(a.data[0].embedding, a.data[1].embedding);
        let sy_llm::embeddings::EmbeddingVector::Float(v) = &a.data[1].embedding else {
            unreachable!()
        };
        assert_eq!(v.len(), 8);
        let norm: f32 = v.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(a.usage, EmbeddingsUsage::new(3));
        let b = answer(&request(r#"{"model":"m","input":[[1,2,3]]}"#), "m").unwrap();
        assert_eq!(b.usage.prompt_tokens, 3);
        assert_eq!(
            answer(&request(r#"{"model":"m","input":"x mock:error:503"}"#), "m"),
            Err(503)
        );
    }
}
