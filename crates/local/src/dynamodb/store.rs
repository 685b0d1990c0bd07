//! The durable table store: table definitions (`ddb_tables`) and items (`ddb_items`) in SQLite.
//!
//! Items are kept as `AttributeValue` JSON, keyed by the canonical text of their key values;
//! scans run in (hash key text, range key text) order.

use std::sync::Arc;

use durapipe_sqlite::rusqlite::{params, Connection, OptionalExtension};
use durapipe_sqlite::Database;
use serde_json::{json, Value};

use super::errors::DdbError;
use super::expr::Condition;
use super::value::{self, Item, MAX_ITEM_BYTES};
use crate::clock::Clock;
use crate::{ACCOUNT_ID, REGION};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ddb_tables (
    name        TEXT PRIMARY KEY,
    hash_key    TEXT NOT NULL,
    hash_type   TEXT NOT NULL,
    range_key   TEXT,
    range_type  TEXT,
    billing     TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ddb_items (
    table_name  TEXT NOT NULL,
    hk          TEXT NOT NULL,
    rk          TEXT NOT NULL DEFAULT '',
    item        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (table_name, hk, rk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ddb_table_tags (
    table_name  TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (table_name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ddb_ttl (
    table_name  TEXT PRIMARY KEY,
    attribute   TEXT NOT NULL,
    enabled     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ddb_transaction_tokens (
    token       TEXT PRIMARY KEY,
    digest      TEXT NOT NULL,
    at_ms       INTEGER NOT NULL
);
";

/// A key attribute: name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttribute {
    /// The attribute name.
    pub name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

impl KeyAttribute {
    /// A string key attribute.
    pub fn string(name: &str) -> Self {
        Self {
            name: name.to_string(),
            attribute_type: "S".into(),
        }
    }
}

/// A table's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    /// The table name (3–255 of letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// The partition (hash) key.
    pub hash_key: KeyAttribute,
    /// The sort (range) key, if any.
    pub range_key: Option<KeyAttribute>,
    /// `PAY_PER_REQUEST` or `PROVISIONED` (reported only).
    pub billing_mode: String,
}

impl TableDefinition {
    /// An on-demand table with a string hash key.
    pub fn with_string_hash_key(name: &str, hash_key: &str) -> Self {
        Self {
            name: name.to_string(),
            hash_key: KeyAttribute::string(hash_key),
            range_key: None,
            billing_mode: "PAY_PER_REQUEST".into(),
        }
    }
}

/// A table's definition and statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDescription {
    /// Its name, key schema and billing mode.
    pub definition: TableDefinition,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// Items stored.
    pub item_count: u64,
    /// Bytes stored (DynamoDB's item size, approximately).
    pub size_bytes: u64,
}

impl TableDescription {
    /// The `Table` object of `DescribeTable` / `CreateTable`.
    pub fn to_json(&self) -> Value {
        let d = &self.definition;
        let mut schema = vec![json!({"AttributeName": d.hash_key.name, "KeyType": "HASH"})];
        let mut defs = vec![
            json!({"AttributeName": d.hash_key.name, "AttributeType": d.hash_key.attribute_type}),
        ];
        if let Some(r) = &d.range_key {
            schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
            defs.push(json!({"AttributeName": r.name, "AttributeType": r.attribute_type}));
        }
        #[allow(clippy::cast_precision_loss)]
        let created = self.created_ms as f64 / 1000.0;
        json!({
            "TableName": d.name,
            "TableStatus": "ACTIVE",
            "KeySchema": schema,
            "AttributeDefinitions": defs,
            "CreationDateTime": created,
            "ItemCount": self.item_count,
            "TableSizeBytes": self.size_bytes,
            "TableArn": table_arn(&d.name),
            "TableId": table_id(&d.name),
            "BillingModeSummary": {"BillingMode": d.billing_mode},
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0
            },
            "DeletionProtectionEnabled": false
        })
    }
}

/// A stable id for a table name (the stack has one table per name).
fn table_id(name: &str) -> String {
    use md5::Digest as _;
    let digest: [u8; 16] = md5::Md5::digest(name.as_bytes()).into();
    uuid::Uuid::from_bytes(digest).to_string()
}

/// The ARN of a local table.
pub fn table_arn(name: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}")
}

/// One page of a scan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanPage {
    /// Items that matched (all scanned items without a filter).
    pub items: Vec<Item>,
    /// Items read before filtering.
    pub scanned_count: usize,
    /// The key to continue from, when the page stopped at the limit.
    pub last_evaluated_key: Option<Item>,
}

/// One part of a parallel scan: the items whose hash key falls in segment `index` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Zero-based, below `total`.
    pub index: u32,
    /// How many segments the key space is split into (at least 1).
    pub total: u32,
}

