//! The DynamoDB AWS JSON 1.0 facade: decodes `DynamoDB_20120810.<Operation>` requests, calls
//! [`Tables`], encodes answers and errors as DynamoDB does. Table and single-item operations
//! are here; `UpdateItem`, `Query`, batches and transactions in `api_items`; tags, TTL and
//! backups in `api_meta`.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::errors::DdbError;
use super::expr::{parse_projection, Condition, Placeholders};
use super::members;
use super::path::{self, Path};
use super::store::{KeyAttribute, ScanOptions, Segment, TableDefinition, Tables};
use super::value::Item;
use super::{api_items, api_meta};
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
            let wire = e.to_wire();
            match &e {
                DdbError::TransactionCanceled(reasons) => {
                    let mut extra = Map::new();
                    let reasons: Vec<Value> = reasons.iter().map(|r| r.to_json()).collect();
                    extra.insert("CancellationReasons".into(), Value::Array(reasons));
                    wire.into_response_with(extra)
                }
                _ => wire.into_response(),
            }
        }
    }
}

pub(super) enum Failure {
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

/// Every top-level member any served operation reads (each operation's own list in
/// [`members`] decides which it accepts).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Request {
    pub table_name: Option<String>,
    pub key: Option<Item>,
    pub item: Option<Item>,
    pub condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub key_condition_expression: Option<String>,
    pub update_expression: Option<String>,
    pub expression_attribute_names: Option<Map<String, Value>>,
    pub expression_attribute_values: Option<Map<String, Value>>,
    pub return_values: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_key: Option<Item>,
    pub exclusive_start_table_name: Option<String>,
    pub select: Option<String>,
    pub key_schema: Option<Vec<KeySchemaElement>>,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    pub attributes_to_get: Option<Vec<String>>,
    pub segment: Option<i64>,
    pub total_segments: Option<i64>,
    #[allow(dead_code)] // every read is strongly consistent: the member is honoured as is
    pub consistent_read: Option<bool>,
    pub scan_index_forward: Option<bool>,
    pub request_items: Option<Map<String, Value>>,
    pub transact_items: Option<Vec<Value>>,
    pub client_request_token: Option<String>,
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub tag_keys: Option<Vec<String>>,
    pub next_token: Option<String>,
    pub time_to_live_specification: Option<TimeToLiveSpecification>,
}

impl Request {
    /// The placeholders of the request's expressions: its `ExpressionAttributeNames` and
    /// `ExpressionAttributeValues` (taken; the values validated).
    pub(super) fn placeholders(&mut self) -> Result<Placeholders, DdbError> {
        Placeholders::new(
            self.expression_attribute_names.take(),
            self.expression_attribute_values.take(),
        )
    }

    /// A write's `ConditionExpression`, taken and parsed with `ph`.
    pub(super) fn condition(
        &mut self,
        ph: &mut Placeholders,
    ) -> Result<Option<Condition>, DdbError> {
        condition(self.condition_expression.take(), ph, "ConditionExpression")
    }

    /// A read's `FilterExpression` and its projection (`ProjectionExpression` or
    /// `AttributesToGet`), taken and parsed with `ph`.
    pub(super) fn filter_and_projection(
        &mut self,
        ph: &mut Placeholders,
    ) -> Result<(Option<Condition>, Option<Vec<Path>>), DdbError> {
        let filter = condition(self.filter_expression.take(), ph, "FilterExpression")?;
        let projection = projection(
            self.projection_expression.take(),
            self.attributes_to_get.take(),
            ph,
        )?;
        Ok((filter, projection))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct KeySchemaElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)] // checked for shape only: capacity is neither enforced nor reported
