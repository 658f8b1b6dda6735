//! OpenAI's stream format; usage arrives on the finish chunk and is moved
//! to a usage-only chunk by the shared decoder.

use crate::StreamDecoder;
use crate::openai::stream::OpenAiStream;

use super::NAME;

pub(super) fn decoder() -> Box<dyn StreamDecoder> {
    Box::new(OpenAiStream::new(NAME))
}
