//! AWS Signature Version 4 verification of a received request, in the `Authorization` header or
//! in a presigned query (`X-Amz-Algorithm=AWS4-HMAC-SHA256&...`).
//!
//! The canonical request is rebuilt from what arrived (the signed headers the client listed,
//! its path and query, the SHA-256 of the body); the key derivation and HMAC come from AWS's
//! own `aws-sigv4` crate and the comparison is constant-time (`subtle`). The region and service
//! are the ones in the credential scope.
//!
//! Rules (as AWS): the date must be within 15 minutes of now (a presigned request also within
//! its `X-Amz-Expires`); `host` must be signed, and so must `x-amz-date` (header form),
//! `x-amz-target`, `x-amz-content-sha256` and `x-amz-security-token` when present; the body's
//! hash is always part of the signature: `UNSIGNED-PAYLOAD` is refused (AWS allows it only for
//! S3, which this stack does not serve), and an `x-amz-content-sha256` header must match the body.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::credentials::Credentials;

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// AWS's allowed clock skew.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The longest `X-Amz-Expires` (7 days, as AWS).
const MAX_EXPIRES_SECS: u64 = 604_800;

/// Why a request's signature was refused; the variants map to AWS's error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header and no presigned query.
    Missing,
    /// The signature's parts are malformed or missing (`IncompleteSignature`).
    Incomplete(String),
    /// The access key id is not the stack's (`UnrecognizedClientException`).
    UnknownKey,
    /// The signature does not match, or the date is out of range
    /// (`InvalidSignatureException`).
    Invalid(String),
}

/// What of a request the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// All headers.
    pub headers: &'a HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

/// The parsed signature parameters, from either form.
struct Params {
    key_id: String,
    scope_date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    /// `Some` for the presigned form.
    expires: Option<u64>,
}

/// Verifies `request` against `credentials` at time `now`.
///
/// # Errors
/// [`AuthError`] saying why the request is refused; the message never contains the secret or
/// the expected signature.
pub fn verify(
    request: &SignedRequest<'_>,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<(), AuthError> {
    let query = parse_query(request.query.unwrap_or_default());
    let presigned = query.iter().any(|(k, _)| k == "X-Amz-Algorithm");
    let authorization = header(request.headers, "authorization")?;
    let params = match (authorization, presigned) {
        (Some(_), true) => {
            return Err(AuthError::Incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or \
                 the Authorization header should be specified"
                    .into(),
            ))
        }
        (Some(auth), false) => from_header(auth, request.headers)?,
        (None, true) => from_query(&query)?,
        (None, false) => return Err(AuthError::Missing),
    };
    if params.key_id != credentials.access_key_id() {
        return Err(AuthError::UnknownKey);
    }
    if header(request.headers, "x-amz-security-token")?.is_some()
        || query.iter().any(|(k, _)| k == "X-Amz-Security-Token")
    {
        return Err(AuthError::UnknownKey);
    }
    let time = check_time(&params, now)?;
    for required in ["host", "x-amz-target", "x-amz-content-sha256"] {
        let present = required == "host" || request.headers.contains_key(required);
        if present && !params.signed_headers.iter().any(|h| h == required) {
            return Err(AuthError::Incomplete(format!(
                "The {required} header must be signed (listed in SignedHeaders)"
            )));
        }
    }
    if params.expires.is_none() && !params.signed_headers.iter().any(|h| h == "x-amz-date") {
        return Err(AuthError::Incomplete(
            "The x-amz-date header must be signed (listed in SignedHeaders)".into(),
        ));
    }
    let payload_hash = payload_hash(request)?;
    let canonical = canonical_request(request, &query, &params, &payload_hash)?;
    let scope = format!(
        "{}/{}/{}/aws4_request",
        params.scope_date, params.region, params.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        params.amz_date,
        hex_sha256(canonical.as_bytes())
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        credentials.secret(),
        time,
        &params.region,
        &params.service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if bool::from(expected.as_bytes().ct_eq(params.signature.as_bytes())) {
        Ok(())
    } else {
        Err(AuthError::Invalid(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
                .into(),
        ))
    }
}

