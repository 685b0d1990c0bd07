//! Bad requests get AWS's error codes, statuses and headers, and the server stays up after
//! each one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{raw_post, Raw};
use serde_json::json;

fn assert_error(r: &Raw, status: u16, error_type: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.json()["__type"], error_type, "{}", r.body);
    assert!(r.json()["message"].is_string(), "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
}

#[tokio::test]
async fn sqs_errors_have_sqs_codes() {
    let stack = common::stack_with(|mut e| {
        e.max_request_bytes = 2 * 1024 * 1024;
        e
    })
    .await;
    let addr = stack.addr;
    let sqs = |op: &str| format!("AmazonSQS.{op}");
    let url = format!("http://{addr}/000000000000/q");
    let r = raw_post(addr, Some(&sqs("CreateQueue")), br#"{"QueueName":"q"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = raw_post(
        addr,
        Some(&sqs("SendMessage")),
        br#"{"QueueUrl":"http://x/000000000000/nope","MessageBody":"x"}"#,
    )
    .await;
    assert_error(&r, 400, "com.amazonaws.sqs#QueueDoesNotExist");
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );

    let long = json!({"QueueUrl": url, "MessageBody": "x".repeat(1_048_577)}).to_string();
    let r = raw_post(addr, Some(&sqs("SendMessage")), long.as_bytes()).await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#InvalidParameterValueException",
    );
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("Message must be shorter than 1048576 bytes"));
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("InvalidParameterValue;Sender")
    );

    let r = raw_post(
        addr,
        Some(&sqs("ReceiveMessage")),
        json!({"QueueUrl": url, "MaxNumberOfMessages": 11})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#InvalidParameterValueException",
    );
    let r = raw_post(
        addr,
        Some(&sqs("ReceiveMessage")),
        json!({"QueueUrl": url, "WaitTimeSeconds": 21})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#InvalidParameterValueException",
    );
    let r = raw_post(
        addr,
        Some(&sqs("SendMessage")),
        json!({"QueueUrl": url, "MessageBody": "x", "DelaySeconds": -1})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#InvalidParameterValueException",
    );
    let r = raw_post(
        addr,
        Some(&sqs("SendMessage")),
        json!({"QueueUrl": url, "MessageBody": "bell\u{7}"})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(&r, 400, "com.amazonaws.sqs#InvalidMessageContents");
    let r = raw_post(
        addr,
        Some(&sqs("SendMessage")),
        json!({"QueueUrl": url}).to_string().as_bytes(),
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#MissingRequiredParameterException",
    );
    let r = raw_post(
        addr,
        Some(&sqs("SendMessageBatch")),
        json!({"QueueUrl": url, "Entries": []})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(&r, 400, "com.amazonaws.sqs#EmptyBatchRequest");
    let r = raw_post(addr, Some(&sqs("SendMessageBatch")), json!({"QueueUrl": url, "Entries": [{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}]}).to_string().as_bytes()).await;
    assert_error(&r, 400, "com.amazonaws.sqs#BatchEntryIdsNotDistinct");
    let r = raw_post(
        addr,
        Some(&sqs("CreateQueue")),
        json!({"QueueName": "bad name!"}).to_string().as_bytes(),
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#InvalidParameterValueException",
    );
    let r = raw_post(
        addr,
        Some(&sqs("CreateQueue")),
        json!({"QueueName": "q", "Attributes": {"VisibilityTimeout": "99999"}})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(&r, 400, "com.amazonaws.sqs#InvalidAttributeValue");
    let r = raw_post(
        addr,
        Some(&sqs("CreateQueue")),
        json!({"QueueName": "q", "Attributes": {"VisibilityTimeout": "31"}})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(&r, 400, "com.amazonaws.sqs#QueueNameExists");
    let r = raw_post(
        addr,
        Some(&sqs("GetQueueAttributes")),
        json!({"QueueUrl": url, "AttributeNames": ["Bogus"]})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(&r, 400, "com.amazonaws.sqs#InvalidAttributeName");
    let r = raw_post(
        addr,
        Some(&sqs("ChangeMessageVisibility")),
        json!({"QueueUrl": url, "ReceiptHandle": "junk", "VisibilityTimeout": 5})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_error(&r, 404, "com.amazonaws.sqs#ReceiptHandleIsInvalid");

    // Malformed JSON, wrong member types, unknown operations.
    let r = raw_post(addr, Some(&sqs("SendMessage")), b"{not json").await;
    assert_error(&r, 400, "com.amazon.coral.service#SerializationException");
    let r = raw_post(addr, Some(&sqs("SendMessage")), br#"{"QueueUrl": 5}"#).await;
    assert_error(&r, 400, "com.amazon.coral.service#SerializationException");
    let r = raw_post(addr, Some(&sqs("SendMessage")), b"[1,2]").await;
    assert_error(&r, 400, "com.amazon.coral.service#SerializationException");
    let r = raw_post(addr, Some(&sqs("Frobnicate")), b"{}").await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#UnknownOperationException",
    );
    // The query protocol gets its own XML refusal (see sqs_queue_api.rs).
    let r = raw_post(addr, None, b"Action=SendMessage").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<Code>InvalidAction</Code>"), "{}", r.body);

    // The body limit.
    let huge = vec![b'x'; 3 * 1024 * 1024];
    let r = raw_post(addr, Some(&sqs("SendMessage")), &huge).await;
    assert_eq!(r.status, 413);

    // Still serving.
    let r = raw_post(
        addr,
        Some(&sqs("SendMessage")),
        json!({"QueueUrl": url, "MessageBody": "ok"})
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["MD5OfMessageBody"],
        "444bcb3a3fcf8389296c49467f27e1d6"
    );
}

#[tokio::test]
async fn dynamodb_errors_have_dynamodb_codes() {
    let stack = common::stack().await;
    let addr = stack.addr;
    let ddb = |op: &str| format!("DynamoDB_20120810.{op}");
    let create = json!({
        "TableName": "items",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    let r = raw_post(
        addr,
        Some(&ddb("CreateTable")),
        create.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = raw_post(
        addr,
        Some(&ddb("GetItem")),
        br#"{"TableName":"nope","Key":{"id":{"S":"a"}}}"#,
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
    );
    let r = raw_post(
        addr,
        Some(&ddb("DescribeTable")),
        br#"{"TableName":"nope"}"#,
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
    );
    let r = raw_post(
        addr,
        Some(&ddb("PutItem")),
        br#"{"TableName":"items","Item":{"id":{"N":"1"}}}"#,
    )
    .await;
    assert_error(&r, 400, "com.amazon.coral.validate#ValidationException");
    let r = raw_post(
        addr,
        Some(&ddb("PutItem")),
        br#"{"TableName":"items","Item":{"id":{"S":"a"},"bad":{"X":"1"}}}"#,
    )
    .await;
    assert_error(&r, 400, "com.amazon.coral.validate#ValidationException");
    let r = raw_post(addr, Some(&ddb("PutItem")), br#"{"TableName":"items","Item":{"id":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#k"}"#).await;
    assert_error(&r, 400, "com.amazon.coral.validate#ValidationException");
    let r = raw_post(addr, Some(&ddb("PutItem")), br#"{"Item":{"id":{"S":"a"}}}"#).await;
    assert_error(&r, 400, "com.amazon.coral.validate#ValidationException");
    let r = raw_post(
        addr,
        Some(&ddb("Scan")),
        br#"{"TableName":"items","Limit":0}"#,
    )
    .await;
    assert_error(&r, 400, "com.amazon.coral.validate#ValidationException");
    let put = br##"{"TableName":"items","Item":{"id":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#k)","ExpressionAttributeNames":{"#k":"id"}}"##;
    assert_eq!(raw_post(addr, Some(&ddb("PutItem")), put).await.status, 200);
    let r = raw_post(addr, Some(&ddb("PutItem")), put).await;
    assert_error(
        &r,
        400,
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
    );
    let r = raw_post(addr, Some(&ddb("PutItem")), b"{\"TableName\": ").await;
    assert_error(&r, 400, "com.amazon.coral.service#SerializationException");
    let r = raw_post(
        addr,
        Some(&ddb("PutItem")),
        br#"{"TableName":"items","Item":[1]}"#,
    )
    .await;
    assert_error(&r, 400, "com.amazon.coral.service#SerializationException");
    let r = raw_post(addr, Some(&ddb("CreateBackup")), b"{}").await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.service#UnknownOperationException",
    );

    // Still serving.
    let r = raw_post(addr, Some(&ddb("Scan")), br#"{"TableName":"items"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["Count"], 1);
}
