//! Tags, time to live and backups on the wire: `TagResource`, `UntagResource`,
//! `ListTagsOfResource`, `DescribeTimeToLive`, `UpdateTimeToLive`,
//! `DescribeContinuousBackups`.

use serde_json::{json, Value};

use super::api::{required, Failure, Request};
use super::errors::DdbError;
use super::store::Tables;
use crate::wire::WireError;

/// The table name in a table ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>`).
fn table_of_arn(arn: &str) -> Result<String, DdbError> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("dynamodb"), Some(_), Some(_), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(DdbError::validation(format!("Invalid TableArn: {arn}")));
    };
    resource
        .strip_prefix("table/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .map(str::to_string)
        .ok_or_else(|| DdbError::validation(format!("Invalid TableArn: {arn}")))
}

pub(super) async fn dispatch(
    tables: &Tables,
    operation: &str,
    r: Request,
) -> Result<Value, Failure> {
    match operation {
        "TagResource" => {
            let table = table_of_arn(&required(r.resource_arn, "resourceArn")?)?;
            let tags = required(r.tags, "tags")?
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect();
            tables.tag_table(&table, tags).await?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let table = table_of_arn(&required(r.resource_arn, "resourceArn")?)?;
            tables
                .untag_table(&table, required(r.tag_keys, "tagKeys")?)
                .await?;
            Ok(json!({}))
        }
        "ListTagsOfResource" => {
            let table = table_of_arn(&required(r.resource_arn, "resourceArn")?)?;
            if r.next_token.is_some() {
                // Every listing fits one page, so the stack never hands out a token.
                return Err(DdbError::validation("Invalid NextToken: durapipe issued none").into());
            }
            let tags: Vec<Value> = tables
                .table_tags(&table)
                .await?
                .into_iter()
                .map(|(k, v)| json!({ "Key": k, "Value": v }))
                .collect();
            Ok(json!({ "Tags": tags }))
        }
        "DescribeTimeToLive" => {
            let table = required(r.table_name, "tableName")?;
            let description = match tables.time_to_live(&table).await? {
                Some((attribute, true)) => {
                    json!({ "TimeToLiveStatus": "ENABLED", "AttributeName": attribute })
                }
                _ => json!({ "TimeToLiveStatus": "DISABLED" }),
            };
            Ok(json!({ "TimeToLiveDescription": description }))
        }
        "UpdateTimeToLive" => {
            let table = required(r.table_name, "tableName")?;
            let spec = required(r.time_to_live_specification, "timeToLiveSpecification")?;
            tables
                .set_time_to_live(&table, &spec.attribute_name, spec.enabled)
                .await?;
            Ok(json!({ "TimeToLiveSpecification": {
                "Enabled": spec.enabled,
                "AttributeName": spec.attribute_name,
            }}))
        }
        "DescribeContinuousBackups" => {
            let table = required(r.table_name, "tableName")?;
            tables.describe(&table).await.map_err(|e| match e {
                DdbError::ResourceNotFound(name) => DdbError::TableNotFound(name),
                other => other,
            })?;
            Ok(json!({ "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": { "PointInTimeRecoveryStatus": "DISABLED" },
            }}))
        }
        other => Err(WireError::unknown_operation(&format!("DynamoDB_20120810.{other}")).into()),
    }
}
