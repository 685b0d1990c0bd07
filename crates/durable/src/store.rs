//! SQLite persistence (tables prefixed `dx_`, created with `IF NOT EXISTS` in the shared database).
//!
//! An execution is one `dx_executions` row (an integer id, the ARN, the indexed columns and the
//! rest of the metadata as JSON), its input in `dx_inputs` (written once, at insert: the
//! metadata row is rewritten by every checkpoint, and the input is usually its largest part),
//! one `dx_operations` row per operation (JSON record) and an append-only `dx_events` history,
//! both keyed by the execution's id.

use durapipe_sqlite::rusqlite::{self, params, Connection, OptionalExtension};
use durapipe_sqlite::{Database, DbError};
use serde_json::Value;

use crate::error::{ApiError, ErrorKind};
use crate::model::{ExecStatus, Op};
use crate::state::{ExecutionState, Meta};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dx_executions (
  id INTEGER PRIMARY KEY,
  arn TEXT NOT NULL UNIQUE,
  function_name TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  meta TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS dx_executions_name ON dx_executions(function_name, name);
CREATE INDEX IF NOT EXISTS dx_executions_start ON dx_executions(function_name, start_ms);
CREATE INDEX IF NOT EXISTS dx_executions_status ON dx_executions(status);
CREATE TABLE IF NOT EXISTS dx_inputs (
  id INTEGER PRIMARY KEY,
  input TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dx_operations (
  exec_id INTEGER NOT NULL,
  op_id TEXT NOT NULL,
  ord INTEGER NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (exec_id, op_id)
);
CREATE TABLE IF NOT EXISTS dx_events (
  exec_id INTEGER NOT NULL,
  event_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (exec_id, event_id)
);
";

/// Copies the rows of a version-2 layout (set aside by the last upgrade) into the tables of
/// [`SCHEMA`], then drops the old tables. Runs after `SCHEMA`, in the same write.
const COPY_FROM_V2: &str = "
INSERT INTO dx_executions (id, arn, function_name, name, status, start_ms, end_ms, meta)
  SELECT rowid, arn, function_name, name, status, start_ms, end_ms, meta FROM dx_v2_executions;
INSERT INTO dx_inputs (id, input)
  SELECT rowid, input FROM dx_v2_executions WHERE input IS NOT NULL;
INSERT INTO dx_operations (exec_id, op_id, ord, body)
  SELECT e.rowid, o.op_id, o.ord, o.body
  FROM dx_v2_operations o JOIN dx_v2_executions e ON e.arn = o.arn;
INSERT INTO dx_events (exec_id, event_id, body)
  SELECT e.rowid, v.event_id, v.body
  FROM dx_v2_events v JOIN dx_v2_executions e ON e.arn = v.arn;
DROP TABLE dx_v2_events;
DROP TABLE dx_v2_operations;
DROP TABLE dx_v2_executions;
";

pub(crate) fn sql<T>(r: rusqlite::Result<T>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::from(DbError::from(e)))
}

fn json_err(e: serde_json::Error) -> ApiError {
    ApiError::service(format!("corrupt stored record: {e}"))
}

/// Layout upgrades (see `durapipe_sqlite::schema`).
///
/// - Version 2 keeps the input in its own column; rows of version 1 still hold it inside
///   `meta` (and their input is NULL).
/// - Version 3 keys operations and history events by the execution's integer id instead of
///   its ARN, and moves the input into `dx_inputs`. A commit then touches far fewer index
///   pages (an ARN is ~150 bytes; every operation and event carried one in its index entry).
///   The upgrade sets the version-2 tables aside (their indexes dropped, so [`SCHEMA`]
///   creates them on the new tables) and [`COPY_FROM_V2`] moves the rows.
const SCHEMA_UPGRADES: &[&str] = &[
    "ALTER TABLE dx_executions ADD COLUMN input TEXT;",
    "DROP INDEX IF EXISTS dx_executions_name;
     DROP INDEX IF EXISTS dx_executions_start;
     DROP INDEX IF EXISTS dx_executions_status;
     DROP INDEX IF EXISTS dx_executions_end;
     ALTER TABLE dx_executions RENAME TO dx_v2_executions;
     ALTER TABLE dx_operations RENAME TO dx_v2_operations;
     ALTER TABLE dx_events RENAME TO dx_v2_events;",
];

/// Creates the tables (and finishes an upgrade from version 2).
pub(crate) async fn init(db: &Database) -> Result<(), ApiError> {
    db.write(|conn| {
        durapipe_sqlite::schema::ensure(conn, "dx", "dx_executions", SCHEMA_UPGRADES)?;
        sql(conn.execute_batch(SCHEMA))?;
        let set_aside: bool = sql(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dx_v2_executions')",
            [],
            |r| r.get(0),
        ))?;
        if set_aside {
            sql(conn.execute_batch(COPY_FROM_V2))?;
        }
        Ok(())
    })
    .await
}

