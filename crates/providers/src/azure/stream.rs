//! OpenAI's stream format. Azure's first chunk may carry only
//! `prompt_filter_results` and no choices; the decoder skips such chunks.

use crate::StreamDecoder;
use crate::openai::stream::OpenAiStream;

use super::NAME;

pub(super) fn decoder() -> Box<dyn StreamDecoder> {
    Box::new(OpenAiStream::new(NAME))
}
