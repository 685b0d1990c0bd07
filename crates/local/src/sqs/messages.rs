//! The SQL behind [`super::Queues`]: each function runs inside one writer transaction.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use durapipe_sqlite::rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::attributes::{self, RedrivePolicy};
use super::errors::SqsError;
use super::store::{QueueCounts, ReceivedMessage, SendMessage, SentMessage};
use super::{md5, QueueConfig};

/// A queue's stored row.
pub(super) struct QueueRow {
    pub(super) attributes: BTreeMap<String, String>,
    pub(super) created_ms: i64,
    pub(super) modified_ms: i64,
}

pub(super) fn load_queue(conn: &Connection, name: &str) -> Result<Option<QueueRow>, SqsError> {
    let row = conn
        .prepare_cached(
            "SELECT attributes, created_ms, modified_ms FROM sqs_queues WHERE name = ?1",
        )?
        .query_row([name], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.map(|(attrs, created_ms, modified_ms)| QueueRow {
        attributes: serde_json::from_str(&attrs).unwrap_or_default(),
        created_ms,
        modified_ms,
    }))
}

pub(super) fn redrive_of(row: &QueueRow) -> Option<RedrivePolicy> {
    row.attributes
        .get("RedrivePolicy")
        .and_then(|p| RedrivePolicy::parse(p).ok())
}

// The statements a busy queue runs on every receive or depth poll. Each reads a range of an
// index, never every message of the queue: their cost does not grow with the backlog (a test
// below holds them to that with SQLite's query plans).

/// The visible messages, counted in `sqs_messages_visible` alone.
const COUNT_VISIBLE: &str =
    "SELECT COUNT(*) FROM sqs_messages WHERE queue = ?1 AND visible_at_ms <= ?2";
/// The hidden messages (in flight or delayed, few), read for their receive count.
const COUNT_HIDDEN: &str =
    "SELECT COALESCE(SUM(receive_count > 0), 0), COALESCE(SUM(receive_count = 0), 0)
       FROM sqs_messages WHERE queue = ?1 AND visible_at_ms > ?2";
/// The retention purge of every receive, through `sqs_messages_sent`.
const PURGE_EXPIRED: &str = "DELETE FROM sqs_messages WHERE queue = ?1 AND sent_ms < ?2";
/// The next messages to receive: oldest visible first, in the order of
/// `sqs_messages_visible`, so the read stops after `?3` rows (ordering by `seq` alone made
/// SQLite read and sort every visible message of the queue).
const OLDEST_VISIBLE: &str =
    "SELECT seq, message_id, body, md5_of_body, message_attributes, md5_of_message_attributes,
            sent_ms, receive_count, first_receive_ms, last_error, message_group_id,
            dead_letter_source
       FROM sqs_messages WHERE queue = ?1 AND visible_at_ms <= ?2
      ORDER BY visible_at_ms, seq LIMIT ?3";

pub(super) fn count_in(conn: &Connection, queue: &str, now: i64) -> Result<QueueCounts, SqsError> {
    let visible = conn
        .prepare_cached(COUNT_VISIBLE)?
        .query_row(params![queue, now], |r| r.get(0))?;
    let (not_visible, delayed) = conn
        .prepare_cached(COUNT_HIDDEN)?
        .query_row(params![queue, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(QueueCounts {
        visible,
        not_visible,
        delayed,
    })
}

pub(super) fn to_json(attrs: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attrs).unwrap_or_else(|_| "{}".into())
}

/// Whether every character is in SQS's allowed set.
fn valid_body_chars(body: &str) -> bool {
    body.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r')
            || (' '..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    })
}

fn attributes_size(attrs: &Map<String, Value>) -> usize {
    attrs
        .iter()
        .map(|(name, v)| {
            let field = |k: &str| v.get(k).and_then(Value::as_str).map_or(0, str::len);
            name.len() + field("DataType") + field("StringValue") + field("BinaryValue") * 3 / 4
        })
        .sum()
}

