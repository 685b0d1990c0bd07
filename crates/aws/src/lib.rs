//! durapipe-aws: the DynamoDB adapter of the record-table port ([`DynamoRecordTable`]).
//!
//! Contracts (the port's, pinned by `durapipe_core::record_table::conformance`, run against a
//! real moto server in `tests/moto.rs`):
//! - `put_if_absent` is a `PutItem` with `ConditionExpression: attribute_not_exists(execution_id)`;
//!   `ConditionalCheckFailedException` is [`PutOutcome::Duplicate`], a success, and the existing
//!   item is untouched.
//! - `get` is a strongly consistent `GetItem`; the item read back has exactly the eight
//!   attributes of DESIGN.md, and anything else is [`TableErrorKind::Malformed`].
//! - Failures are classified: throttling ([`TableErrorKind::Throttled`], `StorageThrottled`) and
//!   server-side or network failures ([`TableErrorKind::Unavailable`], `StorageUnavailable`) are
//!   transient; everything else ([`TableErrorKind::Rejected`], `StorageError`) is permanent.
//!   The AWS SDK has already retried transient failures by the time one surfaces here.
//!
//! JSON bodies are stored as native DynamoDB documents (see [`convert`]).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use durapipe_core::{PutOutcome, RecordTable, StoredItem, TableError, TableErrorKind};

pub mod convert;

/// The hash key attribute of the table.
pub const HASH_KEY: &str = "execution_id";

/// A [`RecordTable`] backed by a DynamoDB table (hash key `execution_id`, type `S`).
#[derive(Debug, Clone)]
pub struct DynamoRecordTable {
    client: Client,
    table_name: String,
}

impl DynamoRecordTable {
    /// An adapter for `table_name`, using `client` (which carries region, credentials and
    /// endpoint).
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        Self {
            client,
            table_name: table_name.into(),
        }
    }

    /// The DynamoDB table this adapter reads and writes.
    #[must_use]
    pub fn table_name(&self) -> &str {
        &self.table_name
    }
}

impl RecordTable for DynamoRecordTable {
    async fn put_if_absent(&self, item: &StoredItem) -> Result<PutOutcome, TableError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(convert::item_to_attributes(item)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", HASH_KEY)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Inserted),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                tracing::info!(
                    execution_id = %item.execution_id,
                    "item already stored; duplicate delivery"
                );
                Ok(PutOutcome::Duplicate)
            }
            Err(err) => Err(classify(err)),
        }
    }

    async fn get(&self, execution_id: &str) -> Result<Option<StoredItem>, TableError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .key(HASH_KEY, AttributeValue::S(execution_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        match output.item {
            None => Ok(None),
            Some(attributes) => convert::item_from_attributes(&attributes)
                .map(Some)
                .map_err(|e| TableError::new(TableErrorKind::Malformed, e)),
        }
    }
}

/// Error codes DynamoDB uses for throttling.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
];

/// Error codes for server-side failures worth retrying.
const UNAVAILABLE_CODES: &[&str] = &[
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionConflictException",
    "ReplicatedWriteConflictException",
];

/// Classifies an SDK failure into a [`TableError`] whose source is the SDK error.
fn classify<E, R>(err: SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if THROTTLING_CODES.contains(&code) {
                TableErrorKind::Throttled
            } else if UNAVAILABLE_CODES.contains(&code) {
                TableErrorKind::Unavailable
            } else {
                TableErrorKind::Rejected
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            TableErrorKind::Unavailable
        }
        _ => TableErrorKind::Rejected,
    };
    tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err), ?kind, "DynamoDB request failed");
    TableError::new(kind, err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        InternalServerError, ProvisionedThroughputExceededException, ResourceNotFoundException,
    };

    fn service(err: PutItemError) -> SdkError<PutItemError, HttpResponse> {
        let response = HttpResponse::new(500_u16.try_into().unwrap(), Vec::<u8>::new().into());
        SdkError::service_error(err, response)
    }

    #[test]
    fn service_errors_are_classified() {
        let cases = [
            (
                PutItemError::ProvisionedThroughputExceededException(
                    ProvisionedThroughputExceededException::builder()
                        .meta(
                            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                                .code("ProvisionedThroughputExceededException")
                                .build(),
                        )
                        .build(),
                ),
                TableErrorKind::Throttled,
            ),
            (
                PutItemError::InternalServerError(
                    InternalServerError::builder()
                        .meta(
                            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                                .code("InternalServerError")
                                .build(),
                        )
                        .build(),
                ),
                TableErrorKind::Unavailable,
            ),
            (
                PutItemError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .meta(
                            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                                .code("ResourceNotFoundException")
                                .build(),
                        )
                        .build(),
                ),
                TableErrorKind::Rejected,
            ),
        ];
        for (err, kind) in cases {
            let classified = classify(service(err));
            assert_eq!(classified.kind(), kind);
            assert!(std::error::Error::source(&classified).is_some());
        }
    }

    #[test]
    fn network_failures_are_unavailable() {
        let err: SdkError<PutItemError, HttpResponse> =
            SdkError::timeout_error("connect timed out");
        assert_eq!(classify(err).kind(), TableErrorKind::Unavailable);
        let err: SdkError<PutItemError, HttpResponse> = SdkError::construction_failure("bad input");
        assert_eq!(classify(err).kind(), TableErrorKind::Rejected);
    }
}
