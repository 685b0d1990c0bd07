//! `UpdateItem`, `Query`, `BatchWriteItem`, `BatchGetItem`, `TransactWriteItems` and
//! `TransactGetItems` on the wire.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::api::{
    condition, count_only, limit_of, page_json, project, projection, required, Failure, Request,
};
use super::errors::DdbError;
use super::expr::{Condition, Expr, Operand, Placeholders};
use super::items::{QueryOptions, WriteOp};
use super::path::{Path, Step};
use super::store::Tables;
use super::update::Update;
use super::value::Item;
use crate::wire;

/// Most writes in one `BatchWriteItem`.
pub const MAX_BATCH_WRITE: usize = 25;
/// Most keys in one `BatchGetItem`.
pub const MAX_BATCH_GET: usize = 100;
/// Most items in one transaction.
pub const MAX_TRANSACTION: usize = 100;

/// `UpdateItem`: the update and its condition applied to one item.
pub(super) async fn update_item(tables: &Tables, mut r: Request) -> Result<Value, Failure> {
    let table = required(r.table_name.take(), "tableName")?;
    let key = required(r.key.take(), "key")?;
    let mut ph = r.placeholders()?;
    let any = r.update_expression.is_some() || r.condition_expression.is_some();
    let update = r
        .update_expression
        .take()
        .map(|e| Update::parse(&e, &mut ph))
        .transpose()?;
    let condition = r.condition(&mut ph)?;
    ph.check_all_used(any)?;
    let return_values = r.return_values.as_deref().unwrap_or("NONE");
    if !["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"].contains(&return_values) {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value '{return_values}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        ))
        .into());
    }
    let paths = update.as_ref().map(Update::paths).unwrap_or_default();
    let (old, new) = tables.update(&table, key, update, condition).await?;
    let attributes = match return_values {
        "ALL_OLD" => old,
        "ALL_NEW" => Some(new),
        "UPDATED_OLD" => old.map(|o| project(o, Some(&paths))),
        "UPDATED_NEW" => Some(project(new, Some(&paths))),
        _ => None,
    };
    Ok(match attributes.filter(|a| !a.is_empty()) {
        Some(a) => json!({ "Attributes": a }),
        None => json!({}),
    })
}