pub(super) fn insert_message(
    conn: &Connection,
    queue: &str,
    message: SendMessage,
    now: i64,
    max_bytes: i64,
    default_delay: i64,
) -> Result<SentMessage, SqsError> {
    if message.body.is_empty() {
        return Err(SqsError::MissingParameter("MessageBody".into()));
    }
    if !valid_body_chars(&message.body) {
        return Err(SqsError::InvalidMessageContents);
    }
    let (attrs, md5_attrs) = match &message.message_attributes {
        Some(v) if v.as_object().is_some_and(|m| !m.is_empty()) => {
            let (map, digest) = md5::validate_attributes(v)?;
            (Some(map), Some(digest))
        }
        _ => (None, None),
    };
    let size = message.body.len() + attrs.as_ref().map_or(0, attributes_size);
    if i64::try_from(size).unwrap_or(i64::MAX) > max_bytes {
        return Err(SqsError::InvalidParameterValue(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max_bytes} bytes."
        )));
    }
    let delay = match message.delay_seconds {
        Some(d) if d > 900 => {
            return Err(SqsError::invalid_value(
                d,
                "DelaySeconds",
                "Must be >= 0 and <= 900, if provided.",
            ))
        }
        Some(d) => i64::from(d),
        None => default_delay,
    };
    let message_id = uuid::Uuid::new_v4().to_string();
    let md5_of_body = md5::of_body(&message.body);
    let attrs_json = attrs.map(|a| Value::Object(a).to_string());
    conn.prepare_cached(
        "INSERT INTO sqs_messages (queue, message_id, body, md5_of_body, message_attributes,
                                   md5_of_message_attributes, sent_ms, visible_at_ms,
                                   message_group_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        queue,
        message_id,
        message.body,
        md5_of_body,
        attrs_json,
        md5_attrs,
        now,
        now + delay * 1000,
        message.message_group_id
    ])?;
    Ok(SentMessage {
        message_id,
        md5_of_body,
        md5_of_message_attributes: md5_attrs,
    })
}

/// A fresh receipt handle naming the message it belongs to.
fn new_handle(message_id: &str) -> String {
    let raw = format!("{message_id}/{}", uuid::Uuid::new_v4().simple());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The message id inside a receipt handle this service issued.
pub(super) fn message_id_of_handle(handle: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(handle)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, nonce) = raw.split_once('/')?;
    (!id.is_empty() && nonce.len() == 32).then(|| id.to_string())
}

struct Candidate {
    seq: i64,
    message_id: String,
    body: String,
    md5_of_body: String,
    attributes: Option<String>,
    md5_of_attributes: Option<String>,
    sent_ms: i64,
    receive_count: u32,
    first_receive_ms: Option<i64>,
    last_error: Option<String>,
    message_group_id: Option<String>,
    dead_letter_source: Option<String>,
}

