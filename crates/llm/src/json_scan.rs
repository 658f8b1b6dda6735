//! A check that a body is well-formed JSON, walking it once without
//! building anything, and the members of a top-level object as slices.
//!
//! Why not serde: the gateway passes a provider's answer on in its own
//! bytes and only needs to know it is JSON, where a few top-level members
//! lie, and their values. Skipping the rest with serde (`IgnoredAny`) went
//! through its visitor machinery for every value, and it was the largest
//! part of serving a non-streaming answer (~8.8k instructions for 377
//! bytes). This walk is a loop over bytes with a bit per nesting level.
//!
//! What it accepts is what `serde_json` accepts when it skips a value
//! (RFC 8259's grammar; escapes checked, code points not paired), plus the
//! RFC's rule that the text is UTF-8, which `serde_json` only checks for
//! the strings it decodes. The tests hold the two to that on mutated
//! documents. One difference by design: nesting deeper than
//! [`MAX_DEPTH`] is refused, where `serde_json` skips any depth.

use std::ops::Range;

/// Deepest nesting accepted: far beyond any answer, and the walk's stack
/// is a fixed array of bits.
pub(crate) const MAX_DEPTH: usize = 512;

/// Why a body is not well-formed JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    pub(crate) what: &'static str,
    pub(crate) at: usize,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

type Result<T> = std::result::Result<T, ScanError>;

/// One member of the top-level object: its key as written (without the
/// quotes, escapes not decoded) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) key: Range<usize>,
    pub(crate) value: Range<usize>,
}

/// Check that `body` is one JSON object (with whitespace around it) and
/// call `each` with every member in order. `each` may refuse a member.
pub(crate) fn object_members(body: &[u8], each: impl FnMut(Member) -> Result<()>) -> Result<()> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(ScanError {
            what: "not UTF-8",
            at: e.valid_up_to(),
        });
    }
    members_of(body, each)
}

/// Where the members of a body [`object_members`] accepted begin: right
/// after its `{` (whitespace may come first).
pub(crate) fn object_start(body: &[u8]) -> usize {
    body.iter().position(|&b| b == b'{').map_or(0, |at| at + 1)
}

/// [`object_members`] of a part of a text already known to be UTF-8
/// (a member's value).
pub(crate) fn members_of(body: &[u8], mut each: impl FnMut(Member) -> Result<()>) -> Result<()> {
    let mut s = Scanner { b: body, i: 0 };
    s.ws();
    s.expect(b'{', "expected an object")?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            let key = s.string()?;
            s.ws();
            s.expect(b':', "expected `:`")?;
            let value = s.value()?;
            each(Member {
                key: key.start + 1..key.end - 1,
                value,
            })?;
            s.ws();
            match s.bump() {
                Some(b',') => s.ws(),
                Some(b'}') => break,
                _ => return Err(s.error("expected `,` or `}`")),
            }
        }
    }
    s.ws();
    if s.i != body.len() {
        return Err(s.error("trailing characters"));
    }
    Ok(())
}

