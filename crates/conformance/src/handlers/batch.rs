//! What the `map` (9.x) and `parallel` (8.x) suites share: batches run one item (or branch)
//! at a time to a completion config, the projections of a batch result the requirements
//! return, and the completion requirements both suites state alike (map 9.5 is parallel 8.6,
//! and so on), each suite making its own batch from the same outcomes.

use std::future::{Future, IntoFuture};

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

/// Registers a handler that returns the results (in order) of the batch `build` makes, already
/// named and configured, from the handler's input and context.
pub(super) fn results_handler<E, B, O, Bf>(host: &Host, name: &str, build: Bf) -> anyhow::Result<()>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    B: IntoFuture<Output = Result<Vec<O>, OperationError>>,
    B::IntoFuture: Send,
    O: serde::Serialize + Send + 'static,
    Bf: Fn(E, &durable::DurableContext) -> B + Copy + Send + Sync + 'static,
{
    host.durable(
        name,
        move |input: E, ctx: durable::DurableContext| async move { Ok(build(input, &ctx).await?) },
    )
}

/// How a suite makes its batch from outcomes, one item (or branch) each, in order: `true`
/// succeeds with `"ok"`, `false` fails.
pub(super) type FromOutcomes<B> = fn(&durable::DurableContext, &'static [bool]) -> B;

/// A batch requirement whose handler returns a projection of the batch result.
#[derive(Clone, Copy)]
pub(super) struct Projected {
    /// The operation's name.
    pub(super) op: &'static str,
    /// Each item's (or branch's) outcome, in order.
    pub(super) outcomes: &'static [bool],
    /// How the batch ends.
    pub(super) config: fn() -> CompletionConfig,
    /// The projection returned.
    pub(super) shape: Shape,
}

impl Projected {
    /// Registers the requirement's handler, on the batch `from` makes of the outcomes.
    pub(super) fn install<B, O>(
        self,
        host: &Host,
        name: &str,
        from: FromOutcomes<B>,
    ) -> anyhow::Result<()>
    where
        B: OneAtATime<O> + 'static,
        O: Send + 'static,
    {
        let Self {
            op,
            outcomes,
            config,
            shape,
        } = self;
        batch_handler(
            host,
            name,
            op,
            move |ctx| from(ctx, outcomes),
            config,
            move |batch| Ok(projection(batch, shape)),
        )
    }
}

/// Map 9.5, parallel 8.6: fail-fast (no failure tolerated): the second of three fails, the third
/// never starts.
pub(super) const FAIL_FAST: Projected = Projected {
    op: "failfast",
    outcomes: &[true, false, true],
    config: || CompletionConfig::with_tolerated_failure_count(0),
    shape: Shape::WithStatus,
};

/// Map 9.8, parallel 8.9: one failure tolerated; all three run.
pub(super) const TOLERATED: Projected = Projected {
    op: "tolerated",
    outcomes: &[true, false, true],
    config: || CompletionConfig::with_tolerated_failure_count(1),
    shape: Shape::WithStatus,
};

/// Map 9.9, parallel 8.10: one failure tolerated; the second failure stops the batch.
pub(super) const TOLERATED_EXCEEDED: Projected = Projected {
    op: "tolerated-exceeded",
    outcomes: &[false, false, true],
    config: || CompletionConfig::with_tolerated_failure_count(1),
    shape: Shape::Counts,
};

/// Map 9.10, parallel 8.13: 25 % of failures tolerated; the second failure (50 %) stops the
/// batch.
pub(super) const TOLERATED_PCT: Projected = Projected {
    op: "tolerated-pct",
    outcomes: &[false, false, true, true],
    config: || CompletionConfig::with_tolerated_failure_percentage(25),
    shape: Shape::Counts,
};

/// Map 9.6, parallel 8.7: fail-fast over a failure then a success; the handler re-raises the
/// batch's first failure.
pub(super) fn throwing<B, O>(host: &Host, name: &str, from: FromOutcomes<B>) -> anyhow::Result<()>
where
    B: OneAtATime<O> + 'static,
    O: Send + 'static,
{
    batch_handler(
        host,
        name,
        "throwing",
        move |ctx| from(ctx, &[false, true]),
        || CompletionConfig::with_tolerated_failure_count(0),
        first_failure_or_projection,
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
