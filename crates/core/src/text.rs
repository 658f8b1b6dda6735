//! [`ShortText`]: a few dozen bytes of text on the stack.

use std::fmt;

/// Text of at most [`ShortText::CAPACITY`] bytes kept inline: a number
/// formatted for a header (a cost, a duration) on every answer, which a
/// `String` would allocate and free for a few bytes.
#[derive(Clone, Copy)]
pub struct ShortText {
    buf: [u8; ShortText::CAPACITY],
    len: usize,
}

impl ShortText {
    /// The most bytes it holds; longer writes fail.
    pub const CAPACITY: usize = 40;

    /// Empty.
    pub const fn new() -> Self {
        ShortText {
            buf: [0; ShortText::CAPACITY],
            len: 0,
        }
    }

    /// The text written.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this cannot fail.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The bytes written.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl Default for ShortText {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for ShortText {
    /// Appends `s` whole, or fails and leaves the text as it was.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl PartialEq for ShortText {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ShortText {}

impl PartialEq<str> for ShortText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ShortText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ShortText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn holds_what_fits_and_refuses_the_rest_whole() {
        let mut t = ShortText::new();
        assert_eq!(t.as_str(), "");
        t.write_str("12h").unwrap();
        t.write_str("3m").unwrap();
        assert_eq!(t.as_str(), "12h3m");
        assert_eq!(t.to_string(), "12h3m");
        let long = "x".repeat(ShortText::CAPACITY);
        assert!(t.write_str(&long).is_err());
        assert_eq!(t.as_str(), "12h3m", "a refused write leaves the text");
        let mut full = ShortText::new();
        full.write_str(&long).unwrap();
        assert_eq!(full.as_bytes().len(), ShortText::CAPACITY);
        assert!(full.write_str("y").is_err());
    }
}
