//! Resource tags as SQLite rows `(owner, key, value)`: SQS's queue tags and DynamoDB's table
//! tags follow the same rules (keys 1–128 characters, not `aws:`; values at most 256
//! characters; at most 50 tags) and are stored the same way.

use std::collections::BTreeMap;

use durapipe_sqlite::rusqlite::{params, Connection};

/// At most this many tags per resource (as SQS and DynamoDB).
pub const MAX_TAGS: usize = 50;

/// The first tag that breaks AWS's rules: its key, or its key and (too long) value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadTag<'a> {
    /// A key that is empty, longer than 128 characters or starts with `aws:`.
    Key(&'a str),
    /// A value longer than 256 characters, with its key.
    Value(&'a str, &'a str),
}

/// The first tag of `tags` that breaks AWS's rules for keys and values, if any.
pub(crate) fn bad_tag(tags: &BTreeMap<String, String>) -> Option<BadTag<'_>> {
    tags.iter().find_map(|(key, value)| {
        if !(1..=128).contains(&key.chars().count()) || key.starts_with("aws:") {
            Some(BadTag::Key(key))
        } else if value.chars().count() > 256 {
            Some(BadTag::Value(key, value))
        } else {
            None
        }
    })
}

/// A tag table: its name and the column naming the tagged resource (the other two columns
/// are `key` and `value`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagRows {
    pub table: &'static str,
    pub owner: &'static str,
}

impl TagRows {
    /// Adds (or replaces) `tags` of `owner`; returns how many tags it has then.
    pub(crate) fn add(
        self,
        conn: &Connection,
        owner: &str,
        tags: &BTreeMap<String, String>,
    ) -> durapipe_sqlite::rusqlite::Result<usize> {
        let Self { table, owner: col } = self;
        for (key, value) in tags {
            conn.execute(
                &format!("INSERT OR REPLACE INTO {table} ({col}, key, value) VALUES (?1, ?2, ?3)"),
                params![owner, key, value],
            )?;
        }
        let count: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE {col} = ?1"),
            [owner],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// Removes the tags `keys` of `owner` (absent keys are ignored).
    pub(crate) fn remove(
        self,
        conn: &Connection,
        owner: &str,
        keys: &[String],
    ) -> durapipe_sqlite::rusqlite::Result<()> {
        let Self { table, owner: col } = self;
        for key in keys {
            conn.execute(
                &format!("DELETE FROM {table} WHERE {col} = ?1 AND key = ?2"),
                params![owner, key],
            )?;
        }
        Ok(())
    }

    /// The tags of `owner`.
    pub(crate) fn read(
        self,
        conn: &Connection,
        owner: &str,
    ) -> durapipe_sqlite::rusqlite::Result<BTreeMap<String, String>> {
        let Self { table, owner: col } = self;
        let mut stmt = conn.prepare(&format!("SELECT key, value FROM {table} WHERE {col} = ?1"))?;
        let tags = stmt
            .query_map([owner], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect();
        tags
    }
}