/// A header as text; a signed header that is not visible ASCII cannot be checked.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, AuthError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| AuthError::Incomplete(format!("The {name} header is not ASCII text"))),
    }
}

fn incomplete(message: &str) -> AuthError {
    AuthError::Incomplete(message.to_owned())
}

/// `AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=a;b, Signature=hex`.
fn from_header(auth: &str, headers: &HeaderMap) -> Result<Params, AuthError> {
    let Some(rest) = auth.strip_prefix(ALGORITHM) else {
        let algorithm = auth.split_whitespace().next().unwrap_or_default();
        return Err(AuthError::Incomplete(format!(
            "Unsupported Authorization algorithm {algorithm:?}: only {ALGORITHM} is accepted"
        )));
    };
    if !rest.starts_with(' ') {
        return Err(incomplete("The Authorization header is malformed"));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let Some((name, value)) = part.split_once('=') else {
            return Err(AuthError::Incomplete(format!(
                "Authorization header parameter {part:?} is not name=value"
            )));
        };
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (name, value) in [
        ("Credential", credential),
        ("SignedHeaders", signed),
        ("Signature", signature),
    ] {
        if value.is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let amz_date = header(headers, "x-amz-date")?;
    if amz_date.is_none() {
        missing.push("Authorization header requires existence of a 'X-Amz-Date' header.".into());
    }
    let (Some(credential), Some(signed), Some(signature), Some(amz_date), true) =
        (credential, signed, signature, amz_date, missing.is_empty())
    else {
        return Err(AuthError::Incomplete(format!(
            "{} Authorization={auth_shape}",
            missing.join(" "),
            auth_shape = redact_signature(auth)
        )));
    };
    params(credential, signed, signature, amz_date, None)
}

/// The Authorization header for an error message, without the signature value.
fn redact_signature(auth: &str) -> String {
    match auth.find("Signature=") {
        Some(at) => format!("{}Signature=...", &auth[..at]),
        None => auth.to_owned(),
    }
}

/// The presigned form's `X-Amz-*` query parameters.
fn from_query(query: &[(String, String)]) -> Result<Params, AuthError> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(AuthError::Incomplete(format!(
            "Unsupported X-Amz-Algorithm {algorithm:?}: only {ALGORITHM} is accepted"
        )));
    }
    let mut missing = Vec::new();
    for name in [
        "X-Amz-Credential",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-Expires",
    ] {
        if get(name).is_none() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(AuthError::Incomplete(format!(
            "A presigned request requires the query parameters {}",
            missing.join(", ")
        )));
    }
    let expires = get("X-Amz-Expires")
        .and_then(|e| e.parse::<u64>().ok())
        .filter(|e| (1..=MAX_EXPIRES_SECS).contains(e))
        .ok_or_else(|| {
            incomplete("X-Amz-Expires must be a number of seconds from 1 to 604800 (7 days)")
        })?;
    params(
        get("X-Amz-Credential").unwrap_or_default(),
        get("X-Amz-SignedHeaders").unwrap_or_default(),
        get("X-Amz-Signature").unwrap_or_default(),
        get("X-Amz-Date").unwrap_or_default(),
        Some(expires),
    )
}