/// One receive inside the writer's transaction; returns the messages and whether any moved to
/// a dead-letter queue.
pub(super) fn receive_in(
    conn: &Connection,
    queue: &str,
    max: usize,
    visibility_ms: Option<i64>,
    now: i64,
    config: &QueueConfig,
) -> Result<(Vec<ReceivedMessage>, bool), SqsError> {
    let row = load_queue(conn, queue)?.ok_or(SqsError::QueueDoesNotExist)?;
    let retention_ms = attributes::number(&row.attributes, "MessageRetentionPeriod", config) * 1000;
    conn.prepare_cached(PURGE_EXPIRED)?
        .execute(params![queue, now - retention_ms])?;
    let visibility_ms = visibility_ms
        .unwrap_or_else(|| attributes::number(&row.attributes, "VisibilityTimeout", config) * 1000);
    let redrive = match redrive_of(&row) {
        Some(p)
            if p.dead_letter_queue != queue
                && load_queue(conn, &p.dead_letter_queue)?.is_some() =>
        {
            Some(p)
        }
        _ => None,
    };
    let mut out = Vec::new();
    let mut moved = false;
    let mut stmt = conn.prepare_cached(OLDEST_VISIBLE)?;
    // Rows already taken by this receive still match when the visibility timeout is 0: they
    // are skipped, and each round asks for that many rows more. Another round runs only after
    // one that took or moved something (a message moved to the dead-letter queue leaves room).
    let mut taken = HashSet::new();
    let mut progressed = true;
    while out.len() < max && progressed {
        progressed = false;
        let need = i64::try_from(max - out.len() + taken.len()).unwrap_or(i64::MAX);
        let candidates = stmt
            .query_map(params![queue, now, need], |r| {
                Ok(Candidate {
                    seq: r.get(0)?,
                    message_id: r.get(1)?,
                    body: r.get(2)?,
                    md5_of_body: r.get(3)?,
                    attributes: r.get(4)?,
                    md5_of_attributes: r.get(5)?,
                    sent_ms: r.get(6)?,
                    receive_count: r.get(7)?,
                    first_receive_ms: r.get(8)?,
                    last_error: r.get(9)?,
                    message_group_id: r.get(10)?,
                    dead_letter_source: r.get(11)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for c in candidates {
            if out.len() >= max {
                break;
            }
            if taken.contains(&c.seq) {
                continue;
            }
            progressed = true;
            if let Some(policy) = redrive
                .as_ref()
                .filter(|p| c.receive_count >= p.max_receive_count)
            {
                conn.execute(
                    "UPDATE sqs_messages SET queue = ?2, visible_at_ms = ?3, receive_count = 0,
                            first_receive_ms = NULL, receipt_handle = NULL,
                            dead_letter_source = ?4
                      WHERE seq = ?1",
                    params![c.seq, policy.dead_letter_queue, now, queue],
                )?;
                tracing::info!(
                    queue,
                    dead_letter_queue = %policy.dead_letter_queue,
                    message_id = %c.message_id,
                    receive_count = c.receive_count,
                    "message moved to the dead-letter queue"
                );
                moved = true;
                continue;
            }
            taken.insert(c.seq);
            let handle = new_handle(&c.message_id);
            let first = c.first_receive_ms.unwrap_or(now);
            let count = c.receive_count.saturating_add(1);
            conn.prepare_cached(
                "UPDATE sqs_messages SET receive_count = ?2, first_receive_ms = ?3,
                        receipt_handle = ?4, visible_at_ms = ?5
                  WHERE seq = ?1",
            )?
            .execute(params![
                c.seq,
                count,
                first,
                handle,
                now.saturating_add(visibility_ms)
            ])?;
            out.push(ReceivedMessage {
                message_id: c.message_id,
                receipt_handle: handle,
                body: c.body,
                md5_of_body: c.md5_of_body,
                message_attributes: c
                    .attributes
                    .and_then(|a| serde_json::from_str::<Map<String, Value>>(&a).ok()),
                md5_of_message_attributes: c.md5_of_attributes,
                sent_timestamp_ms: c.sent_ms,
                approximate_receive_count: count,
                approximate_first_receive_timestamp_ms: first,
                last_error: c.last_error,
                message_group_id: c.message_group_id,
                dead_letter_source: c.dead_letter_source,
            });
        }
    }
    Ok((out, moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_reject_garbage() {
        let h = new_handle("abc-123");
        assert_eq!(message_id_of_handle(&h).as_deref(), Some("abc-123"));
        assert_eq!(message_id_of_handle("not a handle"), None);
        assert_eq!(message_id_of_handle(""), None);
    }

    #[test]
    fn the_receive_path_reads_index_ranges_not_the_whole_queue() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::store::SCHEMA).unwrap();
        for sql in [COUNT_VISIBLE, COUNT_HIDDEN, PURGE_EXPIRED, OLDEST_VISIBLE] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let values: [&dyn durapipe_sqlite::rusqlite::ToSql; 3] = [&"q", &0, &10];
            let plan: Vec<String> = stmt
                .query_map(&values[..stmt.parameter_count()], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(plan.contains("USING"), "{sql}: {plan}");
            assert!(
                !plan.contains("SCAN") && !plan.contains("TEMP B-TREE"),
                "{sql}: {plan}"
            );
        }
    }

    #[test]
    fn body_characters_follow_sqs() {
        assert!(valid_body_chars("hello\n\tworld ü 🎉"));
        assert!(!valid_body_chars("bell\u{7}"));
        assert!(!valid_body_chars("\u{FFFF}"));
    }
}
