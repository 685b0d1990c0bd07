//! What the `map` (9.x) and `parallel` (8.x) suites share: batches run one item (or branch)
//! at a time to a completion config, and the projections of a batch result the requirements
//! return.

use std::future::Future;

use aws_durable_execution_sdk as durable;
use durable::builders::map_parallel::{BatchResult, CompletionConfig, MapBuilder, ParallelBuilder};
use durable::OperationError;
use serde_json::{json, Value};

use super::typed_err;
use crate::host::Host;

/// A map or parallel builder run the way most batch requirements run it.
pub(super) trait OneAtATime<O>: Sized {
    /// Names the operation `op`, runs one item (or branch) at a time, ends it by `config`,
    /// and awaits the whole batch result.
    fn one_at_a_time(
        self,
        op: &'static str,
        config: CompletionConfig,
    ) -> impl Future<Output = Result<BatchResult<O>, OperationError>> + Send;
}

/// [`OneAtATime::one_at_a_time`] through the builder's own `name`, `max_concurrency`,
/// `completion` and `await_batch`, which the map and parallel builders both have (the SDK has
/// no trait for them).
macro_rules! one_at_a_time_through_the_builder {
    () => {
        fn one_at_a_time(
            self,
            op: &'static str,
            config: CompletionConfig,
        ) -> impl Future<Output = Result<BatchResult<O>, OperationError>> + Send {
            self.name(op)
                .max_concurrency(1)
                .completion(config)
                .await_batch()
        }
    };
}

impl<I, O, F, Fut> OneAtATime<O> for MapBuilder<I, O, F, Fut>
where
    I: Send + 'static,
    O: Send + 'static + serde::Serialize + serde::de::DeserializeOwned,
    F: Fn(durable::DurableContext, I, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, durable::BoxError>> + Send + 'static,
{
    one_at_a_time_through_the_builder!();
}

impl<O> OneAtATime<O> for ParallelBuilder<O>
where
    O: Send + 'static + serde::Serialize + serde::de::DeserializeOwned,
{
    one_at_a_time_through_the_builder!();
}

/// Registers a batch requirement's handler: `build` makes the map or parallel (from the
/// context), which runs one at a time as `op`, ending by `config()`; the handler returns what
/// `finish` makes of the batch result.
pub(super) fn batch_handler<B, O, Bf, Cf, Ff>(
    host: &Host,
    name: &str,
    op: &'static str,
    build: Bf,
    config: Cf,
    finish: Ff,
) -> anyhow::Result<()>
where
    B: OneAtATime<O>,
    O: Send + 'static,
    Bf: Fn(&durable::DurableContext) -> B + Copy + Send + Sync + 'static,
    Cf: Fn() -> CompletionConfig + Copy + Send + Sync + 'static,
    Ff: Fn(&BatchResult<O>) -> Result<Value, durable::BoxError> + Copy + Send + Sync + 'static,
{
    host.durable(
        name,
        move |_: Value, ctx: durable::DurableContext| async move {
            let batch = build(&ctx).one_at_a_time(op, config()).await?;
            finish(&batch)
        },
    )
}

/// Which projection of a batch result a requirement returns.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    /// `{completionReason, status, successCount, failureCount, totalCount}`.
    WithStatus,
    /// `{completionReason, successCount, failureCount, totalCount}`.
    Counts,
    /// `{completionReason, successCount, totalCount}`.
    Successes,
}

/// The projection of a batch result the requirements return.
pub(super) fn projection<O>(batch: &BatchResult<O>, shape: Shape) -> Value {
    let mut v = json!({
        "completionReason": batch.reason.as_str(),
        "successCount": batch.success_count(),
        "totalCount": batch.total_count(),
    });
    if !matches!(shape, Shape::Successes) {
        v["failureCount"] = json!(batch.failure_count());
    }
    if let Shape::WithStatus = shape {
        v["status"] = json!(batch.status().as_str());
    }
    v
}

/// Fails as the batch's first failure did (its error type and message), if it has one;
/// otherwise its [`Shape::WithStatus`] projection.
pub(super) fn first_failure_or_projection<O>(
    batch: &BatchResult<O>,
) -> Result<Value, durable::BoxError> {
    if let Some(first) = batch.errors().first() {
        return Err(typed_err(
            first.error_type.unwrap_or("Error"),
            first.message,
        ));
    }
    Ok(projection(batch, Shape::WithStatus))
}
