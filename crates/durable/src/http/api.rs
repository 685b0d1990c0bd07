//! Handlers of the individual Lambda APIs (`docs/wire-contract.md` §4, §5, §9).

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Value};

use super::{functions, json_response, Request};
use crate::core::{Command, TargetKind};
use crate::error::ApiError;
use crate::functions::function_name_of;
use crate::model::{ErrorObject, ExecStatus, OperationUpdate, TimeFormat};
use crate::service::{DurableService, StartOptions};
use crate::state::decode_callback_id;
use crate::store::{self, ListFilter};

fn ok(body: Value) -> Result<Response<Body>, ApiError> {
    Ok(json_response(StatusCode::OK, &body))
}

fn unknown_route() -> ApiError {
    ApiError::not_found("Unknown operation or resource path.")
}

fn bool_param(req: &Request, key: &str) -> Option<bool> {
    req.query(key).map(|v| v.eq_ignore_ascii_case("true"))
}

fn usize_param(req: &Request, key: &str) -> Result<Option<usize>, ApiError> {
    req.query(key)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| ApiError::invalid(format!("Invalid {key}.")))
        })
        .transpose()
}

fn time_param(req: &Request, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.query(key) else {
        return Ok(None);
    };
    if let Ok(secs) = v.parse::<f64>() {
        return Ok(Some((secs * 1000.0) as i64));
    }
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ApiError::invalid(format!("Invalid {key}.")))?;
    Ok(Some(
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0),
    ))
}

fn error_object(req: &Request) -> Result<Option<ErrorObject>, ApiError> {
    if req.body.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(&req.body)
        .map(Some)
        .map_err(|e| ApiError::invalid(format!("Invalid ErrorObject: {e}")))
}

/// `/2025-12-01/...`
pub(super) async fn durable(
    svc: &DurableService,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["durable-executions", arn, "checkpoint"]) => {
            checkpoint(svc, arn, &req).await
        }
        (&Method::GET, ["durable-executions", arn, "state"]) => {
            functions::only_query(&req, &["CheckpointToken", "Marker", "MaxItems"])?;
            let token = req
                .query("CheckpointToken")
                .ok_or_else(|| ApiError::invalid("CheckpointToken is required."))?
                .to_owned();
            let cmd = Command::GetState {
                token,
                marker: req.query("Marker").map(str::to_owned),
                max_items: usize_param(&req, "MaxItems")?,
            };
            ok(svc.command(arn, cmd).await?.unwrap_or(Value::Null))
        }
        (&Method::GET, ["durable-executions", arn]) => {
            functions::only_query(&req, &["IncludeExecutionData"])?;
            get_execution(svc, arn, &req).await
        }
        (&Method::GET, ["durable-executions", arn, "history"]) => history(svc, arn, &req).await,
        (&Method::POST, ["durable-executions", arn, "stop"]) => {
            let error = error_object(&req)?;
            ok(svc
                .command(arn, Command::Stop { error })
                .await?
                .unwrap_or(json!({})))
        }
        (&Method::POST, ["durable-execution-callbacks", id, action]) => {
            let (arn, op_id) =
                decode_callback_id(id).ok_or_else(|| ApiError::not_found("Callback not found."))?;
            let cmd = match *action {
                "succeed" => Command::CallbackSucceed {
                    op_id,
                    result: if req.body.is_empty() {
                        None
                    } else {
                        Some(String::from_utf8_lossy(&req.body).into_owned())
                    },
                },
                "fail" => Command::CallbackFail {
                    op_id,
                    error: error_object(&req)?.unwrap_or_default(),
                },
                "heartbeat" => Command::CallbackHeartbeat { op_id },
                _ => return Err(unknown_route()),
            };
            let reply = svc.command(&arn, cmd).await.map_err(|e| {
                if e.kind() == crate::ErrorKind::ResourceNotFound {
                    ApiError::not_found("Callback not found.")
                } else {
                    e
                }
            })?;
            ok(reply.unwrap_or(json!({})))
        }
        (&Method::GET, ["functions", name, "durable-executions"]) => list(svc, name, &req).await,
        _ => Err(unknown_route()),
    }
}

async fn checkpoint(
    svc: &DurableService,
    arn: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body = req.json_body()?;
    if let Some(member) = body.as_object().and_then(|o| {
        o.keys()
            .find(|k| !["CheckpointToken", "ClientToken", "Updates"].contains(&k.as_str()))
    }) {
        return Err(ApiError::invalid(format!(
            "The parameter {member} of CheckpointDurableExecution is not supported by durapipe's local stack; remove it."
        )));
    }
    let token = body
        .get("CheckpointToken")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("CheckpointToken is required."))?
        .to_owned();
    let client_token = body
        .get("ClientToken")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let updates: Vec<OperationUpdate> = match body.get("Updates") {
        None | Some(Value::Null) => Vec::new(),
        Some(u) => serde_json::from_value(u.clone())
            .map_err(|e| ApiError::invalid(format!("Invalid Updates: {e}")))?,
    };
    let cmd = Command::Checkpoint {
        token,
        client_token,
        updates,
    };
    let started = std::time::Instant::now();
    let response = svc.command(arn, cmd).await?.unwrap_or(Value::Null);
    svc.note_checkpoint_latency(started.elapsed());
    svc.note_checkpoint();
    ok(response)
}

