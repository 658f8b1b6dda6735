//! Usage limits: requests, tokens, concurrency and spend. The same
//! [`LimitsSpec`] sits on tenants, consumers and keys (in the store) and on
//! routes and models (in the file or the store); a request is held to every
//! set that applies to it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::price::Usd;

/// Limits on one entity. Every field is optional; an absent field does not
/// limit. Minute windows start on the minute, day windows at 00:00 UTC,
/// month windows on the 1st at 00:00 UTC.
///
/// Token and spend limits are enforced with reservations: before a call the
/// gateway reserves the prompt estimate plus the completion cap (and their
/// price), and settles to the provider's usage after, so concurrent calls
/// can never push usage past a limit by more than one request's worth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LimitsSpec {
    /// Requests started per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u64>,
    /// Prompt plus completion tokens per minute (AI routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    /// Prompt plus completion tokens per UTC day (AI routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_day: Option<u64>,
    /// Requests in flight at once (a stream counts until it ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_requests: Option<u64>,
    /// US dollars of model usage per UTC day (AI routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_per_day: Option<Usd>,
    /// US dollars of model usage per UTC calendar month (AI routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_per_month: Option<Usd>,
}

impl LimitsSpec {
    /// No field set: nothing is limited.
    pub fn is_empty(&self) -> bool {
        *self == LimitsSpec::default()
    }

    /// Every problem with these values, as `(field, message)`; `Ok` when
    /// none. Zero is allowed (it blocks everything, which is how an admin
    /// freezes a key without revoking it); negative spend is not.
    pub fn check(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        for (field, usd) in [
            ("spend_per_day", self.spend_per_day),
            ("spend_per_month", self.spend_per_month),
        ] {
            if let Some(usd) = usd
                && usd.micros() < 0
            {
                errors.push((field, format!("must not be negative, got {usd}")));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_round_trips() {
        let yaml = "requests_per_minute: 60\ntokens_per_minute: 1000\ntokens_per_day: 50000\n\
                    concurrent_requests: 4\nspend_per_day: 2.5\nspend_per_month: \"40\"\n";
        let spec: LimitsSpec = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(spec.requests_per_minute, Some(60));
        assert_eq!(spec.spend_per_day, Some(Usd(2_500_000)));
        assert_eq!(spec.spend_per_month, Some(Usd(40_000_000)));
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["spend_per_day"], "2.5");
        let back: LimitsSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, spec);
        assert!(!spec.is_empty());
        assert!(LimitsSpec::default().is_empty());
    }

    #[test]
    fn refuses_unknown_fields_and_negative_spend() {
        assert!(serde_json::from_str::<LimitsSpec>(r#"{"rpm":1}"#).is_err());
        let spec: LimitsSpec = serde_json::from_str(r#"{"spend_per_day":"-1"}"#).unwrap();
        let errors = spec.check().unwrap_err();
        assert_eq!(errors[0].0, "spend_per_day");
    }
}
