//! [`StageError`]: the one error type the stage functions return across the Lambda boundary.

use durapipe_core::{ConfigError, ErrorType, TableError, ValidationError};

/// Why a stage function failed. Its [`error_type`](Self::error_type) is the Lambda `errorType`
/// the orchestrator reads to decide whether to retry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StageError {
    /// The message is invalid (`ValidationError`, permanent).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The stage's input does not have the stage's shape (`InvalidEvent`, permanent). The path
    /// is the JSON path that failed (`serde_path_to_error`), e.g. `message.data_source`.
    #[error("invalid {stage} input at `{path}`")]
    InvalidEvent {
        /// The stage that received it.
        stage: &'static str,
        /// The JSON path that failed (`.` for the whole input).
        path: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The stage's input is well-formed but inconsistent, e.g. an execution id that does not
    /// belong to the message (`InvalidEvent`, permanent).
    #[error("inconsistent {stage} input: {reason}")]
    InconsistentInput {
        /// The stage that received it.
        stage: &'static str,
        /// What does not match.
        reason: String,
    },
    /// Storing the item failed (`StorageThrottled` / `StorageUnavailable`, transient;
    /// `StorageError`, permanent).
    #[error("storing the item failed")]
    Storage(#[from] TableError),
    /// The function is misconfigured (`ConfigError`, permanent).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl StageError {
    /// The stable error type reported to Lambda (`errorType`).
    #[must_use]
    pub fn error_type(&self) -> ErrorType {
        match self {
            Self::Validation(e) => e.error_type(),
            Self::InvalidEvent { .. } | Self::InconsistentInput { .. } => ErrorType::InvalidEvent,
            Self::Storage(e) => e.error_type(),
            Self::Config(e) => e.error_type(),
        }
    }

    /// Whether the orchestrator should retry the stage.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.error_type().is_transient()
    }

    /// The message with its whole source chain, for Lambda's `errorMessage` and logs.
    #[must_use]
    pub fn full_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        message
    }

    pub(crate) fn invalid_event(
        stage: &'static str,
        err: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        Self::InvalidEvent {
            stage,
            path: err.path().to_string(),
            source: err.into_inner(),
        }
    }
}

impl From<StageError> for lambda_runtime::Diagnostic {
    fn from(err: StageError) -> Self {
        Self {
            error_type: err.error_type().as_str().to_owned(),
            error_message: err.full_message(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use durapipe_core::TableErrorKind;

    #[test]
    fn diagnostics_carry_the_stable_error_type() {
        let cases: Vec<(StageError, &str, bool)> = vec![
            (
                durapipe_core::validate("nope").unwrap_err().into(),
                "ValidationError",
                false,
            ),
            (
                TableError::from_kind(TableErrorKind::Throttled).into(),
                "StorageThrottled",
                true,
            ),
            (
                TableError::from_kind(TableErrorKind::Unavailable).into(),
                "StorageUnavailable",
                true,
            ),
            (
                TableError::from_kind(TableErrorKind::Rejected).into(),
                "StorageError",
                false,
            ),
            (
                durapipe_core::StageConfig::from_lookup(|_| None)
                    .unwrap_err()
                    .into(),
                "ConfigError",
                false,
            ),
            (
                StageError::InconsistentInput {
                    stage: "store",
                    reason: "x".into(),
                },
                "InvalidEvent",
                false,
            ),
        ];
        for (err, error_type, transient) in cases {
            assert_eq!(err.is_transient(), transient, "{err}");
            let diagnostic = lambda_runtime::Diagnostic::from(err);
            assert_eq!(diagnostic.error_type, error_type);
            assert!(!diagnostic.error_message.is_empty());
        }
    }

    #[test]
    fn full_message_walks_the_chain() {
        let err: StageError = durapipe_core::validate("{").unwrap_err().into();
        let message = err.full_message();
        assert!(
            message.starts_with("invalid message: `body` is not valid JSON: "),
            "{message}"
        );
        assert!(message.contains("EOF"), "{message}");
    }
}
