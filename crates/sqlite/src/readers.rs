//! The reader threads: a fixed set of threads, each with its own read-only connection, taking
//! [`crate::Database::read`] jobs from one queue.
//!
//! Why threads of our own rather than the async runtime's blocking pool: the pool grows a
//! thread (and, here, a connection with its page cache) for every read that finds the others
//! busy, and the allocator keeps each thread's freed memory for a while. Under load that was
//! 17–19 threads and ~12 MB of the stack's RSS (docs/benchmarks.md, round 8). A fixed set bounds
//! both; reads beyond it wait in the queue.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use crate::DbError;

/// A queued read: runs with a reader connection, or is told why there is none.
pub(crate) type Job = Box<dyn FnOnce(Result<&Connection, DbError>) + Send>;

/// Page cache of each reader connection, KiB. Readers look up a few rows each (an execution, a
/// page of history, a message); a small cache keeps their memory low (SQLite's default is
/// 2 MiB a connection).
const READER_CACHE_KIB: u32 = 512;

/// Starts `count` reader threads for the database at `path`; they end when the returned
/// sender (and every clone) is dropped.
pub(crate) fn spawn(path: &Path, count: usize) -> std::io::Result<mpsc::Sender<Job>> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for i in 0..count.max(1) {
        let receiver = receiver.clone();
        let path = path.to_path_buf();
        std::thread::Builder::new()
            .name(format!("sqlite-reader-{i}"))
            .spawn(move || serve(&path, &receiver))?;
    }
    Ok(sender)
}

fn serve(path: &Path, receiver: &Mutex<mpsc::Receiver<Job>>) {
    let mut conn: Option<Connection> = None;
    loop {
        // One thread waits on the queue at a time; the others wait for the lock.
        let job = match receiver.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return; // the database was dropped
        };
        if conn.is_none() {
            match open(path) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    job(Err(e));
                    continue;
                }
            }
        }
        let Some(c) = conn.as_ref() else {
            continue;
        };
        if catch_unwind(AssertUnwindSafe(|| job(Ok(c)))).is_err() {
            // The unwind dropped the job's reply sender, so its caller sees
            // `DbError::JobPanicked`; a statement may be left mid-way: start over.
            conn = None;
        }
    }
}

fn open(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(&format!(
        "PRAGMA query_only=ON; PRAGMA cache_size=-{READER_CACHE_KIB};"
    ))?;
    Ok(conn)
}