fn summary(svc: &DurableService, m: &crate::state::Meta) -> Value {
    let mut v = json!({
        "DurableExecutionArn": m.arn,
        "DurableExecutionName": m.name,
        "FunctionArn": format!("{}:{}", svc.function_arn(&m.function_name), m.qualifier),
        "Status": m.status.as_str(),
        "StartTimestamp": crate::model::ts(m.start_ms, TimeFormat::EpochSeconds),
    });
    if let Some(e) = m.end_ms {
        v["EndTimestamp"] = crate::model::ts(e, TimeFormat::EpochSeconds);
    }
    v
}

async fn get_execution(
    svc: &DurableService,
    arn: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let m = svc.meta(arn).await?;
    let mut v = summary(svc, &m);
    v["Version"] = json!(m.qualifier);
    v["DurableConfig"] = json!({ "ExecutionTimeout": m.timeout_s });
    if bool_param(req, "IncludeExecutionData") != Some(false) {
        v["InputPayload"] = json!(m.input);
        if let Some(r) = &m.result {
            v["Result"] = json!(r);
        }
        if let Some(e) = &m.error {
            v["Error"] = e.to_value();
        }
    }
    ok(v)
}

async fn history(
    svc: &DurableService,
    arn: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    functions::only_query(
        req,
        &["IncludeExecutionData", "MaxItems", "Marker", "ReverseOrder"],
    )?;
    svc.meta(arn).await?;
    let offset = match req.query("Marker").filter(|m| !m.is_empty()) {
        None => 0,
        Some(m) => m
            .parse()
            .map_err(|_| ApiError::invalid("Invalid Marker."))?,
    };
    let limit = usize_param(req, "MaxItems")?
        .filter(|&n| n > 0)
        .unwrap_or(1_000)
        .min(1_000);
    let reverse = bool_param(req, "ReverseOrder").unwrap_or(false);
    let arn = arn.to_owned();
    let (mut events, more) = svc
        .db()
        .read(move |c| store::history(c, &arn, offset, limit, reverse))
        .await?;
    if bool_param(req, "IncludeExecutionData") == Some(false) {
        for event in &mut events {
            strip_payloads(event);
        }
    }
    let mut body = json!({ "Events": events });
    if more {
        body["NextMarker"] = json!((offset + limit).to_string());
    }
    ok(body)
}

/// Removes execution data (every `{"Payload": ..}` member: inputs, results, callback
/// payloads) from a history event, as `IncludeExecutionData=false` asks.
fn strip_payloads(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.as_object().is_some_and(|o| o.contains_key("Payload")));
            map.values_mut().for_each(strip_payloads);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_payloads),
        _ => {}
    }
}

async fn list(
    svc: &DurableService,
    function: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let name = function_name_of(function)
        .ok_or_else(|| ApiError::invalid("Invalid FunctionName."))?
        .to_owned();
    functions::only_query(
        req,
        &[
            "Qualifier",
            "DurableExecutionName",
            "Statuses",
            "StartedAfter",
            "StartedBefore",
            "ReverseOrder",
            "Marker",
            "MaxItems",
        ],
    )?;
    if svc.functions().get(&name).is_none() {
        return Err(ApiError::not_found(format!(
            "Function not found: {}",
            svc.function_arn(&name)
        )));
    }
    functions::check_qualifier(svc, &name, req.query("Qualifier"))?;
    let mut statuses = Vec::new();
    for s in req.query_all("Statuses") {
        statuses.push(
            ExecStatus::parse(s)
                .ok_or_else(|| ApiError::invalid(format!("Invalid status {s}.")))?,
        );
    }
    let offset = match req.query("Marker").filter(|m| !m.is_empty()) {
        None => 0,
        Some(m) => m
            .parse()
            .map_err(|_| ApiError::invalid("Invalid Marker."))?,
    };
    let limit = usize_param(req, "MaxItems")?
        .filter(|&n| n > 0)
        .unwrap_or(100)
        .min(1_000);
    let filter = ListFilter {
        function_name: name,
        name: req.query("DurableExecutionName").map(str::to_owned),
        statuses,
        started_after_ms: time_param(req, "StartedAfter")?,
        started_before_ms: time_param(req, "StartedBefore")?,
        reverse: bool_param(req, "ReverseOrder").unwrap_or(false),
        offset,
        limit,
    };
    let (metas, more) = svc.db().read(move |c| store::list(c, &filter)).await?;
    let items: Vec<Value> = metas.iter().map(|m| summary(svc, m)).collect();
    let mut body = json!({ "DurableExecutions": items });
    if more {
        body["NextMarker"] = json!((offset + limit).to_string());
    }
    ok(body)
}