fn params(
    credential: &str,
    signed: &str,
    signature: &str,
    amz_date: &str,
    expires: Option<u64>,
) -> Result<Params, AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(
            "Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    };
    if key_id.is_empty()
        || region.is_empty()
        || service.is_empty()
        || *terminator != "aws4_request"
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(incomplete(
            "Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
    if signed_headers.iter().any(|h| {
        h.is_empty()
            || h.bytes()
                .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace() || b == b':')
    }) {
        return Err(incomplete(
            "SignedHeaders must be lower-case header names separated by ';'",
        ));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(incomplete("Signature must be 64 hexadecimal digits"));
    }
    Ok(Params {
        key_id: (*key_id).to_owned(),
        scope_date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
        amz_date: amz_date.to_owned(),
        expires,
    })
}

/// Parses `X-Amz-Date`, checks it against the scope and the clock; returns the signing time.
fn check_time(params: &Params, now: SystemTime) -> Result<SystemTime, AuthError> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let date = time::PrimitiveDateTime::parse(&params.amz_date, &format)
        .map_err(|_| {
            AuthError::Incomplete(format!(
                "X-Amz-Date {:?} is not in the form YYYYMMDD'T'HHMMSS'Z'",
                params.amz_date
            ))
        })?
        .assume_utc();
    if !params.amz_date.starts_with(&params.scope_date) {
        return Err(AuthError::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}'",
            params.scope_date,
            params.amz_date.get(..8).unwrap_or_default()
        )));
    }
    let signed_at = SystemTime::from(date);
    let stamp = |t: SystemTime| {
        time::OffsetDateTime::from(t)
            .format(&format)
            .unwrap_or_default()
    };
    if signed_at > now + MAX_SKEW {
        return Err(AuthError::Invalid(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            params.amz_date,
            stamp(now + MAX_SKEW),
            stamp(now)
        )));
    }
    let valid_until = match params.expires {
        Some(secs) => signed_at + Duration::from_secs(secs),
        None => signed_at + MAX_SKEW,
    };
    if now > valid_until {
        return Err(AuthError::Invalid(match params.expires {
            Some(_) => format!(
                "Signature expired: the presigned request was valid until {}; it is now {}",
                stamp(valid_until),
                stamp(now)
            ),
            None => format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                params.amz_date,
                stamp(now - MAX_SKEW),
                stamp(now)
            ),
        }));
    }
    Ok(signed_at)
}

/// The body's hash; an `x-amz-content-sha256` header must agree with it.
fn payload_hash(request: &SignedRequest<'_>) -> Result<String, AuthError> {
    let actual = hex_sha256(request.body);
    match header(request.headers, "x-amz-content-sha256")? {
        None => Ok(actual),
        Some(claimed) if claimed.eq_ignore_ascii_case(&actual) => Ok(actual),
        Some(claimed) if claimed == "UNSIGNED-PAYLOAD" || claimed.starts_with("STREAMING-") => {
            Err(AuthError::Invalid(format!(
                "x-amz-content-sha256 {claimed} is not accepted: this service requires the \
                 body's SHA-256 in the signature"
            )))
        }
        Some(_) => Err(AuthError::Invalid(
            "The provided x-amz-content-sha256 header does not match what was computed".into(),
        )),
    }
}

fn canonical_request(
    request: &SignedRequest<'_>,
    query: &[(String, String)],
    params: &Params,
    payload_hash: &str,
) -> Result<String, AuthError> {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| params.expires.is_none() || k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in &params.signed_headers {
        let values: Vec<&str> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.to_str())
            .collect::<Result<_, _>>()
            .map_err(|_| AuthError::Incomplete(format!("The {name} header is not ASCII text")))?;
        if values.is_empty() {
            return Err(AuthError::Invalid(format!(
                "The signed header {name} is not in the request"
            )));
        }
        let values: Vec<String> = values
            .iter()
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        request.method,
        uri_encode(&normalize_path(request.path), false),
        params.signed_headers.join(";"),
    ))
}

/// Removes `.` and `..` segments and empty segments (as AWS's signers do for every service but
/// S3); keeps a leading and a trailing `/`.
fn normalize_path(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let trailing = if path.ends_with('/') && !out.is_empty() {
        "/"
    } else {
        ""
    };
    format!("/{}{trailing}", out.join("/"))
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, everything else is `%XX`
/// (upper-case); `/` too when `slash` is set (query parts) and kept otherwise (paths, which are
/// thus encoded a second time, as AWS's signers do).
fn uri_encode(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (!slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=1&b=%2F` → decoded pairs (`+` is a space, as form encoding and AWS's signers read it).
fn parse_query(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode_str(&s).decode_utf8_lossy().into_owned()
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
