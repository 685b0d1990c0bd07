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
    /// `CreateTable` for a table that exists.
    #[error("Table already exists: {0}")]
    ResourceInUse(String),
    /// A `ConditionExpression` evaluated to false.
    #[error("The conditional request failed")]
    ConditionalCheckFailed,
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
            Self::ConditionalCheckFailed => "ConditionalCheckFailedException",
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
