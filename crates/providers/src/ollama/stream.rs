//! OpenAI's stream format.

use crate::StreamDecoder;
use crate::openai::stream::OpenAiStream;

use super::NAME;

pub(super) fn decoder() -> Box<dyn StreamDecoder> {
    Box::new(OpenAiStream::new(NAME))
}