/// `/2015-03-31/functions...`: Invoke and the function reads.
pub(super) async fn invoke(svc: &DurableService, req: Request) -> Result<Response<Body>, ApiError> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let reference = match (&req.method, segs.as_slice()) {
        (&Method::POST, ["functions", reference, "invocations"]) => *reference,
        (&Method::GET, ["functions"]) => return functions::list_functions(svc, &req),
        (&Method::GET, ["functions", reference]) => {
            return functions::get_function(svc, reference, &req)
        }
        (&Method::GET, ["functions", reference, "configuration"]) => {
            return functions::get_configuration(svc, reference, &req)
        }
        _ => return Err(unknown_route()),
    };
    functions::only_query(&req, &["Qualifier"])?;
    // The stack keeps no function logs to return, and passes no client context: refused by
    // name rather than ignored.
    if let Some(log_type) = req.header("x-amz-log-type").filter(|t| *t != "None") {
        return Err(ApiError::invalid(format!(
            "The parameter LogType ({log_type}) is not supported by durapipe's local stack: it keeps no function log tail; send LogType None or leave it out."
        )));
    }
    if req.header("x-amz-client-context").is_some() {
        return Err(ApiError::invalid(
            "The parameter ClientContext is not supported by durapipe's local stack; remove it.",
        ));
    }
    let Some((name, function)) = svc.functions().get(reference) else {
        return Err(ApiError::not_found(format!(
            "Function not found: {}",
            svc.function_arn(function_name_of(reference).unwrap_or(reference))
        )));
    };
    functions::check_qualifier(svc, &name, req.query("Qualifier"))?;
    let event_mode = match req
        .header("x-amz-invocation-type")
        .unwrap_or("RequestResponse")
    {
        "Event" => true,
        "RequestResponse" => false,
        other => {
            return Err(ApiError::invalid(format!(
                "Unsupported InvocationType {other} (Event or RequestResponse)."
            )))
        }
    };
    // Lambda refuses a payload that is not JSON (truncated, invalid UTF-8, nested too deep)
    // before anything runs.
    let input = if req.body.is_empty() {
        "{}".to_owned()
    } else {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(_) => String::from_utf8_lossy(&req.body).into_owned(),
            Err(e) => {
                return Err(ApiError::new(
                    crate::ErrorKind::InvalidRequestContent,
                    format!("Could not parse request body into json: {e}"),
                ))
            }
        }
    };
    match function.kind() {
        TargetKind::Durable => {
            let options = StartOptions {
                name: req
                    .header("x-amz-durable-execution-name")
                    .map(str::to_owned),
                tenant_id: req.header("x-amz-tenant-id").map(str::to_owned),
                timeout: None,
            };
            let arn = svc.start_with(&name, input, options).await?;
            let mut resp = if event_mode {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::ACCEPTED;
                r
            } else {
                let outcome = svc.wait(&arn, svc.config().execution_timeout).await?;
                outcome_response(&outcome)
            };
            if let Ok(v) = HeaderValue::from_str(&arn) {
                resp.headers_mut().insert("x-amz-durable-execution-arn", v);
            }
            resp.headers_mut().insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            Ok(resp)
        }
        TargetKind::Plain => {
            let event: Value = serde_json::from_str(&input).unwrap_or(Value::Null);
            if event_mode {
                let svc2 = svc.clone();
                let guard = svc.track();
                tokio::spawn(async move {
                    if let Err(e) = svc2.call_plain_value(&name, event).await {
                        tracing::warn!(function = name, error = %e, "async invocation failed");
                    }
                    drop(guard);
                });
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::ACCEPTED;
                return Ok(r);
            }
            let mut resp = match svc.call_plain_value(&name, event).await {
                Ok(v) => json_response(StatusCode::OK, &v),
                Err(e) => {
                    let body =
                        json!({ "errorType": e.error_type, "errorMessage": e.error_message });
                    let mut r = json_response(StatusCode::OK, &body);
                    r.headers_mut().insert(
                        "x-amz-function-error",
                        HeaderValue::from_static("Unhandled"),
                    );
                    r
                }
            };
            resp.headers_mut().insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            Ok(resp)
        }
    }
}

fn outcome_response(outcome: &crate::core::Outcome) -> Response<Body> {
    match outcome.status {
        ExecStatus::Succeeded => {
            let mut r = Response::new(Body::from(
                outcome.result.clone().unwrap_or_else(|| "null".into()),
            ));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        ExecStatus::Running => {
            let body = json!({ "errorType": "Sandbox.Timedout", "errorMessage": "The durable execution is still running." });
            let mut r = json_response(StatusCode::OK, &body);
            r.headers_mut().insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            r
        }
        _ => {
            let e = outcome.error.clone().unwrap_or_default();
            let body = json!({
                "errorType": e.error_type.unwrap_or_else(|| outcome.status.as_str().to_owned()),
                "errorMessage": e.error_message.unwrap_or_default(),
            });
            let mut r = json_response(StatusCode::OK, &body);
            r.headers_mut().insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            r
        }
    }
}
