//! The durable queue store: queues and messages in SQLite (`sqs_queues`, `sqs_messages`).
//!
//! Every mutating call returns only after its transaction committed (see `durapipe-sqlite`).
//! A receive is one write transaction, so two receivers never get the same visible message.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use durapipe_sqlite::rusqlite::params;
use durapipe_sqlite::Database;
use serde_json::{Map, Value};
use tokio::sync::Notify;

use super::attributes::{self, RedrivePolicy};
use super::errors::SqsError;
use super::messages::{
    count_in, insert_message, load_queue, message_id_of_handle, receive_in, redrive_of, to_json,
};
use super::{valid_queue_name, QueueConfig};
use crate::clock::Clock;

/// How the SQS tables moved on: version 1 (the first release) → 2 added message groups and the
/// dead-letter source of a message (for move tasks); tables that are new in a version are
/// created by [`SCHEMA`].
const SCHEMA_UPGRADES: &[&str] = &["ALTER TABLE sqs_messages ADD COLUMN message_group_id TEXT;
     ALTER TABLE sqs_messages ADD COLUMN dead_letter_source TEXT;"];

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sqs_queues (
    name        TEXT PRIMARY KEY,
    attributes  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sqs_messages (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    queue                      TEXT NOT NULL,
    message_id                 TEXT NOT NULL,
    body                       TEXT NOT NULL,
    md5_of_body                TEXT NOT NULL,
    message_attributes         TEXT,
    md5_of_message_attributes  TEXT,
    sent_ms                    INTEGER NOT NULL,
    visible_at_ms              INTEGER NOT NULL,
    receive_count              INTEGER NOT NULL DEFAULT 0,
    first_receive_ms           INTEGER,
    receipt_handle             TEXT,
    last_error                 TEXT,
    message_group_id           TEXT,
    dead_letter_source         TEXT
);
CREATE TABLE IF NOT EXISTS sqs_queue_tags (
    queue       TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (queue, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sqs_move_tasks (
    handle      TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    destination TEXT,
    rate        INTEGER,
    status      TEXT NOT NULL,
    moved       INTEGER NOT NULL DEFAULT 0,
    to_move     INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    failure     TEXT
);
CREATE INDEX IF NOT EXISTS sqs_messages_visible ON sqs_messages (queue, visible_at_ms, seq);
CREATE UNIQUE INDEX IF NOT EXISTS sqs_messages_id ON sqs_messages (queue, message_id);
-- the retention purge of every receive (`sent_ms < cutoff`) probes this index instead of
-- reading every message of the queue; added without a layout version: an earlier release
-- opens the file and ignores it.
CREATE INDEX IF NOT EXISTS sqs_messages_sent ON sqs_messages (queue, sent_ms);
";

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct SendMessage {
    /// The body (1 byte up to the queue's `MaximumMessageSize`, SQS's character set).
    pub body: String,
    /// Seconds before the message becomes visible (0–900); the queue's `DelaySeconds` if `None`.
    pub delay_seconds: Option<u32>,
    /// Message attributes in the JSON protocol's shape (`name → {DataType, StringValue|BinaryValue}`).
    pub message_attributes: Option<Value>,
    /// The message group (kept and reported; standard queues do not order by it).
    pub message_group_id: Option<String>,
}

/// What `SendMessage` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The new message's id (a UUID).
    pub message_id: String,
    /// Hex MD5 of the body.
    pub md5_of_body: String,
    /// Hex MD5 of the message attributes, when there are any.
    pub md5_of_message_attributes: Option<String>,
}

/// Options of [`Queues::receive`].
#[derive(Debug, Clone)]
pub struct ReceiveOptions {
    /// At most this many messages (1–10).
    pub max_messages: usize,
    /// How long the received messages stay hidden; the queue's `VisibilityTimeout` if `None`.
    pub visibility_timeout: Option<Duration>,
    /// Long polling: wait up to this long for a first message (0–20 s).
    pub wait: Duration,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        Self {
            max_messages: 1,
            visibility_timeout: None,
            wait: Duration::ZERO,
        }
    }
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The message id (stable across receives and redrive).
    pub message_id: String,
    /// The handle of this receive (a new one each time).
    pub receipt_handle: String,
    /// The body, as sent.
    pub body: String,
    /// Hex MD5 of the body.
    pub md5_of_body: String,
    /// Message attributes, if any were sent.
    pub message_attributes: Option<Map<String, Value>>,
    /// Hex MD5 of all message attributes, if any were sent.
    pub md5_of_message_attributes: Option<String>,
    /// When it was sent (ms since the epoch).
    pub sent_timestamp_ms: i64,
    /// How many times it has been received, this receive included.
    pub approximate_receive_count: u32,
    /// When it was first received (ms since the epoch).
    pub approximate_first_receive_timestamp_ms: i64,
    /// The last error recorded by [`Queues::release_with_error`], if any.
    pub last_error: Option<String>,
    /// The message group it was sent with, if any.
    pub message_group_id: Option<String>,
    /// The queue it was moved to the dead-letter queue from, if it was.
    pub dead_letter_source: Option<String>,
}

/// A message as stored, for inspection without receiving it (`durapipe dlq list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message id.
    pub message_id: String,
    /// The body, as sent.
    pub body: String,
    /// When it was sent (ms since the epoch).
    pub sent_timestamp_ms: i64,
    /// Receives so far (reset to 0 when moved to a dead-letter queue).
    pub receive_count: u32,
    /// When it becomes (or became) visible (ms since the epoch).
    pub visible_at_ms: i64,
    /// The last error recorded against it.
    pub last_error: Option<String>,
}

/// Message counts of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// Visible messages.
    pub visible: u64,
    /// Received and still hidden.
    pub not_visible: u64,
    /// Sent with a delay that has not passed.
    pub delayed: u64,
}

