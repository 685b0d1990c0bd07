//! Queue tags (`sqs_queue_tags`): `CreateQueue`'s `tags`, `TagQueue`, `UntagQueue`,
//! `ListQueueTags`.

use std::collections::BTreeMap;

use durapipe_sqlite::rusqlite::{params, Connection};

use super::errors::SqsError;
use super::messages::load_queue;
use super::store::Queues;

/// At most this many tags per queue (as SQS).
pub const MAX_TAGS: usize = 50;

/// Checks tag keys (1–128 characters, not `aws:`) and values (at most 256 characters).
///
/// # Errors
/// `InvalidParameterValue` naming the bad tag.
pub(super) fn validate(tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
    if tags.len() > MAX_TAGS {
        return Err(SqsError::InvalidParameterValue(format!(
            "Too many tags: a queue can have at most {MAX_TAGS} tags."
        )));
    }
    for (key, value) in tags {
        if !(1..=128).contains(&key.chars().count()) || key.starts_with("aws:") {
            return Err(SqsError::invalid_value(
                key,
                "Tags",
                "Tag keys must be 1 to 128 characters long and must not start with aws:.",
            ));
        }
        if value.chars().count() > 256 {
            return Err(SqsError::invalid_value(
                value,
                "Tags",
                "Tag values must be at most 256 characters long.",
            ));
        }
    }
    Ok(())
}

/// Adds (or replaces) tags of `queue` inside a write, keeping the queue at [`MAX_TAGS`].
pub(super) fn add_in(
    conn: &Connection,
    queue: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), SqsError> {
    for (key, value) in tags {
        conn.execute(
            "INSERT OR REPLACE INTO sqs_queue_tags (queue, key, value) VALUES (?1, ?2, ?3)",
            params![queue, key, value],
        )?;
    }
    let count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqs_queue_tags WHERE queue = ?1",
        [queue],
        |r| r.get(0),
    )?;
    if usize::try_from(count).unwrap_or(usize::MAX) > MAX_TAGS {
        return Err(SqsError::InvalidParameterValue(format!(
            "Too many tags: a queue can have at most {MAX_TAGS} tags."
        )));
    }
    Ok(())
}

impl Queues {
    /// Adds or replaces tags of a queue.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `InvalidParameterValue` for bad tags or more than `MAX_TAGS`.
    pub async fn tag_queue(
        &self,
        queue: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        validate(&tags)?;
        let queue = queue.to_string();
        self.database()
            .write(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                add_in(conn, &queue, &tags)
            })
            .await
    }

    /// Removes tags of a queue (keys it does not have are ignored, as SQS).
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn untag_queue(&self, queue: &str, keys: Vec<String>) -> Result<(), SqsError> {
        let queue = queue.to_string();
        self.database()
            .write(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                for key in &keys {
                    conn.execute(
                        "DELETE FROM sqs_queue_tags WHERE queue = ?1 AND key = ?2",
                        params![queue, key],
                    )?;
                }
                Ok(())
            })
            .await
    }

    /// The tags of a queue.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn queue_tags(&self, queue: &str) -> Result<BTreeMap<String, String>, SqsError> {
        let queue = queue.to_string();
        self.database()
            .read(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                let mut stmt =
                    conn.prepare("SELECT key, value FROM sqs_queue_tags WHERE queue = ?1")?;
                let tags = stmt
                    .query_map([&queue], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<BTreeMap<String, String>, _>>()?;
                Ok(tags)
            })
            .await
    }
}
