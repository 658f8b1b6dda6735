//! Prompt tokens of an image part, by OpenAI's tile rule.
//!
//! OpenAI's vision guide ("Calculating costs",
//! <https://platform.openai.com/docs/guides/images-vision#calculating-costs>)
//! prices an image for gpt-4o-class models as:
//! - `detail: low`: a fixed base of 85 tokens;
//! - `detail: high` (and `auto`, which we count as high to stay on the safe
//!   side): scale to fit a 2048×2048 square, then scale down so the
//!   shortest side is 768 px; count 512 px tiles; `85 + 170 × tiles`.
//!   Published examples: 1024×1024 → 765 tokens, 2048×4096 → 1105.
//!
//! gpt-4o-mini bills images at a larger per-token count (base 2833, tile
//! 5667, same published page) so that its cheaper token price yields the
//! same image price. Newer patch-based models (gpt-4.1-mini/nano,
//! o4-mini) are counted with the tile rule too: an estimate.
//!
//! The size is known only for inline `data:` URLs of PNG, GIF or JPEG
//! images (read from the header, without decoding the image). A remote URL
//! or another format costs [`UNKNOWN_IMAGE_TOKENS`] at high detail.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Tokens of an image whose size is unknown at high/auto detail: the cost
/// of a 1024×1024 image (4 tiles), the most common upload size.
pub const UNKNOWN_IMAGE_TOKENS: u64 = 765;

/// Base and per-tile tokens for `model`.
fn rates(model: &str) -> (u64, u64) {
    let m = model.rsplit('/').next().unwrap_or(model);
    if m.starts_with("gpt-4o-mini") {
        (2833, 5667)
    } else {
        (85, 170)
    }
}

/// Tokens of one image for `model`.
pub fn image_tokens(model: &str, url: &str, detail: Option<&str>) -> u64 {
    let (base, tile) = rates(model);
    if detail == Some("low") {
        return base;
    }
    match data_url_size(url) {
        Some((w, h)) => base + tile * tiles(w, h),
        None if base == 85 => UNKNOWN_IMAGE_TOKENS,
        None => base + 4 * tile,
    }
}

/// 512 px tiles of a `w`×`h` image after OpenAI's two scaling steps.
pub fn tiles(w: u32, h: u32) -> u64 {
    let (mut w, mut h) = (f64::from(w.max(1)), f64::from(h.max(1)));
    if w > 2048.0 || h > 2048.0 {
        let r = 2048.0 / w.max(h);
        w *= r;
        h *= r;
    }
    if w.min(h) > 768.0 {
        let r = 768.0 / w.min(h);
        w *= r;
        h *= r;
    }
    let (tw, th) = ((w / 512.0).ceil(), (h / 512.0).ceil());
    // Both factors are small positive integers (≤ 4 after scaling).
    (tw as u64) * (th as u64)
}

/// Width and height of a base64 `data:` URL image, when its header says.
fn data_url_size(url: &str) -> Option<(u32, u32)> {
    let rest = url.strip_prefix("data:")?;
    let (_, b64) = rest.split_once(";base64,")?;
    // Enough for PNG/GIF headers and for most JPEG SOF markers; keep a
    // multiple of 4 so the prefix decodes on its own.
    let take = b64.len().min(64 * 1024) / 4 * 4;
    let bytes = STANDARD.decode(b64.get(..take)?).ok()?;
    png_size(&bytes)
        .or_else(|| gif_size(&bytes))
        .or_else(|| jpeg_size(&bytes))
}

fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 24 || &b[..8] != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let w = u32::from_be_bytes(b[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(b[20..24].try_into().ok()?);
    Some((w, h))
}

fn gif_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 10 || !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return None;
    }
    let w = u16::from_le_bytes([b[6], b[7]]);
    let h = u16::from_le_bytes([b[8], b[9]]);
    Some((u32::from(w), u32::from(h)))
}

/// Walk JPEG segments to the first start-of-frame marker.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return None;
    }
    let mut i = 2;
    while i + 9 < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let h = u16::from_be_bytes([b[i + 5], b[i + 6]]);
            let w = u16::from_be_bytes([b[i + 7], b[i + 8]]);
            return Some((u32::from(w), u32::from(h)));
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_published_examples() {
        // The vision guide's worked examples.
        assert_eq!(85 + 170 * tiles(1024, 1024), 765);
        assert_eq!(85 + 170 * tiles(2048, 4096), 1105);
        assert_eq!(image_tokens("gpt-4o", "https://x/y.png", Some("low")), 85);
    }

    #[test]
    fn unknown_size_costs_the_documented_default() {
        assert_eq!(
            image_tokens("gpt-4o", "https://x/y.png", None),
            UNKNOWN_IMAGE_TOKENS
        );
        assert_eq!(
            image_tokens("gpt-4o-mini", "https://x/y.png", Some("high")),
            2833 + 4 * 5667
        );
    }

    #[test]
    fn png_header_gives_the_size() {
        // A PNG signature and IHDR for a 2048×4096 image.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&2048u32.to_be_bytes());
        png.extend_from_slice(&4096u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0]);
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&png));
        assert_eq!(image_tokens("gpt-4o", &url, Some("high")), 1105);
    }

    #[test]
    fn jpeg_and_gif_headers_give_the_size() {
        // SOI, an APP0 segment of length 4, then SOF0 for 512×512.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02,
            0x00, 0x02, 0x00, 0x03,
        ];
        assert_eq!(jpeg_size(&jpeg), Some((512, 512)));
        let gif = *b"GIF89a\x00\x03\x00\x02";
        assert_eq!(gif_size(&gif), Some((768, 512)));
    }
}
