//! Ollama's OpenAI-compatible endpoint uses OpenAI's wire types.

/// A local Ollama server's OpenAI-compatible base URL.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434/v1";
