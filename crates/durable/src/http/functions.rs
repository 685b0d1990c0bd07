//! `GET /2015-03-31/functions` (ListFunctions), `GET .../functions/{name}` (GetFunction) and
//! `GET .../functions/{name}/configuration` (GetFunctionConfiguration) over the registry of
//! in-process functions. A function is `Active` as soon as it is registered; durable functions
//! report their `DurableConfig`.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{json, Value};

use super::{json_response, Request};
use crate::error::ApiError;
use crate::functions::{function_name_of, Function};
use crate::service::DurableService;

/// The most functions one ListFunctions page holds, whatever `MaxItems` asks (as Lambda).
const MAX_ITEMS: usize = 50;
/// The largest `MaxItems` the API accepts.
const MAX_ITEMS_PARAMETER: usize = 10_000;

/// The query parameters of a presigned request (AWS Signature V4): authentication, checked by
/// the stack's front door, not parameters of the operation.
const PRESIGNED_AUTH: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// Refuses query parameters other than `allowed` (and a presigned request's authentication
/// parameters), by name.
pub(super) fn only_query(req: &Request, allowed: &[&str]) -> Result<(), ApiError> {
    let unknown = |k: &str| !allowed.contains(&k) && !PRESIGNED_AUTH.contains(&k);
    match req.query.iter().find(|(k, _)| unknown(k)) {
        Some((k, _)) => Err(ApiError::invalid(format!(
            "The parameter {k} is not supported by durapipe's local stack; remove it (docs/local-stack.md lists what is supported)."
        ))),
        None => Ok(()),
    }
}

/// The only version the stack has is `$LATEST`; other qualifiers name nothing.
pub(super) fn check_qualifier(
    svc: &DurableService,
    name: &str,
    qualifier: Option<&str>,
) -> Result<(), ApiError> {
    match qualifier {
        None | Some("$LATEST") => Ok(()),
        Some(q) => Err(ApiError::not_found(format!(
            "Function not found: {}:{q}",
            svc.function_arn(name)
        ))),
    }
}

fn configuration(svc: &DurableService, name: &str, function: &Function) -> Value {
    let config = svc.config();
    let mut v = json!({
        "FunctionName": name,
        "FunctionArn": svc.function_arn(name),
        "Runtime": "provided.al2023",
        "Role": format!("arn:aws:iam::{}:role/durapipe-local", config.account),
        "Handler": "bootstrap",
        "CodeSize": 0,
        "Description": "in-process function of the durapipe local stack",
        "Timeout": config.invocation_timeout.as_secs(),
        "MemorySize": 128,
        "LastModified": "1970-01-01T00:00:00.000+0000",
        "Version": "$LATEST",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
    });
    if function.kind() == crate::core::TargetKind::Durable {
        v["DurableConfig"] = json!({
            "ExecutionTimeout": config.execution_timeout.as_secs(),
            "RetentionPeriodInDays": config.retention.as_secs().div_ceil(86_400),
        });
    }
    v
}

fn lookup(svc: &DurableService, reference: &str) -> Result<(String, Function), ApiError> {
    svc.functions().get(reference).ok_or_else(|| {
        ApiError::not_found(format!(
            "Function not found: {}",
            svc.function_arn(function_name_of(reference).unwrap_or(reference))
        ))
    })
}

/// The function a `Qualifier`-only request names (after checking the qualifier), with its
/// name and configuration: what GetFunction and GetFunctionConfiguration both answer with.
fn qualified_configuration(
    svc: &DurableService,
    reference: &str,
    req: &Request,
) -> Result<Value, ApiError> {
    only_query(req, &["Qualifier"])?;
    let (name, function) = lookup(svc, reference)?;
    check_qualifier(svc, &name, req.query("Qualifier"))?;
    Ok(configuration(svc, &name, &function))
}

/// GetFunction.
pub(super) fn get_function(
    svc: &DurableService,
    reference: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body = json!({
        "Configuration": qualified_configuration(svc, reference, req)?,
        "Code": { "RepositoryType": "S3", "Location": "" },
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// GetFunctionConfiguration.
pub(super) fn get_configuration(
    svc: &DurableService,
    reference: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let body = qualified_configuration(svc, reference, req)?;
    Ok(json_response(StatusCode::OK, &body))
}

/// ListFunctions: functions by name, `MaxItems` (1–10000, at most 50 a page, as Lambda) a
/// page, `NextMarker` when more remain.
pub(super) fn list_functions(
    svc: &DurableService,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    only_query(req, &["Marker", "MaxItems"])?;
    let limit = match req.query("MaxItems") {
        None => MAX_ITEMS,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_ITEMS_PARAMETER).contains(&n) => n.min(MAX_ITEMS),
            _ => {
                return Err(ApiError::invalid(format!(
                    "1 validation error detected: Value '{v}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and {MAX_ITEMS_PARAMETER}"
                )))
            }
        },
    };
    let after = req.query("Marker").filter(|m| !m.is_empty());
    let mut names = svc.functions().names();
    names.sort();
    let rest: Vec<String> = names
        .into_iter()
        .filter(|n| after.is_none_or(|a| n.as_str() > a))
        .collect();
    let page: Vec<Value> = rest
        .iter()
        .take(limit)
        .filter_map(|n| {
            svc.functions()
                .get(n)
                .map(|(name, f)| configuration(svc, &name, &f))
        })
        .collect();
    let mut body = json!({ "Functions": page });
    if rest.len() > limit {
        if let Some(last) = rest.get(limit - 1) {
            body["NextMarker"] = json!(last);
        }
    }
    Ok(json_response(StatusCode::OK, &body))
}