/// The queue store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Queues {
    db: Database,
    clock: Arc<dyn Clock>,
    config: Arc<QueueConfig>,
    notify: Arc<Notify>,
}

impl Queues {
    /// Creates the tables if needed and returns the store.
    ///
    /// # Errors
    /// `Db` when the schema cannot be created.
    pub async fn open(
        db: Database,
        clock: Arc<dyn Clock>,
        config: QueueConfig,
    ) -> Result<Self, SqsError> {
        db.write(|conn| {
            durapipe_sqlite::schema::ensure(conn, "sqs", "sqs_queues", SCHEMA_UPGRADES)?;
            conn.execute_batch(SCHEMA)?;
            super::move_tasks::fail_interrupted(conn)
        })
        .await?;
        Ok(Self {
            db,
            clock,
            config: Arc::new(config),
            notify: Arc::new(Notify::new()),
        })
    }

    /// The database behind the store.
    pub(super) fn database(&self) -> &Database {
        &self.db
    }

    /// The store clock's time (ms since the epoch).
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Wakes long-polling receivers (after messages were moved in).
    pub(super) fn wake_receivers(&self) {
        self.notify.notify_waiters();
    }

    /// The store's limits.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// Creates a queue, or accepts an existing one whose given attributes are equal (as SQS).
    ///
    /// # Errors
    /// `InvalidParameterValue` for a bad name, attribute errors, `QueueNameExists` when the
    /// queue exists with different values.
    pub async fn create_queue(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        self.create_queue_tagged(name, attributes, &BTreeMap::new())
            .await
    }

