//! The stable error types that cross Lambda boundaries, and which of them are transient.
//!
//! A stage function reports its failure to Lambda with one of these names as `errorType`; the
//! durable-execution service records it on the orchestrator's chained invoke, and the
//! orchestrator decides from the name alone whether a retry can help. The names are part of the
//! operational contract (operators search logs for them): never rename one.

use std::fmt;

/// A stable error type reported by durapipe's stage functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    /// `ValidationError`: the message is invalid. Permanent.
    Validation,
    /// `InvalidEvent`: a stage received input it cannot parse (a wiring bug). Permanent.
    InvalidEvent,
    /// `StorageThrottled`: the table throttled the request. Transient.
    StorageThrottled,
    /// `StorageUnavailable`: the table could not be reached or failed internally. Transient.
    StorageUnavailable,
    /// `StorageError`: the table rejected the request. Permanent.
    Storage,
    /// `ConfigError`: the function is misconfigured. Permanent.
    Config,
}

impl ErrorType {
    /// Every error type, for tables and documentation.
    pub const ALL: [Self; 6] = [
        Self::Validation,
        Self::InvalidEvent,
        Self::StorageThrottled,
        Self::StorageUnavailable,
        Self::Storage,
        Self::Config,
    ];

    /// The wire name (Lambda's `errorType`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "ValidationError",
            Self::InvalidEvent => "InvalidEvent",
            Self::StorageThrottled => "StorageThrottled",
            Self::StorageUnavailable => "StorageUnavailable",
            Self::Storage => "StorageError",
            Self::Config => "ConfigError",
        }
    }

    /// Parses a wire name; `None` for names durapipe does not define.
    #[must_use]
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether a retry of the same request may succeed.
    #[must_use]
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::StorageThrottled | Self::StorageUnavailable)
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error types the Lambda platform itself reports for an invocation that may succeed if
/// repeated: the function timed out, or Lambda throttled or briefly failed the invoke.
pub const TRANSIENT_PLATFORM_ERROR_TYPES: &[&str] = &[
    "Sandbox.Timedout",
    "TooManyRequestsException",
    "ServiceException",
    "ResourceNotReadyException",
    "ResourceConflictException",
    "EC2ThrottledException",
    "ENILimitReachedException",
    "SubnetIPAddressLimitReachedException",
];

/// Whether a failure reported with this `errorType` is transient (worth retrying): one of
/// durapipe's transient types, or a transient Lambda platform error. Unknown types are
/// permanent: the message still returns to the queue and is redelivered by SQS.
#[must_use]
pub fn is_transient_error_type(name: &str) -> bool {
    ErrorType::from_wire(name).is_some_and(ErrorType::is_transient)
        || TRANSIENT_PLATFORM_ERROR_TYPES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_are_unique() {
        for t in ErrorType::ALL {
            assert_eq!(ErrorType::from_wire(t.as_str()), Some(t));
        }
        let mut names: Vec<_> = ErrorType::ALL.iter().map(|t| t.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorType::ALL.len());
    }

    #[test]
    fn transience_by_name() {
        let cases = [
            ("ValidationError", false),
            ("InvalidEvent", false),
            ("StorageThrottled", true),
            ("StorageUnavailable", true),
            ("StorageError", false),
            ("ConfigError", false),
            ("Sandbox.Timedout", true),
            ("TooManyRequestsException", true),
            ("Runtime.ExitError", false),
            ("SomethingElse", false),
            ("", false),
        ];
        for (name, transient) in cases {
            assert_eq!(is_transient_error_type(name), transient, "{name}");
        }
    }
}
