//! Item operations beyond single puts and deletes: `UpdateItem`, `Query`, the batch operations
//! and transactions. Each write runs in one SQLite transaction: a batch or a transaction is
//! applied whole or not at all.

use std::cmp::Ordering;

use durapipe_sqlite::rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::errors::{CancellationReason, DdbError};
use super::expr::Condition;
use super::store::{
    definition_of, delete_item, key_of, read_item, write_item, Pager, ScanPage, TableDefinition,
    Tables,
};
use super::update::Update;
use super::value::{self, Item};

/// One write of a batch or a transaction.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Put an item.
    Put {
        /// The table's name.
        table: String,
        /// The whole item to store.
        item: Item,
        /// Condition on the current item.
        condition: Option<Condition>,
    },
    /// Delete the item with a key.
    Delete {
        /// The table's name.
        table: String,
        /// The item's key attributes.
        key: Item,
        /// Condition on the current item.
        condition: Option<Condition>,
    },
    /// Update (or create) the item with a key.
    Update {
        /// The table's name.
        table: String,
        /// The item's key attributes.
        key: Item,
        /// The update, if any.
        update: Option<Update>,
        /// Condition on the current item.
        condition: Option<Condition>,
    },
    /// Only check a condition on the item with a key.
    Check {
        /// The table's name.
        table: String,
        /// The item's key attributes.
        key: Item,
        /// The condition that must hold (else the transaction is cancelled).
        condition: Condition,
    },
}

impl WriteOp {
    fn table(&self) -> &str {
        match self {
            Self::Put { table, .. }
            | Self::Delete { table, .. }
            | Self::Update { table, .. }
            | Self::Check { table, .. } => table,
        }
    }

    fn condition(&self) -> Option<&Condition> {
        match self {
            Self::Put { condition, .. }
            | Self::Delete { condition, .. }
            | Self::Update { condition, .. } => condition.as_ref(),
            Self::Check { condition, .. } => Some(condition),
        }
    }

    /// The key texts of the item this op touches.
    fn key_texts(&self, definition: &TableDefinition) -> Result<(String, String), DdbError> {
        match self {
            Self::Put { item, .. } => key_of(definition, item, false),
            Self::Delete { key, .. } | Self::Update { key, .. } | Self::Check { key, .. } => {
                key_of(definition, key, true)
            }
        }
    }
}

/// What a [`Tables::query`] reads.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// The partition key's value.
    pub hash_value: Value,
    /// The whole key condition (partition and optional sort key condition).
    pub key_condition: Condition,
    /// Ascending sort key order (`ScanIndexForward`).
    pub forward: bool,
    /// At most this many items are read.
    pub limit: Option<usize>,
    /// Continue after this key.
    pub exclusive_start_key: Option<Item>,
    /// Keep only the items matching this.
    pub filter: Option<Condition>,
}

/// Applies an update to the item with `key`; returns (old item, new item).
fn update_in(
    conn: &Connection,
    table: &str,
    key: &Item,
    update: Option<&Update>,
    condition: Option<&Condition>,
) -> Result<(Option<Item>, Item), DdbError> {
    let definition = definition_of(conn, table)?;
    let (hk, rk) = key_of(&definition, key, true)?;
    let old = read_item(conn, table, &hk, &rk)?;
    if condition.is_some_and(|c| !c.matches(old.as_ref())) {
        return Err(DdbError::ConditionalCheckFailed);
    }
    let mut new = old.clone().unwrap_or_else(|| key.clone());
    if let Some(update) = update {
        let keys = [Some(&definition.hash_key), definition.range_key.as_ref()];
        for path in update.paths() {
            if keys.iter().flatten().any(|k| k.name == path.top()) {
                return Err(DdbError::validation(format!(
                    "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
                    path.top()
                )));
            }
        }
        update.apply(&mut new)?;
    }
    write_item(conn, table, &definition, &new)?;
    Ok((old, new))
}