    /// [`Queues::create_queue`] with tags, set when the queue is created (an existing queue's
    /// tags are left as they are, as SQS does).
    ///
    /// # Errors
    /// As [`Queues::create_queue`]; `InvalidParameterValue` for bad tags.
    pub async fn create_queue_tagged(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        super::tags::validate(tags)?;
        let tags = tags.clone();
        if name.ends_with(".fifo") {
            return Err(SqsError::UnsupportedOperation(
                "FIFO queues are not supported by the durapipe local stack.".into(),
            ));
        }
        if !valid_queue_name(name) {
            return Err(SqsError::InvalidParameterValue(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                    .into(),
            ));
        }
        let attrs = attributes::normalize(attributes, &self.config)?;
        let (name, now, config) = (name.to_string(), self.clock.now_ms(), self.config.clone());
        self.db
            .write(move |conn| {
                if let Some(existing) = load_queue(conn, &name)? {
                    for (k, v) in &attrs {
                        let current = attributes::effective(&existing.attributes, k, &config);
                        if current.as_deref().unwrap_or("") != v {
                            return Err(SqsError::QueueNameExists(k.clone()));
                        }
                    }
                    return Ok(());
                }
                conn.execute(
                    "INSERT INTO sqs_queues (name, attributes, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?3)",
                    params![name, to_json(&attrs), now],
                )?;
                super::tags::add_in(conn, &name, &tags)
            })
            .await
    }

