//! The one loop every streaming endpoint runs: provider chunks in, SSE
//! frames out in the client's dialect, each sent as soon as its chunk
//! arrives, with usage metered on the way. A dialect says only how a chunk,
//! a mid-stream error and the end become frames.

use std::collections::VecDeque;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use sy_http::Body;
use sy_llm::ChatChunk;

use super::meter::StreamMeter;
use crate::AiError;
use crate::providers::ChunkStream;
use crate::respond;

/// How one client dialect encodes a stream.
pub(crate) trait StreamDialect: Send + 'static {
    /// Frames sent before the first chunk is awaited (e.g. `message_start`).
    fn start(&mut self) -> Vec<Bytes> {
        Vec::new()
    }

    /// Frames for one provider chunk (none when it is not for the client).
    /// The chunk has already been metered.
    fn chunk(&mut self, chunk: ChatChunk) -> Vec<Bytes>;

    /// Frames that end a stream broken by a provider error. The call is
    /// already recorded as failed.
    fn error(&mut self, error: &AiError) -> Vec<Bytes>;

    /// Closing frames; `meter` settles the estimate when the provider sent
    /// no usage and the dialect owes the client one.
    fn finish(&mut self, meter: &mut StreamMeter) -> Vec<Bytes>;
}

struct State<D> {
    chunks: ChunkStream,
    dialect: D,
    meter: StreamMeter,
    /// Frames not yet sent: one chunk can make several.
    pending: VecDeque<Bytes>,
    ended: bool,
}

/// Stream `chunks` to the client as `dialect` encodes them.
pub(crate) fn stream<D: StreamDialect>(
    chunks: ChunkStream,
    mut dialect: D,
    meter: StreamMeter,
) -> Response<Body> {
    let pending = dialect.start().into();
    let state = State {
        chunks,
        dialect,
        meter,
        pending,
        ended: false,
    };
    let frames = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(frame) = st.pending.pop_front() {
                return Some((frame, st));
            }
            if st.ended {
                return None;
            }
            let frames = match st.chunks.next().await {
                Some(Ok(chunk)) => {
                    st.meter.observe(&chunk);
                    st.dialect.chunk(chunk)
                }
                Some(Err(error)) => {
                    st.ended = true;
                    st.meter.failed();
                    st.dialect.error(&error)
                }
                None => {
                    st.ended = true;
                    st.dialect.finish(&mut st.meter)
                }
            };
            st.pending.extend(frames);
        }
    });
    respond::sse(frames)
}

/// The OpenAI-style error frame, for dialects that end with one.
pub(crate) fn error_frame(error: &AiError) -> Vec<Bytes> {
    vec![respond::sse_error(error)]
}