/// Applies one write op inside a transaction; the caller has checked its condition.
fn apply_in(conn: &Connection, op: &WriteOp) -> Result<(), DdbError> {
    match op {
        WriteOp::Put { table, item, .. } => {
            let definition = definition_of(conn, table)?;
            write_item(conn, table, &definition, item)
        }
        WriteOp::Delete { table, key, .. } => {
            let definition = definition_of(conn, table)?;
            let (hk, rk) = key_of(&definition, key, true)?;
            delete_item(conn, table, &hk, &rk)
        }
        WriteOp::Update {
            table, key, update, ..
        } => update_in(conn, table, key, update.as_ref(), None).map(|_| ()),
        WriteOp::Check { .. } => Ok(()),
    }
}

/// Refuses two ops on one item.
fn distinct_items(conn: &Connection, ops: &[WriteOp], message: &str) -> Result<(), DdbError> {
    let mut seen = std::collections::BTreeSet::new();
    for op in ops {
        let definition = definition_of(conn, op.table())?;
        let (hk, rk) = op.key_texts(&definition)?;
        if !seen.insert((op.table().to_string(), hk, rk)) {
            return Err(DdbError::validation(message));
        }
    }
    Ok(())
}

impl Tables {
    /// `UpdateItem`: applies `update` to the item with `key` (creating it from the key if it
    /// does not exist) when `condition` holds; returns (old item, new item).
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` (bad key, update of a key attribute, wrong operand
    /// types, over 400 KB), `ConditionalCheckFailed`.
    pub async fn update(
        &self,
        table: &str,
        key: Item,
        update: Option<Update>,
        condition: Option<Condition>,
    ) -> Result<(Option<Item>, Item), DdbError> {
        let table = table.to_string();
        self.database()
            .write(move |conn| update_in(conn, &table, &key, update.as_ref(), condition.as_ref()))
            .await
    }

    /// `Query`: the items of one partition matching the key condition, in sort key order
    /// (descending unless `forward`), paged like [`Tables::scan`].
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` for a partition value or start key of the wrong type.
    pub async fn query(&self, table: &str, options: QueryOptions) -> Result<ScanPage, DdbError> {
        let table = table.to_string();
        self.database()
            .read(move |conn| {
                let definition = definition_of(conn, &table)?;
                let hash_type = value::type_of(&options.hash_value).unwrap_or_default();
                if hash_type != definition.hash_key.attribute_type {
                    return Err(DdbError::validation(
                        "One or more parameter values were invalid: Condition parameter type does not match schema type",
                    ));
                }
                let hk = value::key_text(&options.hash_value).unwrap_or_default();
                let mut stmt = conn.prepare_cached(
                    "SELECT item, size FROM ddb_items WHERE table_name = ?1 AND hk = ?2",
                )?;
                let mut rows: Vec<(Item, usize)> = stmt
                    .query_map(params![table, hk], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                    })?
                    .filter_map(Result::ok)
                    .filter_map(|(text, size)| {
                        let item = serde_json::from_str::<Item>(&text).ok()?;
                        Some((item, usize::try_from(size).unwrap_or(0)))
                    })
                    .filter(|(item, _)| options.key_condition.matches(Some(item)))
                    .collect();
                let range = definition.range_key.clone();
                let order = |a: &Item, b: &Item| match &range {
                    Some(r) => match (a.get(&r.name), b.get(&r.name)) {
                        (Some(x), Some(y)) => value::compare(x, y).unwrap_or(Ordering::Equal),
                        _ => Ordering::Equal,
                    },
                    None => Ordering::Equal,
                };
                rows.sort_by(|(a, _), (b, _)| order(a, b));
                if !options.forward {
                    rows.reverse();
                }
                if let Some(start) = &options.exclusive_start_key {
                    key_of(&definition, start, true)?;
                    let position = rows.iter().position(|(item, _)| {
                        let o = order(item, start);
                        if options.forward {
                            o == Ordering::Greater
                        } else {
                            o == Ordering::Less
                        }
                    });
                    let skip = match (&range, position) {
                        (None, _) => rows.len(),
                        (Some(_), Some(p)) => p,
                        (Some(_), None) => rows.len(),
                    };
                    rows.drain(..skip);
                }
                let mut page = Pager::new(options.limit);
                for (item, size) in rows {
                    if page.full() {
                        break;
                    }
                    page.push(Some(item), size);
                }
                Ok(page.finish(&definition, options.filter.as_ref()))
            })
            .await
    }

    /// `BatchWriteItem`: puts and deletes (no conditions) in one transaction.
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` (bad item or key, two ops on one item).
    pub async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), DdbError> {
        self.database()
            .write(move |conn| {
                distinct_items(conn, &ops, "Provided list of item keys contains duplicates")?;
                for op in &ops {
                    apply_in(conn, op)?;
                }
                Ok(())
            })
            .await
    }

    /// `BatchGetItem` / `TransactGetItems`: the items with the given (table, key)s, in order.
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` for a bad key.
    pub async fn get_many(&self, keys: Vec<(String, Item)>) -> Result<Vec<Option<Item>>, DdbError> {
        self.database()
            .read(move |conn| {
                let mut out = Vec::with_capacity(keys.len());
                for (table, key) in &keys {
                    let definition = definition_of(conn, table)?;
                    let (hk, rk) = key_of(&definition, key, true)?;
                    out.push(read_item(conn, table, &hk, &rk)?);
                }
                Ok(out)
            })
            .await
    }

    /// `TransactWriteItems`: checks every condition against the items as they are, then applies
    /// every write, all in one transaction. A repeated `token` with the same request (`digest`)
    /// within ten minutes succeeds without writing again.
    ///
    /// # Errors
    /// `TransactionCanceled` with one reason per op when a condition fails (nothing written);
    /// `IdempotentParameterMismatch` for a reused token with another request; `Validation`.
    pub async fn transact_write(
        &self,
        ops: Vec<WriteOp>,
        token: Option<(String, String)>,
    ) -> Result<(), DdbError> {
        let now = self.now_ms();
        self.database()
            .write(move |conn| {
                if let Some((token, digest)) = &token {
                    conn.execute(
                        "DELETE FROM ddb_transaction_tokens WHERE at_ms < ?1",
                        [now - TOKEN_TTL_MS],
                    )?;
                    let seen: Option<String> = conn
                        .query_row(
                            "SELECT digest FROM ddb_transaction_tokens WHERE token = ?1",
                            [token],
                            |r| r.get(0),
                        )
                        .optional()?;
                    match seen {
                        Some(d) if &d == digest => return Ok(()),
                        Some(_) => return Err(DdbError::IdempotentParameterMismatch),
                        None => {}
                    }
                }
                distinct_items(
                    conn,
                    &ops,
                    "Transaction request cannot include multiple operations on one item",
                )?;
                let mut reasons = Vec::with_capacity(ops.len());
                let mut failed = false;
                for op in &ops {
                    let definition = definition_of(conn, op.table())?;
                    let (hk, rk) = op.key_texts(&definition)?;
                    let current = read_item(conn, op.table(), &hk, &rk)?;
                    if op.condition().is_some_and(|c| !c.matches(current.as_ref())) {
                        failed = true;
                        reasons.push(CancellationReason::ConditionalCheckFailed);
                    } else {
                        reasons.push(CancellationReason::None);
                    }
                }
                if failed {
                    return Err(DdbError::TransactionCanceled(reasons));
                }
                for op in &ops {
                    apply_in(conn, op)?;
                }
                if let Some((token, digest)) = &token {
                    conn.execute(
                        "INSERT OR REPLACE INTO ddb_transaction_tokens (token, digest, at_ms) VALUES (?1, ?2, ?3)",
                        params![token, digest, now],
                    )?;
                }
                Ok(())
            })
            .await
    }
}

/// How long a `ClientRequestToken` makes `TransactWriteItems` idempotent (as DynamoDB).
const TOKEN_TTL_MS: i64 = 10 * 60 * 1000;
