//! The conformance suite every [`RecordTable`] implementation runs.
//!
//! ```ignore
//! #[tokio::test]
//! async fn conforms() {
//!     let table = MyTable::fresh().await;
//!     durapipe_core::record_table::conformance::run_suite(&table).await.unwrap();
//! }
//! ```
//!
//! The suite needs a table that holds none of its ids (they all start with `conformance-`); it is
//! runtime-agnostic (no tokio) and reports the first failed check instead of panicking.
//!
//! Not pinned: whether an adapter normalizes integral floats (`2.0`) to integers (`2`), as
//! DynamoDB does; the suite avoids them.

use std::fmt;

use serde_json::{json, Map, Value};

use super::{RecordTable, TableError};
use crate::item::{PutOutcome, StoredItem, ATTRIBUTE_NAMES};

/// A conformance check failed.
#[derive(Debug, thiserror::Error)]
#[error("record-table conformance check `{check}` failed: {detail}")]
#[non_exhaustive]
pub struct ConformanceFailure {
    /// The check that failed.
    pub check: &'static str,
    /// What was observed.
    pub detail: String,
    /// The table error, when the table failed a request.
    #[source]
    pub source: Option<TableError>,
}

impl ConformanceFailure {
    fn mismatch(check: &'static str, detail: impl fmt::Display) -> Self {
        Self {
            check,
            detail: detail.to_string(),
            source: None,
        }
    }

    fn table(check: &'static str, err: TableError) -> Self {
        Self {
            check,
            detail: "the table returned an error".to_owned(),
            source: Some(err),
        }
    }
}

