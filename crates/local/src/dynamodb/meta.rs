//! Table metadata: tags (`ddb_table_tags`) and time-to-live settings (`ddb_ttl`).
//!
//! The TTL setting is stored and reported; expired items are not deleted by the stack (AWS
//! deletes them eventually, without a deadline; readers must filter on the attribute either
//! way).

use std::collections::BTreeMap;

use durapipe_sqlite::rusqlite::{params, OptionalExtension};

use super::errors::DdbError;
use super::store::{definition_of, Tables};

pub use crate::tags::MAX_TAGS;
use crate::tags::{bad_tag, BadTag, TagRows};

/// Where table tags are stored.
const ROWS: TagRows = TagRows {
    table: "ddb_table_tags",
    owner: "table_name",
};

/// A table's TTL setting: the attribute and whether it is enabled.
pub type TimeToLive = Option<(String, bool)>;

fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), DdbError> {
    match bad_tag(tags) {
        None => Ok(()),
        Some(BadTag::Key(key)) => Err(DdbError::validation(format!(
            "One or more parameter values were invalid: invalid tag key {key:?} (1 to 128 characters, not starting with aws:)"
        ))),
        Some(BadTag::Value(key, _)) => Err(DdbError::validation(format!(
            "One or more parameter values were invalid: the value of tag {key:?} is longer than 256 characters"
        ))),
    }
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
                if ROWS.add(conn, &table, &tags)? > MAX_TAGS {
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
                Ok(ROWS.remove(conn, &table, &keys)?)
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
                Ok(ROWS.read(conn, &table)?)
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