/// The partition key value of a key condition, after checking it has DynamoDB's shape:
/// `hash = :v` and optionally `AND` one sort key condition (`= < <= > >=`, `BETWEEN`,
/// `begins_with`), naming only key attributes.
fn key_condition_hash(
    condition: &Condition,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<Value, DdbError> {
    let unsupported = || DdbError::validation("Query key condition not supported");
    let mut parts = Vec::new();
    let mut stack = vec![condition.expr()];
    while let Some(e) = stack.pop() {
        match e {
            Expr::And(a, b) => {
                stack.push(b);
                stack.push(a);
            }
            other => parts.push(other),
        }
    }
    if parts.len() > 2 {
        return Err(DdbError::validation(
            "Conditions can be of length 1 or 2 only",
        ));
    }
    let top = |p: &Path| match p.0.as_slice() {
        [Step::Key(k)] => Some(k.clone()),
        _ => None,
    };
    let mut hash = None;
    let mut ranged = false;
    for part in parts {
        let (attribute, is_eq, value) = match part {
            Expr::Compare(Operand::Path(p), op, Operand::Value(v))
            | Expr::Compare(Operand::Value(v), op, Operand::Path(p)) => {
                if op == "<>" {
                    return Err(unsupported());
                }
                (top(p), op == "=", Some(v.clone()))
            }
            Expr::Between(Operand::Path(p), Operand::Value(_), Operand::Value(_)) => {
                (top(p), false, None)
            }
            Expr::BeginsWith(Operand::Path(p), Operand::Value(_)) => (top(p), false, None),
            _ => return Err(unsupported()),
        };
        let attribute = attribute.ok_or_else(unsupported)?;
        if attribute == hash_key && is_eq && hash.is_none() {
            hash = value;
        } else if Some(attribute.as_str()) == range_key && !ranged {
            ranged = true;
        } else if attribute == hash_key || Some(attribute.as_str()) == range_key {
            return Err(unsupported());
        } else {
            return Err(DdbError::validation(format!(
                "Query condition missed key schema element: {hash_key}"
            )));
        }
    }
    hash.ok_or_else(|| {
        DdbError::validation(format!(
            "Query condition missed key schema element: {hash_key}"
        ))
    })
}

/// `Query`: one partition's items by key condition, filtered and paged.
pub(super) async fn query(tables: &Tables, mut r: Request) -> Result<Value, Failure> {
    let table = required(r.table_name.take(), "tableName")?;
    let expression = r.key_condition_expression.take().ok_or_else(|| {
        DdbError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
    })?;
    let limit = limit_of(r.limit)?;
    let mut ph = r.placeholders()?;
    let key_condition = Condition::parse(&expression, &mut ph, "KeyConditionExpression")?;
    let (filter, projection) = r.filter_and_projection(&mut ph)?;
    ph.check_all_used(true)?;
    let count_only = count_only(r.select.as_deref(), projection.as_ref())?;
    let definition = tables.describe(&table).await?.definition;
    let hash_value = key_condition_hash(
        &key_condition,
        &definition.hash_key.name,
        definition.range_key.as_ref().map(|k| k.name.as_str()),
    )?;
    if let Some(f) = &filter {
        let keys = [Some(&definition.hash_key), definition.range_key.as_ref()];
        for k in keys.into_iter().flatten() {
            if mentions(f.expr(), &k.name) {
                return Err(DdbError::validation(format!(
                    "Filter Expression can only contain non-primary key attributes: Primary key attribute: {}",
                    k.name
                ))
                .into());
            }
        }
    }
    let options = QueryOptions {
        hash_value,
        key_condition,
        forward: r.scan_index_forward.unwrap_or(true),
        limit,
        exclusive_start_key: r.exclusive_start_key.take(),
        filter,
    };
    let page = tables.query(&table, options).await?;
    Ok(page_json(page, count_only, projection.as_ref()))
}

/// Whether an expression reads the top-level attribute `name`.
fn mentions(expr: &Expr, name: &str) -> bool {
    let op = |o: &Operand| match o {
        Operand::Path(p) | Operand::Size(p) => p.top() == name,
        Operand::Value(_) => false,
    };
    match expr {
        Expr::Exists(p) | Expr::NotExists(p) | Expr::Type(p, _) => p.top() == name,
        Expr::BeginsWith(a, b) | Expr::Contains(a, b) | Expr::Compare(a, _, b) => op(a) || op(b),
        Expr::Between(a, b, c) => op(a) || op(b) || op(c),
        Expr::In(a, list) => op(a) || list.iter().any(op),
        Expr::And(a, b) | Expr::Or(a, b) => mentions(a, name) || mentions(b, name),
        Expr::Not(a) => mentions(a, name),
    }
}

/// Refuses members of a nested request object that the stack does not honour.
fn check_members(
    object: &Map<String, Value>,
    honoured: &[&str],
    context: &str,
) -> Result<(), DdbError> {
    match wire::unsupported_member(object, honoured, super::members::is_off) {
        Some(member) => Err(DdbError::validation(wire::unsupported_message(
            context, &member,
        ))),
        None => Ok(()),
    }
}

fn object_of(value: Value, what: &str) -> Result<Map<String, Value>, DdbError> {
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(DdbError::validation(format!("{what} must be an object"))),
    }
}

fn item_of(value: Option<Value>, what: &str) -> Result<Item, DdbError> {
    object_of(required(value, what)?, what)
}

fn string_of(value: Option<Value>, what: &str) -> Result<Option<String>, DdbError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DdbError::validation(format!("{what} must be a string"))),
    }
}

/// `BatchWriteItem`: puts and deletes across tables, applied together (none left unprocessed).
pub(super) async fn batch_write(tables: &Tables, r: Request) -> Result<Value, Failure> {
    let request_items = required(r.request_items, "requestItems")?;
    let mut ops = Vec::new();
    for (table, writes) in request_items {
        let Value::Array(writes) = writes else {
            return Err(DdbError::validation("RequestItems values must be lists").into());
        };
        for write in writes {
            let mut write = object_of(write, "WriteRequest")?;
            check_members(&write, &["PutRequest", "DeleteRequest"], "BatchWriteItem")?;
            let op = match (write.remove("PutRequest"), write.remove("DeleteRequest")) {
                (Some(put), None) => {
                    let mut put = object_of(put, "PutRequest")?;
                    check_members(&put, &["Item"], "BatchWriteItem PutRequest")?;
                    WriteOp::Put {
                        table: table.clone(),
                        item: item_of(put.remove("Item"), "item")?,
                        condition: None,
                    }
                }
                (None, Some(delete)) => {
                    let mut delete = object_of(delete, "DeleteRequest")?;
                    check_members(&delete, &["Key"], "BatchWriteItem DeleteRequest")?;
                    WriteOp::Delete {
                        table: table.clone(),
                        key: item_of(delete.remove("Key"), "key")?,
                        condition: None,
                    }
                }
                _ => {
                    return Err(DdbError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    )
                    .into())
                }
            };
            ops.push(op);
        }
    }
    if ops.is_empty() || ops.len() > MAX_BATCH_WRITE {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]"
        ))
        .into());
    }
    tables.batch_write(ops).await?;
    // Every write is applied in one transaction: nothing is ever left unprocessed.
    Ok(json!({ "UnprocessedItems": {} }))
}

