//! One SQLite database shared by the local stack's components, with a single writer thread that
//! commits concurrent transactions together (group commit).
//!
//! Contracts:
//! - Every [`Database::write`] closure runs inside its own savepoint of a shared `BEGIN IMMEDIATE`
//!   transaction on the writer thread. A closure that returns `Err` is rolled back on its own and
//!   does not affect the others in its group.
//! - A write's result is delivered **only after the group's `COMMIT` returned**: with the default
//!   [`Durability::Full`] (WAL + `synchronous=FULL`) that commit survives power loss, so callers may
//!   acknowledge whatever the closure wrote as soon as `write` returns `Ok`.
//! - If the commit fails, every write of the group gets the error; nothing of the group is kept.
//! - A closure that panics is rolled back and reported as [`DbError::JobPanicked`]; the writer
//!   thread keeps serving.
//! - Reads run on a fixed set of reader threads, each with its own connection (WAL readers never
//!   block the writer), and see every write whose `write` call has returned.
//! - Never hold an async lock across `write(..).await`: the writer is shared by everything.

pub mod histogram;
mod readers;
pub mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

pub use rusqlite;

/// How hard a commit is pushed to disk before a write is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL with `synchronous=FULL`: an fsync behind every commit; survives power loss (default).
    #[default]
    Full,
    /// WAL with `synchronous=NORMAL`: survives a process crash (`kill -9`), may lose the last
    /// commits on power loss.
    Normal,
    /// `synchronous=OFF`: for throw-away benchmarks only.
    Off,
}

impl Durability {
    /// Parses `full`, `normal` or `off` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Some(Self::Full),
            "normal" => Some(Self::Normal),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
            Self::Off => "OFF",
        }
    }
}

/// Options for [`Database::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Commit durability.
    pub durability: Durability,
    /// Most writes committed by one `COMMIT`.
    pub max_group: usize,
    /// Capacity of the writer's queue (callers wait when it is full: backpressure).
    pub queue_capacity: usize,
    /// Reader threads, each with its own connection (reads beyond them wait in a queue).
    pub readers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            max_group: 512,
            queue_capacity: 4096,
            readers: 4,
        }
    }
}

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite reported an error.
    #[error("sqlite error")]
    Sqlite(#[source] Arc<rusqlite::Error>),
    /// The writer thread is gone (the database was closed).
    #[error("the database writer has stopped")]
    Closed,
    /// A write closure panicked; its changes were rolled back.
    #[error("a database write panicked and was rolled back")]
    JobPanicked,
    /// The database file could not be opened or prepared.
    #[error("cannot open database {path}")]
    Open {
        /// The file that was opened.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: rusqlite::Error,
    },
    /// The file could not be put in write-ahead-log mode (which every durability level needs).
    #[error("database {path} is in journal mode {mode}, not WAL")]
    NotWal {
        /// The database file's path.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// The writer thread or a reader thread could not be started.
    #[error("cannot start the writer and reader threads of database {path}")]
    Thread {
        /// The database file's path.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A newer durapipe wrote this file: its layout is not known to this build.
    #[error(
        "the database was written by a newer durapipe ({component}: schema version {found}, \
         this build knows up to {known}); use that version or another data directory"
    )]
    NewerSchema {
        /// The component (or `file format`).
        component: String,
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(e))
    }
}

/// Counters for benchmarks: how many writes were grouped into how many commits.
#[derive(Debug, Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
    /// How long each `COMMIT` (the WAL fsync under full durability) took.
    commit_latency: histogram::Histogram,
}

/// A snapshot of the writer's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Write closures executed.
    pub writes: u64,
    /// `COMMIT`s issued (each one fsync of the WAL under [`Durability::Full`]).
    pub commits: u64,
}

/// A handle to the shared database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    sender: mpsc::Sender<writer::Job>,
    readers: std::sync::mpsc::Sender<readers::Job>,
    counters: Arc<Counters>,
}

