//! The external Lambda APIs, exercised with `aws-sdk-lambda` against the server on 127.0.0.1:0:
//! Invoke (Event / RequestResponse, execution-name idempotency), Get, History, List (filters and
//! paging), the stale-token error on the wire, state paging with the real SDK, and AWS's limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use aws_durable_execution_sdk as durable;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{ExecutionStatus, InvocationType};
use common::{fast_config, harness, harness_with, result_json};
use durable::DurableContext;
use durapipe_durable::{ErrorKind, ExecStatus, StartOptions};
use serde_json::{json, Value};

async fn echo_harness() -> common::Harness {
    let h = harness().await;
    h.durable("echo", |v: Value, ctx: DurableContext| async move {
        let v2 = v.clone();
        let out = ctx
            .step(move |_| async move { Ok(v2) })
            .name("echo")
            .await?;
        Ok(out)
    });
    h.durable("sleepy", |_: Value, ctx: DurableContext| async move {
        ctx.wait(Duration::from_secs(30)).name("nap").await?;
        Ok(1)
    });
    h.plain("plain-upper", |v: Value| async move {
        Ok(json!(v["s"].as_str().unwrap_or_default().to_uppercase()))
    });
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_event_request_response_and_name_idempotency() {
    let h = echo_harness().await;
    let out = h
        .client
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .durable_execution_name("order-1")
        .payload(Blob::new(br#"{"a":1}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 202);
    let arn = out.durable_execution_arn().unwrap().to_owned();
    assert!(arn.starts_with("arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST/durable-execution/order-1/"), "{arn}");
    // same name + same input: same execution
    let again = h
        .client
        .invoke()
        .function_name("arn:aws:lambda:us-east-1:000000000000:function:echo")
        .invocation_type(InvocationType::Event)
        .durable_execution_name("order-1")
        .payload(Blob::new(br#"{"a":1}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(again.durable_execution_arn(), Some(arn.as_str()));
    // same name, different input
    let err = h
        .client
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .durable_execution_name("order-1")
        .payload(Blob::new(br#"{"a":2}"#.to_vec()))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("DurableExecutionAlreadyStartedException"),
        "{err:?}"
    );
    h.svc.wait(&arn, Duration::from_secs(30)).await.unwrap();

    // RequestResponse waits and returns the result
    let out = h
        .client
        .invoke()
        .function_name("echo")
        .payload(Blob::new(br#"{"b":2}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert!(out.function_error().is_none());
    let body: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body, json!({"b": 2}));
    assert!(out.durable_execution_arn().is_some());

    // plain function, and an unknown one
    let out = h
        .client
        .invoke()
        .function_name("plain-upper")
        .payload(Blob::new(br#"{"s":"x"}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.payload().unwrap().as_ref(), br#""X""#);
    let err = h
        .client
        .invoke()
        .function_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("ResourceNotFoundException"),
        "{err:?}"
    );

    // GetDurableExecution
    let got = h
        .client
        .get_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), &ExecutionStatus::Succeeded);
    assert_eq!(got.durable_execution_name(), "order-1");
    assert_eq!(got.result(), Some(r#"{"a":1}"#));
    assert_eq!(got.input_payload(), Some(r#"{"a":1}"#));
    let started = got.start_timestamp().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - started).abs() < 120,
        "epoch-second timestamps: {started} vs {now}"
    );
    let err = h
        .client
        .get_durable_execution()
        .durable_execution_arn("arn:nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("ResourceNotFoundException"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_and_pages() {
    let h = echo_harness().await;
    let mut arns = Vec::new();
    for i in 0..5 {
        let arn = h
            .svc
            .start_with(
                "echo",
                format!("{{\"i\":{i}}}"),
                StartOptions {
                    name: Some(format!("run-{i}")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        h.svc.wait(&arn, Duration::from_secs(30)).await.unwrap();
        arns.push(arn);
    }
    let sleepy = h.svc.start("sleepy", &json!({})).await.unwrap();
    // paging: 5 executions, 2 per page
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = h
            .client
            .list_durable_executions_by_function()
            .function_name("echo")
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(
            out.durable_executions()
                .iter()
                .map(|e| e.durable_execution_arn().to_owned()),
        );
        marker = out.next_marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, arns);
    // filters
    let out = h
        .client
        .list_durable_executions_by_function()
        .function_name("echo")
        .durable_execution_name("run-3")
        .send()
        .await
        .unwrap();
    assert_eq!(out.durable_executions().len(), 1);
    assert_eq!(out.durable_executions()[0].durable_execution_arn(), arns[3]);
    let out = h
        .client
        .list_durable_executions_by_function()
        .function_name("sleepy")
        .statuses(ExecutionStatus::Running)
        .send()
        .await
        .unwrap();
    assert_eq!(out.durable_executions().len(), 1);
    assert_eq!(out.durable_executions()[0].durable_execution_arn(), sleepy);
    let out = h
        .client
        .list_durable_executions_by_function()
        .function_name("echo")
        .statuses(ExecutionStatus::Failed)
        .send()
        .await
        .unwrap();
    assert!(out.durable_executions().is_empty());
    let future = aws_sdk_lambda::primitives::DateTime::from_secs(4_000_000_000);
    let out = h
        .client
        .list_durable_executions_by_function()
        .function_name("echo")
        .started_after(future)
        .send()
        .await
        .unwrap();
    assert!(out.durable_executions().is_empty());
    let out = h
        .client
        .list_durable_executions_by_function()
        .function_name("echo")
        .reverse_order(true)
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.durable_executions()[0].durable_execution_arn(), arns[4]);
    // history paging
    let out = h
        .client
        .get_durable_execution_history()
        .durable_execution_arn(&arns[0])
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(out.events().len(), 2);
    assert!(out.next_marker().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_token_is_rejected_on_the_wire() {
    let h = echo_harness().await;
    let arn = h.svc.start("sleepy", &json!({})).await.unwrap();
    let err = h
        .client
        .checkpoint_durable_execution()
        .durable_execution_arn(&arn)
        .checkpoint_token("bm90LWEtdG9rZW4")
        .send()
        .await
        .unwrap_err();
    let svc_err = err.as_service_error().unwrap();
    assert!(svc_err.is_invalid_parameter_value_exception(), "{err:?}");
    assert!(svc_err
        .meta()
        .message()
        .unwrap()
        .starts_with("Invalid checkpoint token"));
    let raw = err.raw_response().unwrap();
    assert_eq!(
        raw.headers().get("x-amzn-errortype"),
        Some("InvalidParameterValueException")
    );
    let err = h
        .client
        .get_durable_execution_state()
        .durable_execution_arn(&arn)
        .checkpoint_token("garbage")
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("Invalid checkpoint token"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_paged_across_several_pages_for_the_real_sdk() {
    let mut config = fast_config();
    config.limits.envelope_page_size = 5;
    config.limits.state_page_size = 3;
    let h = harness_with(config).await;
    h.durable("many", |_: Value, ctx: DurableContext| async move {
        let mut total = 0u64;
        for i in 0..12u64 {
            total += ctx
                .step(move |_| async move { Ok(i) })
                .name(format!("s{i}"))
                .await?;
        }
        ctx.wait(Duration::from_secs(1)).name("pause").await?;
        Ok(total)
    });
    let (arn, o) = h.run("many", json!({})).await;
    assert_eq!(o.status, ExecStatus::Succeeded, "{o:?}");
    assert_eq!(result_json(&o), json!(66));
    assert_eq!(h.count(&arn, "StepSucceeded", None).await, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_enforced_with_aws_errors() {
    let mut config = fast_config();
    config.limits.max_operations = 10;
    config.limits.max_stored_bytes = 50_000;
    let h = harness_with(config).await;
    h.durable("too-many", |_: Value, ctx: DurableContext| async move {
        for i in 0..20u32 {
            ctx.step(move |_| async move { Ok(i) }).name("s").await?;
        }
        Ok(0)
    });
    h.durable("too-big", |_: Value, ctx: DurableContext| async move {
        let s = ctx
            .step(|_| async { Ok("x".repeat(300 * 1024)) })
            .name("big")
            .await?;
        Ok(s.len())
    });
    h.durable("too-much", |_: Value, ctx: DurableContext| async move {
        for i in 0..5u32 {
            ctx.step(move |_| async move { Ok(format!("{i}{}", "y".repeat(20_000))) })
                .name("chunk")
                .await?;
        }
        Ok(0)
    });
    h.durable("slow", |_: Value, ctx: DurableContext| async move {
        ctx.wait(Duration::from_secs(10)).name("long").await?;
        Ok(0)
    });
    for f in ["too-many", "too-big", "too-much"] {
        let (_, o) = h.run(f, json!({})).await;
        assert_eq!(o.status, ExecStatus::Failed, "{f}: {o:?}");
        let e = o.error.unwrap();
        assert_eq!(
            e.error_type.as_deref(),
            Some("CheckpointFailedError"),
            "{f}: {e:?}"
        );
    }
    // execution input over 256 KiB
    let big = format!("\"{}\"", "z".repeat(300 * 1024));
    let err = h
        .svc
        .start_with("slow", big.clone(), StartOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RequestTooLarge);
    let err = h
        .client
        .invoke()
        .function_name("slow")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(big.into_bytes()))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("RequestTooLargeException"),
        "{err:?}"
    );
    // ExecutionTimeout
    let arn = h
        .svc
        .start_with(
            "slow",
            "{}".into(),
            StartOptions {
                timeout: Some(Duration::from_secs(1)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let o = h.svc.wait(&arn, Duration::from_secs(20)).await.unwrap();
    assert_eq!(o.status, ExecStatus::TimedOut, "{o:?}");
    assert_eq!(h.count(&arn, "ExecutionTimedOut", None).await, 1);
}
