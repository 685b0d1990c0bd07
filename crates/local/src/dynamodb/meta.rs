//! Table metadata: tags (`ddb_table_tags`) and time-to-live settings (`ddb_ttl`).
//!
//! The TTL setting is stored and reported; expired items are not deleted by the stack (AWS
//! deletes them eventually, without a deadline; readers must filter on the attribute either
//! way).

use std::collections::BTreeMap;

use durapipe_sqlite::rusqlite::{params, OptionalExtension};

use super::errors::DdbError;
use super::store::{definition_of, Tables};

/// At most this many tags per table (as DynamoDB).
pub const MAX_TAGS: usize = 50;

/// A table's TTL setting: the attribute and whether it is enabled.
pub type TimeToLive = Option<(String, bool)>;

fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), DdbError> {
    for (key, value) in tags {
        if !(1..=128).contains(&key.chars().count()) || key.starts_with("aws:") {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: invalid tag key {key:?} (1 to 128 characters, not starting with aws:)"
            )));
        }
        if value.chars().count() > 256 {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: the value of tag {key:?} is longer than 256 characters"
            )));
        }
    }
    Ok(())
}

impl Tables {
    /// Adds or replaces tags of a table.
    ///
    /// # Errors
    /// `ResourceNotFound`; `Validation` for a bad tag or more than `MAX_TAGS`.
    pub async fn tag_table(
        &self,
        table: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), DdbError> {
        validate_tags(&tags)?;
        let table = table.to_string();
        self.database()
            .write(move |conn| {
                definition_of(conn, &table)?;
                for (k, v) in &tags {
                    conn.execute(
                        "INSERT OR REPLACE INTO ddb_table_tags (table_name, key, value) VALUES (?1, ?2, ?3)",
                        params![table, k, v],
                    )?;
                }
                let count: i64 = conn.query_row(
                    "SELECT COUNT(*) FROM ddb_table_tags WHERE table_name = ?1",
                    [&table],
                    |r| r.get(0),
                )?;
                if usize::try_from(count).unwrap_or(usize::MAX) > MAX_TAGS {
                    return Err(DdbError::validation(format!(
                        "One or more parameter values were invalid: a table can have at most {MAX_TAGS} tags"
                    )));
                }
                Ok(())
            })
            .await
    }

    /// Removes tags of a table (absent keys are ignored).
    ///
    /// # Errors
    /// `ResourceNotFound`.
    pub async fn untag_table(&self, table: &str, keys: Vec<String>) -> Result<(), DdbError> {
        let table = table.to_string();
        self.database()
            .write(move |conn| {
                definition_of(conn, &table)?;
                for k in &keys {
                    conn.execute(
                        "DELETE FROM ddb_table_tags WHERE table_name = ?1 AND key = ?2",
                        params![table, k],
                    )?;
                }
                Ok(())
            })
            .await
    }

    /// The tags of a table.
    ///
    /// # Errors
    /// `ResourceNotFound`.
    pub async fn table_tags(&self, table: &str) -> Result<BTreeMap<String, String>, DdbError> {
        let table = table.to_string();
        self.database()
            .read(move |conn| {
                definition_of(conn, &table)?;
                let mut stmt =
                    conn.prepare("SELECT key, value FROM ddb_table_tags WHERE table_name = ?1")?;
                let tags = stmt
                    .query_map([&table], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<BTreeMap<String, String>, _>>()?;
                Ok(tags)
            })
            .await
    }

    /// The table's TTL setting.
    ///
    /// # Errors
    /// `ResourceNotFound`.
    pub async fn time_to_live(&self, table: &str) -> Result<TimeToLive, DdbError> {
        let table = table.to_string();
        self.database()
            .read(move |conn| {
                definition_of(conn, &table)?;
                Ok(conn
                    .query_row(
                        "SELECT attribute, enabled FROM ddb_ttl WHERE table_name = ?1",
                        [&table],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)),
                    )
                    .optional()?)
            })
            .await
    }

    /// Enables or disables TTL on `attribute`, as `UpdateTimeToLive` does.
    ///
    /// # Errors
    /// `ResourceNotFound`; `Validation` when enabling an enabled TTL, or disabling one that is
    /// not enabled or names another attribute.
    pub async fn set_time_to_live(
        &self,
        table: &str,
        attribute: &str,
        enabled: bool,
    ) -> Result<(), DdbError> {
        if attribute.is_empty() || attribute.len() > 255 {
            return Err(DdbError::validation(
                "1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length between 1 and 255",
            ));
        }
        let (table, attribute) = (table.to_string(), attribute.to_string());
        self.database()
            .write(move |conn| {
                definition_of(conn, &table)?;
                let current: Option<(String, bool)> = conn
                    .query_row(
                        "SELECT attribute, enabled FROM ddb_ttl WHERE table_name = ?1",
                        [&table],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                match (&current, enabled) {
                    (Some((_, true)), true) => {
                        return Err(DdbError::validation("TimeToLive is already enabled"))
                    }
                    (Some((a, true)), false) if *a != attribute => {
                        return Err(DdbError::validation(format!(
                            "TimeToLive is enabled on attribute {a}, not {attribute}"
                        )))
                    }
                    (None | Some((_, false)), false) => {
                        return Err(DdbError::validation("TimeToLive is already disabled"))
                    }
                    _ => {}
                }
                conn.execute(
                    "INSERT OR REPLACE INTO ddb_ttl (table_name, attribute, enabled) VALUES (?1, ?2, ?3)",
                    params![table, attribute, enabled],
                )?;
                Ok(())
            })
            .await
    }
}
