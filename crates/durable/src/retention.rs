//! Keeps the service bounded: finished executions are deleted once their retention has passed.
//!
//! Contracts:
//! - An execution that ended (SUCCEEDED, FAILED, TIMED_OUT, STOPPED) more than
//!   [`crate::Config::retention`] ago is deleted with its operations and history (rows of
//!   `dx_executions`, `dx_inputs`, `dx_operations`, `dx_events`, one batch per write); afterwards it is
//!   `ResourceNotFoundException` everywhere, as on AWS after `RetentionPeriodInDays`.
//! - A RUNNING execution is never deleted, nor a finished child whose parent is still RUNNING
//!   (recovery may dispatch the parent's chained invoke again, which must find the child).
//! - The sweep runs on the injected clock: at start-up, then every `retention / 4` (at least
//!   1 s, at most 1 h) of clock time; a manual clock that jumps 8 days triggers it at once.
//! - A deleted execution's slot is released from the slot cache (`slots.rs`).

use std::time::Duration;

use durapipe_sqlite::rusqlite::{params, Connection};

use crate::error::ApiError;
use crate::model::ExecStatus;
use crate::service::{DurableService, WeakService};
use crate::store::sql;

/// The default retention of a finished execution: 7 days after its end.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Executions deleted per database write (keeps each write transaction short).
const BATCH: i64 = 256;

/// The sweep's index: finished executions by end time (RUNNING ones have no `end_ms`).
const SCHEMA: &str = "CREATE INDEX IF NOT EXISTS dx_executions_end ON dx_executions(end_ms)
                      WHERE end_ms IS NOT NULL;";

/// Clock time between two sweeps for a retention.
pub(crate) fn sweep_interval(retention: Duration) -> Duration {
    (retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// Creates the sweep's index and starts the periodic sweep (it ends with the service).
pub(crate) async fn start(svc: &DurableService) -> Result<(), ApiError> {
    svc.db().write(|c| sql(c.execute_batch(SCHEMA))).await?;
    tokio::spawn(sweep_loop(svc.downgrade()));
    Ok(())
}

async fn sweep_loop(weak: WeakService) {
    loop {
        // Hold the service only while sweeping, so a dropped service ends the loop.
        let Some(svc) = weak.upgrade() else {
            return;
        };
        if svc.is_stopping() {
            return;
        }
        match svc.sweep_retention().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "retention: deleted finished executions"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        let interval = sweep_interval(svc.config().retention);
        let next = svc
            .clock()
            .now_ms()
            .saturating_add(i64::try_from(interval.as_millis()).unwrap_or(i64::MAX));
        let sleep = svc.clock().sleep_until(next);
        drop(svc);
        sleep.await;
    }
}

impl DurableService {
    /// Deletes now every finished execution whose end is more than [`crate::Config::retention`]
    /// before the clock's now (the periodic sweep calls this too). Returns how many were
    /// deleted.
    ///
    /// # Errors
    /// A storage error (executions deleted by earlier batches stay deleted).
    pub async fn sweep_retention(&self) -> Result<usize, ApiError> {
        let retention_ms = i64::try_from(self.config().retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = self.clock().now_ms().saturating_sub(retention_ms);
        let mut total = 0;
        loop {
            let deleted = self
                .db()
                .write(move |c| delete_expired(c, cutoff, BATCH))
                .await?;
            total += deleted.len();
            for arn in &deleted {
                self.slots().release(arn);
            }
            if i64::try_from(deleted.len()).unwrap_or(i64::MAX) < BATCH {
                return Ok(total);
            }
        }
    }

    /// How many executions have an in-memory slot (for tests and memory statistics: it stays
    /// bounded by the executions in use, not by every execution ever run).
    pub fn cached_executions(&self) -> usize {
        self.slots().len()
    }
}

/// Deletes up to `limit` executions that ended before `cutoff_ms`; returns their ARNs.
fn delete_expired(conn: &Connection, cutoff_ms: i64, limit: i64) -> Result<Vec<String>, ApiError> {
    let running = ExecStatus::Running.as_str();
    let mut select = sql(conn.prepare_cached(
        "SELECT e.id, e.arn FROM dx_executions e
         WHERE e.end_ms IS NOT NULL AND e.end_ms < ?1 AND e.status != ?2
           AND NOT EXISTS (SELECT 1 FROM dx_executions p
                           WHERE p.arn = json_extract(e.meta, '$.parent[0]') AND p.status = ?2)
         LIMIT ?3",
    ))?;
    let expired = sql(
        sql(select.query_map(params![cutoff_ms, running, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        }))?
        .collect::<Result<Vec<_>, _>>(),
    )?;
    for (table, key) in [
        ("dx_events", "exec_id"),
        ("dx_operations", "exec_id"),
        ("dx_inputs", "id"),
        ("dx_executions", "id"),
    ] {
        let mut delete =
            sql(conn.prepare_cached(&format!("DELETE FROM {table} WHERE {key} = ?1")))?;
        for (id, _) in &expired {
            sql(delete.execute([id]))?;
        }
    }
    Ok(expired.into_iter().map(|(_, arn)| arn).collect())
}

#[cfg(test)]
mod tests {
    //! The sweep's pacing: often enough for short retentions, at most hourly.
    use super::*;

    #[test]
    fn sweep_interval_is_a_quarter_of_the_retention_within_bounds() {
        assert_eq!(sweep_interval(DEFAULT_RETENTION), Duration::from_secs(3600));
        assert_eq!(
            sweep_interval(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(sweep_interval(Duration::ZERO), Duration::from_secs(1));
    }
}
