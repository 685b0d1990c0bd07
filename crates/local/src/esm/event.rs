//! The SQS event Lambda's event source mapping delivers.

use serde_json::{json, Map, Value};

use crate::sqs::{queue_arn, ReceivedMessage};
use crate::{ACCOUNT_ID, REGION};

/// The `{"Records": [...]}` event for a batch of messages received from `queue`.
pub fn sqs_event(queue: &str, messages: &[ReceivedMessage]) -> Value {
    let arn = queue_arn(queue);
    let records: Vec<Value> = messages.iter().map(|m| record(&arn, m)).collect();
    json!({ "Records": records })
}

fn record(arn: &str, m: &ReceivedMessage) -> Value {
    let mut record = json!({
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": {
            "ApproximateReceiveCount": m.approximate_receive_count.to_string(),
            "SentTimestamp": m.sent_timestamp_ms.to_string(),
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": m.approximate_first_receive_timestamp_ms.to_string(),
        },
        "messageAttributes": message_attributes(m.message_attributes.as_ref()),
        "md5OfBody": m.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    });
    if let (Some(md5), Some(obj)) = (&m.md5_of_message_attributes, record.as_object_mut()) {
        obj.insert("md5OfMessageAttributes".into(), json!(md5));
    }
    record
}

/// Converts JSON-protocol message attributes to the event's camel-case shape.
fn message_attributes(attributes: Option<&Map<String, Value>>) -> Value {
    let Some(attributes) = attributes else {
        return json!({});
    };
    let converted: Map<String, Value> = attributes
        .iter()
        .map(|(name, a)| {
            let mut out = json!({
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": a.get("DataType").cloned().unwrap_or(Value::Null),
            });
            if let Some(obj) = out.as_object_mut() {
                if let Some(s) = a.get("StringValue") {
                    obj.insert("stringValue".into(), s.clone());
                }
                if let Some(b) = a.get("BinaryValue") {
                    obj.insert("binaryValue".into(), b.clone());
                }
            }
            (name.clone(), out)
        })
        .collect();
    Value::Object(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_the_aws_fields() {
        let m = ReceivedMessage {
            message_id: "id-1".into(),
            receipt_handle: "h".into(),
            body: "{}".into(),
            md5_of_body: "99914b932bd37a50b983c5e7c90ae93b".into(),
            message_attributes: None,
            md5_of_message_attributes: None,
            sent_timestamp_ms: 10,
            approximate_receive_count: 2,
            approximate_first_receive_timestamp_ms: 11,
            last_error: None,
            message_group_id: None,
            dead_letter_source: None,
        };
        let event = sqs_event("q", &[m]);
        let r = &event["Records"][0];
        assert_eq!(r["messageId"], "id-1");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "2");
        assert_eq!(r["eventSourceARN"], "arn:aws:sqs:us-east-1:000000000000:q");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["awsRegion"], "us-east-1");
        assert_eq!(r["messageAttributes"], json!({}));
    }
}
