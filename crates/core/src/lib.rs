//! durapipe's pure core: the pipeline's domain, with no I/O, no AWS types and no async runtime.
//!
//! - [`message`]: the SQS message body and [`validate`] (the `validate` stage's rules; every
//!   rejection is a [`ValidationError`] naming the field, permanent).
//! - [`transform`](mod@transform): [`transform()`] (Unicode upper-casing of `data_source`,
//!   `processed_at` from an injected [`Clock`]).
//! - [`item`]: the [`StoredItem`] `store` writes, keyed by [`ExecutionId`]
//!   (`{ENVIRONMENT}-esm-{messageId}`).
//! - [`record_table`]: the [`RecordTable`] port (conditional put, read back) and the
//!   [`conformance`](record_table::conformance) suite every implementation runs.
//! - [`attribute`]: JSON values ↔ DynamoDB attribute values, for any representation of them.
//! - [`config`]: per-function configuration from environment variables; errors name the variable.
//! - [`error_type`]: the stable `errorType` names that cross Lambda boundaries, and which are
//!   transient; [`retry`]: the backoff policy the orchestrator applies to transient ones.
//!
//! Contracts: nothing here panics on input; validation is total (any string gets an answer,
//! however large or deeply nested); time is a parameter; every error type has a `kind()` and, when
//! it crosses a Lambda boundary, a stable `error_type()`.

pub mod attribute;
pub mod config;
pub mod error_type;
pub mod item;
pub mod message;
pub mod record_table;
pub mod retry;
pub mod transform;

pub use config::{
    ConfigError, ConfigErrorKind, Environment, FunctionRef, OrchestratorConfig, StageConfig,
    StoreConfig, TableName,
};
pub use error_type::{is_transient_error_type, ErrorType};
pub use item::{ExecutionId, PutOutcome, StoredItem};
pub use message::{validate, Field, ValidMessage, ValidationError, ValidationErrorKind};
pub use record_table::{RecordTable, TableError, TableErrorKind};
pub use retry::RetryPolicy;
pub use transform::{transform, Clock, FixedClock, SystemClock, TransformOutput};
