//! Reading events incrementally.

use super::SseEvent;

/// Default cap on one line (and so on one pending partial line): 4 MiB.
/// Large enough for any real chunk, small enough that a server that never
/// sends a line break cannot exhaust memory.
pub const DEFAULT_MAX_LINE: usize = 4 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line grew past the decoder's cap without a line break.
    #[error("event stream line longer than {limit} bytes")]
    LineTooLong {
        /// The cap in bytes.
        limit: usize,
    },
}

/// Incremental `text/event-stream` decoder.
///
/// Feed bytes as they arrive with [`push`](Self::push), in pieces of any
/// size split anywhere (inside a line, inside a `\r\n`, inside a UTF-8
/// character); it returns the events completed so far. Call
/// [`finish`](Self::finish) at end of stream.
///
/// Deviations from the WHATWG algorithm, both deliberate: `id` is reported
/// per event rather than carried over to later events (callers here never
/// reconnect), and [`finish`](Self::finish) dispatches a last event that
/// lacks its closing blank line, since some servers end that way.
#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes of the current, incomplete line.
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no line break.
    scanned: usize,
    /// The previous piece ended with `\r`; a `\n` first in the next piece
    /// belongs to the same line end.
    skip_lf: bool,
    /// Whether the start of stream (and a possible BOM) is behind us.
    started: bool,
    max_line: usize,
    pending: Pending,
}

#[derive(Debug, Default)]
struct Pending {
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new()
    }
}

impl SseDecoder {
    /// A decoder with the [`DEFAULT_MAX_LINE`] cap.
    pub fn new() -> SseDecoder {
        SseDecoder::with_max_line(DEFAULT_MAX_LINE)
    }

    /// A decoder refusing lines longer than `max_line` bytes.
    pub fn with_max_line(max_line: usize) -> SseDecoder {
        SseDecoder {
            buf: Vec::new(),
            scanned: 0,
            skip_lf: false,
            started: false,
            max_line,
            pending: Pending::default(),
        }
    }

    /// Add bytes; return the events they complete, in order.
    pub fn push(&mut self, input: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        let mut input = input;
        if self.skip_lf && !input.is_empty() {
            if input[0] == b'\n' {
                input = &input[1..];
            }
            self.skip_lf = false;
        }
        self.buf.extend_from_slice(input);
        if !self.started {
            if self.buf.len() < BOM.len() && BOM.starts_with(&self.buf) {
                return Ok(events);
            }
            if self.buf.starts_with(BOM) {
                self.buf.drain(..BOM.len());
            }
            self.started = true;
        }

        let buf = std::mem::take(&mut self.buf);
        let mut start = 0;
        let mut search_from = self.scanned;
        while let Some(rel) = buf[search_from..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = search_from + rel;
            self.line(&buf[start..end], &mut events);
            start = end + 1;
            if buf[end] == b'\r' {
                if start < buf.len() {
                    if buf[start] == b'\n' {
                        start += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
            search_from = start;
        }
        self.buf = buf;
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > self.max_line {
            return Err(SseError::LineTooLong {
                limit: self.max_line,
            });
        }
        Ok(events)
    }

    /// End of stream: the last event if it had data but no closing blank
    /// line. Leaves the decoder ready for a new stream.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let rest = std::mem::take(&mut self.buf);
        let mut events = Vec::new();
        if !rest.is_empty() {
            self.line(&rest, &mut events);
        }
        self.line(b"", &mut events);
        self.scanned = 0;
        self.skip_lf = false;
        self.started = false;
        events.pop()
    }

    /// Process one complete line (without its line end).
    fn line(&mut self, line: &[u8], events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            if pending.has_data {
                let mut data = pending.data;
                if data.ends_with('\n') {
                    data.pop();
                }
                events.push(SseEvent {
                    event: pending.event,
                    data,
                    id: pending.id,
                    retry: pending.retry,
                });
            }
            return;
        }
        if line[0] == b':' {
            return; // comment, often a keep-alive
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                self.pending.data.push_str(&value);
                self.pending.data.push('\n');
                self.pending.has_data = true;
            }
            b"event" => self.pending.event = Some(value.into_owned()),
            b"id" if !value.contains('\0') => self.pending.id = Some(value.into_owned()),
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.pending.retry = value.parse().ok();
            }
            _ => {} // unknown fields are ignored, as the format requires
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for piece in pieces {
            out.extend(decoder.push(piece).unwrap());
        }
        out.extend(decoder.finish());
        out
    }

    const STREAM: &[u8] = b"\xEF\xBB\xBF: keep-alive\r\n\
        data: {\"a\":\"h\xC3\xA9llo\"}\r\n\r\n\
        event: ping\rdata:x\r\r\
        data: one\ndata: two\nid: 9\nretry: 250\n\n\
        data: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent::data("{\"a\":\"héllo\"}"),
            SseEvent {
                event: Some("ping".into()),
                data: "x".into(),
                ..SseEvent::default()
            },
            SseEvent {
                data: "one\ntwo".into(),
                id: Some("9".into()),
                retry: Some(250),
                ..SseEvent::default()
            },
            SseEvent::data("[DONE]"),
        ]
    }

    #[test]
    fn whole_stream() {
        let events = decode_all(&[STREAM]);
        assert_eq!(events, expected());
        assert!(events[3].is_done());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        for cut in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(cut);
            assert_eq!(decode_all(&[a, b]), expected(), "split at {cut}");
        }
    }

    #[test]
    fn byte_at_a_time() {
        let pieces: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(decode_all(&pieces), expected());
    }

    #[test]
    fn cr_at_piece_end_then_lf() {
        // The `\r\n` is split: it must count as one line end, not two (two
        // would dispatch an event early, here with only "a").
        let events = decode_all(&[b"data: a\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(events, vec![SseEvent::data("a\nb")]);
    }

    #[test]
    fn field_without_colon_and_empty_data() {
        let events = decode_all(&[b"data\n\nevent: x\n\n"]);
        // `data` alone is an empty data line: dispatches an empty event; an
        // event without data is dropped.
        assert_eq!(events, vec![SseEvent::data("")]);
    }

    #[test]
    fn finish_dispatches_unterminated_event() {
        assert_eq!(decode_all(&[b"data: tail"]), vec![SseEvent::data("tail")]);
        assert_eq!(decode_all(&[b"data: tail\n"]), vec![SseEvent::data("tail")]);
        assert_eq!(decode_all(&[b": only a comment"]), vec![]);
    }

    #[test]
    fn long_line_is_refused() {
        let mut decoder = SseDecoder::with_max_line(8);
        assert!(decoder.push(b"data: 12").is_ok());
        assert_eq!(decoder.push(b"3"), Err(SseError::LineTooLong { limit: 8 }));
        // Short lines are fine however much arrives at once.
        let mut decoder = SseDecoder::with_max_line(8);
        let events = decoder.push(b"data: 1\n\ndata: 2\n\ndata: 3\n\n").unwrap();
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn bom_only_at_start() {
        let events = decode_all(&[b"\xEF\xBB", b"\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n"]);
        assert_eq!(events.len(), 1, "a BOM later is part of a field name");
        assert_eq!(events[0], SseEvent::data("a"));
    }
}