/// A sample item with id `conformance-{suffix}`, with a varied `original_data` (nested maps,
/// lists, integers, negative and fractional numbers, booleans, null, empty containers, Unicode).
#[must_use]
pub fn sample_item(suffix: &str) -> StoredItem {
    let execution_id = format!("conformance-{suffix}");
    let original = json!({
        "data_source": "straße.csv",
        "processing_type": "standard",
        "count": 42,
        "negative": -7,
        "big": 12_345_678_901_234_u64,
        "ratio": 2.5,
        "small": 0.001,
        "enabled": true,
        "disabled": false,
        "nothing": null,
        "empty_string": "",
        "empty_list": [],
        "empty_map": {},
        "tags": ["a", 1, false, null, {"k": "v"}, [1, [2, [3]]]],
        "nested": {"level1": {"level2": {"unicode": "日本語 ✓", "list": [1.25, -0.5]}}},
    });
    let transformed = json!({
        "data_source": "STRASSE.CSV",
        "processing_type": "standard",
        "processed_at": "2024-05-01T12:00:00.000Z",
        "execution_id": execution_id,
        "transformation_applied": "uppercase_data_source",
    });
    StoredItem {
        message_id: format!("msg-{suffix}"),
        data_source: "straße.csv".to_owned(),
        processing_type: "standard".to_owned(),
        original_data: as_map(original),
        transformed_data: as_map(transformed),
        stored_at: "2024-05-01T12:00:01.000Z".to_owned(),
        durable_execution_arn: format!(
            "arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator:1/durable-execution/{suffix}/run"
        ),
        execution_id,
    }
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Runs every check against `table`, which must not hold any `conformance-*` id.
///
/// # Errors
/// The first check that failed.
pub async fn run_suite<T: RecordTable>(table: &T) -> Result<(), ConformanceFailure> {
    put_then_get_returns_the_item_exactly(table).await?;
    second_put_is_a_duplicate_and_changes_nothing(table).await?;
    get_of_an_unknown_id_is_none(table).await?;
    items_do_not_interfere(table).await?;
    Ok(())
}

/// Put a new item: `Inserted`; read it back: exactly the same attributes and values.
///
/// # Errors
/// When the check fails.
pub async fn put_then_get_returns_the_item_exactly<T: RecordTable>(
    table: &T,
) -> Result<(), ConformanceFailure> {
    const CHECK: &str = "put_then_get_returns_the_item_exactly";
    let item = sample_item("roundtrip");
    let outcome = table
        .put_if_absent(&item)
        .await
        .map_err(|e| ConformanceFailure::table(CHECK, e))?;
    if outcome != PutOutcome::Inserted {
        return Err(ConformanceFailure::mismatch(
            CHECK,
            format!("first put reported {outcome:?}, expected Inserted"),
        ));
    }
    expect_stored(table, CHECK, &item).await
}

/// Put an item, then another with the same `execution_id` but different values: the second put
/// reports `Duplicate` (not an error) and the first item is unchanged.
///
/// # Errors
/// When the check fails.
pub async fn second_put_is_a_duplicate_and_changes_nothing<T: RecordTable>(
    table: &T,
) -> Result<(), ConformanceFailure> {
    const CHECK: &str = "second_put_is_a_duplicate_and_changes_nothing";
    let first = sample_item("duplicate");
    let outcome = table
        .put_if_absent(&first)
        .await
        .map_err(|e| ConformanceFailure::table(CHECK, e))?;
    if outcome != PutOutcome::Inserted {
        return Err(ConformanceFailure::mismatch(
            CHECK,
            format!("first put reported {outcome:?}, expected Inserted"),
        ));
    }
    let mut second = sample_item("duplicate");
    second.message_id = "a-different-message".to_owned();
    second.data_source = "other.csv".to_owned();
    second.stored_at = "2030-01-01T00:00:00.000Z".to_owned();
    second
        .original_data
        .insert("data_source".to_owned(), "other.csv".into());
    second
        .transformed_data
        .insert("data_source".to_owned(), "OTHER.CSV".into());
    for attempt in ["second", "third"] {
        let outcome = table
            .put_if_absent(&second)
            .await
            .map_err(|e| ConformanceFailure::table(CHECK, e))?;
        if outcome != PutOutcome::Duplicate {
            return Err(ConformanceFailure::mismatch(
                CHECK,
                format!("{attempt} put of the same execution_id reported {outcome:?}, expected Duplicate"),
            ));
        }
    }
    expect_stored(table, CHECK, &first).await
}

/// Reading an id that was never put returns `None`.
///
/// # Errors
/// When the check fails.
pub async fn get_of_an_unknown_id_is_none<T: RecordTable>(
    table: &T,
) -> Result<(), ConformanceFailure> {
    const CHECK: &str = "get_of_an_unknown_id_is_none";
    let got = table
        .get("conformance-never-stored")
        .await
        .map_err(|e| ConformanceFailure::table(CHECK, e))?;
    match got {
        None => Ok(()),
        Some(item) => Err(ConformanceFailure::mismatch(CHECK, format!("got {item:?}"))),
    }
}

/// Two items with different ids are stored and read independently.
///
/// # Errors
/// When the check fails.
pub async fn items_do_not_interfere<T: RecordTable>(table: &T) -> Result<(), ConformanceFailure> {
    const CHECK: &str = "items_do_not_interfere";
    let a = sample_item("independent-a");
    let mut b = sample_item("independent-b");
    b.original_data = as_map(json!({"data_source": "b.csv", "processing_type": "fast"}));
    b.data_source = "b.csv".to_owned();
    b.processing_type = "fast".to_owned();
    for item in [&a, &b] {
        let outcome = table
            .put_if_absent(item)
            .await
            .map_err(|e| ConformanceFailure::table(CHECK, e))?;
        if outcome != PutOutcome::Inserted {
            return Err(ConformanceFailure::mismatch(
                CHECK,
                format!("put of {} reported {outcome:?}", item.execution_id),
            ));
        }
    }
    expect_stored(table, CHECK, &a).await?;
    expect_stored(table, CHECK, &b).await
}

async fn expect_stored<T: RecordTable>(
    table: &T,
    check: &'static str,
    expected: &StoredItem,
) -> Result<(), ConformanceFailure> {
    let got = table
        .get(&expected.execution_id)
        .await
        .map_err(|e| ConformanceFailure::table(check, e))?;
    let Some(got) = got else {
        return Err(ConformanceFailure::mismatch(
            check,
            format!("item {} not found after put", expected.execution_id),
        ));
    };
    if &got != expected {
        return Err(ConformanceFailure::mismatch(
            check,
            format!("read back\n  {got:?}\nexpected\n  {expected:?}"),
        ));
    }
    let attributes = serde_json::to_value(&got)
        .ok()
        .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()))
        .unwrap_or_default();
    if attributes.len() != ATTRIBUTE_NAMES.len()
        || !ATTRIBUTE_NAMES
            .iter()
            .all(|name| attributes.iter().any(|a| a == name))
    {
        return Err(ConformanceFailure::mismatch(
            check,
            format!("attributes {attributes:?}, expected {ATTRIBUTE_NAMES:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The suite itself is checked against an in-memory table, a correct one and broken ones,
    //! with a minimal executor (the core has no async runtime).
    use super::*;
    use crate::record_table::TableErrorKind;
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemoryTable {
        items: Mutex<BTreeMap<String, StoredItem>>,
        overwrite: bool,
        fail: bool,
    }

    impl RecordTable for MemoryTable {
        async fn put_if_absent(&self, item: &StoredItem) -> Result<PutOutcome, TableError> {
            if self.fail {
                return Err(TableError::from_kind(TableErrorKind::Unavailable));
            }
            let mut items = self.items.lock().unwrap();
            if items.contains_key(&item.execution_id) && !self.overwrite {
                return Ok(PutOutcome::Duplicate);
            }
            items.insert(item.execution_id.clone(), item.clone());
            Ok(PutOutcome::Inserted)
        }

        async fn get(&self, execution_id: &str) -> Result<Option<StoredItem>, TableError> {
            Ok(self.items.lock().unwrap().get(execution_id).cloned())
        }
    }

    /// Polls a future that never waits on anything external to completion.
    fn block_on<F: Future>(fut: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut fut = std::pin::pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    #[test]
    fn a_correct_table_passes() {
        block_on(run_suite(&MemoryTable::default())).unwrap();
    }

    #[test]
    fn a_table_that_overwrites_fails() {
        let table = MemoryTable {
            overwrite: true,
            ..MemoryTable::default()
        };
        let err = block_on(run_suite(&table)).unwrap_err();
        assert_eq!(err.check, "second_put_is_a_duplicate_and_changes_nothing");
    }

    #[test]
    fn a_failing_table_fails_with_its_error() {
        let table = MemoryTable {
            fail: true,
            ..MemoryTable::default()
        };
        let err = block_on(run_suite(&table)).unwrap_err();
        assert_eq!(
            err.source.map(|e| e.kind()),
            Some(TableErrorKind::Unavailable)
        );
    }

    #[test]
    fn a_table_that_is_not_fresh_fails() {
        let table = MemoryTable::default();
        block_on(table.put_if_absent(&sample_item("roundtrip"))).unwrap();
        assert!(block_on(run_suite(&table)).is_err());
    }
}