/// The indexed columns of an execution's row, and its input (written at insert only).
#[derive(Debug)]
pub(crate) struct Row {
    pub arn: String,
    pub function_name: String,
    pub name: String,
    pub status: ExecStatus,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    /// The input and the parent (for the idempotent insert's comparison), on insert only.
    pub identity: Option<(String, Option<(String, String)>)>,
}

/// A snapshot of changes to write, serialized by the caller (not on the shared writer thread,
/// which would serialize every execution's JSON one after the other).
#[derive(Debug)]
pub(crate) struct Persist {
    pub row: Row,
    /// The metadata as JSON (without the input).
    pub meta_json: String,
    /// Changed operations: (id, ord, JSON record).
    pub ops: Vec<(String, u64, String)>,
    /// New history events: (id, JSON).
    pub events: Vec<(u64, String)>,
}

impl Persist {
    /// Takes the delta out of `state` and serializes it; `insert` for a new execution.
    ///
    /// # Errors
    /// A record that cannot be serialized (the delta is gone: reload the state).
    pub(crate) fn take(state: &mut ExecutionState, insert: bool) -> Result<Self, ApiError> {
        let delta = state.take_delta();
        let mut ops = Vec::with_capacity(delta.ops.len());
        for op in delta.ops.iter().filter_map(|id| state.op(id)) {
            let body = serde_json::to_string(op).map_err(json_err)?;
            ops.push((op.id.clone(), op.ord, body));
        }
        let events = delta
            .events
            .into_iter()
            .map(|(id, event)| (id, event.to_string()))
            .collect();
        let m = &state.meta;
        Ok(Self {
            meta_json: serde_json::to_string(m).map_err(json_err)?,
            row: Row {
                arn: m.arn.clone(),
                function_name: m.function_name.clone(),
                name: m.name.clone(),
                status: m.status,
                start_ms: m.start_ms,
                end_ms: m.end_ms,
                identity: insert.then(|| (m.input.clone(), m.parent.clone())),
            },
            ops,
            events,
        })
    }
}

