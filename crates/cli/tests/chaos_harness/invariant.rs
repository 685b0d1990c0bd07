//! The invariant, computed only from what the endpoints say (Scan, ReceiveMessage on the DLQ,
//! GetQueueAttributes, ListDurableExecutionsByFunction) and what the sender was told — never
//! from the stack's own code or database.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use tokio::time::Instant;

use super::load::Ledger;
use super::plan::{Expect, Planned};

/// A stored item, as scanned.
#[derive(Debug)]
pub struct Item {
    /// `execution_id` (the hash key).
    pub execution_id: String,
    /// `message_id`.
    pub message_id: String,
    /// `data_source`.
    pub data_source: String,
}

/// A dead letter, as received.
#[derive(Debug)]
pub struct Dead {
    /// Its message id.
    pub message_id: String,
    /// Its body.
    pub body: String,
    /// The `DurapipeLastError` system attribute.
    pub last_error: Option<String>,
}

/// Everything read back from a quiet stack.
#[derive(Debug, Default)]
pub struct Observed {
    /// Every table item.
    pub items: Vec<Item>,
    /// Every DLQ message.
    pub dead: Vec<Dead>,
    /// Main queue: visible, in flight, delayed.
    pub queue: [u64; 3],
    /// Executions of the orchestrator by status.
    pub executions: BTreeMap<String, usize>,
}

/// Clients for one endpoint.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// DynamoDB.
    pub ddb: aws_sdk_dynamodb::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// Main queue URL.
    pub queue_url: String,
    /// DLQ URL.
    pub dlq_url: String,
}

const ENV: &str = "dev";

impl Endpoints {
    /// Clients for `endpoint` (environment `dev`).
    pub fn new(endpoint: &str) -> Self {
        let creds = aws_sdk_sqs::config::Credentials::new("chaos", "chaos", None, None, "chaos");
        let ddb = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(creds.clone())
            .build();
        let lambda = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .build();
        Self {
            sqs: super::load::sqs_client(endpoint),
            ddb: aws_sdk_dynamodb::Client::from_conf(ddb),
            lambda: aws_sdk_lambda::Client::from_conf(lambda),
            queue_url: format!("{endpoint}/000000000000/{ENV}-data-processing-queue"),
            dlq_url: format!("{endpoint}/000000000000/{ENV}-data-processing-dlq"),
        }
    }

    /// Main queue counts: visible, in flight, delayed.
    pub async fn queue_counts(&self) -> Result<[u64; 3], String> {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(|e| format!("GetQueueAttributes: {e:?}"))?;
        let attrs = out.attributes.unwrap_or_default();
        let get = |name: QueueAttributeName| {
            attrs
                .get(&name)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("GetQueueAttributes lacks {name:?}"))
        };
        Ok([
            get(QueueAttributeName::ApproximateNumberOfMessages)?,
            get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
            get(QueueAttributeName::ApproximateNumberOfMessagesDelayed)?,
        ])
    }

    /// Orchestrator executions by status (every page).
    pub async fn executions(&self) -> Result<BTreeMap<String, usize>, String> {
        let mut by_status = BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .lambda
                .list_durable_executions_by_function()
                .function_name(format!("{ENV}-orchestrator"))
                .max_items(1000)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| format!("ListDurableExecutionsByFunction: {e:?}"))?;
            for e in out.durable_executions() {
                *by_status.entry(e.status().as_str().to_owned()).or_insert(0) += 1;
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(by_status),
            }
        }
    }

    /// Waits until the main queue is empty and no execution is RUNNING; `Err` with the last
    /// state when `limit` passes first.
    pub async fn settle(&self, limit: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let counts = self.queue_counts().await?;
            let executions = self.executions().await?;
            let running = executions.get("RUNNING").copied().unwrap_or(0);
            if counts == [0, 0, 0] && running == 0 {
                return Ok(start.elapsed());
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "not settled after {limit:?}: queue [visible, in flight, delayed] = {counts:?}, executions {executions:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Reads everything back: scan, drain the DLQ (hidden for an hour), counts, executions.
    pub async fn observe(&self) -> Result<Observed, String> {
        Ok(Observed {
            items: self.scan().await?,
            dead: self.dead_letters().await?,
            queue: self.queue_counts().await?,
            executions: self.executions().await?,
        })
    }

    async fn scan(&self) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .ddb
                .scan()
                .table_name(format!("{ENV}-processed-data"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| format!("Scan: {e:?}"))?;
            for item in out.items() {
                let text = |k: &str| match item.get(k) {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                };
                items.push(Item {
                    execution_id: text("execution_id"),
                    message_id: text("message_id"),
                    data_source: text("data_source"),
                });
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    async fn dead_letters(&self) -> Result<Vec<Dead>, String> {
        let mut dead = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(3600)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .map_err(|e| format!("ReceiveMessage on the DLQ: {e:?}"))?;
            let batch = out.messages.unwrap_or_default();
            if batch.is_empty() {
                return Ok(dead);
            }
            for m in batch {
                let last_error = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::from("DurapipeLastError")))
                    .cloned();
                dead.push(Dead {
                    message_id: m.message_id.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    last_error,
                });
            }
        }
    }
}

