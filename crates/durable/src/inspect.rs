//! Read-only views of stored executions for tools (the local stack's console and metrics):
//! a page of an execution's operations with their nesting depth, and execution counts by
//! status. No public Lambda API lists an execution's operations without a checkpoint token
//! (`GetDurableExecutionState` needs one), so tools read them here, from the same tables the
//! APIs read.

use std::collections::HashMap;

use durapipe_sqlite::rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::error::ApiError;
use crate::model::{ExecStatus, Op, OpType, TimeFormat};
use crate::service::DurableService;
use crate::store::sql;

/// The most operations one page may hold.
pub const MAX_OPERATIONS_PAGE: usize = 1_000;

/// A page of an execution's operations, in creation order.
#[derive(Debug, Clone)]
pub struct OperationsPage {
    /// Each operation's `Operation` wire shape (epoch-second timestamps) with a `Depth` field:
    /// 0 for the EXECUTION operation and top-level operations, parent's depth + 1 below.
    pub operations: Vec<Value>,
    /// Operations the execution holds in all.
    pub total: u64,
    /// Whether operations follow this page.
    pub more: bool,
}

impl DurableService {
    /// Operations `offset..offset + limit` of `arn` in creation order (`limit` is capped at
    /// [`MAX_OPERATIONS_PAGE`]). Reads only the page and the ancestors of its operations.
    ///
    /// # Errors
    /// `ResourceNotFoundException` or a storage error.
    pub async fn operations_page(
        &self,
        arn: &str,
        offset: usize,
        limit: usize,
    ) -> Result<OperationsPage, ApiError> {
        self.meta(arn).await?;
        let arn = arn.to_owned();
        let limit = limit.clamp(1, MAX_OPERATIONS_PAGE);
        self.db().read(move |c| page(c, &arn, offset, limit)).await
    }

    /// Stored executions by status (every status, zero included).
    ///
    /// # Errors
    /// A storage error.
    pub async fn executions_by_status(&self) -> Result<Vec<(ExecStatus, u64)>, ApiError> {
        self.db()
            .read(|c| {
                let mut stmt =
                    sql(c.prepare("SELECT status, COUNT(*) FROM dx_executions GROUP BY status"))?;
                let rows =
                    sql(stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))))?;
                let mut counts: Vec<(ExecStatus, u64)> = [
                    ExecStatus::Running,
                    ExecStatus::Succeeded,
                    ExecStatus::Failed,
                    ExecStatus::TimedOut,
                    ExecStatus::Stopped,
                ]
                .into_iter()
                .map(|s| (s, 0))
                .collect();
                for row in rows {
                    let (status, n) = sql(row)?;
                    if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
                        slot.1 = u64::try_from(n).unwrap_or(0);
                    }
                }
                Ok(counts)
            })
            .await
    }
}

fn decode(body: &str) -> Result<Op, ApiError> {
    serde_json::from_str(body)
        .map_err(|e| ApiError::service(format!("corrupt stored operation: {e}")))
}

fn page(
    conn: &Connection,
    arn: &str,
    offset: usize,
    limit: usize,
) -> Result<OperationsPage, ApiError> {
    let total: i64 = sql(conn.query_row(
        "SELECT COUNT(*) FROM dx_operations WHERE exec_id = (SELECT id FROM dx_executions WHERE arn = ?1)",
        params![arn],
        |r| r.get(0),
    ))?;
    let mut stmt = sql(conn.prepare_cached(
        "SELECT body FROM dx_operations WHERE exec_id = (SELECT id FROM dx_executions WHERE arn = ?1)
         ORDER BY ord LIMIT ?2 OFFSET ?3",
    ))?;
    let rows = sql(stmt.query_map(
        params![
            arn,
            i64::try_from(limit + 1).unwrap_or(i64::MAX),
            i64::try_from(offset).unwrap_or(i64::MAX)
        ],
        |r| r.get::<_, String>(0),
    ))?;
    let mut ops = Vec::new();
    for row in rows {
        ops.push(decode(&sql(row)?)?);
    }
    let more = ops.len() > limit;
    ops.truncate(limit);
    let mut parents: HashMap<String, Option<String>> = ops
        .iter()
        .map(|o| (o.id.clone(), o.parent_id.clone()))
        .collect();
    let mut depths: HashMap<String, u32> = HashMap::new();
    let mut operations = Vec::with_capacity(ops.len());
    for op in &ops {
        // Every operation hangs below the EXECUTION operation (the SDK leaves top-level
        // operations without a parent).
        let depth = depth_of(conn, arn, &op.id, &mut parents, &mut depths)?
            + u32::from(op.op_type != OpType::Execution);
        let mut wire = op.to_wire(TimeFormat::EpochSeconds);
        wire["Depth"] = Value::from(depth);
        operations.push(wire);
    }
    Ok(OperationsPage {
        operations,
        total: u64::try_from(total).unwrap_or(0),
        more,
    })
}

/// Nesting depth of `id`, looking up ancestors outside the page (bounded by the SDK's nesting).
fn depth_of(
    conn: &Connection,
    arn: &str,
    id: &str,
    parents: &mut HashMap<String, Option<String>>,
    depths: &mut HashMap<String, u32>,
) -> Result<u32, ApiError> {
    let mut chain = vec![id.to_owned()];
    let mut base = 0;
    // Walk up until a known depth or the root; a cycle (corrupt data) stops at 64 levels.
    while chain.len() < 64 {
        let Some(current) = chain.last().cloned() else {
            break;
        };
        if let Some(d) = depths.get(&current) {
            base = *d;
            chain.pop();
            break;
        }
        let parent = match parents.get(&current) {
            Some(p) => p.clone(),
            None => {
                let body: Option<String> = sql(conn
                    .query_row(
                        "SELECT body FROM dx_operations
                         WHERE exec_id = (SELECT id FROM dx_executions WHERE arn = ?1) AND op_id = ?2",
                        params![arn, current],
                        |r| r.get(0),
                    )
                    .optional())?;
                let parent = match body {
                    Some(b) => decode(&b)?.parent_id,
                    None => None,
                };
                parents.insert(current.clone(), parent.clone());
                parent
            }
        };
        match parent {
            Some(p) => chain.push(p),
            None => {
                // A root (or an operation whose parent is the execution): depth 0.
                depths.insert(current, 0);
                chain.pop();
                base = 0;
                break;
            }
        }
    }
    let mut depth = base;
    while let Some(current) = chain.pop() {
        depth += 1;
        depths.insert(current, depth);
    }
    Ok(depths.get(id).copied().unwrap_or(depth))
}