/// `BatchGetItem`: items by key, across tables.
pub(super) async fn batch_get(tables: &Tables, r: Request) -> Result<Value, Failure> {
    let request_items = required(r.request_items, "requestItems")?;
    let mut keys = Vec::new();
    let mut projections = BTreeMap::new();
    for (table, spec) in request_items {
        let mut spec = object_of(spec, "KeysAndAttributes")?;
        check_members(
            &spec,
            &[
                "Keys",
                "ProjectionExpression",
                "ExpressionAttributeNames",
                "ConsistentRead",
                "AttributesToGet",
            ],
            "BatchGetItem",
        )?;
        let names = spec
            .remove("ExpressionAttributeNames")
            .map(|n| object_of(n, "ExpressionAttributeNames"))
            .transpose()?;
        let mut ph = Placeholders::new(names, None)?;
        let expression = string_of(spec.remove("ProjectionExpression"), "ProjectionExpression")?;
        let any = expression.is_some();
        let to_get = match spec.remove("AttributesToGet") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value::<Vec<String>>(v)
                    .map_err(|_| DdbError::validation("AttributesToGet must be a list of names"))?,
            ),
        };
        let paths = projection(expression, to_get, &mut ph)?;
        ph.check_all_used(any)?;
        projections.insert(table.clone(), paths);
        let Some(Value::Array(table_keys)) = spec.remove("Keys") else {
            return Err(DdbError::validation(
                "1 validation error detected: Value null at 'requestItems.keys' failed to satisfy constraint: Member must not be null",
            )
            .into());
        };
        let mut seen = Vec::new();
        for key in table_keys {
            let key = object_of(key, "Key")?;
            if seen.contains(&key) {
                return Err(
                    DdbError::validation("Provided list of item keys contains duplicates").into(),
                );
            }
            seen.push(key.clone());
            keys.push((table.clone(), key));
        }
    }
    if keys.is_empty() || keys.len() > MAX_BATCH_GET {
        return Err(DdbError::validation(format!(
            "Too many items requested for the BatchGetItem call (at most {MAX_BATCH_GET}, at least 1)"
        ))
        .into());
    }
    let tables_of: Vec<String> = keys.iter().map(|(t, _)| t.clone()).collect();
    let found = tables.get_many(keys).await?;
    let mut responses: Map<String, Value> = Map::new();
    for table in projections.keys() {
        responses.insert(table.clone(), json!([]));
    }
    for (table, item) in tables_of.into_iter().zip(found) {
        if let Some(item) = item {
            let projected = project(item, projections.get(&table).and_then(Option::as_ref));
            if let Some(Value::Array(list)) = responses.get_mut(&table) {
                list.push(Value::Object(projected));
            }
        }
    }
    Ok(json!({ "Responses": responses, "UnprocessedKeys": {} }))
}

const TRANSACT_COMMON: &[&str] = &[
    "TableName",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
];

