/// Who is to blame for a failure. Drives the status family at the edge,
/// whether the failure is logged as an error, and whether a retry can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The request was wrong (4xx): never logged as an error, never retried.
    Client,
    /// A limit or policy refused the request (401/403/429): expected traffic.
    Policy,
    /// The upstream failed or was unreachable (502/503/504): retry may help.
    Upstream,
    /// A bug or resource exhaustion inside the gateway (500).
    Internal,
}

impl ErrorClass {
    /// Stable label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Client => "client",
            ErrorClass::Policy => "policy",
            ErrorClass::Upstream => "upstream",
            ErrorClass::Internal => "internal",
        }
    }
}
