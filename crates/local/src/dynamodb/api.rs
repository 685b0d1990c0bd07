//! The DynamoDB AWS JSON 1.0 facade: decodes `DynamoDB_20120810.<Operation>` requests, calls
//! [`Tables`], encodes answers and errors as DynamoDB does.

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::errors::DdbError;
use super::expr::Condition;
use super::members;
use super::store::{KeyAttribute, ScanOptions, Segment, TableDefinition, Tables};
use super::value::Item;
use crate::wire::{self, WireError};

/// Handles one DynamoDB request (`operation` is the part of `X-Amz-Target` after
/// `DynamoDB_20120810.`).
pub async fn handle(tables: &Tables, operation: &str, body: &[u8]) -> Response {
    match dispatch(tables, operation, body).await {
        Ok(value) => wire::ok(&value),
        Err(Failure::Wire(e)) => e.into_response(),
        Err(Failure::Ddb(e)) => {
            if matches!(e, DdbError::Db(_)) {
                tracing::error!(error = ?e, operation, "DynamoDB request failed");
            }
            e.to_wire().into_response()
        }
    }
}

enum Failure {
    Wire(WireError),
    Ddb(DdbError),
}

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        Self::Wire(e)
    }
}

impl From<DdbError> for Failure {
    fn from(e: DdbError) -> Self {
        Self::Ddb(e)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Request {
    table_name: Option<String>,
    key: Option<Item>,
    item: Option<Item>,
    condition_expression: Option<String>,
    filter_expression: Option<String>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<Map<String, Value>>,
    expression_attribute_values: Option<Map<String, Value>>,
    return_values: Option<String>,
    limit: Option<i64>,
    exclusive_start_key: Option<Item>,
    exclusive_start_table_name: Option<String>,
    select: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
    attributes_to_get: Option<Vec<String>>,
    segment: Option<i64>,
    total_segments: Option<i64>,
    #[allow(dead_code)] // every read is strongly consistent: the member is honoured as is
    consistent_read: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)] // checked for shape only: capacity is neither enforced nor reported
struct ProvisionedThroughput {
    read_capacity_units: i64,
    write_capacity_units: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeySchemaElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

fn required<T>(value: Option<T>, member: &str) -> Result<T, DdbError> {
    value.ok_or_else(|| {
        DdbError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

impl Request {
    fn table(&mut self) -> Result<String, DdbError> {
        required(self.table_name.take(), "tableName")
    }

    fn condition(&self, expression: Option<&String>) -> Result<Option<Condition>, DdbError> {
        let empty = Map::new();
        expression
            .map(|e| {
                Condition::parse(
                    e,
                    self.expression_attribute_names.as_ref().unwrap_or(&empty),
                    self.expression_attribute_values.as_ref().unwrap_or(&empty),
                )
            })
            .transpose()
    }

    fn projection(&self) -> Result<Option<Vec<String>>, DdbError> {
        if let Some(names) = &self.attributes_to_get {
            if self.projection_expression.is_some() {
                return Err(DdbError::validation(
                    "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
                ));
            }
            if names.is_empty() {
                return Err(DdbError::validation(
                    "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
                ));
            }
            return Ok(Some(names.clone()));
        }
        let Some(p) = &self.projection_expression else {
            return Ok(None);
        };
        let names = self.expression_attribute_names.clone().unwrap_or_default();
        let mut out = Vec::new();
        for part in p.split(',') {
            let top = part.trim().split(['.', '[']).next().unwrap_or_default();
            let name = if top.starts_with('#') {
                names.get(top).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                    DdbError::validation(format!(
                        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: {top}"
                    ))
                })?
            } else if top.is_empty() {
                return Err(DdbError::validation(
                    "Invalid ProjectionExpression: Syntax error",
                ));
            } else {
                top.to_string()
            };
            out.push(name);
        }
        Ok(Some(out))
    }

    fn return_old(&self) -> Result<bool, DdbError> {
        match self.return_values.as_deref() {
            None | Some("NONE") => Ok(false),
            Some("ALL_OLD") => Ok(true),
            Some(other) => Err(DdbError::validation(format!(
                "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
            ))),
        }
    }
}

fn project(item: Item, projection: Option<&Vec<String>>) -> Item {
    match projection {
        None => item,
        Some(names) => item
            .into_iter()
            .filter(|(k, _)| names.contains(k))
            .collect(),
    }
}

async fn dispatch(tables: &Tables, operation: &str, body: &[u8]) -> Result<Value, Failure> {
    let Some(honoured) = members::honoured(operation) else {
        return Err(WireError::unknown_operation(&format!("DynamoDB_20120810.{operation}")).into());
    };
    let request = wire::object(body)?;
    if let Some(member) = wire::unsupported_member(&request, honoured, members::is_off) {
        return Err(DdbError::validation(wire::unsupported_message(operation, &member)).into());
    }
    let mut r: Request = wire::from_object(request)?;
    match operation {
        "ListTables" => {
            let limit = usize::try_from(r.limit.unwrap_or(100).clamp(1, 100)).unwrap_or(100);
            let after = r.exclusive_start_table_name.unwrap_or_default();
            let names: Vec<String> = tables
                .list()
                .await?
                .into_iter()
                .filter(|n| *n > after)
                .collect();
            let page: Vec<&String> = names.iter().take(limit).collect();
            let mut out = json!({ "TableNames": page });
            if names.len() > limit {
                if let Some(last) = page.last() {
                    out["LastEvaluatedTableName"] = json!(last);
                }
            }
            Ok(out)
        }
        "DescribeTable" => {
            let d = tables.describe(&r.table()?).await?;
            Ok(json!({ "Table": d.to_json() }))
        }
        "CreateTable" => create_table(tables, r).await,
        "DeleteTable" => {
            let d = tables.delete_table(&r.table()?).await?;
            Ok(json!({ "TableDescription": d.to_json() }))
        }
        "GetItem" => {
            let table = r.table()?;
            let key = required(r.key.take(), "key")?;
            let projection = r.projection()?;
            match tables.get(&table, &key).await? {
                Some(item) => Ok(json!({ "Item": project(item, projection.as_ref()) })),
                None => Ok(json!({})),
            }
        }
        "PutItem" => {
            let table = r.table()?;
            let item = required(r.item.take(), "item")?;
            let condition = r.condition(r.condition_expression.as_ref())?;
            let return_old = r.return_old()?;
            let old = tables.put(&table, item, condition).await?;
            Ok(old_attributes(old, return_old))
        }
        "DeleteItem" => {
            let table = r.table()?;
            let key = required(r.key.take(), "key")?;
            let condition = r.condition(r.condition_expression.as_ref())?;
            let return_old = r.return_old()?;
            let old = tables.delete(&table, &key, condition).await?;
            Ok(old_attributes(old, return_old))
        }
        _ => scan(tables, r).await,
    }
}

fn old_attributes(old: Option<Item>, wanted: bool) -> Value {
    match old {
        Some(item) if wanted => json!({ "Attributes": item }),
        _ => json!({}),
    }
}

async fn scan(tables: &Tables, mut r: Request) -> Result<Value, Failure> {
    let table = r.table()?;
    let limit = match r.limit {
        Some(l) if l < 1 => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ))
            .into())
        }
        Some(l) => Some(usize::try_from(l).unwrap_or(usize::MAX)),
        None => None,
    };
    let filter = r.condition(r.filter_expression.as_ref())?;
    let projection = r.projection()?;
    let count_only = match r.select.as_deref() {
        None | Some("ALL_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES") => false,
        Some("COUNT") => true,
        Some(other) => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES]"
            ))
            .into())
        }
    };
    let segment = segment_of(r.segment, r.total_segments)?;
    let options = ScanOptions {
        limit,
        exclusive_start_key: r.exclusive_start_key.take(),
        filter,
        segment,
    };
    let page = tables.scan(&table, options).await?;
    let count = page.items.len();
    let mut out = json!({ "Count": count, "ScannedCount": page.scanned_count });
    if !count_only {
        let items: Vec<Item> = page
            .items
            .into_iter()
            .map(|i| project(i, projection.as_ref()))
            .collect();
        out["Items"] = json!(items);
    }
    if let Some(key) = page.last_evaluated_key {
        out["LastEvaluatedKey"] = Value::Object(key);
    }
    Ok(out)
}

