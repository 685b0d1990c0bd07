//! `GET /metrics`: the stack's numbers in Prometheus' text exposition format (version 0.0.4).
//! Names and labels are an interface (docs/local-stack.md lists them); they are only ever
//! added to, never renamed.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use durapipe_sqlite::histogram::HistogramSnapshot;

use super::StackView;
use crate::stack as process;

/// The `/metrics` route (served whether or not the console is on).
pub fn router(view: Arc<StackView>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(view)
}

async fn metrics(State(view): State<Arc<StackView>>) -> Response {
    match render(&view).await {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the metrics: {e}\n"),
        )
            .into_response(),
    }
}

/// Writes one metric family's header.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped as the text format wants (`\`, `"` and newlines).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    family(out, name, "histogram", help);
    for (bound, n) in &h.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.sum_seconds);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

/// The whole exposition.
///
/// # Errors
/// The text of a storage error.
pub async fn render(view: &StackView) -> Result<String, String> {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "durapipe_queue_messages",
        "gauge",
        "Messages in a queue, by state (visible, in_flight, delayed).",
    );
    let mut dlq_depth = 0;
    for queue in [&view.queue, &view.dlq] {
        let c = view.queues.counts(queue).await.map_err(|e| e.to_string())?;
        let q = label(queue);
        for (state, n) in [
            ("visible", c.visible),
            ("in_flight", c.not_visible),
            ("delayed", c.delayed),
        ] {
            let _ = writeln!(
                out,
                "durapipe_queue_messages{{queue=\"{q}\",state=\"{state}\"}} {n}"
            );
        }
        if queue == &view.dlq {
            dlq_depth = c.visible + c.not_visible + c.delayed;
        }
    }
    family(
        &mut out,
        "durapipe_dlq_messages",
        "gauge",
        "Messages in the dead-letter queue.",
    );
    let _ = writeln!(
        out,
        "durapipe_dlq_messages{{queue=\"{}\"}} {dlq_depth}",
        label(&view.dlq)
    );

    family(
        &mut out,
        "durapipe_executions",
        "gauge",
        "Stored durable executions, by status.",
    );
    let by_status = view
        .service
        .executions_by_status()
        .await
        .map_err(|e| e.to_string())?;
    for (status, n) in by_status {
        let _ = writeln!(
            out,
            "durapipe_executions{{status=\"{}\"}} {n}",
            status.as_str()
        );
    }
    family(
        &mut out,
        "durapipe_invocations_total",
        "counter",
        "Handler invocations of durable functions since start.",
    );
    let _ = writeln!(
        out,
        "durapipe_invocations_total {}",
        view.service.invocations()
    );
    family(
        &mut out,
        "durapipe_checkpoints_total",
        "counter",
        "Checkpoints accepted since start.",
    );
    let _ = writeln!(
        out,
        "durapipe_checkpoints_total {}",
        view.service.checkpoints()
    );
    histogram(
        &mut out,
        "durapipe_checkpoint_latency_seconds",
        "Time from a checkpoint request to its committed answer.",
        &view.service.checkpoint_latency(),
    );
    histogram(
        &mut out,
        "durapipe_db_commit_seconds",
        "Time of each group commit (one WAL fsync under full durability).",
        &view.db.commit_latency(),
    );
    let db = view.db.stats();
    family(
        &mut out,
        "durapipe_db_commits_total",
        "counter",
        "Group commits since start.",
    );
    let _ = writeln!(out, "durapipe_db_commits_total {}", db.commits);
    family(
        &mut out,
        "durapipe_db_writes_total",
        "counter",
        "Write transactions since start (several share one commit).",
    );
    let _ = writeln!(out, "durapipe_db_writes_total {}", db.writes);
    family(
        &mut out,
        "durapipe_db_size_bytes",
        "gauge",
        "Size of the database file and its write-ahead log.",
    );
    let _ = writeln!(
        out,
        "durapipe_db_size_bytes {}",
        process::db_bytes(view.db.path())
    );

    let esm = view.esm.get().map(|h| h.stats()).unwrap_or_default();
    family(
        &mut out,
        "durapipe_messages_processed_total",
        "counter",
        "Messages the pipeline processed and deleted from the queue since start.",
    );
    let _ = writeln!(out, "durapipe_messages_processed_total {}", esm.succeeded);
    family(
        &mut out,
        "durapipe_messages_failed_total",
        "counter",
        "Messages returned to the queue after a failed attempt since start.",
    );
    let _ = writeln!(out, "durapipe_messages_failed_total {}", esm.failed);
    family(
        &mut out,
        "durapipe_batches_total",
        "counter",
        "Batches the event source mapping delivered since start.",
    );
    let _ = writeln!(out, "durapipe_batches_total {}", esm.batches);

    family(
        &mut out,
        "durapipe_time_scale",
        "gauge",
        "How many times faster than the wall clock durable time runs (--time-scale).",
    );
    let _ = writeln!(out, "durapipe_time_scale {}", view.time_scale);
    if let Some(kb) = process::status_kb("VmRSS:") {
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident set size of the stack's process.",
        );
        let _ = writeln!(out, "process_resident_memory_bytes {}", kb * 1024);
    }
    if let Some(ms) = process::cpu_ms() {
        family(
            &mut out,
            "process_cpu_seconds_total",
            "counter",
            "CPU time (user and system) the stack's process used.",
        );
        let _ = writeln!(out, "process_cpu_seconds_total {}", ms as f64 / 1000.0);
    }
    Ok(out)
}
