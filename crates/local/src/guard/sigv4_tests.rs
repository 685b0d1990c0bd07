//! The verifier against AWS's own signer (`aws-sigv4` with `sign-http`) and AWS's published
//! test vector: what they sign passes, every change to it fails with the right reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::*;

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn creds() -> Credentials {
    Credentials::parse(&format!("{KEY}:{SECRET}")).unwrap()
}

/// 2024-05-01T12:00:00Z.
fn signed_at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800)
}

/// A request as received: method, path?query, headers, body.
struct Received {
    method: &'static str,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn verify(&self, credentials: &Credentials, now: SystemTime) -> Result<(), AuthError> {
        let (path, query) = match self.uri.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.uri.as_str(), None),
        };
        verify(
            &SignedRequest {
                method: self.method,
                path,
                query,
                headers: &self.headers,
                body: &self.body,
            },
            credentials,
            now,
        )
    }
}

/// Signs like aws-sdk-rust would, with `secret`, at [`signed_at`].
fn signed(
    method: &'static str,
    uri: &str,
    headers: &[(&'static str, &str)],
    body: &[u8],
    secret: &str,
    location: SignatureLocation,
) -> Received {
    let identity = aws_credential_types::Credentials::new(KEY, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("lambda")
        .time(signed_at())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut all: Vec<(&str, &str)> = vec![("host", "127.0.0.1:4577")];
    all.extend_from_slice(headers);
    let signable = SignableRequest::new(
        method,
        format!("http://127.0.0.1:4577{uri}"),
        all.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:4577{uri}"))
        .body(())
        .unwrap();
    for (k, v) in &all {
        request.headers_mut().insert(
            HeaderName::from_static(k),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    instructions.apply_to_request_http1x(&mut request);
    let uri = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap();
    Received {
        method,
        uri,
        headers: request.headers().clone(),
        body: body.to_vec(),
    }
}

const TARGET: (&str, &str) = ("x-amz-target", "AmazonSQS.SendMessage");
const BODY: &[u8] = br#"{"QueueUrl":"q","MessageBody":"hi"}"#;

fn sqs_post() -> Received {
    signed(
        "POST",
        "/",
        &[TARGET, ("content-type", "application/x-amz-json-1.0")],
        BODY,
        SECRET,
        SignatureLocation::Headers,
    )
}

#[test]
fn what_aws_sigv4_signs_in_the_header_passes() {
    assert_eq!(sqs_post().verify(&creds(), signed_at()), Ok(()));
    // A clock 14 minutes off either way is within AWS's skew.
    let r = sqs_post();
    assert_eq!(
        r.verify(&creds(), signed_at() + Duration::from_secs(14 * 60)),
        Ok(())
    );
    assert_eq!(
        r.verify(&creds(), signed_at() - Duration::from_secs(14 * 60)),
        Ok(())
    );
}

#[test]
fn an_encoded_arn_path_and_a_query_pass_in_both_forms() {
    let uri = "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Adev%2Fdurable-execution%2Fx/history?MaxItems=5&Marker=a%2Bb%20c";
    for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
        let r = signed("GET", uri, &[], b"", SECRET, location);
        assert_eq!(r.verify(&creds(), signed_at()), Ok(()), "{location:?}");
    }
}

#[test]
fn a_wrong_secret_a_tampered_body_or_target_fail_as_invalid_signature() {
    let wrong = signed(
        "POST",
        "/",
        &[TARGET],
        BODY,
        "another-secret",
        SignatureLocation::Headers,
    );
    assert!(matches!(
        wrong.verify(&creds(), signed_at()),
        Err(AuthError::Invalid(_))
    ));

    let mut body = sqs_post();
    body.body = br#"{"QueueUrl":"q","MessageBody":"EVIL"}"#.to_vec();
    assert!(matches!(
        body.verify(&creds(), signed_at()),
        Err(AuthError::Invalid(_))
    ));

    let mut target = sqs_post();
    target.headers.insert(
        "x-amz-target",
        HeaderValue::from_static("AmazonSQS.DeleteQueue"),
    );
    assert!(matches!(
        target.verify(&creds(), signed_at()),
        Err(AuthError::Invalid(_))
    ));

    let mut path = sqs_post();
    path.uri = "/other".into();
    assert!(matches!(
        path.verify(&creds(), signed_at()),
        Err(AuthError::Invalid(_))
    ));
}

#[test]
fn dates_outside_the_skew_or_the_expiry_fail_as_invalid_signature() {
    let r = sqs_post();
    let late = signed_at() + Duration::from_secs(16 * 60);
    let Err(AuthError::Invalid(message)) = r.verify(&creds(), late) else {
        panic!("accepted a 16-minute-old signature");
    };
    assert!(
        message.starts_with("Signature expired: 20240501T120000Z"),
        "{message}"
    );
    let early = signed_at() - Duration::from_secs(16 * 60);
    let Err(AuthError::Invalid(message)) = r.verify(&creds(), early) else {
        panic!("accepted a signature from the future");
    };
    assert!(
        message.starts_with("Signature not yet current"),
        "{message}"
    );

    let presigned = signed(
        "GET",
        "/health",
        &[],
        b"",
        SECRET,
        SignatureLocation::QueryParams,
    );
    assert_eq!(
        presigned.verify(&creds(), signed_at() + Duration::from_secs(299)),
        Ok(())
    );
    assert!(matches!(
        presigned.verify(&creds(), signed_at() + Duration::from_secs(301)),
        Err(AuthError::Invalid(m)) if m.starts_with("Signature expired")
    ));
}

#[test]
fn unknown_keys_session_tokens_and_missing_or_malformed_signatures() {
    let other = Credentials::parse(&format!("OTHERKEY:{SECRET}")).unwrap();
    assert_eq!(
        sqs_post().verify(&other, signed_at()),
        Err(AuthError::UnknownKey)
    );

    let mut token = sqs_post();
    token
        .headers
        .insert("x-amz-security-token", HeaderValue::from_static("t"));
    assert_eq!(
        token.verify(&creds(), signed_at()),
        Err(AuthError::UnknownKey)
    );

    let mut unsigned = sqs_post();
    unsigned.headers.remove("authorization");
    assert_eq!(
        unsigned.verify(&creds(), signed_at()),
        Err(AuthError::Missing)
    );

    for bad in [
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/sqs/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
        "AWS AKIDEXAMPLE:abc",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/sqs/aws4_request, SignedHeaders=x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let mut r = sqs_post();
        r.headers
            .insert("authorization", HeaderValue::from_str(bad).unwrap());
        assert!(
            matches!(r.verify(&creds(), signed_at()), Err(AuthError::Incomplete(_))),
            "{bad}"
        );
    }

    let mut both = sqs_post();
    both.uri = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    assert!(matches!(
        both.verify(&creds(), signed_at()),
        Err(AuthError::Incomplete(_))
    ));
}

#[test]
fn unsigned_payload_and_a_wrong_content_hash_are_refused() {
    for claimed in ["UNSIGNED-PAYLOAD", &"0".repeat(64)] {
        let r = signed(
            "POST",
            "/",
            &[TARGET, ("x-amz-content-sha256", claimed)],
            BODY,
            SECRET,
            SignatureLocation::Headers,
        );
        assert!(
            matches!(r.verify(&creds(), signed_at()), Err(AuthError::Invalid(_))),
            "{claimed}"
        );
    }
}

/// AWS's SigV4 test suite, `get-vanilla`.
#[test]
fn the_aws_test_suite_get_vanilla_vector_passes() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
    headers.insert(
        "authorization",
        HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
    );
    let r = Received {
        method: "GET",
        uri: "/".into(),
        headers,
        body: Vec::new(),
    };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    assert_eq!(r.verify(&creds(), at), Ok(()));
}
