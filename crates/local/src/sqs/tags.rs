//! Queue tags (`sqs_queue_tags`): `CreateQueue`'s `tags`, `TagQueue`, `UntagQueue`,
//! `ListQueueTags`.

use std::collections::BTreeMap;

use durapipe_sqlite::rusqlite::Connection;

use super::errors::SqsError;
use super::messages::load_queue;
use super::store::Queues;

pub use crate::tags::MAX_TAGS;
use crate::tags::{bad_tag, BadTag, TagRows};

/// Where queue tags are stored.
const ROWS: TagRows = TagRows {
    table: "sqs_queue_tags",
    owner: "queue",
};

/// The error of a queue with more than [`MAX_TAGS`] tags.
fn too_many() -> SqsError {
    SqsError::InvalidParameterValue(format!(
        "Too many tags: a queue can have at most {MAX_TAGS} tags."
    ))
}

/// Checks tag keys (1–128 characters, not `aws:`) and values (at most 256 characters).
///
/// # Errors
/// `InvalidParameterValue` naming the bad tag.
pub(super) fn validate(tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
    if tags.len() > MAX_TAGS {
        return Err(too_many());
    }
    match bad_tag(tags) {
        None => Ok(()),
        Some(BadTag::Key(key)) => Err(SqsError::invalid_value(
            key,
            "Tags",
            "Tag keys must be 1 to 128 characters long and must not start with aws:.",
        )),
        Some(BadTag::Value(_, value)) => Err(SqsError::invalid_value(
            value,
            "Tags",
            "Tag values must be at most 256 characters long.",
        )),
    }
}

/// Adds (or replaces) tags of `queue` inside a write, keeping the queue at [`MAX_TAGS`].
pub(super) fn add_in(
    conn: &Connection,
    queue: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), SqsError> {
    if ROWS.add(conn, queue, tags)? > MAX_TAGS {
        return Err(too_many());
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
                Ok(ROWS.remove(conn, &queue, &keys)?)
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
                Ok(ROWS.read(conn, &queue)?)
            })
            .await
    }
}
