//! Azure uses OpenAI's wire types; only the URL and auth differ.

/// `api-version` sent unless the config sets `api_version`: the current GA
/// data-plane version, which has `stream_options.include_usage`.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";