/// A JSON number that is a non-negative integer fitting `u64` (digits
/// only: no sign, fraction or exponent), as `serde_json` reads a `u64`.
pub(crate) fn unsigned(number: &[u8]) -> Option<u64> {
    if number.is_empty() || (number.len() > 1 && number.first() == Some(&b'0')) {
        return None;
    }
    number.iter().try_fold(0u64, |n, &c| {
        if c.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        } else {
            None
        }
    })
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn error(&self, what: &'static str) -> ScanError {
        ScanError { what, at: self.i }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// One value after optional whitespace; its range. Containers are
    /// walked in a loop, not by recursion: a bit per open level says
    /// whether it is an object (1) or an array (0).
    fn value(&mut self) -> Result<Range<usize>> {
        self.ws();
        let start = self.i;
        let mut levels = [0u64; MAX_DEPTH / 64];
        let mut depth = 0usize;
        loop {
            // A value starts here.
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    let object = open == b'{';
                    self.i += 1;
                    self.ws();
                    // `{}` and `[]` are whole values; anything else opens a
                    // level.
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.i += 1;
                    } else {
                        if !push(&mut levels, &mut depth, object) {
                            return Err(self.error("nested too deeply"));
                        }
                        if object {
                            self.key_and_colon()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(self.error("expected a value")),
            }
            // A value ended: close the levels it ends, or go on to the
            // next element.
            loop {
                if depth == 0 {
                    return Ok(start..self.i);
                }
                let object = is_object(&levels, depth);
                self.ws();
                match self.bump() {
                    Some(b',') => {
                        self.ws();
                        if object {
                            self.key_and_colon()?;
                        }
                        break;
                    }
                    Some(b'}') if object => depth -= 1,
                    Some(b']') if !object => depth -= 1,
                    _ => {
                        return Err(self.error(if object {
                            "expected `,` or `}`"
                        } else {
                            "expected `,` or `]`"
                        }));
                    }
                }
            }
        }
    }

    /// An object's key, then `:` and the whitespace before its value.
    fn key_and_colon(&mut self) -> Result<()> {
        self.string()?;
        self.ws();
        self.expect(b':', "expected `:`")?;
        self.ws();
        Ok(())
    }

    /// A string, quotes included in the range. Eight bytes at a time to
    /// the first quote, backslash or control character (found in the word
    /// by its bit, not byte by byte: most strings are keys shorter than a
    /// word), byte by byte only in the body's last seven.
    fn string(&mut self) -> Result<Range<usize>> {
        let start = self.i;
        self.expect(b'"', "expected a string")?;
        let b = self.b;
        let mut i = self.i;
        loop {
            let c = loop {
                if let Some(word) = b.get(i..i + 8) {
                    let special = specials(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
                    if special == 0 {
                        i += 8;
                        continue;
                    }
                    i += (special.trailing_zeros() / 8) as usize;
                }
                match b.get(i) {
                    None => {
                        self.i = i;
                        return Err(self.error("unterminated string"));
                    }
                    Some(&c) if c == b'"' || c == b'\\' || c < 0x20 => break c,
                    Some(_) => i += 1,
                }
            };
            i += 1;
            match c {
                b'"' => {
                    self.i = i;
                    return Ok(start..i);
                }
                b'\\' => {
                    let ok = match b.get(i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            i += 1;
                            true
                        }
                        Some(b'u') => {
                            let hex = b.get(i + 1..i + 5);
                            i += 5;
                            hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                        }
                        _ => false,
                    };
                    if !ok {
                        self.i = i.min(b.len());
                        return Err(self.error("invalid escape"));
                    }
                }
                _ => {
                    self.i = i;
                    return Err(self.error("control character in a string"));
                }
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.bump() {
            Some(b'0') => {
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return Err(self.error("leading zero in a number"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Result<()> {
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.error("expected a digit"));
        }
        self.digits();
        Ok(())
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.error("invalid literal"))
        }
    }
}

/// Open a level; `false` past [`MAX_DEPTH`].
#[must_use]
fn push(levels: &mut [u64; MAX_DEPTH / 64], depth: &mut usize, object: bool) -> bool {
    let Some(word) = levels.get_mut(*depth / 64) else {
        return false;
    };
    let bit = 1u64 << (*depth % 64);
    if object {
        *word |= bit;
    } else {
        *word &= !bit;
    }
    *depth += 1;
    true
}

/// Whether open level `depth` (1-based) is an object.
fn is_object(levels: &[u64; MAX_DEPTH / 64], depth: usize) -> bool {
    let at = depth - 1;
    levels
        .get(at / 64)
        .is_some_and(|w| w & (1 << (at % 64)) != 0)
}

/// The high bit of each byte of the eight in `x` (little-endian) that is
/// a quote, a backslash or a control character. Exact up to the lowest
/// set bit (Hacker's Delight's "has a byte less than"; a borrow can only
/// mark bytes above a marked one), which is all the caller reads.
fn specials(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x;
    (below(x, 0x20)
        | below(x ^ (ONES * u64::from(b'"')), 1)
        | below(x ^ (ONES * u64::from(b'\\')), 1))
        & HIGHS
}

#[cfg(test)]
mod tests;