pub(super) struct ProvisionedThroughput {
    read_capacity_units: i64,
    write_capacity_units: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TimeToLiveSpecification {
    pub enabled: bool,
    pub attribute_name: String,
}

pub(super) fn required<T>(value: Option<T>, member: &str) -> Result<T, DdbError> {
    value.ok_or_else(|| {
        DdbError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// Parses an optional expression of a request.
pub(super) fn condition(
    expression: Option<String>,
    placeholders: &mut Placeholders,
    label: &str,
) -> Result<Option<Condition>, DdbError> {
    expression
        .map(|e| Condition::parse(&e, placeholders, label))
        .transpose()
}

/// The paths to project: `ProjectionExpression` or the legacy `AttributesToGet`.
pub(super) fn projection(
    expression: Option<String>,
    attributes_to_get: Option<Vec<String>>,
    placeholders: &mut Placeholders,
) -> Result<Option<Vec<Path>>, DdbError> {
    match (expression, attributes_to_get) {
        (Some(_), Some(_)) => Err(DdbError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        )),
        (Some(e), None) => Ok(Some(parse_projection(&e, placeholders)?)),
        (None, Some(names)) if names.is_empty() => Err(DdbError::validation(
            "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
        )),
        (None, Some(names)) => Ok(Some(names.iter().map(|n| Path::attribute(n)).collect())),
        (None, None) => Ok(None),
    }
}

/// The projected item (all of it without a projection).
pub(super) fn project(item: Item, projection: Option<&Vec<Path>>) -> Item {
    match projection {
        None => item,
        Some(paths) => {
            let mut out = path::project(&item, paths);
            path::finish_projection(&mut out);
            out
        }
    }
}

pub(super) fn limit_of(limit: Option<i64>) -> Result<Option<usize>, DdbError> {
    match limit {
        Some(l) if l < 1 => Err(DdbError::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(l) => Ok(Some(usize::try_from(l).unwrap_or(usize::MAX))),
        None => Ok(None),
    }
}

/// `Select`: whether only a count is wanted.
pub(super) fn count_only(
    select: Option<&str>,
    projection: Option<&Vec<Path>>,
) -> Result<bool, DdbError> {
    match (select, projection) {
        (None | Some("SPECIFIC_ATTRIBUTES"), _) => Ok(false),
        (Some("ALL_ATTRIBUTES"), Some(_)) => Err(DdbError::validation(
            "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES",
        )),
        (Some("ALL_ATTRIBUTES"), None) => Ok(false),
        (Some("COUNT"), Some(_)) => Err(DdbError::validation(
            "Cannot specify the AttributesToGet when choosing to get only the COUNT",
        )),
        (Some("COUNT"), None) => Ok(true),
        (Some("ALL_PROJECTED_ATTRIBUTES"), _) => Err(DdbError::validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        (Some(other), _) => Err(DdbError::validation(format!(
            "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        ))),
    }
}

/// A `Scan` or `Query` page as DynamoDB answers it.
pub(super) fn page_json(
    page: super::store::ScanPage,
    count_only: bool,
    projection: Option<&Vec<Path>>,
) -> Value {
    let mut out = json!({ "Count": page.items.len(), "ScannedCount": page.scanned_count });
    if !count_only {
        // Moved into the response, not copied (`json!` of the items would clone every value:
        // a 1 MB page held twice).
        let items = page
            .items
            .into_iter()
            .map(|i| Value::Object(project(i, projection)))
            .collect();
        out["Items"] = Value::Array(items);
    }
    if let Some(key) = page.last_evaluated_key {
        out["LastEvaluatedKey"] = Value::Object(key);
    }
    out
}

fn return_old(return_values: Option<&str>) -> Result<bool, DdbError> {
    match return_values {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(DdbError::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

fn old_attributes(old: Option<Item>, wanted: bool) -> Value {
    match old {
        Some(item) if wanted => json!({ "Attributes": item }),
        _ => json!({}),
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
        "ListTables" => list_tables(tables, r).await,
        "DescribeTable" => {
            let d = tables
                .describe(&required(r.table_name, "tableName")?)
                .await?;
            Ok(json!({ "Table": d.to_json() }))
        }
        "CreateTable" => create_table(tables, r).await,
        "DeleteTable" => {
            let d = tables
                .delete_table(&required(r.table_name, "tableName")?)
                .await?;
            Ok(json!({ "TableDescription": d.to_json() }))
        }
        "GetItem" => {
            let table = required(r.table_name.take(), "tableName")?;
            let key = required(r.key.take(), "key")?;
            let mut ph = Placeholders::new(r.expression_attribute_names.take(), None)?;
            let any = r.projection_expression.is_some();
            let projection = projection(
                r.projection_expression.take(),
                r.attributes_to_get.take(),
                &mut ph,
            )?;
            ph.check_all_used(any)?;
            match tables.get(&table, &key).await? {
                Some(item) => Ok(json!({ "Item": project(item, projection.as_ref()) })),
                None => Ok(json!({})),
            }
        }
        "PutItem" | "DeleteItem" => put_or_delete(tables, operation, r).await,
        "Scan" => scan(tables, r).await,
        "UpdateItem" => api_items::update_item(tables, r).await,
        "Query" => api_items::query(tables, r).await,
        "BatchWriteItem" => api_items::batch_write(tables, r).await,
        "BatchGetItem" => api_items::batch_get(tables, r).await,
        "TransactWriteItems" => api_items::transact_write(tables, r).await,
        "TransactGetItems" => api_items::transact_get(tables, r).await,
        _ => api_meta::dispatch(tables, operation, r).await,
    }
}

async fn list_tables(tables: &Tables, r: Request) -> Result<Value, Failure> {
    let limit = match r.limit {
        Some(l) if !(1..=100).contains(&l) => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            ))
            .into())
        }
        Some(l) => usize::try_from(l).unwrap_or(100),
        None => 100,
    };
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

async fn put_or_delete(tables: &Tables, operation: &str, mut r: Request) -> Result<Value, Failure> {
    let table = required(r.table_name.take(), "tableName")?;
    let mut ph = r.placeholders()?;
    let any = r.condition_expression.is_some();
    let condition = r.condition(&mut ph)?;
    ph.check_all_used(any)?;
    let return_old = return_old(r.return_values.as_deref())?;
    let old = if operation == "PutItem" {
        let item = required(r.item.take(), "item")?;
        tables.put(&table, item, condition).await?
    } else {
        let key = required(r.key.take(), "key")?;
        tables.delete(&table, &key, condition).await?
    };
    Ok(old_attributes(old, return_old))
}

async fn scan(tables: &Tables, mut r: Request) -> Result<Value, Failure> {
    let table = required(r.table_name.take(), "tableName")?;
    let limit = limit_of(r.limit)?;
    let mut ph = r.placeholders()?;
    let any = r.filter_expression.is_some() || r.projection_expression.is_some();
    let (filter, projection) = r.filter_and_projection(&mut ph)?;
    ph.check_all_used(any)?;
    let count_only = count_only(r.select.as_deref(), projection.as_ref())?;
    let segment = segment_of(r.segment, r.total_segments)?;
    let options = ScanOptions {
        limit,
        exclusive_start_key: r.exclusive_start_key.take(),
        filter,
        segment,
    };
    let page = tables.scan(&table, options).await?;
    Ok(page_json(page, count_only, projection.as_ref()))
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
    let name = required(r.table_name.take(), "tableName")?;
    let tags: BTreeMap<String, String> = r
        .tags
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
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
    if !tags.is_empty() {
        tables.tag_table(&description.definition.name, tags).await?;
    }
    Ok(json!({ "TableDescription": description.to_json() }))
}
