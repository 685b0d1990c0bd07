//! The record-table port: where `store` puts items. Implemented by the DynamoDB adapter
//! (`durapipe-aws`) and the local stack's SQLite table; both run [`conformance::run_suite`].

use std::future::Future;
use std::sync::Arc;

use crate::error_type::ErrorType;
use crate::item::{PutOutcome, StoredItem};

pub mod conformance;

/// A table of [`StoredItem`]s keyed by `execution_id`.
///
/// Contract (pinned by [`conformance::run_suite`]):
/// - [`put_if_absent`](Self::put_if_absent) writes the item only if no item with the same
///   `execution_id` exists (`attribute_not_exists(execution_id)`); otherwise it reports
///   [`PutOutcome::Duplicate`], not an error, and leaves the existing item unchanged.
/// - [`get`](Self::get) returns the item exactly as it was put (same attributes, same values).
/// - Failures are classified by [`TableErrorKind`], so callers can tell transient from permanent.
pub trait RecordTable: Send + Sync {
    /// Puts `item` unless an item with its `execution_id` exists.
    fn put_if_absent(
        &self,
        item: &StoredItem,
    ) -> impl Future<Output = Result<PutOutcome, TableError>> + Send;

    /// Reads the item with this `execution_id`, if any.
    fn get(
        &self,
        execution_id: &str,
    ) -> impl Future<Output = Result<Option<StoredItem>, TableError>> + Send;
}

impl<T: RecordTable> RecordTable for &T {
    fn put_if_absent(
        &self,
        item: &StoredItem,
    ) -> impl Future<Output = Result<PutOutcome, TableError>> + Send {
        (**self).put_if_absent(item)
    }

    fn get(
        &self,
        execution_id: &str,
    ) -> impl Future<Output = Result<Option<StoredItem>, TableError>> + Send {
        (**self).get(execution_id)
    }
}

impl<T: RecordTable> RecordTable for Arc<T> {
    fn put_if_absent(
        &self,
        item: &StoredItem,
    ) -> impl Future<Output = Result<PutOutcome, TableError>> + Send {
        (**self).put_if_absent(item)
    }

    fn get(
        &self,
        execution_id: &str,
    ) -> impl Future<Output = Result<Option<StoredItem>, TableError>> + Send {
        (**self).get(execution_id)
    }
}

/// The boxed cause a [`TableError`] carries.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A record-table request failed. The kind classifies; the cause is in `source()`.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct TableError {
    kind: TableErrorKind,
    #[source]
    source: Option<BoxError>,
}

impl TableError {
    /// A failure of `kind` caused by `source`.
    pub fn new(kind: TableErrorKind, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// A failure of `kind` with no further cause.
    #[must_use]
    pub fn from_kind(kind: TableErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> TableErrorKind {
        self.kind
    }

    /// Whether retrying the same request may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// The stable error type reported across Lambda boundaries.
    #[must_use]
    pub fn error_type(&self) -> ErrorType {
        self.kind.error_type()
    }
}

/// Classification of record-table failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableErrorKind {
    /// The table throttled the request (capacity exceeded). Transient: `StorageThrottled`.
    #[error("the table throttled the request")]
    Throttled,
    /// The table could not be reached, timed out or failed internally. Transient:
    /// `StorageUnavailable`.
    #[error("the table is unavailable")]
    Unavailable,
    /// The table rejected the request (missing table, access denied, invalid item, item too
    /// large). Permanent: `StorageError`.
    #[error("the table rejected the request")]
    Rejected,
    /// A stored item could not be read back as a [`StoredItem`]. Permanent: `StorageError`.
    #[error("a stored item is malformed")]
    Malformed,
}

impl TableErrorKind {
    /// Whether retrying the same request may succeed.
    #[must_use]
    pub const fn is_transient(self) -> bool {
        self.error_type().is_transient()
    }

    /// The stable error type reported across Lambda boundaries.
    #[must_use]
    pub const fn error_type(self) -> ErrorType {
        match self {
            Self::Throttled => ErrorType::StorageThrottled,
            Self::Unavailable => ErrorType::StorageUnavailable,
            Self::Rejected | Self::Malformed => ErrorType::Storage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_stable_error_types() {
        let cases = [
            (TableErrorKind::Throttled, "StorageThrottled", true),
            (TableErrorKind::Unavailable, "StorageUnavailable", true),
            (TableErrorKind::Rejected, "StorageError", false),
            (TableErrorKind::Malformed, "StorageError", false),
        ];
        for (kind, name, transient) in cases {
            let err = TableError::new(kind, "cause");
            assert_eq!(err.error_type().as_str(), name);
            assert_eq!(err.is_transient(), transient);
            assert_eq!(err.kind(), kind);
            assert_eq!(
                std::error::Error::source(&err).map(ToString::to_string),
                Some("cause".to_owned())
            );
        }
    }
}
