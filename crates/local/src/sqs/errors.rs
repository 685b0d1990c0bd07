//! SQS errors: one type for the store and the HTTP facade, with the wire codes SQS uses.

use axum::http::StatusCode;
use durapipe_sqlite::DbError;

use crate::wire::WireError;

/// An SQS operation failed. The `Display` text is the message SQS would send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqsError {
    /// No queue with that name or URL.
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    /// `CreateQueue` named an existing queue with different attribute values.
    #[error("A queue already exists with the same name and a different value for attribute {0}")]
    QueueNameExists(String),
    /// A receipt handle that this service never issued.
    #[error("The input receipt handle \"{0}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid(String),
    /// `ChangeMessageVisibility` on a message that is not in flight.
    #[error("Message does not exist or is not available for visibility timeout change.")]
    MessageNotInflight,
    /// A parameter has an invalid value; the text is the whole message.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// A required parameter is missing.
    #[error("The request must contain the parameter {0}.")]
    MissingParameter(String),
    /// An unknown queue attribute name.
    #[error("Unknown Attribute {0}.")]
    InvalidAttributeName(String),
    /// A queue attribute with an invalid value.
    #[error("Invalid value for the parameter {0}.")]
    InvalidAttributeValue(String),
    /// A message body with characters SQS does not allow.
    #[error("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")]
    InvalidMessageContents,
    /// A batch request without entries.
    #[error("There should be at least one entry in the request.")]
    EmptyBatchRequest,
    /// A batch request with more than ten entries.
    #[error("Maximum number of entries per request are 10. You have sent {0}.")]
    TooManyEntriesInBatchRequest(usize),
    /// Two entries of one batch share an id.
    #[error("Id {0} repeated.")]
    BatchEntryIdsNotDistinct(String),
    /// A batch entry id with characters other than letters, digits, `-` and `_`, or too long.
    #[error("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")]
    InvalidBatchEntryId,
    /// The messages of a batch together are too long.
    #[error("Batch requests cannot be longer than {0} bytes.")]
    BatchRequestTooLong(usize),
    /// A feature this local stack does not implement (FIFO queues, for example).
    #[error("{0}")]
    UnsupportedOperation(String),
    /// No such resource (a message move task); the text says which.
    #[error("{0}")]
    ResourceNotFound(String),
    /// The database failed.
    #[error("internal database error")]
    Db(#[from] DbError),
}

impl From<durapipe_sqlite::rusqlite::Error> for SqsError {
    fn from(e: durapipe_sqlite::rusqlite::Error) -> Self {
        Self::Db(DbError::from(e))
    }
}

impl SqsError {
    /// The error's short name as in the `__type` member (`QueueDoesNotExist`, ...).
    pub fn code(&self) -> &'static str {
        self.wire_parts().0
    }

    /// Shorthand for an `InvalidParameterValue` about one parameter.
    pub(crate) fn invalid_value(
        value: impl std::fmt::Display,
        parameter: &str,
        reason: &str,
    ) -> Self {
        Self::InvalidParameterValue(format!(
            "Value {value} for parameter {parameter} is invalid. Reason: {reason}"
        ))
    }

    /// (short `__type` name, namespace is coral, `x-amzn-query-error` code, status, sender fault).
    fn wire_parts(&self) -> (&'static str, bool, &'static str, StatusCode, bool) {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            Self::QueueDoesNotExist => (
                "QueueDoesNotExist",
                false,
                "AWS.SimpleQueueService.NonExistentQueue",
                bad,
                true,
            ),
            Self::QueueNameExists(_) => ("QueueNameExists", false, "QueueAlreadyExists", bad, true),
            Self::ReceiptHandleIsInvalid(_) => (
                "ReceiptHandleIsInvalid",
                false,
                "ReceiptHandleIsInvalid",
                StatusCode::NOT_FOUND,
                true,
            ),
            Self::MessageNotInflight => (
                "MessageNotInflight",
                false,
                "AWS.SimpleQueueService.MessageNotInflight",
                bad,
                true,
            ),
            Self::InvalidParameterValue(_) => (
                "InvalidParameterValueException",
                true,
                "InvalidParameterValue",
                bad,
                true,
            ),
            Self::MissingParameter(_) => (
                "MissingRequiredParameterException",
                true,
                "MissingParameter",
                bad,
                true,
            ),
            Self::InvalidAttributeName(_) => (
                "InvalidAttributeName",
                false,
                "InvalidAttributeName",
                bad,
                true,
            ),
            Self::InvalidAttributeValue(_) => (
                "InvalidAttributeValue",
                false,
                "InvalidAttributeValue",
                bad,
                true,
            ),
            Self::InvalidMessageContents => (
                "InvalidMessageContents",
                false,
                "InvalidMessageContents",
                bad,
                true,
            ),
            Self::EmptyBatchRequest => (
                "EmptyBatchRequest",
                false,
                "AWS.SimpleQueueService.EmptyBatchRequest",
                bad,
                true,
            ),
            Self::TooManyEntriesInBatchRequest(_) => (
                "TooManyEntriesInBatchRequest",
                false,
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                bad,
                true,
            ),
            Self::BatchEntryIdsNotDistinct(_) => (
                "BatchEntryIdsNotDistinct",
                false,
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                bad,
                true,
            ),
            Self::InvalidBatchEntryId => (
                "InvalidBatchEntryId",
                false,
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                bad,
                true,
            ),
            Self::BatchRequestTooLong(_) => (
                "BatchRequestTooLong",
                false,
                "AWS.SimpleQueueService.BatchRequestTooLong",
                bad,
                true,
            ),
            Self::UnsupportedOperation(_) => (
                "UnsupportedOperation",
                false,
                "AWS.SimpleQueueService.UnsupportedOperation",
                bad,
                true,
            ),
            Self::ResourceNotFound(_) => (
                "ResourceNotFoundException",
                false,
                "ResourceNotFoundException",
                bad,
                true,
            ),
            Self::Db(_) => (
                "InternalFailure",
                true,
                "InternalFailure",
                StatusCode::INTERNAL_SERVER_ERROR,
                false,
            ),
        }
    }

    /// The error as sent on the wire.
    pub fn to_wire(&self) -> WireError {
        let (name, coral, query, status, sender) = self.wire_parts();
        let error_type = if coral {
            format!("com.amazon.coral.service#{name}")
        } else {
            format!("com.amazonaws.sqs#{name}")
        };
        let fault = if sender { "Sender" } else { "Receiver" };
        let message = match self {
            Self::Db(e) => crate::wire::database_failure(e),
            _ => self.to_string(),
        };
        WireError {
            status,
            error_type,
            message,
            query_error: Some(format!("{query};{fault}")),
        }
    }

    /// Whether this is a batch entry's own failure (reported in `Failed`), not the request's.
    pub(crate) fn sender_fault(&self) -> bool {
        self.wire_parts().4
    }
}
