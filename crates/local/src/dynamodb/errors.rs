//! DynamoDB errors with their wire codes.

use axum::http::StatusCode;
use durapipe_sqlite::DbError;

use crate::wire::WireError;

/// A DynamoDB operation failed. The `Display` text is the message DynamoDB would send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DdbError {
    /// The table does not exist.
    #[error("Requested resource not found: Table: {0} not found")]
    ResourceNotFound(String),
    /// The table does not exist (the backup operations' error).
    #[error("Table not found: {0}")]
    TableNotFound(String),
    /// `CreateTable` for a table that exists.
    #[error("Table already exists: {0}")]
    ResourceInUse(String),
    /// A `ConditionExpression` evaluated to false.
    #[error("The conditional request failed")]
    ConditionalCheckFailed,
    /// A transaction was cancelled; one reason per item, in order.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", .0.iter().map(CancellationReason::code).collect::<Vec<_>>().join(", "))]
    TransactionCanceled(Vec<CancellationReason>),
    /// A `ClientRequestToken` reused with a different request.
    #[error("The request uses the same client token as a previous, but non-identical request.")]
    IdempotentParameterMismatch,
    /// The request is invalid; the text says why.
    #[error("{0}")]
    Validation(String),
    /// The database failed.
    #[error("internal database error")]
    Db(#[from] DbError),
}

impl From<durapipe_sqlite::rusqlite::Error> for DdbError {
    fn from(e: durapipe_sqlite::rusqlite::Error) -> Self {
        Self::Db(DbError::from(e))
    }
}

/// Why one item of a cancelled transaction failed (or `None`: it did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellationReason {
    /// This item's condition held.
    None,
    /// This item's condition failed.
    ConditionalCheckFailed,
}

impl CancellationReason {
    /// The reason's `Code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::None => "None",
            Self::ConditionalCheckFailed => "ConditionalCheckFailed",
        }
    }

    /// The `CancellationReasons` entry.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Self::None => serde_json::json!({ "Code": "None" }),
            Self::ConditionalCheckFailed => serde_json::json!({
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed"
            }),
        }
    }
}

impl DdbError {
    /// Shorthand for a `ValidationException`.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    /// The error's short name as in `__type` (`ResourceNotFoundException`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceInUse(_) => "ResourceInUseException",
            Self::TableNotFound(_) => "TableNotFoundException",
            Self::ConditionalCheckFailed => "ConditionalCheckFailedException",
            Self::TransactionCanceled(_) => "TransactionCanceledException",
            Self::IdempotentParameterMismatch => "IdempotentParameterMismatchException",
            Self::Validation(_) => "ValidationException",
            Self::Db(_) => "InternalServerError",
        }
    }

    /// The error as sent on the wire.
    pub fn to_wire(&self) -> WireError {
        let namespace = match self {
            Self::Validation(_) => "com.amazon.coral.validate",
            _ => "com.amazonaws.dynamodb.v20120810",
        };
        let status = match self {
            Self::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let message = match self {
            Self::Db(e) => crate::wire::database_failure(e),
            _ => self.to_string(),
        };
        WireError {
            status,
            error_type: format!("{namespace}#{}", self.code()),
            message,
            query_error: None,
        }
    }
}