/// The verdict, with counts.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Acknowledged sends of valid bodies.
    pub acked_valid: usize,
    /// Acknowledged sends of invalid bodies.
    pub acked_invalid: usize,
    /// Send attempts with no response.
    pub uncertain: usize,
    /// Items that came from an uncertain send.
    pub uncertain_items: usize,
    /// Dead letters that came from an uncertain send.
    pub uncertain_dead: usize,
    /// Table items.
    pub items: usize,
    /// DLQ messages.
    pub dead: usize,
    /// Executions by status.
    pub executions: BTreeMap<String, usize>,
    /// Everything that breaks the invariant.
    pub violations: Vec<String>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "acknowledged: {} valid + {} invalid; uncertain sends: {} ({} became items, {} dead letters); table items: {}; DLQ messages: {}; executions: {:?}; violations: {}",
            self.acked_valid,
            self.acked_invalid,
            self.uncertain,
            self.uncertain_items,
            self.uncertain_dead,
            self.items,
            self.dead,
            self.executions,
            self.violations.len()
        )
    }
}

/// Checks: every acknowledged valid message is in the table exactly once and nothing else is
/// (bar uncertain sends); every acknowledged invalid message is in the DLQ, once, with its
/// validation reason, and nothing else is (bar uncertain sends); a crash or stop never costs a
/// message a receive, so no valid message is ever dead-lettered. The main queue is empty; no
/// execution is RUNNING.
pub fn check(plan: &[Planned], ledger: &Ledger, seen: &Observed) -> Verdict {
    let mut v = Verdict {
        uncertain: ledger.uncertain.len(),
        items: seen.items.len(),
        dead: seen.dead.len(),
        executions: seen.executions.clone(),
        ..Verdict::default()
    };
    let mut uncertain_valid: BTreeMap<&str, usize> = BTreeMap::new();
    let mut uncertain_invalid: BTreeMap<&str, usize> = BTreeMap::new();
    for planned in ledger.uncertain.iter().filter_map(|&i| plan.get(i)) {
        match &planned.expect {
            Expect::Valid { data_source } => *uncertain_valid.entry(data_source).or_insert(0) += 1,
            Expect::Invalid { .. } => *uncertain_invalid.entry(&planned.body).or_insert(0) += 1,
        }
    }
    for &i in ledger.acked.values() {
        match plan.get(i).map(|p| &p.expect) {
            Some(Expect::Valid { .. }) => v.acked_valid += 1,
            Some(Expect::Invalid { .. }) => v.acked_invalid += 1,
            None => v.violations.push(format!("acknowledged unknown index {i}")),
        }
    }

    let mut stored: BTreeSet<&str> = BTreeSet::new();
    for item in &seen.items {
        if item.execution_id != format!("{ENV}-esm-{}", item.message_id) {
            v.violations.push(format!("item key mismatch: {item:?}"));
        }
        if !stored.insert(&item.message_id) {
            v.violations
                .push(format!("message {} stored twice", item.message_id));
            continue;
        }
        match ledger
            .acked
            .get(&item.message_id)
            .and_then(|&i| plan.get(i))
        {
            Some(Planned {
                expect: Expect::Valid { data_source },
                ..
            }) => {
                if *data_source != item.data_source {
                    v.violations.push(format!(
                        "item {item:?} does not hold its body ({data_source})"
                    ));
                }
            }
            Some(p) => v.violations.push(format!(
                "invalid message stored: {item:?} from {:?}",
                p.body
            )),
            None => match uncertain_valid.get_mut(item.data_source.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    v.uncertain_items += 1;
                }
                _ => v.violations.push(format!("item from no send: {item:?}")),
            },
        }
    }
    for (id, &i) in &ledger.acked {
        let valid = matches!(plan.get(i).map(|p| &p.expect), Some(Expect::Valid { .. }));
        if valid && !stored.contains(id.as_str()) {
            v.violations.push(format!(
                "acknowledged valid message {id} (#{i}) is not in the table"
            ));
        }
    }

    let mut dead_ids: BTreeSet<&str> = BTreeSet::new();
    for dead in &seen.dead {
        if !dead_ids.insert(&dead.message_id) {
            v.violations
                .push(format!("message {} twice in the DLQ", dead.message_id));
            continue;
        }
        let expected = match ledger
            .acked
            .get(&dead.message_id)
            .and_then(|&i| plan.get(i))
        {
            Some(p) => {
                if p.body != dead.body {
                    v.violations
                        .push(format!("dead letter {dead:?} lost its body"));
                }
                match p.expect {
                    Expect::Invalid { reason } => Some(reason),
                    Expect::Valid { .. } => {
                        // A stopped stack does not cost a receive (the receives it cut short
                        // are requeued at start-up), so a valid message never dead-letters.
                        v.violations
                            .push(format!("valid message dead-lettered: {dead:?}"));
                        None
                    }
                }
            }
            None => match uncertain_invalid.get_mut(dead.body.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    v.uncertain_dead += 1;
                    plan.iter()
                        .find(|p| p.body == dead.body)
                        .and_then(|p| match p.expect {
                            Expect::Invalid { reason } => Some(reason),
                            Expect::Valid { .. } => None,
                        })
                }
                _ => {
                    v.violations
                        .push(format!("dead letter from no send: {dead:?}"));
                    None
                }
            },
        };
        if let Some(reason) = expected {
            let ok = dead.last_error.as_deref().is_some_and(|e| {
                e.starts_with("ValidationError: invalid message:") && e.contains(reason)
            });
            if !ok {
                v.violations.push(format!(
                    "dead letter {} has last error {:?}, expected a ValidationError with {reason:?}",
                    dead.message_id, dead.last_error
                ));
            }
        }
    }
    for (id, &i) in &ledger.acked {
        let invalid = matches!(plan.get(i).map(|p| &p.expect), Some(Expect::Invalid { .. }));
        if invalid && !dead_ids.contains(id.as_str()) {
            v.violations.push(format!(
                "acknowledged invalid message {id} (#{i}) is not in the DLQ"
            ));
        }
    }

    if seen.queue != [0, 0, 0] {
        v.violations.push(format!(
            "main queue not empty: [visible, in flight, delayed] = {:?}",
            seen.queue
        ));
    }
    if let Some(&running) = seen.executions.get("RUNNING").filter(|&&n| n > 0) {
        v.violations
            .push(format!("{running} executions left RUNNING"));
    }
    v
}