impl Segment {
    /// Whether the item with hash key text `hk` belongs to this segment. Items with one hash
    /// key always fall in one segment, and every item falls in exactly one.
    pub fn holds(&self, hk: &str) -> bool {
        use md5::Digest as _;
        let digest: [u8; 16] = md5::Md5::digest(hk.as_bytes()).into();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.total.max(1)) == u64::from(self.index)
    }
}

/// What one [`Tables::scan`] page reads.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// At most this many items are read.
    pub limit: Option<usize>,
    /// Continue after this key.
    pub exclusive_start_key: Option<Item>,
    /// Keep only the items matching this.
    pub filter: Option<Condition>,
    /// Read only this segment of a parallel scan.
    pub segment: Option<Segment>,
}

/// The table store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Tables {
    db: Database,
    clock: Arc<dyn Clock>,
}

/// Writes `item` under its key (validated, at most [`MAX_ITEM_BYTES`]) inside a write.
pub(super) fn write_item(
    conn: &Connection,
    table: &str,
    definition: &TableDefinition,
    item: &Item,
) -> Result<(), DdbError> {
    value::validate_item(item)?;
    write_checked_item(conn, table, definition, item)
}

/// [`write_item`] for an item whose attribute values were validated already (outside the
/// writer, so the single writer thread does not repeat the work).
fn write_checked_item(
    conn: &Connection,
    table: &str,
    definition: &TableDefinition,
    item: &Item,
) -> Result<(), DdbError> {
    let size = value::item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(DdbError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let (hk, rk) = key_of(definition, item, false)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO ddb_items (table_name, hk, rk, item, size)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        table,
        hk,
        rk,
        Value::Object(item.clone()).to_string(),
        size
    ])?;
    Ok(())
}

/// Deletes the item with key texts (`hk`, `rk`) inside a write.
pub(super) fn delete_item(
    conn: &Connection,
    table: &str,
    hk: &str,
    rk: &str,
) -> Result<(), DdbError> {
    conn.prepare_cached("DELETE FROM ddb_items WHERE table_name = ?1 AND hk = ?2 AND rk = ?3")?
        .execute(params![table, hk, rk])?;
    Ok(())
}

impl Tables {
    /// The database behind the store.
    pub(super) fn database(&self) -> &Database {
        &self.db
    }

    /// The store clock's time (ms since the epoch).
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Creates the tables if needed and returns the store.
    ///
    /// # Errors
    /// `Db` when the schema cannot be created.
    pub async fn open(db: Database, clock: Arc<dyn Clock>) -> Result<Self, DdbError> {
        db.write(|conn| {
            durapipe_sqlite::schema::ensure(conn, "ddb", "ddb_tables", &[])?;
            conn.execute_batch(SCHEMA).map_err(DdbError::from)
        })
        .await?;
        Ok(Self { db, clock })
    }

    /// Creates a table.
    ///
    /// # Errors
    /// `ResourceInUse` if it exists; `Validation` for a bad name or key type.
    pub async fn create_table(
        &self,
        definition: TableDefinition,
    ) -> Result<TableDescription, DdbError> {
        self.create(definition, false).await
    }

    /// Creates the table unless it exists (start-up provisioning); returns its description.
    ///
    /// # Errors
    /// `Validation` for a bad definition.
    pub async fn ensure_table(
        &self,
        definition: TableDefinition,
    ) -> Result<TableDescription, DdbError> {
        self.create(definition, true).await
    }