impl Database {
    /// Opens (creating if needed) the database file at `path` and starts its writer thread.
    ///
    /// # Errors
    /// [`DbError::Open`] when the file cannot be opened, is not a database, or its pragmas
    /// cannot be set (for example on a read-only directory).
    pub fn open(path: &Path, options: &Options) -> Result<Self, DbError> {
        let conn = open_connection(path, options.durability)?;
        // Touch the schema so a corrupt file fails here, not at the first write.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let thread_failed = |e| DbError::Thread {
            path: path.to_path_buf(),
            source: e,
        };
        let readers = readers::spawn(path, options.readers).map_err(thread_failed)?;
        writer::spawn(conn, receiver, options.max_group.max(1), counters.clone())
            .map_err(thread_failed)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                sender,
                readers,
                counters,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in the writer's current group transaction; resolves after the group committed.
    ///
    /// # Errors
    /// `f`'s own error (its changes rolled back), or a [`DbError`] converted into `E` when the
    /// commit failed or the writer is gone.
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (job, rx) = writer::job(f);
        self.inner
            .sender
            .send(job)
            .await
            .map_err(|_| E::from(DbError::Closed))?;
        rx.await.map_err(|_| E::from(DbError::Closed))?
    }

    /// [`Database::write`] for code that is not async (must not be called from an async task).
    ///
    /// # Errors
    /// As [`Database::write`].
    pub fn write_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (job, rx) = writer::job(f);
        self.inner
            .sender
            .blocking_send(job)
            .map_err(|_| E::from(DbError::Closed))?;
        rx.blocking_recv().map_err(|_| E::from(DbError::Closed))?
    }

    /// Runs a read on one of the reader threads' connections, off the async runtime's threads.
    ///
    /// # Errors
    /// `f`'s error, or a [`DbError`] when no reader connection could be opened, `f` panicked
    /// or the database is closed.
    pub async fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.queue_read(f)?
            .await
            .map_err(|_| E::from(DbError::JobPanicked))?
    }

    /// [`Database::read`] for code that is not async (must not be called from an async task).
    ///
    /// # Errors
    /// As [`Database::read`].
    pub fn read_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.queue_read(f)?
            .blocking_recv()
            .map_err(|_| E::from(DbError::JobPanicked))?
    }

    /// Queues `f` for the reader threads; the receiver yields its result (or an error when the
    /// reply was dropped: `f` panicked).
    fn queue_read<R, E, F>(&self, f: F) -> Result<oneshot::Receiver<Result<R, E>>, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: readers::Job = Box::new(move |conn| {
            let out = match conn {
                Ok(c) => f(c),
                Err(e) => Err(E::from(e)),
            };
            // The caller may have gone away (e.g. its request was cancelled).
            let _ = tx.send(out);
        });
        self.inner
            .readers
            .send(job)
            .map_err(|_| E::from(DbError::Closed))?;
        Ok(rx)
    }

    /// Counters since the database was opened.
    pub fn stats(&self) -> Stats {
        Stats {
            writes: self.inner.counters.writes.load(Ordering::Relaxed),
            commits: self.inner.counters.commits.load(Ordering::Relaxed),
        }
    }

    /// How long each group commit (`COMMIT`, one WAL fsync under [`Durability::Full`]) took.
    pub fn commit_latency(&self) -> histogram::HistogramSnapshot {
        self.inner.counters.commit_latency.snapshot()
    }
}

fn open_connection(path: &Path, durability: Durability) -> Result<Connection, DbError> {
    let wrap = |source| DbError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(wrap)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(wrap)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(wrap)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::NotWal {
            path: path.to_path_buf(),
            mode,
        });
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES};",
        durability.pragma()
    ))
    .map_err(wrap)?;
    // Every component's hot statements stay parsed (rusqlite's default keeps 16).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// WAL pages between two automatic checkpoints (SQLite's default is 1,000). A checkpoint copies
/// each page once however often the WAL holds it, and the hot pages (the tables' last pages,
/// the indexes of running executions) are rewritten by most commits: a longer WAL copies them
/// fewer times. The WAL file grows to about this many 4 KiB pages before it is reused.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4000;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

#[cfg(test)]
mod tests;
