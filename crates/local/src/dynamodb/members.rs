//! Which members of each DynamoDB operation's request the stack honours. Any other member is
//! refused by name (see [`crate::wire::unsupported_member`]), so nothing a client asks for is
//! dropped without a word.

use serde_json::Value;

/// The operations the stack serves and, for each, the request members it honours.
pub const OPERATIONS: &[(&str, &[&str])] = &[
    ("ListTables", &["ExclusiveStartTableName", "Limit"]),
    ("DescribeTable", &["TableName"]),
    (
        "CreateTable",
        &[
            "AttributeDefinitions",
            "TableName",
            "KeySchema",
            "BillingMode",
            "ProvisionedThroughput",
            "Tags",
        ],
    ),
    ("DeleteTable", &["TableName"]),
    (
        "GetItem",
        &[
            "TableName",
            "Key",
            "AttributesToGet",
            "ConsistentRead",
            "ProjectionExpression",
            "ExpressionAttributeNames",
        ],
    ),
    (
        "PutItem",
        &[
            "TableName",
            "Item",
            "ReturnValues",
            "ConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
        ],
    ),
    (
        "DeleteItem",
        &[
            "TableName",
            "Key",
            "ReturnValues",
            "ConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
        ],
    ),
    (
        "Scan",
        &[
            "TableName",
            "AttributesToGet",
            "Limit",
            "Select",
            "ExclusiveStartKey",
            "TotalSegments",
            "Segment",
            "ProjectionExpression",
            "FilterExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "ConsistentRead",
        ],
    ),
    (
        "UpdateItem",
        &[
            "TableName",
            "Key",
            "ReturnValues",
            "UpdateExpression",
            "ConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
        ],
    ),
    (
        "Query",
        &[
            "TableName",
            "Select",
            "AttributesToGet",
            "Limit",
            "ConsistentRead",
            "ScanIndexForward",
            "ExclusiveStartKey",
            "ProjectionExpression",
            "FilterExpression",
            "KeyConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
        ],
    ),
    ("BatchWriteItem", &["RequestItems"]),
    ("BatchGetItem", &["RequestItems"]),
    (
        "TransactWriteItems",
        &["TransactItems", "ClientRequestToken"],
    ),
    ("TransactGetItems", &["TransactItems"]),
    ("TagResource", &["ResourceArn", "Tags"]),
    ("UntagResource", &["ResourceArn", "TagKeys"]),
    ("ListTagsOfResource", &["ResourceArn", "NextToken"]),
    ("DescribeTimeToLive", &["TableName"]),
    (
        "UpdateTimeToLive",
        &["TableName", "TimeToLiveSpecification"],
    ),
    ("DescribeContinuousBackups", &["TableName"]),
];

/// The members `operation` honours, or `None` if the stack does not serve it.
pub(super) fn honoured(operation: &str) -> Option<&'static [&'static str]> {
    OPERATIONS
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, members)| *members)
}

/// Whether a member not in the honoured list is set to the value that asks for nothing, so
/// accepting it changes nothing: no consumed-capacity report, no stream, no deletion
/// protection, the standard table class, AWS-owned encryption, no tags or indexes.
pub(super) fn is_off(name: &str, value: &Value) -> bool {
    let flag_false = |flag: &str| {
        value.as_object().is_some_and(|o| {
            o.get(flag) == Some(&Value::Bool(false)) && o.keys().all(|k| k == flag)
        })
    };
    match name {
        "ReturnConsumedCapacity"
        | "ReturnItemCollectionMetrics"
        | "ReturnValuesOnConditionCheckFailure" => value == "NONE",
        "TableClass" => value == "STANDARD",
        "DeletionProtectionEnabled" => value == &Value::Bool(false),
        "StreamSpecification" => flag_false("StreamEnabled"),
        "SSESpecification" => flag_false("Enabled"),
        "GlobalSecondaryIndexes" | "LocalSecondaryIndexes" => {
            value.as_array().is_some_and(Vec::is_empty)
        }
        _ => false,
    }
}