fn transact_op(entry: Value) -> Result<WriteOp, DdbError> {
    let entry = object_of(entry, "TransactWriteItem")?;
    check_members(
        &entry,
        &["ConditionCheck", "Put", "Delete", "Update"],
        "TransactWriteItems",
    )?;
    if entry.len() != 1 {
        return Err(DdbError::validation(
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ));
    }
    let Some((kind, body)) = entry.into_iter().next() else {
        return Err(DdbError::validation(
            "TransactItems entries must not be empty",
        ));
    };
    let mut body = object_of(body, &kind)?;
    let extra: &[&str] = match kind.as_str() {
        "Put" => &["Item"],
        "Update" => &["Key", "UpdateExpression"],
        _ => &["Key"],
    };
    let honoured: Vec<&str> = TRANSACT_COMMON.iter().chain(extra).copied().collect();
    check_members(&body, &honoured, &format!("TransactWriteItems {kind}"))?;
    let table = string_of(body.remove("TableName"), "TableName")?
        .ok_or_else(|| DdbError::validation("TableName is required in every transaction item"))?;
    let names = body
        .remove("ExpressionAttributeNames")
        .map(|n| object_of(n, "ExpressionAttributeNames"))
        .transpose()?;
    let values = body
        .remove("ExpressionAttributeValues")
        .map(|v| object_of(v, "ExpressionAttributeValues"))
        .transpose()?;
    let mut ph = Placeholders::new(names, values)?;
    let expression = string_of(body.remove("ConditionExpression"), "ConditionExpression")?;
    let update_expression = string_of(body.remove("UpdateExpression"), "UpdateExpression")?;
    let any = expression.is_some() || update_expression.is_some();
    let update = update_expression
        .map(|e| Update::parse(&e, &mut ph))
        .transpose()?;
    let condition = condition(expression, &mut ph, "ConditionExpression")?;
    ph.check_all_used(any)?;
    Ok(match kind.as_str() {
        "Put" => WriteOp::Put {
            table,
            item: item_of(body.remove("Item"), "item")?,
            condition,
        },
        "Delete" => WriteOp::Delete {
            table,
            key: item_of(body.remove("Key"), "key")?,
            condition,
        },
        "Update" => WriteOp::Update {
            table,
            key: item_of(body.remove("Key"), "key")?,
            update: Some(update.ok_or_else(|| {
                DdbError::validation("UpdateExpression is required in an Update transaction item")
            })?),
            condition,
        },
        _ => WriteOp::Check {
            table,
            key: item_of(body.remove("Key"), "key")?,
            condition: condition.ok_or_else(|| {
                DdbError::validation(
                    "ConditionExpression is required in a ConditionCheck transaction item",
                )
            })?,
        },
    })
}

/// `TransactWriteItems`: writes and condition checks, all or none; a repeated
/// `ClientRequestToken` is answered without writing again.
pub(super) async fn transact_write(tables: &Tables, r: Request) -> Result<Value, Failure> {
    let items = required(r.transact_items, "transactItems")?;
    if items.is_empty() || items.len() > MAX_TRANSACTION {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_TRANSACTION} and greater than or equal to 1"
        ))
        .into());
    }
    let digest = {
        use md5::Digest as _;
        let text = Value::Array(items.clone()).to_string();
        let bytes: [u8; 16] = md5::Md5::digest(text.as_bytes()).into();
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        ops.push(transact_op(item)?);
    }
    let token = r.client_request_token.map(|t| (t, digest));
    tables.transact_write(ops, token).await?;
    Ok(json!({}))
}

/// `TransactGetItems`: items by key, read together.
pub(super) async fn transact_get(tables: &Tables, r: Request) -> Result<Value, Failure> {
    let items = required(r.transact_items, "transactItems")?;
    if items.is_empty() || items.len() > MAX_TRANSACTION {
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_TRANSACTION} and greater than or equal to 1"
        ))
        .into());
    }
    let mut keys = Vec::new();
    let mut projections = Vec::new();
    for entry in items {
        let mut entry = object_of(entry, "TransactGetItem")?;
        check_members(&entry, &["Get"], "TransactGetItems")?;
        let mut get = object_of(required(entry.remove("Get"), "get")?, "Get")?;
        check_members(
            &get,
            &[
                "TableName",
                "Key",
                "ProjectionExpression",
                "ExpressionAttributeNames",
            ],
            "TransactGetItems Get",
        )?;
        let table = string_of(get.remove("TableName"), "TableName")?
            .ok_or_else(|| DdbError::validation("TableName is required in every Get"))?;
        let names = get
            .remove("ExpressionAttributeNames")
            .map(|n| object_of(n, "ExpressionAttributeNames"))
            .transpose()?;
        let mut ph = Placeholders::new(names, None)?;
        let expression = string_of(get.remove("ProjectionExpression"), "ProjectionExpression")?;
        let any = expression.is_some();
        projections.push(projection(expression, None, &mut ph)?);
        ph.check_all_used(any)?;
        keys.push((table, item_of(get.remove("Key"), "key")?));
    }
    let seen: Vec<&(String, Item)> = keys.iter().collect();
    for (i, k) in seen.iter().enumerate() {
        if seen.iter().skip(i + 1).any(|o| o == k) {
            return Err(DdbError::validation(
                "Transaction request cannot include multiple operations on one item",
            )
            .into());
        }
    }
    let found = tables.get_many(keys).await?;
    let responses: Vec<Value> = found
        .into_iter()
        .zip(projections)
        .map(|(item, p)| match item {
            Some(item) => json!({ "Item": project(item, p.as_ref()) }),
            None => json!({}),
        })
        .collect();
    Ok(json!({ "Responses": responses }))
}
