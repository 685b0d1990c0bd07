//! The web console (`GET /`): static HTML, CSS and JavaScript embedded in the binary at compile
//! time, plus a few read endpoints under `/_durapipe/console/` for what no AWS API answers, and
//! `GET /metrics` (Prometheus text; served even when the console is off).
//!
//! The page reads through the same public APIs as the CLI (SQS and DynamoDB AWS JSON, the
//! Lambda durable-execution REST APIs) with same-origin `fetch`; the console's own endpoints
//! are documented in `docs/local-stack.md`. Its one write of its own (dead-letter redrive)
//! requires the `x-durapipe-console: 1` header and a JSON body, which a cross-site form or
//! simple request cannot send, and refuses a foreign `Origin`.

mod api;
mod assets;
pub mod metrics;

use std::sync::{Arc, OnceLock};

use axum::routing::{get, post};
use axum::Router;
use durapipe_durable::DurableService;
use durapipe_sqlite::Database;

use crate::esm::EsmStatsHandle;
use crate::sqs::Queues;
use crate::stack::FunctionNames;

/// What the console and the metrics read: the stack's stores, names and settings.
#[derive(Debug, Clone)]
pub struct StackView {
    /// The queue store.
    pub queues: Queues,
    /// The durable-execution service.
    pub service: DurableService,
    /// The shared database.
    pub db: Database,
    /// The data-processing queue's name.
    pub queue: String,
    /// The dead-letter queue's name.
    pub dlq: String,
    /// The processed-data table's name.
    pub table: String,
    /// The durable functions' names (the orchestrator and its stages).
    pub functions: FunctionNames,
    /// How many times faster than the wall clock durable time runs.
    pub time_scale: f64,
    /// The event source mapping's counters, once it runs.
    pub esm: Arc<OnceLock<EsmStatsHandle>>,
}

/// The console's routes: `/`, `/console/{asset}` and `/_durapipe/console/...`.
pub fn router(view: Arc<StackView>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/console/{file}", get(assets::asset))
        .route("/_durapipe/console/config", get(api::config))
        .route("/_durapipe/console/operations", get(api::operations))
        .route("/_durapipe/console/dead-letters", get(api::dead_letters))
        .route(
            "/_durapipe/console/dead-letters/redrive",
            post(api::redrive),
        )
        .with_state(view)
}
