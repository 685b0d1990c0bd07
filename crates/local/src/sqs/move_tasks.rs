//! Message move tasks (`sqs_move_tasks`): SQS's dead-letter redrive API
//! (`StartMessageMoveTask`, `ListMessageMoveTasks`, `CancelMessageMoveTask`).
//!
//! A task moves the messages a dead-letter queue held when it started — to `DestinationArn`,
//! or back to the queue each message was dead-lettered from — in rounds of at most
//! `MaxNumberOfMessagesPerSecond` messages a second (500 a round without a rate), each round
//! one transaction. Moved messages are visible at once with a receive count of 0. A task that
//! was running when the stack stopped is marked `FAILED` when the stack opens again.

use std::time::Duration;

use durapipe_sqlite::rusqlite::{params, Connection, OptionalExtension};

use super::errors::SqsError;
use super::messages::{load_queue, redrive_of};
use super::store::Queues;

/// Messages a round moves when the task has no rate.
const ROUND_WITHOUT_RATE: i64 = 500;
/// The largest `MaxNumberOfMessagesPerSecond` (as SQS).
pub const MAX_RATE: i64 = 500;

/// One move task, as `ListMessageMoveTasks` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    /// The handle (`CancelMessageMoveTask` takes it).
    pub handle: String,
    /// The dead-letter queue moved from.
    pub source: String,
    /// The queue moved to; `None`: each message's original queue.
    pub destination: Option<String>,
    /// Messages per second, if limited.
    pub rate: Option<i64>,
    /// `RUNNING`, `COMPLETED`, `CANCELLING`, `CANCELLED` or `FAILED`.
    pub status: String,
    /// Messages moved so far.
    pub moved: i64,
    /// Messages the source held when the task started.
    pub to_move: i64,
    /// When it started (ms since the epoch).
    pub started_ms: i64,
    /// Why it failed, if it did.
    pub failure: Option<String>,
}

/// Marks tasks that were running when the stack stopped as failed (run at open).
pub(super) fn fail_interrupted(conn: &Connection) -> Result<(), SqsError> {
    conn.execute(
        "UPDATE sqs_move_tasks SET status = 'FAILED',
                failure = 'The stack stopped while the task ran; start a new task.'
          WHERE status = 'RUNNING'",
        [],
    )?;
    Ok(())
}

/// Queues whose redrive policy names `dead_letter_queue`, sorted.
pub(super) fn sources_of(
    conn: &Connection,
    dead_letter_queue: &str,
) -> Result<Vec<String>, SqsError> {
    let mut stmt = conn.prepare("SELECT name FROM sqs_queues ORDER BY name")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for name in names {
        let row = load_queue(conn, &name)?;
        let policy = row.as_ref().and_then(redrive_of);
        if policy.is_some_and(|p| p.dead_letter_queue == dead_letter_queue) {
            out.push(name);
        }
    }
    Ok(out)
}

fn task_of(r: &durapipe_sqlite::rusqlite::Row<'_>) -> durapipe_sqlite::rusqlite::Result<MoveTask> {
    Ok(MoveTask {
        handle: r.get(0)?,
        source: r.get(1)?,
        destination: r.get(2)?,
        rate: r.get(3)?,
        status: r.get(4)?,
        moved: r.get(5)?,
        to_move: r.get(6)?,
        started_ms: r.get(7)?,
        failure: r.get(8)?,
    })
}

const TASK_COLUMNS: &str =
    "handle, source, destination, rate, status, moved, to_move, started_ms, failure";