    /// Deletes a queue and its messages.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn delete_queue(&self, name: &str) -> Result<(), SqsError> {
        let name = name.to_string();
        self.db
            .write(move |conn| {
                if conn.execute("DELETE FROM sqs_queues WHERE name = ?1", [&name])? == 0 {
                    return Err(SqsError::QueueDoesNotExist);
                }
                conn.execute("DELETE FROM sqs_messages WHERE queue = ?1", [&name])?;
                conn.execute("DELETE FROM sqs_queue_tags WHERE queue = ?1", [&name])?;
                Ok(())
            })
            .await
    }

    /// Whether the queue exists.
    ///
    /// # Errors
    /// `Db`.
    pub async fn exists(&self, name: &str) -> Result<bool, SqsError> {
        let name = name.to_string();
        self.db
            .read(move |conn| Ok(load_queue(conn, &name)?.is_some()))
            .await
    }

    /// Queue names starting with `prefix`, sorted.
    ///
    /// # Errors
    /// `Db`.
    pub async fn list_queues(&self, prefix: Option<&str>) -> Result<Vec<String>, SqsError> {
        let prefix = prefix.unwrap_or_default().to_string();
        self.db
            .read(move |conn| {
                let mut stmt = conn.prepare("SELECT name FROM sqs_queues ORDER BY name")?;
                let names = stmt
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(names
                    .into_iter()
                    .filter(|n| n.starts_with(&prefix))
                    .collect())
            })
            .await
    }

    /// The queue's attributes (`All` or the given names), computed counts included.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `InvalidAttributeName`.
    pub async fn get_attributes(
        &self,
        name: &str,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, SqsError> {
        let known = |n: &str| {
            n == "All"
                || attributes::SETTABLE.iter().any(|(s, _)| *s == n)
                || attributes::COMPUTED.contains(&n)
        };
        if let Some(bad) = names.iter().find(|n| !known(n)) {
            return Err(SqsError::InvalidAttributeName(bad.clone()));
        }
        let all = names.iter().any(|n| n == "All");
        let wanted = |n: &str| all || names.iter().any(|w| w == n);
        let (queue, config) = (name.to_string(), self.config.clone());
        let now = self.clock.now_ms();
        let (row, counts) = self
            .db
            .read(move |conn| {
                let row = load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                Ok::<_, SqsError>((row, count_in(conn, &queue, now)?))
            })
            .await?;
        let mut out = BTreeMap::new();
        for (n, _) in attributes::SETTABLE {
            if wanted(n) {
                if let Some(v) = attributes::effective(&row.attributes, n, &config) {
                    out.insert((*n).to_string(), v);
                }
            }
        }
        let computed = [
            ("QueueArn", super::queue_arn(name)),
            ("ApproximateNumberOfMessages", counts.visible.to_string()),
            (
                "ApproximateNumberOfMessagesNotVisible",
                counts.not_visible.to_string(),
            ),
            (
                "ApproximateNumberOfMessagesDelayed",
                counts.delayed.to_string(),
            ),
            ("CreatedTimestamp", (row.created_ms / 1000).to_string()),
            (
                "LastModifiedTimestamp",
                (row.modified_ms / 1000).to_string(),
            ),
        ];
        for (n, v) in computed {
            if wanted(n) {
                out.insert(n.to_string(), v);
            }
        }
        Ok(out)
    }

    /// Sets queue attributes (an empty `RedrivePolicy` removes it).
    ///
    /// # Errors
    /// `QueueDoesNotExist`, attribute errors.
    pub async fn set_attributes(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        let attrs = attributes::normalize(attributes, &self.config)?;
        let (name, now) = (name.to_string(), self.clock.now_ms());
        self.db
            .write(move |conn| {
                let mut row = load_queue(conn, &name)?.ok_or(SqsError::QueueDoesNotExist)?;
                for (k, v) in attrs {
                    if v.is_empty() {
                        row.attributes.remove(&k);
                    } else {
                        row.attributes.insert(k, v);
                    }
                }
                conn.execute(
                    "UPDATE sqs_queues SET attributes = ?2, modified_ms = ?3 WHERE name = ?1",
                    params![name, to_json(&row.attributes), now],
                )?;
                Ok(())
            })
            .await
    }

    /// The queue's redrive policy, if it has one.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn redrive_policy(&self, name: &str) -> Result<Option<RedrivePolicy>, SqsError> {
        let name = name.to_string();
        self.db
            .read(move |conn| {
                let row = load_queue(conn, &name)?.ok_or(SqsError::QueueDoesNotExist)?;
                Ok(redrive_of(&row))
            })
            .await
    }

    /// Message counts of the queue.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn counts(&self, name: &str) -> Result<QueueCounts, SqsError> {
        let (name, now) = (name.to_string(), self.clock.now_ms());
        self.db
            .read(move |conn| {
                load_queue(conn, &name)?.ok_or(SqsError::QueueDoesNotExist)?;
                count_in(conn, &name, now)
            })
            .await
    }

    /// Sends one message; returns after the message is committed.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `InvalidParameterValue` (too long, bad delay or attributes),
    /// `InvalidMessageContents`.
    pub async fn send(&self, queue: &str, message: SendMessage) -> Result<SentMessage, SqsError> {
        let mut results = self.send_batch(queue, vec![message]).await?;
        results.pop().unwrap_or(Err(SqsError::EmptyBatchRequest))
    }

    /// Sends several messages in one transaction; each entry succeeds or fails on its own.
    ///
    /// # Errors
    /// `QueueDoesNotExist` (for the whole batch) or `Db`.
    pub async fn send_batch(
        &self,
        queue: &str,
        messages: Vec<SendMessage>,
    ) -> Result<Vec<Result<SentMessage, SqsError>>, SqsError> {
        let (queue, now, config) = (queue.to_string(), self.clock.now_ms(), self.config.clone());
        let out = self
            .db
            .write(move |conn| {
                let row = load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                let max = attributes::number(&row.attributes, "MaximumMessageSize", &config);
                let default_delay = attributes::number(&row.attributes, "DelaySeconds", &config);
                let mut out = Vec::with_capacity(messages.len());
                for message in messages {
                    out.push(insert_message(
                        conn,
                        &queue,
                        message,
                        now,
                        max,
                        default_delay,
                    ));
                }
                Ok::<_, SqsError>(out)
            })
            .await?;
        self.notify.notify_waiters();
        Ok(out)
    }

    /// Receives up to `max_messages` visible messages, hiding them for the visibility timeout
    /// and bumping their receive count; waits up to `wait` for a first message. Messages whose
    /// receive count already reached the redrive policy's `maxReceiveCount` are moved to the
    /// dead-letter queue instead (id, body, attributes and last error kept).
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `InvalidParameterValue` for out-of-range options.
    pub async fn receive(
        &self,
        queue: &str,
        options: &ReceiveOptions,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        if !(1..=10).contains(&options.max_messages) {
            return Err(SqsError::invalid_value(
                options.max_messages,
                "MaxNumberOfMessages",
                "Must be between 1 and 10, if provided.",
            ));
        }
        if options.wait > Duration::from_secs(20) {
            return Err(SqsError::invalid_value(
                options.wait.as_secs(),
                "WaitTimeSeconds",
                "Must be >= 0 and <= 20, if provided.",
            ));
        }
        let visibility_ms = match options.visibility_timeout {
            Some(v) if v > Duration::from_secs(super::MAX_VISIBILITY_TIMEOUT_SECS) => {
                return Err(SqsError::invalid_value(
                    v.as_secs(),
                    "VisibilityTimeout",
                    &format!(
                        "Must be >= 0 and <= {}, if provided.",
                        super::MAX_VISIBILITY_TIMEOUT_SECS
                    ),
                ))
            }
            Some(v) => Some(i64::try_from(v.as_millis()).unwrap_or(i64::MAX)),
            None => None,
        };
        let deadline = tokio::time::Instant::now() + options.wait;
        let mut first = true;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next = if first {
                Some(i64::MIN)
            } else {
                self.next_visible_ms(queue).await?
            };
            first = false;
            let now = self.clock.now_ms();
            if next.is_some_and(|t| t <= now) {
                let got = self
                    .receive_now(queue, options.max_messages, visibility_ms)
                    .await?;
                if !got.is_empty() {
                    return Ok(got);
                }
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                return Ok(Vec::new());
            }
            let until_visible = next
                .filter(|t| *t > now)
                .map(|t| Duration::from_millis(u64::try_from(t - now).unwrap_or(0)))
                .unwrap_or(Duration::from_secs(1));
            let nap = remaining.min(until_visible).min(Duration::from_secs(1));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn next_visible_ms(&self, queue: &str) -> Result<Option<i64>, SqsError> {
        let queue = queue.to_string();
        self.db
            .read(move |conn| {
                Ok(conn.query_row(
                    "SELECT MIN(visible_at_ms) FROM sqs_messages WHERE queue = ?1",
                    [&queue],
                    |r| r.get::<_, Option<i64>>(0),
                )?)
            })
            .await
    }

    async fn receive_now(
        &self,
        queue: &str,
        max: usize,
        visibility_ms: Option<i64>,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let (queue, now, config) = (queue.to_string(), self.clock.now_ms(), self.config.clone());
        let (out, moved) = self
            .db
            .write(move |conn| receive_in(conn, &queue, max, visibility_ms, now, &config))
            .await?;
        if moved {
            self.notify.notify_waiters();
        }
        Ok(out)
    }

    /// Deletes the message received with `receipt_handle`. A handle of an earlier receive, or
    /// of a message already deleted, is accepted and does nothing (as SQS).
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `ReceiptHandleIsInvalid` for a handle this service never issued.
    pub async fn delete(&self, queue: &str, receipt_handle: &str) -> Result<(), SqsError> {
        let mut results = self
            .delete_batch(queue, vec![receipt_handle.to_string()])
            .await?;
        results.pop().unwrap_or(Ok(()))
    }

    /// Deletes several messages in one transaction; each entry succeeds or fails on its own.
    ///
    /// # Errors
    /// `QueueDoesNotExist` or `Db`.
    pub async fn delete_batch(
        &self,
        queue: &str,
        receipt_handles: Vec<String>,
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let queue = queue.to_string();
        self.db
            .write(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                let mut out = Vec::with_capacity(receipt_handles.len());
                for handle in receipt_handles {
                    out.push(match message_id_of_handle(&handle) {
                        None => Err(SqsError::ReceiptHandleIsInvalid(handle)),
                        Some(id) => conn
                            .prepare_cached(
                                "DELETE FROM sqs_messages
                                  WHERE queue = ?1 AND message_id = ?2 AND receipt_handle = ?3",
                            )
                            .and_then(|mut stmt| stmt.execute(params![queue, id, handle]))
                            .map(|_| ())
                            .map_err(SqsError::from),
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Changes how long the message received with `receipt_handle` stays hidden, from now.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `ReceiptHandleIsInvalid`, `MessageNotInflight` (visible again,
    /// deleted, or received again since), `InvalidParameterValue` (over 12 hours).
    pub async fn change_visibility(
        &self,
        queue: &str,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), SqsError> {
        if timeout > Duration::from_secs(super::MAX_VISIBILITY_TIMEOUT_SECS) {
            return Err(SqsError::invalid_value(
                timeout.as_secs(),
                "VisibilityTimeout",
                &format!(
                    "Must be >= 0 and <= {}, if provided.",
                    super::MAX_VISIBILITY_TIMEOUT_SECS
                ),
            ));
        }
        self.update_in_flight(queue, receipt_handle, Some(timeout), None)
            .await
    }

    /// Records why the message received with `receipt_handle` failed, keeping it hidden until
    /// its visibility timeout ends (or for `visible_after` from now, if given), so that it
    /// comes back — and eventually reaches the dead-letter queue with this error beside it.
    /// Does nothing if the handle is stale or the message gone.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, `ReceiptHandleIsInvalid`.
    pub async fn release_with_error(
        &self,
        queue: &str,
        receipt_handle: &str,
        error: &str,
        visible_after: Option<Duration>,
    ) -> Result<(), SqsError> {
        match self
            .update_in_flight(
                queue,
                receipt_handle,
                visible_after,
                Some(error.to_string()),
            )
            .await
        {
            Err(SqsError::MessageNotInflight) => Ok(()),
            other => other,
        }
    }

    async fn update_in_flight(
        &self,
        queue: &str,
        receipt_handle: &str,
        visible_after: Option<Duration>,
        error: Option<String>,
    ) -> Result<(), SqsError> {
        let id = message_id_of_handle(receipt_handle)
            .ok_or_else(|| SqsError::ReceiptHandleIsInvalid(receipt_handle.to_string()))?;
        let (queue, handle, now) = (
            queue.to_string(),
            receipt_handle.to_string(),
            self.clock.now_ms(),
        );
        let visible_at = visible_after
            .map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
        self.db
            .write(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                let changed = conn.execute(
                    "UPDATE sqs_messages
                        SET visible_at_ms = COALESCE(?4, visible_at_ms),
                            last_error = COALESCE(?5, last_error),
                            receipt_handle = CASE WHEN ?5 IS NULL THEN receipt_handle END
                      WHERE queue = ?1 AND message_id = ?2 AND receipt_handle = ?3
                        AND (visible_at_ms > ?6 OR ?5 IS NOT NULL)",
                    params![queue, id, handle, visible_at, error, now],
                )?;
                if changed == 0 {
                    return Err(SqsError::MessageNotInflight);
                }
                Ok(())
            })
            .await?;
        self.notify.notify_waiters();
        Ok(())
    }

    /// After a crash: every message of `queue` that was received and neither deleted nor
    /// settled with [`Queues::release_with_error`] (its batch was cut short by the crash) becomes
    /// visible now, and that receive no longer counts towards `maxReceiveCount` — a stopped stack
    /// is not a failure of the message. Call at start-up, before the queue's consumer starts.
    /// Returns how many messages were requeued.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn requeue_interrupted(&self, queue: &str) -> Result<usize, SqsError> {
        let (queue, now) = (queue.to_string(), self.clock.now_ms());
        let requeued = self
            .db
            .write(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                Ok::<_, SqsError>(conn.execute(
                    "UPDATE sqs_messages
                        SET visible_at_ms = ?2, receipt_handle = NULL,
                            receive_count = MAX(receive_count - 1, 0)
                      WHERE queue = ?1 AND receipt_handle IS NOT NULL AND visible_at_ms > ?2",
                    params![queue, now],
                )?)
            })
            .await?;
        self.notify.notify_waiters();
        Ok(requeued)
    }

    /// Deletes every message of the queue; returns how many.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn purge(&self, queue: &str) -> Result<usize, SqsError> {
        let queue = queue.to_string();
        self.db
            .write(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                Ok(conn.execute("DELETE FROM sqs_messages WHERE queue = ?1", [&queue])?)
            })
            .await
    }

    /// Up to `limit` messages of the queue in send order, without receiving them.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub async fn peek(&self, queue: &str, limit: usize) -> Result<Vec<StoredMessage>, SqsError> {
        let queue = queue.to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                load_queue(conn, &queue)?.ok_or(SqsError::QueueDoesNotExist)?;
                let mut stmt = conn.prepare(
                    "SELECT message_id, body, sent_ms, receive_count, visible_at_ms, last_error
                       FROM sqs_messages WHERE queue = ?1 ORDER BY seq LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(params![queue, limit], |r| {
                        Ok(StoredMessage {
                            message_id: r.get(0)?,
                            body: r.get(1)?,
                            sent_timestamp_ms: r.get(2)?,
                            receive_count: r.get(3)?,
                            visible_at_ms: r.get(4)?,
                            last_error: r.get(5)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await
    }

    /// Moves one message of `from`, by id, to `to` as [`Queues::move_messages`] does; returns
    /// whether it was there.
    ///
    /// # Errors
    /// `QueueDoesNotExist` for either queue.
    pub async fn move_message(
        &self,
        from: &str,
        to: &str,
        message_id: &str,
    ) -> Result<bool, SqsError> {
        let id = message_id.to_string();
        let moved = self
            .move_between(from, to, move |conn, from, to, now| {
                conn.execute(
                    "UPDATE sqs_messages SET queue = ?2, visible_at_ms = ?3, receive_count = 0,
                            first_receive_ms = NULL, receipt_handle = NULL
                      WHERE queue = ?1 AND message_id = ?4",
                    params![from, to, now, id],
                )
            })
            .await?;
        Ok(moved > 0)
    }

    /// Moves every message of `from` to `to` (a dead-letter redrive), visible at once with a
    /// receive count of 0, ids, bodies and last errors kept; returns how many moved.
    ///
    /// # Errors
    /// `QueueDoesNotExist` for either queue.
    pub async fn move_messages(&self, from: &str, to: &str) -> Result<usize, SqsError> {
        self.move_between(from, to, |conn, from, to, now| {
            conn.execute(
                "UPDATE sqs_messages SET queue = ?2, visible_at_ms = ?3, receive_count = 0,
                        first_receive_ms = NULL, receipt_handle = NULL,
                        dead_letter_source = NULL
                  WHERE queue = ?1",
                params![from, to, now],
            )
        })
        .await
    }

    /// Runs `update` (given the queues' names and the time now, in ms) once both queues are
    /// known to exist, then wakes the waiting receives; returns how many messages it moved.
    async fn move_between(
        &self,
        from: &str,
        to: &str,
        update: impl FnOnce(
                &durapipe_sqlite::rusqlite::Connection,
                &str,
                &str,
                i64,
            ) -> durapipe_sqlite::rusqlite::Result<usize>
            + Send
            + 'static,
    ) -> Result<usize, SqsError> {
        let (from, to, now) = (from.to_string(), to.to_string(), self.clock.now_ms());
        let moved = self
            .db
            .write(move |conn| {
                load_queue(conn, &from)?.ok_or(SqsError::QueueDoesNotExist)?;
                load_queue(conn, &to)?.ok_or(SqsError::QueueDoesNotExist)?;
                Ok::<_, SqsError>(update(conn, &from, &to, now)?)
            })
            .await?;
        self.notify.notify_waiters();
        Ok(moved)
    }
}