/// Writes a snapshot (inside the caller's transaction).
pub(crate) fn write(conn: &Connection, p: &Persist) -> Result<(), ApiError> {
    let meta_json = &p.meta_json;
    let m = &p.row;
    let id: i64 = if let Some((input, _)) = &m.identity {
        sql(sql(conn.prepare_cached(
            "INSERT INTO dx_executions (arn, function_name, name, status, start_ms, end_ms, meta)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        ))?
        .execute(params![
            m.arn,
            m.function_name,
            m.name,
            m.status.as_str(),
            m.start_ms,
            m.end_ms,
            meta_json,
        ]))?;
        let id = conn.last_insert_rowid();
        sql(
            sql(conn.prepare_cached("INSERT INTO dx_inputs (id, input) VALUES (?1, ?2)"))?
                .execute(params![id, input]),
        )?;
        id
    } else {
        let updated = sql(sql(
            conn.prepare_cached("UPDATE dx_executions SET meta = ?2 WHERE arn = ?1 RETURNING id")
        )?
        .query_row(params![m.arn, meta_json], |r| r.get(0))
        .optional())?;
        let Some(id) = updated else {
            // Deleted by the retention sweep: nothing of it is kept.
            return Ok(());
        };
        // Only when they change: SQLite rewrites an index entry whose column is SET even to
        // the same value, and the status index would be one more page in every commit.
        sql(sql(conn.prepare_cached(
            "UPDATE dx_executions SET status = ?2, end_ms = ?3
             WHERE id = ?1 AND (status IS NOT ?2 OR end_ms IS NOT ?3)",
        ))?
        .execute(params![id, m.status.as_str(), m.end_ms]))?;
        id
    };
    let mut op_stmt = sql(conn.prepare_cached(
        "INSERT INTO dx_operations (exec_id, op_id, ord, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (exec_id, op_id) DO UPDATE SET body = excluded.body",
    ))?;
    for (op_id, ord, body) in &p.ops {
        sql(op_stmt.execute(params![id, op_id, *ord as i64, body]))?;
    }
    let mut ev_stmt = sql(
        conn.prepare_cached("INSERT INTO dx_events (exec_id, event_id, body) VALUES (?1, ?2, ?3)")
    )?;
    for (event_id, event) in &p.events {
        sql(ev_stmt.execute(params![id, *event_id as i64, event]))?;
    }
    Ok(())
}

/// Result of an idempotent insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The new execution was stored.
    New,
    /// An execution with that name and the same input exists: its ARN.
    Existing(String),
}

/// Inserts a new execution unless one with the same function and name exists.
pub(crate) fn insert_idempotent(conn: &Connection, p: &Persist) -> Result<Inserted, ApiError> {
    let existing = sql(conn
        .query_row(
            "SELECT e.meta, i.input FROM dx_executions e LEFT JOIN dx_inputs i ON i.id = e.id
             WHERE e.function_name = ?1 AND e.name = ?2",
            params![p.row.function_name, p.row.name],
            meta_columns,
        )
        .optional())?;
    if let Some(meta) = existing {
        let meta = parse_meta(meta)?;
        let same = p
            .row
            .identity
            .as_ref()
            .is_some_and(|(input, parent)| meta.input == *input && meta.parent == *parent);
        if same {
            return Ok(Inserted::Existing(meta.arn));
        }
        return Err(ApiError::new(
            ErrorKind::DurableExecutionAlreadyStarted,
            format!(
                "Durable execution with name {} already exists for function {} with a different input.",
                p.row.name, p.row.function_name
            ),
        ));
    }
    write(conn, p)?;
    Ok(Inserted::New)
}

/// Loads one execution.
pub(crate) fn load(conn: &Connection, arn: &str) -> Result<Option<ExecutionState>, ApiError> {
    let Some(meta) = load_meta(conn, arn)? else {
        return Ok(None);
    };
    let mut stmt = sql(conn.prepare_cached(
        "SELECT body FROM dx_operations WHERE exec_id = (SELECT id FROM dx_executions WHERE arn = ?1)",
    ))?;
    let rows = sql(stmt.query_map(params![arn], |r| r.get::<_, String>(0)))?;
    let mut ops = Vec::new();
    for row in rows {
        ops.push(serde_json::from_str::<Op>(&sql(row)?).map_err(json_err)?);
    }
    Ok(Some(ExecutionState::from_parts(meta, ops)))
}

/// Loads one execution's metadata.
pub(crate) fn load_meta(conn: &Connection, arn: &str) -> Result<Option<Meta>, ApiError> {
    let meta = sql(conn
        .query_row(
            "SELECT e.meta, i.input FROM dx_executions e LEFT JOIN dx_inputs i ON i.id = e.id
             WHERE e.arn = ?1",
            params![arn],
            meta_columns,
        )
        .optional())?;
    meta.map(parse_meta).transpose()
}

/// The `meta` column of a `dx_executions` row and its `dx_inputs` row's input.
type MetaColumns = (String, Option<String>);

fn meta_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<MetaColumns> {
    Ok((r.get(0)?, r.get(1)?))
}

/// The metadata of a row: the JSON, with the input from its column (a row written before the
/// column existed has the input inside the JSON).
fn parse_meta((json, input): MetaColumns) -> Result<Meta, ApiError> {
    let mut meta: Meta = serde_json::from_str(&json).map_err(json_err)?;
    if let Some(input) = input {
        meta.input = input;
    }
    Ok(meta)
}

/// ARNs of every RUNNING execution, oldest first.
pub(crate) fn running(conn: &Connection) -> Result<Vec<String>, ApiError> {
    let mut stmt =
        sql(conn
            .prepare("SELECT arn FROM dx_executions WHERE status = 'RUNNING' ORDER BY start_ms"))?;
    let rows = sql(stmt.query_map([], |r| r.get::<_, String>(0)))?;
    rows.map(sql).collect()
}

/// A page of history events.
pub(crate) fn history(
    conn: &Connection,
    arn: &str,
    offset: usize,
    limit: usize,
    reverse: bool,
) -> Result<(Vec<Value>, bool), ApiError> {
    let order = if reverse { "DESC" } else { "ASC" };
    let mut stmt = sql(conn.prepare(&format!(
        "SELECT body FROM dx_events WHERE exec_id = (SELECT id FROM dx_executions WHERE arn = ?1)
         ORDER BY event_id {order} LIMIT ?2 OFFSET ?3"
    )))?;
    let rows = sql(
        stmt.query_map(params![arn, (limit + 1) as i64, offset as i64], |r| {
            r.get::<_, String>(0)
        }),
    )?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&sql(row)?).map_err(json_err)?);
    }
    let more = out.len() > limit;
    out.truncate(limit);
    Ok((out, more))
}