/// One round of a task inside a write: moves up to `round` messages; returns whether the task
/// is still running afterwards.
fn run_round(conn: &Connection, handle: &str, now: i64) -> Result<bool, SqsError> {
    let task = conn
        .query_row(
            &format!("SELECT {TASK_COLUMNS}, last_seq FROM sqs_move_tasks WHERE handle = ?1"),
            [handle],
            |r| Ok((task_of(r)?, r.get::<_, i64>(9)?)),
        )
        .optional()?;
    let Some((task, last_seq)) = task else {
        return Ok(false);
    };
    if task.status != "RUNNING" {
        return Ok(false);
    }
    let round = task.rate.unwrap_or(ROUND_WITHOUT_RATE);
    let mut stmt = conn.prepare(
        "SELECT seq, dead_letter_source FROM sqs_messages
          WHERE queue = ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
    )?;
    let batch = stmt
        .query_map(params![task.source, last_seq, round], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut moved = 0i64;
    let mut failure = None;
    for (seq, origin) in &batch {
        let target = task.destination.clone().or_else(|| origin.clone());
        let Some(target) = target.filter(|t| matches!(load_queue(conn, t), Ok(Some(_)))) else {
            failure = Some(format!(
                "A message has no source queue to return to (it was not dead-lettered by a redrive policy, or its queue was deleted): {}; give DestinationArn.",
                task.source
            ));
            break;
        };
        conn.execute(
            "UPDATE sqs_messages SET queue = ?2, visible_at_ms = ?3, receive_count = 0,
                    first_receive_ms = NULL, receipt_handle = NULL, dead_letter_source = NULL
              WHERE seq = ?1",
            params![seq, target, now],
        )?;
        moved += 1;
    }
    let done = failure.is_none() && i64::try_from(batch.len()).unwrap_or(0) < round;
    let status = match (&failure, done) {
        (Some(_), _) => "FAILED",
        (None, true) => "COMPLETED",
        (None, false) => "RUNNING",
    };
    conn.execute(
        "UPDATE sqs_move_tasks SET moved = moved + ?2, status = ?3, failure = ?4 WHERE handle = ?1",
        params![handle, moved, status, failure],
    )?;
    Ok(status == "RUNNING")
}

impl Queues {
    /// Starts moving the messages of dead-letter queue `source` to `destination` (or back to
    /// their original queues); returns the task handle. The task runs in the background.
    ///
    /// # Errors
    /// `QueueDoesNotExist` for either queue; `InvalidParameterValue` when `source` is no
    /// queue's dead-letter queue, a task already runs on it, or the rate is out of range.
    pub async fn start_move_task(
        &self,
        source: &str,
        destination: Option<&str>,
        rate: Option<i64>,
    ) -> Result<String, SqsError> {
        if let Some(r) = rate.filter(|r| !(1..=MAX_RATE).contains(r)) {
            return Err(SqsError::invalid_value(
                r,
                "MaxNumberOfMessagesPerSecond",
                &format!("Must be between 1 and {MAX_RATE}."),
            ));
        }
        let (source, destination) = (source.to_string(), destination.map(str::to_string));
        let handle = uuid::Uuid::new_v4().to_string();
        let now = self.now_ms();
        let task_handle = handle.clone();
        self.database()
            .write(move |conn| {
                load_queue(conn, &source)?.ok_or(SqsError::QueueDoesNotExist)?;
                if let Some(d) = &destination {
                    load_queue(conn, d)?.ok_or(SqsError::QueueDoesNotExist)?;
                }
                if sources_of(conn, &source)?.is_empty() {
                    return Err(SqsError::InvalidParameterValue(format!(
                        "Source queue must be configured as a Dead Letter Queue: {source} is no queue's dead-letter queue."
                    )));
                }
                let running: i64 = conn.query_row(
                    "SELECT COUNT(*) FROM sqs_move_tasks WHERE source = ?1 AND status = 'RUNNING'",
                    [&source],
                    |r| r.get(0),
                )?;
                if running > 0 {
                    return Err(SqsError::InvalidParameterValue(format!(
                        "A message move task is already running on {source}."
                    )));
                }
                let (to_move, last_seq): (i64, i64) = conn.query_row(
                    "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM sqs_messages WHERE queue = ?1",
                    [&source],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                conn.execute(
                    "INSERT INTO sqs_move_tasks (handle, source, destination, rate, status, to_move, last_seq, started_ms)
                     VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, ?7)",
                    params![task_handle, source, destination, rate, to_move, last_seq, now],
                )?;
                Ok(())
            })
            .await?;
        let queues = self.clone();
        let runner_handle = handle.clone();
        tokio::spawn(async move {
            queues.run_move_task(&runner_handle).await;
        });
        Ok(handle)
    }

    async fn run_move_task(&self, handle: &str) {
        loop {
            let (h, now) = (handle.to_string(), self.now_ms());
            let outcome = self
                .database()
                .write(move |conn| run_round(conn, &h, now))
                .await;
            self.wake_receivers();
            match outcome {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::error!(task = handle, error = %e, "message move task failed");
                    let h = handle.to_string();
                    let _ = self
                        .database()
                        .write(move |conn| {
                            conn.execute(
                                "UPDATE sqs_move_tasks SET status = 'FAILED', failure = 'internal database error' WHERE handle = ?1",
                                [&h],
                            )
                            .map_err(SqsError::from)
                        })
                        .await;
                    return;
                }
            }
            let rated = self
                .move_task(handle)
                .await
                .ok()
                .flatten()
                .and_then(|t| t.rate);
            if rated.is_some() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    /// The task with `handle`, if any.
    ///
    /// # Errors
    /// `Db`.
    pub async fn move_task(&self, handle: &str) -> Result<Option<MoveTask>, SqsError> {
        let handle = handle.to_string();
        self.database()
            .read(move |conn| {
                Ok(conn
                    .query_row(
                        &format!("SELECT {TASK_COLUMNS} FROM sqs_move_tasks WHERE handle = ?1"),
                        [&handle],
                        task_of,
                    )
                    .optional()?)
            })
            .await
    }

    /// The most recent tasks on dead-letter queue `source`, newest first.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn move_tasks(&self, source: &str, limit: usize) -> Result<Vec<MoveTask>, SqsError> {
        let source = source.to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.database()
            .read(move |conn| {
                load_queue(conn, &source)?.ok_or(SqsError::QueueDoesNotExist)?;
                let mut stmt = conn.prepare(&format!(
                    "SELECT {TASK_COLUMNS} FROM sqs_move_tasks WHERE source = ?1
                      ORDER BY started_ms DESC, rowid DESC LIMIT ?2"
                ))?;
                let tasks = stmt
                    .query_map(params![source, limit], task_of)?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(tasks)
            })
            .await
    }

    /// Cancels a running task; returns it (with the messages moved so far).
    ///
    /// # Errors
    /// `ResourceNotFound` when no task with `handle` is running.
    pub async fn cancel_move_task(&self, handle: &str) -> Result<MoveTask, SqsError> {
        let handle = handle.to_string();
        self.database()
            .write(move |conn| {
                let changed = conn.execute(
                    "UPDATE sqs_move_tasks SET status = 'CANCELLED' WHERE handle = ?1 AND status = 'RUNNING'",
                    [&handle],
                )?;
                if changed == 0 {
                    return Err(SqsError::ResourceNotFound(format!(
                        "No running message move task has the handle {handle}."
                    )));
                }
                Ok(conn.query_row(
                    &format!("SELECT {TASK_COLUMNS} FROM sqs_move_tasks WHERE handle = ?1"),
                    [&handle],
                    task_of,
                )?)
            })
            .await
    }

    /// Queues whose redrive policy sends their dead letters to `queue`, sorted.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn dead_letter_sources(&self, queue: &str) -> Result<Vec<String>, SqsError> {
        let queue = queue.to_string();
        self.database()
            .read(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                sources_of(conn, &queue)
            })
            .await
    }
}