    async fn create(
        &self,
        definition: TableDefinition,
        if_absent: bool,
    ) -> Result<TableDescription, DdbError> {
        validate_table_name(&definition.name)?;
        for key in std::iter::once(&definition.hash_key).chain(definition.range_key.as_ref()) {
            if !matches!(key.attribute_type.as_str(), "S" | "N" | "B") || key.name.is_empty() {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{}' at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                    key.attribute_type
                )));
            }
        }
        let now = self.clock.now_ms();
        let name = definition.name.clone();
        self.db
            .write(move |conn| {
                if load_table(conn, &definition.name)?.is_some() {
                    if if_absent {
                        return Ok(());
                    }
                    return Err(DdbError::ResourceInUse(definition.name));
                }
                conn.execute(
                    "INSERT INTO ddb_tables (name, hash_key, hash_type, range_key, range_type, billing, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        definition.name,
                        definition.hash_key.name,
                        definition.hash_key.attribute_type,
                        definition.range_key.as_ref().map(|k| k.name.clone()),
                        definition.range_key.as_ref().map(|k| k.attribute_type.clone()),
                        definition.billing_mode,
                        now
                    ],
                )?;
                Ok(())
            })
            .await?;
        self.describe(&name).await
    }

    /// Deletes a table and its items.
    ///
    /// # Errors
    /// `ResourceNotFound`.
    pub async fn delete_table(&self, name: &str) -> Result<TableDescription, DdbError> {
        let description = self.describe(name).await?;
        let name = name.to_string();
        self.db
            .write(move |conn| {
                conn.execute("DELETE FROM ddb_items WHERE table_name = ?1", [&name])?;
                conn.execute("DELETE FROM ddb_tables WHERE name = ?1", [&name])?;
                conn.execute("DELETE FROM ddb_table_tags WHERE table_name = ?1", [&name])?;
                conn.execute("DELETE FROM ddb_ttl WHERE table_name = ?1", [&name])?;
                Ok::<_, DdbError>(())
            })
            .await?;
        Ok(description)
    }

    /// The table's definition and statistics.
    ///
    /// # Errors
    /// `ResourceNotFound`.
    pub async fn describe(&self, name: &str) -> Result<TableDescription, DdbError> {
        let name = name.to_string();
        self.db
            .read(move |conn| {
                let (definition, created_ms) = load_table(conn, &name)?
                    .ok_or_else(|| DdbError::ResourceNotFound(name.clone()))?;
                let (count, size): (u64, u64) = conn.query_row(
                    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_items WHERE table_name = ?1",
                    [&name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Ok(TableDescription {
                    definition,
                    created_ms,
                    item_count: count,
                    size_bytes: size,
                })
            })
            .await
    }

    /// Table names, sorted.
    ///
    /// # Errors
    /// `Db`.
    pub async fn list(&self) -> Result<Vec<String>, DdbError> {
        self.db
            .read(|conn| {
                let mut stmt = conn.prepare("SELECT name FROM ddb_tables ORDER BY name")?;
                let names = stmt
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(names)
            })
            .await
    }

    /// The item with `key` (exactly the key attributes), if any.
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` for a key that does not match the schema.
    pub async fn get(&self, table: &str, key: &Item) -> Result<Option<Item>, DdbError> {
        let (table, key) = (table.to_string(), key.clone());
        self.db
            .read(move |conn| {
                let definition = definition_of(conn, &table)?;
                let (hk, rk) = key_of(&definition, &key, true)?;
                read_item(conn, &table, &hk, &rk)
            })
            .await
    }

    /// Writes `item` if `condition` (against the current item) holds; returns the old item.
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` (bad item, missing key, over 400 KB),
    /// `ConditionalCheckFailed`.
    pub async fn put(
        &self,
        table: &str,
        item: Item,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, DdbError> {
        self.put_where(table, item, move |_| condition).await
    }

    /// [`Tables::put`] with the condition built from the table's definition, inside the write.
    async fn put_where(
        &self,
        table: &str,
        item: Item,
        condition: impl FnOnce(&TableDefinition) -> Option<Condition> + Send + 'static,
    ) -> Result<Option<Item>, DdbError> {
        value::validate_item(&item)?;
        if value::item_size(&item) > MAX_ITEM_BYTES {
            return Err(DdbError::validation(
                "Item size has exceeded the maximum allowed size",
            ));
        }
        let table = table.to_string();
        self.db
            .write(move |conn| {
                let definition = definition_of(conn, &table)?;
                let (hk, rk) = key_of(&definition, &item, false)?;
                let old = read_item(conn, &table, &hk, &rk)?;
                let condition = condition(&definition);
                if condition.as_ref().is_some_and(|c| !c.matches(old.as_ref())) {
                    return Err(DdbError::ConditionalCheckFailed);
                }
                write_checked_item(conn, &table, &definition, &item)?;
                Ok(old)
            })
            .await
    }

    /// Writes `item` unless an item with its key exists; `true` if it was written.
    ///
    /// # Errors
    /// As [`Tables::put`], except that an existing item is `Ok(false)`.
    pub async fn put_if_absent(&self, table: &str, item: Item) -> Result<bool, DdbError> {
        // The condition is built inside the write from the definition: no separate read, and
        // no `describe` (which counts the table's items: O(n) per put).
        let absent = |d: &TableDefinition| Some(Condition::attribute_not_exists(&d.hash_key.name));
        match self.put_where(table, item, absent).await {
            Ok(_) => Ok(true),
            Err(DdbError::ConditionalCheckFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the item with `key` if `condition` holds; returns the old item.
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation`, `ConditionalCheckFailed`.
    pub async fn delete(
        &self,
        table: &str,
        key: &Item,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, DdbError> {
        let (table, key) = (table.to_string(), key.clone());
        self.db
            .write(move |conn| {
                let definition = definition_of(conn, &table)?;
                let (hk, rk) = key_of(&definition, &key, true)?;
                let old = read_item(conn, &table, &hk, &rk)?;
                if condition.as_ref().is_some_and(|c| !c.matches(old.as_ref())) {
                    return Err(DdbError::ConditionalCheckFailed);
                }
                delete_item(conn, &table, &hk, &rk)?;
                Ok(old)
            })
            .await
    }

    /// Reads up to `limit` items (of `segment`, if given) after `exclusive_start_key` in key
    /// order — and, as DynamoDB does, at most 1 MiB (`SCAN_PAGE_BYTES`) of item data — keeping
    /// those that match `filter`. When
    /// the page stopped early (either bound), `last_evaluated_key` is the last scanned item's
    /// key.
    ///
    /// # Errors
    /// `ResourceNotFound`, `Validation` for a bad start key.
    pub async fn scan(&self, table: &str, options: ScanOptions) -> Result<ScanPage, DdbError> {
        let table = table.to_string();
        let ScanOptions {
            limit,
            exclusive_start_key,
            filter,
            segment,
        } = options;
        self.db
            .read(move |conn| {
                let definition = definition_of(conn, &table)?;
                let (hk, rk) = match &exclusive_start_key {
                    Some(k) => key_of(&definition, k, true)?,
                    None => (String::new(), String::new()),
                };
                let start = exclusive_start_key.is_some();
                // `hk >= ?3` lets SQLite seek to the start key in the primary key instead of
                // walking every earlier item (a page deep in a 1,000,000-item table took 0.8 s).
                let mut stmt = conn.prepare_cached(
                    "SELECT item, size, hk FROM ddb_items WHERE table_name = ?1
                       AND hk >= ?3 AND (NOT ?2 OR hk > ?3 OR rk > ?4)
                     ORDER BY hk, rk",
                )?;
                let mut rows = stmt.query(params![table, start, hk, rk])?;
                let mut page = Pager::new(limit);
                while let Some(row) = rows.next()? {
                    let row_hk: String = row.get(2)?;
                    if segment.is_some_and(|s| !s.holds(&row_hk)) {
                        continue;
                    }
                    if page.full() {
                        break;
                    }
                    let text: String = row.get(0)?;
                    let size: i64 = row.get(1)?;
                    page.push(
                        serde_json::from_str::<Item>(&text).ok(),
                        usize::try_from(size).unwrap_or(0),
                    );
                }
                Ok(page.finish(&definition, filter.as_ref()))
            })
            .await
    }
}

/// Item data one `Scan` page reads at most (DynamoDB: 1 MB), so a large table is paged instead
/// of answered (and held in memory) whole.
pub const SCAN_PAGE_BYTES: usize = 1024 * 1024;

/// A Scan or Query page being read: items until the limit or [`SCAN_PAGE_BYTES`] of item
/// data, whichever comes first.
pub(super) struct Pager {
    limit: usize,
    scanned: Vec<Item>,
    bytes: usize,
    more: bool,
}

impl Pager {
    /// An empty page of at most `limit` items (no limit: only the size bounds it).
    pub(super) fn new(limit: Option<usize>) -> Self {
        Self {
            limit: limit.unwrap_or(usize::MAX),
            scanned: Vec::new(),
            bytes: 0,
            more: false,
        }
    }

    /// Whether the page is full; asked before each further item, so that a full page knows
    /// there is more to read.
    pub(super) fn full(&mut self) -> bool {
        if self.scanned.len() >= self.limit || self.bytes >= SCAN_PAGE_BYTES {
            self.more = true;
        }
        self.more
    }

    /// Counts an item of `size` bytes; `None` (an unreadable stored item) is counted but left
    /// out.
    pub(super) fn push(&mut self, item: Option<Item>, size: usize) {
        self.bytes = self.bytes.saturating_add(size);
        self.scanned.extend(item);
    }

    /// The page: the items `filter` keeps, how many were read, and the key to continue from
    /// when the page stopped before the end.
    pub(super) fn finish(
        self,
        definition: &TableDefinition,
        filter: Option<&Condition>,
    ) -> ScanPage {
        let last_evaluated_key = self
            .scanned
            .last()
            .filter(|_| self.more)
            .map(|last| key_attributes(definition, last));
        let scanned_count = self.scanned.len();
        let items = self
            .scanned
            .into_iter()
            .filter(|i| filter.is_none_or(|f| f.matches(Some(i))))
            .collect();
        ScanPage {
            items,
            scanned_count,
            last_evaluated_key,
        }
    }
}

fn validate_table_name(name: &str) -> Result<(), DdbError> {
    let ok = (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(DdbError::validation(format!(
            "1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )))
    }
}

fn load_table(conn: &Connection, name: &str) -> Result<Option<(TableDefinition, i64)>, DdbError> {
    Ok(conn
        .prepare_cached(
            "SELECT hash_key, hash_type, range_key, range_type, billing, created_ms
               FROM ddb_tables WHERE name = ?1",
        )?
        .query_row([name], |r| {
            let range_key: Option<String> = r.get(2)?;
            let range_type: Option<String> = r.get(3)?;
            Ok((
                TableDefinition {
                    name: name.to_string(),
                    hash_key: KeyAttribute {
                        name: r.get(0)?,
                        attribute_type: r.get(1)?,
                    },
                    range_key: range_key.map(|name| KeyAttribute {
                        name,
                        attribute_type: range_type.unwrap_or_else(|| "S".into()),
                    }),
                    billing_mode: r.get(4)?,
                },
                r.get(5)?,
            ))
        })
        .optional()?)
}

pub(super) fn definition_of(conn: &Connection, table: &str) -> Result<TableDefinition, DdbError> {
    load_table(conn, table)?
        .map(|(d, _)| d)
        .ok_or_else(|| DdbError::ResourceNotFound(table.to_string()))
}

pub(super) fn read_item(
    conn: &Connection,
    table: &str,
    hk: &str,
    rk: &str,
) -> Result<Option<Item>, DdbError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT item FROM ddb_items WHERE table_name = ?1 AND hk = ?2 AND rk = ?3")?
        .query_row(params![table, hk, rk], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// The canonical (hash, range) key text of `item`; with `exact`, `item` must hold only keys.
pub(super) fn key_of(
    definition: &TableDefinition,
    item: &Item,
    exact: bool,
) -> Result<(String, String), DdbError> {
    let keys: Vec<&KeyAttribute> = std::iter::once(&definition.hash_key)
        .chain(definition.range_key.as_ref())
        .collect();
    if exact && item.len() != keys.len() {
        return Err(DdbError::validation(
            "The provided key element does not match the schema",
        ));
    }
    let mut texts = Vec::with_capacity(2);
    for key in keys {
        let value = item.get(&key.name).ok_or_else(|| {
            DdbError::validation(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                key.name
            ))
        })?;
        value::validate(value)?;
        let actual = value::type_of(value).unwrap_or_default();
        if actual != key.attribute_type {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {actual}",
                key.name, key.attribute_type
            )));
        }
        let text = value::key_text(value).unwrap_or_default();
        if text.is_empty() {
            return Err(DdbError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {}",
                key.name
            )));
        }
        texts.push(text);
    }
    let mut texts = texts.into_iter();
    Ok((
        texts.next().unwrap_or_default(),
        texts.next().unwrap_or_default(),
    ))
}

pub(super) fn key_attributes(definition: &TableDefinition, item: &Item) -> Item {
    std::iter::once(&definition.hash_key)
        .chain(definition.range_key.as_ref())
        .filter_map(|k| item.get(&k.name).map(|v| (k.name.clone(), v.clone())))
        .collect()
}