/// Filters of `ListDurableExecutionsByFunction`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    pub function_name: String,
    pub name: Option<String>,
    pub statuses: Vec<ExecStatus>,
    pub started_after_ms: Option<i64>,
    pub started_before_ms: Option<i64>,
    pub reverse: bool,
    pub offset: usize,
    pub limit: usize,
}

/// Lists executions of a function; returns metas and whether more exist.
pub(crate) fn list(conn: &Connection, f: &ListFilter) -> Result<(Vec<Meta>, bool), ApiError> {
    let mut where_ = vec!["function_name = ?".to_owned()];
    let mut args: Vec<rusqlite::types::Value> = vec![f.function_name.clone().into()];
    if let Some(n) = &f.name {
        where_.push("name = ?".into());
        args.push(n.clone().into());
    }
    if !f.statuses.is_empty() {
        let marks = vec!["?"; f.statuses.len()].join(",");
        where_.push(format!("status IN ({marks})"));
        for s in &f.statuses {
            args.push(s.as_str().to_owned().into());
        }
    }
    if let Some(a) = f.started_after_ms {
        where_.push("start_ms >= ?".into());
        args.push(a.into());
    }
    if let Some(b) = f.started_before_ms {
        where_.push("start_ms <= ?".into());
        args.push(b.into());
    }
    let order = if f.reverse { "DESC" } else { "ASC" };
    args.push(((f.limit + 1) as i64).into());
    args.push((f.offset as i64).into());
    let query = format!(
        "SELECT e.meta, i.input FROM dx_executions e LEFT JOIN dx_inputs i ON i.id = e.id
         WHERE {} ORDER BY e.start_ms {order}, e.id {order} LIMIT ? OFFSET ?",
        where_.join(" AND ")
    );
    let mut stmt = sql(conn.prepare(&query))?;
    let rows = sql(stmt.query_map(rusqlite::params_from_iter(args), meta_columns))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(parse_meta(sql(row)?)?);
    }
    let more = out.len() > f.limit;
    out.truncate(f.limit);
    Ok((out, more))
}