/// `Segment` and `TotalSegments` of a parallel scan, checked as DynamoDB does.
fn segment_of(segment: Option<i64>, total: Option<i64>) -> Result<Option<Segment>, DdbError> {
    let (segment, total) = match (segment, total) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(DdbError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ))
        }
        (None, Some(_)) => {
            return Err(DdbError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ))
        }
        (Some(s), Some(t)) => (s, t),
    };
    if !(1..=1_000_000).contains(&total) {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and 1000000"
        )));
    }
    if !(0..total).contains(&segment) {
        return Err(DdbError::validation(format!(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
        )));
    }
    Ok(Some(Segment {
        index: u32::try_from(segment).unwrap_or(0),
        total: u32::try_from(total).unwrap_or(1),
    }))
}

async fn create_table(tables: &Tables, mut r: Request) -> Result<Value, Failure> {
    let name = r.table()?;
    let schema = required(r.key_schema.take(), "keySchema")?;
    let defs = required(r.attribute_definitions.take(), "attributeDefinitions")?;
    let key = |key_type: &str| -> Result<Option<KeyAttribute>, DdbError> {
        let Some(element) = schema.iter().find(|e| e.key_type == key_type) else {
            return Ok(None);
        };
        let def = defs
            .iter()
            .find(|d| d.attribute_name == element.attribute_name)
            .ok_or_else(|| {
                DdbError::validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions.",
                )
            })?;
        Ok(Some(KeyAttribute {
            name: def.attribute_name.clone(),
            attribute_type: def.attribute_type.clone(),
        }))
    };
    if schema.is_empty()
        || schema.len() > 2
        || schema
            .iter()
            .any(|e| !matches!(e.key_type.as_str(), "HASH" | "RANGE"))
    {
        return Err(DdbError::validation(
            "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: one HASH key and at most one RANGE key",
        )
        .into());
    }
    let hash_key = key("HASH")?.ok_or_else(|| {
        DdbError::validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    })?;
    let billing_mode = r.billing_mode.unwrap_or_else(|| "PROVISIONED".into());
    match (billing_mode.as_str(), &r.provisioned_throughput) {
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            )
            .into())
        }
        ("PAY_PER_REQUEST" | "PROVISIONED", _) => {}
        (other, _) => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            ))
            .into())
        }
    }
    let definition = TableDefinition {
        name,
        hash_key,
        range_key: key("RANGE")?,
        billing_mode,
    };
    let description = tables.create_table(definition).await?;
    Ok(json!({ "TableDescription": description.to_json() }))
}
