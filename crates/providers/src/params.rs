//! The drop-or-refuse rule for parameters a provider cannot take, shared by
//! every adapter.

use serde_json::Value;
use sy_llm::chat::Extra;

use crate::{TranslateError, UnsupportedParams};

/// How bad it is to leave a parameter out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loss {
    /// A hint whose absence the client cannot tell from the answer's shape
    /// (`presence_penalty`, `seed`, `user`): dropped unless the provider is
    /// set to refuse.
    Hint,
    /// The answer would lack what the client asked for (`n` > 1,
    /// `logprobs`): always refused.
    Shape,
}

/// Apply the provider's policy to one unsupported parameter: `Ok` means
/// drop it.
pub(crate) fn unsupported(
    policy: UnsupportedParams,
    provider: &'static str,
    param: &str,
    loss: Loss,
) -> Result<(), TranslateError> {
    match (loss, policy) {
        (Loss::Hint, UnsupportedParams::Drop) => Ok(()),
        _ => Err(TranslateError::Unsupported {
            param: param.to_owned(),
            provider,
        }),
    }
}

/// Whether an extra field is "off": absent, null or false. `logprobs:
/// false` asks for nothing, so it can be dropped whatever the policy.
pub(crate) fn is_off(value: &Value) -> bool {
    matches!(value, Value::Null | Value::Bool(false))
}

/// Remove `keys` the provider lacks from `extra`, applying the policy to
/// each present, non-off one.
pub(crate) fn strip(
    extra: &mut Extra,
    keys: &[(&str, Loss)],
    policy: UnsupportedParams,
    provider: &'static str,
) -> Result<(), TranslateError> {
    for (key, loss) in keys {
        if let Some(value) = extra.remove(*key)
            && !is_off(&value)
        {
            unsupported(policy, provider, key, *loss)?;
        }
    }
    Ok(())
}
