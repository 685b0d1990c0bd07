//! The writer thread: drains queued jobs into one `BEGIN IMMEDIATE … COMMIT` group.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::{Counters, DbError};

/// What a job hands back after running: a completion to call with the group's commit outcome.
type Completion = Box<dyn FnOnce(Result<(), DbError>) + Send>;

/// A queued write.
pub(crate) trait Work: Send {
    /// Runs inside its own savepoint and returns what to do once the group's fate is known.
    fn run(self: Box<Self>, conn: &Connection) -> Completion;
    /// Reports `err` without running (no transaction could be opened).
    fn fail(self: Box<Self>, err: DbError);
}

pub(crate) type Job = Box<dyn Work>;

struct Write<F, R, E> {
    f: F,
    tx: oneshot::Sender<Result<R, E>>,
}

impl<F, R, E> Work for Write<F, R, E>
where
    F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Completion {
        let Write { f, tx } = *self;
        let outcome = run_in_savepoint(conn, f);
        Box::new(move |commit: Result<(), DbError>| {
            let result = match (commit, outcome) {
                (_, Err(e)) => Err(e),
                (Err(e), Ok(_)) => Err(E::from(e)),
                (Ok(()), Ok(value)) => Ok(value),
            };
            // The caller may have gone away (e.g. its request was cancelled); the write stands.
            let _ = tx.send(result);
        })
    }

    fn fail(self: Box<Self>, err: DbError) {
        let _ = self.tx.send(Err(E::from(err)));
    }
}

/// Wraps a user closure into a [`Job`] and the receiver of its result.
pub(crate) fn job<R, E, F>(f: F) -> (Job, oneshot::Receiver<Result<R, E>>)
where
    F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    (Box::new(Write { f, tx }), rx)
}

fn run_in_savepoint<R, E, F>(conn: &Connection, f: F) -> Result<R, E>
where
    F: FnOnce(&Connection) -> Result<R, E>,
    E: From<DbError>,
{
    cached(conn, "SAVEPOINT job").map_err(|e| E::from(e.into()))?;
    let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)));
    let end = if matches!(outcome, Ok(Ok(_))) {
        cached(conn, "RELEASE job")
    } else {
        cached(conn, "ROLLBACK TO job").and_then(|()| cached(conn, "RELEASE job"))
    };
    match outcome {
        Err(_) => Err(E::from(DbError::JobPanicked)),
        Ok(result) => {
            end.map_err(|e| E::from(e.into()))?;
            result
        }
    }
}

/// Runs one statement from the connection's statement cache: the writer runs the same few
/// transaction-control statements for every job, so they are parsed once, not per job.
fn cached(conn: &Connection, statement: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(statement)?.execute([]).map(|_| ())
}

pub(crate) fn spawn(
    conn: Connection,
    mut receiver: mpsc::Receiver<Job>,
    max_group: usize,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            let mut group: Vec<Job> = Vec::with_capacity(max_group);
            while let Some(first) = receiver.blocking_recv() {
                group.push(first);
                while group.len() < max_group {
                    match receiver.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                run_group(&conn, std::mem::take(&mut group), &counters);
            }
            tracing::debug!("sqlite writer stopped");
        })
        .map(|_| ())
}

fn run_group(conn: &Connection, jobs: Vec<Job>, counters: &Counters) {
    counters
        .writes
        .fetch_add(jobs.len() as u64, Ordering::Relaxed);
    if let Err(e) = cached(conn, "BEGIN IMMEDIATE") {
        let shared = Arc::new(e);
        jobs.into_iter()
            .for_each(|job| job.fail(DbError::Sqlite(shared.clone())));
        return;
    }
    let completions: Vec<Completion> = jobs.into_iter().map(|job| job.run(conn)).collect();
    let started = std::time::Instant::now();
    let commit = cached(conn, "COMMIT");
    counters.commit_latency.observe(started.elapsed());
    counters.commits.fetch_add(1, Ordering::Relaxed);
    match commit {
        Ok(()) => completions.into_iter().for_each(|c| c(Ok(()))),
        Err(e) => {
            tracing::error!(error = %e, "group commit failed; rolling back");
            let _ = conn.execute_batch("ROLLBACK");
            let shared = Arc::new(e);
            completions
                .into_iter()
                .for_each(|c| c(Err(DbError::Sqlite(shared.clone()))));
        }
    }
}
