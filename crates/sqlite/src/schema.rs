//! Schema versions: every component of the shared database (the queues, the tables, the durable
//! service) records the version of its tables' layout, so a newer file is refused with a clear
//! message instead of being misread, and an older one is migrated.
//!
//! - `PRAGMA user_version` is the version of this record-keeping itself ([`FORMAT`]); a file
//!   with a higher one is from a newer durapipe and refused.
//! - `schema_versions(component, version)` holds each component's layout version.
//! - Version 1 is the layout of the first release, which recorded no versions: a component
//!   whose tables exist without a record is at version 1.

use rusqlite::{params, Connection, OptionalExtension as _};

use crate::DbError;

/// The version of the record-keeping (`PRAGMA user_version`).
pub const FORMAT: u32 = 1;

/// Checks and migrates `component`'s layout; call it in the component's start-up write, before
/// its `CREATE TABLE IF NOT EXISTS` statements. `probe_table` is one of the component's tables
/// (it tells a file from before versions from a new one); `upgrades[i]` is the SQL that takes
/// the layout from version `i + 1` to `i + 2`, so the current version is `upgrades.len() + 1`.
///
/// # Errors
/// [`DbError::NewerSchema`] for a file a newer durapipe wrote; a SQLite error otherwise.
pub fn ensure(
    conn: &Connection,
    component: &str,
    probe_table: &str,
    upgrades: &[&str],
) -> Result<(), DbError> {
    let current = u32::try_from(upgrades.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let format: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if format > FORMAT {
        return Err(DbError::NewerSchema {
            component: "file format".to_owned(),
            found: format,
            known: FORMAT,
        });
    }
    if format < FORMAT {
        conn.execute_batch(&format!("PRAGMA user_version = {FORMAT};"))?;
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_versions (
             component TEXT PRIMARY KEY,
             version INTEGER NOT NULL
         );",
    )?;
    let recorded: Option<u32> = conn
        .query_row(
            "SELECT version FROM schema_versions WHERE component = ?1",
            [component],
            |r| r.get(0),
        )
        .optional()?;
    let found = match recorded {
        Some(v) => Some(v),
        None => {
            let exists: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [probe_table],
                |r| r.get(0),
            )?;
            exists.then_some(1)
        }
    };
    if let Some(found) = found {
        if found > current {
            return Err(DbError::NewerSchema {
                component: component.to_owned(),
                found,
                known: current,
            });
        }
        for sql in upgrades.iter().skip(found as usize - 1) {
            conn.execute_batch(sql)?;
        }
    }
    conn.execute(
        "INSERT INTO schema_versions (component, version) VALUES (?1, ?2)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        params![component, current],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection, component: &str) -> Option<u32> {
        conn.query_row(
            "SELECT version FROM schema_versions WHERE component = ?1",
            [component],
            |r| r.get(0),
        )
        .optional()
        .unwrap()
    }

    #[test]
    fn a_new_file_records_the_current_version_and_runs_no_upgrade() {
        let conn = Connection::open_in_memory().unwrap();
        ensure(&conn, "c", "c_items", &["this is not SQL"]).unwrap();
        assert_eq!(version(&conn, "c"), Some(2));
        let format: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(format, FORMAT);
    }

    #[test]
    fn a_file_from_before_versions_is_version_1_and_is_upgraded() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE c_items (id TEXT);")
            .unwrap();
        let upgrades = ["ALTER TABLE c_items ADD COLUMN n INTEGER;"];
        ensure(&conn, "c", "c_items", &upgrades).unwrap();
        assert_eq!(version(&conn, "c"), Some(2));
        conn.execute("INSERT INTO c_items (id, n) VALUES ('a', 1)", [])
            .unwrap();
        // Upgrades run once: opening again changes nothing.
        ensure(&conn, "c", "c_items", &upgrades).unwrap();
        assert_eq!(version(&conn, "c"), Some(2));
    }

    #[test]
    fn a_newer_component_or_format_is_refused_by_name() {
        let conn = Connection::open_in_memory().unwrap();
        ensure(&conn, "c", "c_items", &[]).unwrap();
        conn.execute(
            "UPDATE schema_versions SET version = 7 WHERE component = 'c'",
            [],
        )
        .unwrap();
        let err = ensure(&conn, "c", "c_items", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the database was written by a newer durapipe (c: schema version 7, this build \
             knows up to 1); use that version or another data directory"
        );
        ensure(&conn, "other", "other_items", &[]).unwrap();
        conn.execute_batch("PRAGMA user_version = 9;").unwrap();
        let err = ensure(&conn, "other", "other_items", &[]).unwrap_err();
        assert!(
            matches!(err, DbError::NewerSchema { found: 9, .. }),
            "{err}"
        );
    }
}
