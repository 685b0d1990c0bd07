//! durapipe-workflow: the pipeline's handlers, shared by the AWS Lambda functions
//! (`functions/*`) and the local stack, which call exactly these functions.
//!
//! - [`orchestrator`]: [`orchestrate`], the durable function behind the SQS event source
//!   mapping. The only code that uses the durable SDK's `DurableContext`.
//! - [`stages`]: [`validate_handler`], [`transform_handler`], [`store_handler`].
//! - [`StageError`]: what a stage returns across the Lambda boundary, with a stable
//!   `errorType` (`ValidationError`, `InvalidEvent`, `StorageThrottled`, `StorageUnavailable`,
//!   `StorageError`, `ConfigError`).
//!
//! # Stage input/output shapes
//!
//! The orchestrator invokes the stages with these JSON payloads (`message` is always the
//! original body object; each stage validates it again when parsing):
//!
//! ```text
//! validate  in   {"message_id": "m-1", "body": "{\"data_source\":\"test.csv\",\"processing_type\":\"standard\"}"}
//!           out  {"message_id": "m-1", "message": {"data_source": "test.csv", "processing_type": "standard"}}
//! transform in   {"message_id": "m-1", "execution_id": "dev-esm-m-1", "message": {…}}
//!           out  {"data_source": "TEST.CSV", "processing_type": "standard",
//!                 "processed_at": "2024-05-01T12:00:00.000Z", "execution_id": "dev-esm-m-1",
//!                 "transformation_applied": "uppercase_data_source"}
//! store     in   {"message_id": "m-1", "durable_execution_arn": "arn:…", "message": {…},
//!                 "transformed": {…transform's output…}}
//!           out  {"execution_id": "dev-esm-m-1", "outcome": "inserted" | "duplicate"}
//! ```
//!
//! The orchestrator's own input is the SQS event (AWS's JSON, `{"Records":[…]}`) and its output
//! is `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}, …]}`.
//!
//! # Contracts
//! - A handler never panics on its input; a malformed input is `InvalidEvent` with the JSON path.
//! - Transient failures (`StorageThrottled`, `StorageUnavailable`, Lambda throttling and
//!   timeouts) are retried by the orchestrator with backoff and deterministic jitter; permanent
//!   ones (`ValidationError`, ...) are not. A record that still fails is listed in
//!   `batchItemFailures`, so SQS redelivers it and, after `maxReceiveCount`, moves it to the DLQ.
//! - Storing is idempotent: a redelivered message finds its item and reports `duplicate`.

pub mod error;
pub mod lambda;
pub mod orchestrator;
pub mod stages;

pub use error::StageError;
pub use orchestrator::{
    orchestrate, orchestrate_with, sdk_options, BatchItemFailure, BatchResponse, InvalidEvent,
    RecordFailure, RecordLayout, RecordOutcome, RecordResult, Stage,
};
pub use stages::{
    store_handler, transform_handler, validate_handler, StoreInput, StoreOutput, TransformInput,
    ValidateInput, ValidateOutput,
};
